"""Time corenn against PyTorch CPU in the same process.

(a) MLP training step: in 64 -> 256 -> 256 -> 8 (ReLU), batch 256, float32, MSE loss,
    forward + backward + Adam.  (b) no-grad forward at batch 1 (the RL acting path).

    python scripts/bench_core.py [--repeats 2000] [--threads 2]
Needs the `compare` extra (torch).  Prints medians and ratios as a markdown table.
"""
import argparse
import os
import time

import numpy as np


def median_time(fn, repeats, warmup=50):
    for _ in range(warmup):
        fn()
    times = np.empty(repeats)
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - t0
    return float(np.median(times))


def corenn_case(x, y, obs, sizes):
    import corenn as cn
    import corenn.nn.functional as F
    cn.manual_seed(0)
    model = cn.models.MLP(sizes[0], sizes[1:-1], sizes[-1], activation="relu")
    opt = cn.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt, ot = cn.Tensor(x), cn.Tensor(y), cn.Tensor(obs)

    def step():
        loss = F.mse_loss(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def act():
        with cn.no_grad():
            return model(ot).data
    return step, act


def torch_case(x, y, obs, sizes):
    import torch
    torch.manual_seed(0)
    layers = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(sizes[-2], sizes[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        loss = torch.nn.functional.mse_loss(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def act():
        with torch.no_grad():
            return model(torch.as_tensor(obs)).numpy()
    return step, act


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="alternate the two libraries this many times")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    try:  # same BLAS thread count for NumPy as for torch
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:
        pass
    sizes = (64, 256, 256, 8)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, sizes[0])).astype(np.float32)
    y = rng.standard_normal((256, sizes[-1])).astype(np.float32)
    obs = rng.standard_normal((1, sizes[0])).astype(np.float32)
    cases = {"corenn": corenn_case(x, y, obs, sizes), "torch": torch_case(x, y, obs, sizes)}
    results = {name: {"step": [], "act": []} for name in cases}
    for _ in range(args.rounds):  # interleave so machine noise hits both sides alike
        for name, (step, act) in cases.items():
            results[name]["step"].append(median_time(step, args.repeats))
            results[name]["act"].append(median_time(act, args.repeats * 5))
    ours, theirs = results["corenn"], results["torch"]
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads {args.threads}, "
          f"cpu count {os.cpu_count()}; medians over {args.rounds} rounds x {args.repeats} repeats\n")
    print("| case | corenn | PyTorch CPU | corenn / PyTorch |")
    print("|---|---|---|---|")
    for key, label, unit, scale in [("step", "MLP 64-256-256-8 train step, batch 256 (fwd+bwd+Adam)", "ms", 1e3),
                                    ("act", "no-grad forward, batch 1 (acting)", "us", 1e6)]:
        a, b = np.median(ours[key]) * scale, np.median(theirs[key]) * scale
        print(f"| {label} | {a:.3f} {unit} | {b:.3f} {unit} | {a / b:.2f}x |")


if __name__ == "__main__":
    main()

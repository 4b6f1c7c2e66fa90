"""Where the time of one corenn MLP training step goes (the bench_core.py case, 1 BLAS thread).

    python scripts/profile_core_step.py [--steps 500]

Times the phases separately (forward, backward, Adam) and the same step written as bare NumPy
(matmuls and elementwise only, no engine), so the engine's own overhead is the difference.
"""
import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import corenn as cn
import corenn.nn.functional as F


def median_ms(fn, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args()
    threadpool_limits(1, user_api="blas")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 64)).astype(np.float32)
    y = rng.standard_normal((256, 8)).astype(np.float32)
    cn.manual_seed(0)
    model = cn.models.MLP(64, [256, 256], 8)
    opt = cn.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = cn.Tensor(x), cn.Tensor(y)
    state = {}

    def forward():
        state["loss"] = F.mse_loss(model(xt), yt)

    def backward():
        opt.zero_grad()
        state["loss"].backward()

    def full():
        forward(), backward(), opt.step()

    for _ in range(50):
        full()
    phases = {"forward": [], "backward": [], "adam": []}
    for _ in range(args.steps):
        for name, fn in (("forward", forward), ("backward", backward), ("adam", opt.step)):
            t0 = time.perf_counter()
            fn()
            phases[name].append(time.perf_counter() - t0)
    ws = [p.data for p in model.parameters()]

    def bare():  # the same maths in bare NumPy: the floor for any engine
        w1, b1, w2, b2, w3, b3 = ws
        h1 = np.maximum(x @ w1.T + b1, 0)
        h2 = np.maximum(h1 @ w2.T + b2, 0)
        out = h2 @ w3.T + b3
        g = (out - y) * (2.0 / out.size)
        g2 = (g @ w3) * (h2 > 0)
        g1 = (g2 @ w2) * (h1 > 0)
        return g.T @ h2, g.sum(0), g2.T @ h1, g2.sum(0), g1.T @ x, g1.sum(0)
    total = median_ms(full, args.steps)
    floor = median_ms(bare, args.steps)
    print("| phase | median ms |\n|---|---|")
    for name, ts in phases.items():
        print(f"| {name} | {1e3 * np.median(ts):.3f} |")
    print(f"| full step | {total:.3f} |")
    print(f"| bare-NumPy forward+backward (no engine, no optimizer) | {floor:.3f} |")


if __name__ == "__main__":
    main()

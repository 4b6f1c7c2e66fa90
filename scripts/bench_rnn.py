"""corenn LSTM against PyTorch CPU in the same run: forward+backward, and forward alone without a graph.

    python scripts/bench_rnn.py [--repeats 9] [--seq 50] [--batch 32] [--input 64] [--hidden 256] [--layers 2]

Both libraries use float32, one BLAS / intra-op thread and the same weights (copied by name); the
input requires grad, so the backward computes input, weight and bias gradients. The two are
timed alternately, one run each per round, so a noisy neighbour slows both; medians of --repeats
rounds are reported with their ratio (corenn / PyTorch). Needs the `compare` extra (torch).
"""
import argparse
import platform
import statistics
import time

import numpy as np

import corenn as cn
from corenn import nn


def alternate(fns, repeats):
    """Median seconds of each function, timed in turn once per round after one warm-up each."""
    for fn in fns:
        fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, s in zip(fns, samples):
            start = time.perf_counter()
            fn()
            s.append(time.perf_counter() - start)
    return [statistics.median(s) for s in samples]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--seq", type=int, default=50)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--input", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    args = p.parse_args()
    import torch

    cn.set_num_threads(1)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(args.input, args.hidden, args.layers)
    ours = nn.LSTM(args.input, args.hidden, args.layers)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.seq, args.batch, args.input)).astype(np.float32)
    w = rng.standard_normal((args.seq, args.batch, args.hidden)).astype(np.float32)
    xc, wc = cn.Tensor(x, requires_grad=True), cn.Tensor(w)
    xt, wt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w)

    def corenn_train():
        ours.zero_grad()
        xc.grad = None
        out, _ = ours(xc)
        (out * wc).sum().backward()

    def torch_train():
        theirs.zero_grad()
        xt.grad = None
        out, _ = theirs(xt)
        (out * wt).sum().backward()

    def corenn_forward():
        with cn.no_grad():
            ours(xc)

    def torch_forward():
        with torch.no_grad():
            theirs(xt)

    corenn_train()
    torch_train()
    out_diff = float(np.abs(ours(xc)[0].data - theirs(xt)[0].detach().numpy()).max())
    grad_diff = max(float(np.abs(ours.weight_hh_l0.grad - theirs.weight_hh_l0.grad.numpy()).max()),
                    float(np.abs(xc.grad - xt.grad.numpy()).max()))
    train = alternate([corenn_train, torch_train], args.repeats)
    fwd = alternate([corenn_forward, torch_forward], args.repeats)
    print(f"LSTM input {args.input}, hidden {args.hidden}, {args.layers} layers, seq {args.seq}, batch {args.batch}; "
          f"float32, 1 thread; medians of {args.repeats} alternating rounds")
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}, torch {torch.__version__}")
    print(f"max |output diff| {out_diff:.2e}, max |grad diff| (x, weight_hh_l0) {grad_diff:.2e}\n")
    print("| pass | corenn ms | PyTorch ms | ratio |")
    print("|---|---|---|---|")
    for name, (a, b) in (("forward + backward", train), ("forward (no grad)", fwd)):
        print(f"| {name} | {a * 1e3:.1f} | {b * 1e3:.1f} | {a / b:.2f} |")


if __name__ == "__main__":
    main()

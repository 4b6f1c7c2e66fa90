"""corenn convolutions against PyTorch CPU in the same run: Conv2d forward+backward, and one LeNet-5 epoch.

    python scripts/bench_conv.py                 # both parts, one BLAS / intra-op thread each
    python scripts/bench_conv.py --part conv     # only the Conv2d table
    python scripts/bench_conv.py --part lenet --epochs 1 --batch-size 64

Each library runs with its defaults (float32; PyTorch's own CPU kernels) and one thread. The two
are timed alternately, so a noisy neighbour slows both; medians of --repeats runs are reported
with their ratio. The LeNet-5 epoch is a full pass over the 60,000 Fashion-MNIST training images
(SGD, momentum 0.9, cross-entropy), data already in memory as float32 arrays.
Needs the `compare` extra (torch) and, for the epoch, the Fashion-MNIST files.
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import corenn as cn
import corenn.nn.functional as F
from corenn import nn
from corenn.models import LeNet5

# (batch, in_channels, out_channels, height=width, kernel, stride)
CONV_SHAPES = [
    (64, 32, 64, 28, 3, 1),
    (64, 64, 128, 28, 3, 2),
    (128, 16, 32, 28, 5, 1),
    (128, 32, 64, 28, 5, 2),
    (128, 64, 64, 14, 3, 1),
    (64, 3, 64, 32, 3, 1),
]


def _time(fn, repeats: int) -> float:
    fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def conv_table(torch, repeats: int) -> list[str]:
    rows = ["| input (N, C, H, W) | conv | corenn ms | PyTorch ms | ratio |", "|---|---|---|---|---|"]
    for n, cin, cout, hw, k, s in CONV_SHAPES:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, cin, hw, hw)).astype(np.float32)
        conv = nn.Conv2d(cin, cout, k, stride=s, padding=k // 2)
        tconv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=k // 2)
        xc = cn.tensor(x, requires_grad=True)
        xt = torch.from_numpy(x).requires_grad_(True)

        def run_corenn(conv=conv, xc=xc):
            out = conv(xc)
            out.backward(np.ones_like(out.data))

        def run_torch(tconv=tconv, xt=xt):
            out = tconv(xt)
            out.backward(torch.ones_like(out))

        c, t = [], []
        for _ in range(3):
            c.append(_time(run_corenn, repeats))
            t.append(_time(run_torch, repeats))
        c_ms, t_ms = 1e3 * min(c), 1e3 * min(t)
        rows.append(f"| ({n}, {cin}, {hw}, {hw}) | {cin}->{cout} {k}x{k} stride {s} | {c_ms:.1f} | {t_ms:.1f} | "
                    f"{c_ms / t_ms:.2f}x |")
        print(rows[-1], flush=True)
    return rows


def torch_lenet(torch):
    tn = torch.nn
    return tn.Sequential(tn.Conv2d(1, 6, 5, padding=2), tn.ReLU(), tn.MaxPool2d(2), tn.Conv2d(6, 16, 5), tn.ReLU(),
                         tn.MaxPool2d(2), tn.Flatten(), tn.Linear(400, 120), tn.ReLU(), tn.Linear(120, 84), tn.ReLU(),
                         tn.Linear(84, 10))


def lenet_epochs(torch, batch_size: int, repeats: int, root) -> list[str]:
    from corenn.datasets import load_fashion_mnist
    x_train, y_train, _, _ = load_fashion_mnist(root, normalize=True, flatten=False)
    x = x_train.astype(np.float32).reshape(-1, 1, 28, 28)
    y = y_train.astype(np.int64)
    model = LeNet5(num_classes=10, in_channels=1)
    tmodel = torch_lenet(torch)
    n_c = sum(p.numel() for p in model.parameters())
    n_t = sum(p.numel() for p in tmodel.parameters())
    if n_c != n_t:
        raise SystemExit(f"the PyTorch twin has {n_t} parameters, corenn.models.LeNet5 {n_c}: update torch_lenet")
    opt = cn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    starts = range(0, len(x), batch_size)

    def epoch_corenn():
        for i in starts:
            loss = F.cross_entropy(model(cn.Tensor(x[i:i + batch_size])), y[i:i + batch_size])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def epoch_torch():
        for i in starts:
            loss = torch.nn.functional.cross_entropy(tmodel(xt[i:i + batch_size]), yt[i:i + batch_size])
            topt.zero_grad()
            loss.backward()
            topt.step()

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    c, t = [], []
    for r in range(repeats):  # alternate which library goes first
        first, second = (epoch_corenn, epoch_torch) if r % 2 == 0 else (epoch_torch, epoch_corenn)
        a, b = timed(first), timed(second)
        c.append(a if first is epoch_corenn else b)
        t.append(b if first is epoch_corenn else a)
        print(f"  epoch {r + 1}: corenn {c[-1]:.2f} s, PyTorch {t[-1]:.2f} s", flush=True)
    c_s, t_s = statistics.median(c), statistics.median(t)
    return [f"| LeNet-5 epoch (60,000 images, batch {batch_size}) | corenn s | PyTorch s | ratio |",
            "|---|---|---|---|", f"| {n_c:,} parameters, SGD momentum 0.9 | {c_s:.2f} | {t_s:.2f} | {c_s / t_s:.2f}x |"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["all", "conv", "lenet"], default="all")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per conv shape; epochs for LeNet")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--root", default=None, help="folder with the Fashion-MNIST IDX files")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("bench_conv compares with PyTorch: pip install -e '.[compare]'") from None
    cn.set_num_threads(args.threads)
    torch.set_num_threads(args.threads)
    print(f"# {platform.machine()} {platform.processor() or ''}, {args.threads} thread(s), "
          f"numpy {np.__version__}, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}")
    rows = []
    if args.part in ("all", "conv"):
        rows += conv_table(torch, args.repeats) + [""]
    if args.part in ("all", "lenet"):
        rows += lenet_epochs(torch, args.batch_size, max(1, min(args.repeats, 3)), args.root)
    print("\n" + "\n".join(rows))


if __name__ == "__main__":
    main()

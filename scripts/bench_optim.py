"""Time one optimizer step (and gradient clipping) on an MLP's parameters: corenn vs PyTorch.

MLP 64 -> 256 -> 256 -> 8 (6 parameters, 84,488 floats), float32, torch.set_num_threads(2).
Both sides run in this process, interleaved; the table gives the median of several
blocks of ``--steps`` calls, in microseconds per call.

    python scripts/bench_optim.py [--steps 500] [--blocks 7] [--out docs/bench/optim.md]
"""
import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corenn.nn import Parameter  # noqa: E402
from corenn.nn.utils import clip_grad_norm_  # noqa: E402
from corenn.optim import SGD, Adam, AdamW, RMSprop  # noqa: E402

SHAPES = [(256, 64), (256,), (256, 256), (256,), (8, 256), (8,)]


def make_params(rng):
    ours = [Parameter(rng.standard_normal(s).astype(np.float32) * 0.05) for s in SHAPES]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    for p, tp in zip(ours, theirs):
        p.grad = (rng.standard_normal(p.data.shape) * 1e-2).astype(np.float32)
        tp.grad = torch.from_numpy(p.grad.copy())
    return ours, theirs


def time_block(fn, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps * 1e6


def bench(cases, steps, blocks):
    for fn in cases.values():  # warm up
        time_block(fn, 50)
    samples = {name: [] for name in cases}
    for _ in range(blocks):
        for name, fn in cases.items():
            samples[name].append(time_block(fn, steps))
    return {name: statistics.median(v) for name, v in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--blocks", type=int, default=7)
    ap.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = ap.parse_args()
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)

    rows = []
    configs = [
        ("Adam", Adam, torch.optim.Adam, dict(lr=1e-3)),
        ("AdamW", AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2)),
        ("SGD momentum=0.9", SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9)),
        ("RMSprop", RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    ]
    for label, ours_cls, torch_cls, kw in configs:
        cases = {}
        ours, _ = make_params(rng)
        cases["corenn"] = ours_cls(ours, **kw).step
        for foreach in (False, True):
            _, theirs = make_params(rng)
            cases[f"torch foreach={foreach}"] = torch_cls(theirs, foreach=foreach, **kw).step
        _, theirs = make_params(rng)
        cases["torch default"] = torch_cls(theirs, **kw).step
        rows.append((label + ".step()", bench(cases, args.steps, args.blocks)))

    ours, theirs = make_params(rng)
    cases = {
        "corenn": lambda: clip_grad_norm_(ours, 1e9),
        "torch foreach=False": lambda: torch.nn.utils.clip_grad_norm_(theirs, 1e9, foreach=False),
        "torch foreach=True": lambda: torch.nn.utils.clip_grad_norm_(theirs, 1e9, foreach=True),
        "torch default": lambda: torch.nn.utils.clip_grad_norm_(theirs, 1e9),
    }
    rows.append(("clip_grad_norm_ (no clip)", bench(cases, args.steps, args.blocks)))

    cols = ["corenn", "torch foreach=False", "torch foreach=True", "torch default"]
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {platform.python_version()}, "
        f"NumPy {np.__version__}, torch {torch.__version__} (threads=2). "
        f"Median of {args.blocks} blocks x {args.steps} calls, microseconds per call.",
        "",
        "| operation | " + " | ".join(cols) + " | corenn / torch default |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for label, res in rows:
        cells = " | ".join(f"{res[c]:.1f}" for c in cols)
        lines.append(f"| {label} | {cells} | {res['corenn'] / res['torch default']:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cmd = "python scripts/bench_optim.py " + " ".join(sys.argv[1:])
        args.out.write_text(f"# Optimizer step benchmark\n\nCommand: `{cmd}`\n\n{text}\n")


if __name__ == "__main__":
    main()

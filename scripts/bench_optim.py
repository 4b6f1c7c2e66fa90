"""Time one optimizer step (and gradient clipping) on an MLP's parameters: corenn vs PyTorch.

MLPs 64 -> 256 -> 256 -> 8 (6 parameters, 84,488 floats) and, RL-sized, 17 -> 64 -> 64 -> 6
(5,702 floats); float32, torch.set_num_threads(--threads). Both sides run in this
process, interleaved, in blocks of about --block-ms; each cell is the best block and, in
brackets, the median block, in microseconds per call (the best block is the steadier
figure on a shared machine; --clock cpu counts process CPU time instead of wall time).

    python scripts/bench_optim.py [--blocks 9] [--threads 2] [--clock wall] [--out FILE.md]
"""
import argparse
import os
import platform
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from corenn.nn import Parameter
from corenn.nn.utils import clip_grad_norm_
from corenn.optim import SGD, Adam, AdamW, RMSprop

NETS = {"64-256-256-8": [(256, 64), (256,), (256, 256), (256,), (8, 256), (8,)],
        "17-64-64-6": [(64, 17), (64,), (64, 64), (64,), (6, 64), (6,)]}


def make_params(rng, shapes):
    ours = [Parameter(rng.standard_normal(s).astype(np.float32) * 0.05) for s in shapes]
    theirs = [torch.tensor(p.data.copy(), requires_grad=True) for p in ours]
    for p, tp in zip(ours, theirs):
        p.grad = (rng.standard_normal(p.data.shape) * 1e-2).astype(np.float32)
        tp.grad = torch.from_numpy(p.grad.copy())
    return ours, theirs


CLOCK = time.perf_counter


def time_block(fn, calls):
    t0 = CLOCK()
    for _ in range(calls):
        fn()
    return (CLOCK() - t0) / calls * 1e6


def bench(cases, blocks, block_ms):
    calls = {}
    for name, fn in cases.items():  # warm up and size the blocks
        per_call = min(time_block(fn, 10) for _ in range(3))
        calls[name] = max(3, int(block_ms * 1e3 / per_call))
    samples = {name: [] for name in cases}
    for _ in range(blocks):
        for name, fn in cases.items():
            samples[name].append(time_block(fn, calls[name]))
    return {name: (min(v), statistics.median(v)) for name, v in samples.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=9)
    ap.add_argument("--block-ms", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                    help="cpu: process CPU time (steadier on a busy machine; with one thread)")
    ap.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(0)
    load = os.getloadavg()[0]

    rows = []
    configs = [
        ("Adam", Adam, torch.optim.Adam, dict(lr=1e-3)),
        ("AdamW", AdamW, torch.optim.AdamW, dict(lr=1e-3, weight_decay=1e-2)),
        ("SGD momentum=0.9", SGD, torch.optim.SGD, dict(lr=1e-2, momentum=0.9)),
        ("RMSprop", RMSprop, torch.optim.RMSprop, dict(lr=1e-3)),
    ]
    for net, shapes in NETS.items():
        for label, ours_cls, torch_cls, kw in configs:
            cases = {}
            ours, _ = make_params(rng, shapes)
            cases["corenn"] = ours_cls(ours, **kw).step
            for foreach in (False, True):
                _, theirs = make_params(rng, shapes)
                cases[f"torch foreach={foreach}"] = torch_cls(theirs, foreach=foreach, **kw).step
            _, theirs = make_params(rng, shapes)
            cases["torch default"] = torch_cls(theirs, **kw).step
            rows.append((f"{label}.step() {net}", bench(cases, args.blocks, args.block_ms)))

        ours, theirs = make_params(rng, shapes)
        clip = torch.nn.utils.clip_grad_norm_
        cases = {
            "corenn": partial(clip_grad_norm_, ours, 1e9),
            "torch foreach=False": partial(clip, theirs, 1e9, foreach=False),
            "torch foreach=True": partial(clip, theirs, 1e9, foreach=True),
            "torch default": partial(clip, theirs, 1e9),
        }
        rows.append((f"clip_grad_norm_ {net}", bench(cases, args.blocks, args.block_ms)))

    cols = ["corenn", "torch foreach=False", "torch foreach=True", "torch default"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, torch {torch.__version__} (threads={args.threads}), {args.clock} clock, "
        f"{time.strftime('%Y-%m-%d')}, load average {load:.1f} -> {os.getloadavg()[0]:.1f}. "
        f"Best (median) of {args.blocks} blocks, microseconds per call; ratio = corenn best / fastest torch best.",
        "",
        "| operation | " + " | ".join(cols) + " | ratio |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for label, res in rows:
        cells = " | ".join(f"{res[c][0]:.1f} ({res[c][1]:.1f})" for c in cols)
        fastest = min(res[c][0] for c in cols[1:])
        lines.append(f"| {label} | {cells} | {res['corenn'][0] / fastest:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        cmd = "python scripts/bench_optim.py " + " ".join(sys.argv[1:])
        args.out.write_text(f"# Optimizer step benchmark\n\nCommand: `{cmd}`\n\n{text}\n")


if __name__ == "__main__":
    main()

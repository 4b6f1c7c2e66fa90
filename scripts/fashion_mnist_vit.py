"""Train a small Vision Transformer (corenn.models.ViT) on real Fashion-MNIST; resumable.

    python scripts/fashion_mnist_vit.py                 # 12 epochs
    python scripts/fashion_mnist_vit.py --epochs 12 --checkpoint runs/fmnist_vit.npz --resume
    python scripts/fashion_mnist_vit.py --limit-batches 50          # time one epoch's worth

The model (``vit_fashion_mnist``): 7x7 patches (16 tokens + a class token), width 64, 4 pre-LN encoder
layers of 4 heads with a 128-unit GELU MLP, no dropout; about 140k parameters. AdamW (lr 2e-3, weight
decay 0.05 on the matrices), linear warm-up over the first 5% of batches then cosine decay to zero,
random horizontal flips, label smoothing 0.1. Inputs are standardised with the training set's mean and std.
The checkpoint (corenn.save, written atomically) holds the weights, optimizer state, position and history.
Data: `apt-get install -y dataset-fashion-mnist` (or CORENN_FASHION_MNIST=folder).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np

import corenn as cn
import corenn.nn.functional as F
from corenn.datasets import load_fashion_mnist
from corenn.datasets.transforms import random_horizontal_flip
from corenn.models import vit_fashion_mnist
from corenn.optim.lr_scheduler import warmup_cosine_lr
from corenn.utils import accuracy, predict_classes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    parser.add_argument("--weight-decay", type=float, default=0.05)
    parser.add_argument("--patch", type=int, default=7)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--mlp-dim", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--no-flip", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--root", default=None, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("--checkpoint", default=None, help=".npz file written after every epoch")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--limit-batches", type=int, default=0, help="stop after this many batches (timing)")
    args = parser.parse_args(argv)
    if args.resume and not (args.checkpoint and os.path.exists(args.checkpoint)):
        parser.error(f"--resume needs an existing --checkpoint file, got {args.checkpoint!r}")
    cn.set_num_threads(args.threads)
    cn.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = load_fashion_mnist(args.root, normalize=True)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train = ((x_train - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)
    x_test = ((x_test - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)
    model = vit_fashion_mnist(patch_size=args.patch, dim=args.dim, depth=args.depth, heads=args.heads,
                              mlp_dim=args.mlp_dim, dropout=args.dropout)
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    opt = cn.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                          {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    n_batches = math.ceil(len(x_train) / args.batch_size)
    total_steps = n_batches * args.epochs
    position, history = {"epoch": 0, "batch": 0, "seconds": 0.0}, []
    if args.resume:
        state = cn.load(args.checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        position, history = dict(state["position"]), list(state["history"])
        print(f"resumed from {args.checkpoint} at epoch {position['epoch']}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"ViT patch {args.patch}, width {args.dim}, depth {args.depth}, heads {args.heads}: {n_params:,} "
          f"parameters, {n_batches} batches/epoch, {args.threads} thread(s)", flush=True)

    model.train()
    done = 0
    while position["epoch"] < args.epochs:
        epoch = position["epoch"]
        cn.manual_seed([args.seed, epoch])  # dropout masks: reproducible per epoch
        order = np.random.default_rng([args.seed, epoch]).permutation(len(x_train))
        start, running, seen = time.perf_counter(), 0.0, 0
        for b in range(n_batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            xb = x_train[idx]
            if not args.no_flip:
                xb = random_horizontal_flip(xb, 0.5, np.random.default_rng([args.seed, epoch, b]))
            for group in opt.param_groups:
                group["lr"] = warmup_cosine_lr(epoch * n_batches + b, total_steps, args.lr, 0.05 * total_steps)
            loss = F.cross_entropy(model(cn.Tensor(xb)), y_train[idx], label_smoothing=args.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            running, seen, done = running + loss.item() * len(idx), seen + len(idx), done + 1
            if args.limit_batches and done >= args.limit_batches:
                took = time.perf_counter() - start
                print(f"stopped after {done} batches: {took / done:.3f} s/batch, about {took / done * n_batches:.0f} "
                      f"s per epoch", flush=True)
                return None
        position["seconds"] += time.perf_counter() - start
        acc = accuracy(y_test, predict_classes(model, x_test))
        history.append({"epoch": epoch + 1, "train_loss": running / max(seen, 1), "test_acc": acc,
                        "seconds": position["seconds"]})
        print(f"epoch {epoch + 1}: train loss {running / max(seen, 1):.4f}  test accuracy {acc:.4f}  "
              f"(training time so far {position['seconds']:.0f} s)", flush=True)
        position = {"epoch": epoch + 1, "batch": 0, "seconds": position["seconds"]}
        if args.checkpoint:
            cn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "position": position,
                     "history": history, "args": json.dumps(vars(args))}, args.checkpoint)
    best = max(h["test_acc"] for h in history)
    print(f"\n| ViT p{args.patch} d{args.dim} x{args.depth} | {n_params:,} | {args.epochs} | "
          f"{history[-1]['test_acc']:.4f} | {best:.4f} | {position['seconds'] / 60:.1f} min |")
    return history


if __name__ == "__main__":
    main()

"""Train a convolutional net on real Fashion-MNIST with corenn; resumable from its own checkpoints.

    python scripts/fashion_mnist_cnn.py --model small --epochs 8
    python scripts/fashion_mnist_cnn.py --model resnet18 --epochs 3 --checkpoint runs/fmnist_resnet18.npz
    python scripts/fashion_mnist_cnn.py --model resnet18 --epochs 3 --checkpoint runs/fmnist_resnet18.npz --resume

Models: "small" (two conv-BN-ReLU blocks of 32 and 64 channels, each pooled, then a 128-unit
head), "lenet" (corenn.models.LeNet5), "resnet18" (corenn.models.resnet18 with the CIFAR stem:
a 3x3 stride-1 first conv and no max pool, so layer1 runs at 28x28). SGD with Nesterov momentum,
weight decay 5e-4 and a per-batch schedule: linear warm-up over the first 5% of steps, then
cosine decay to zero. Inputs are standardised with the training set's mean and std; --flip adds
random horizontal flips. The checkpoint (.npz + JSON through corenn.save, written atomically)
holds the weights, BatchNorm statistics, optimizer state, position (epoch, batch) and history,
so an interrupted run continues where it stopped with the same batches it would have seen.
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
from corenn import nn
from corenn.datasets import load_fashion_mnist
from corenn.datasets.transforms import random_horizontal_flip
from corenn.models import LeNet5, resnet18
from corenn.optim.lr_scheduler import warmup_cosine_lr
from corenn.utils import accuracy, predict_classes


def small_cnn() -> nn.Module:
    """(N, 1, 28, 28) -> (N, 10): [conv3x3-BN-ReLU x2, maxpool] x2 (32, 64 channels), 128-unit head."""
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                nn.MaxPool2d(2)]
    return nn.Sequential(*block(1, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                         nn.Dropout(0.3), nn.Linear(128, 10))


MODELS = {"small": small_cnn, "lenet": lambda: LeNet5(num_classes=10, in_channels=1),
          "resnet18": lambda: resnet18(num_classes=10, in_channels=1, stem="cifar")}




def save_checkpoint(path, model, opt, position, history, args) -> None:
    cn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "position": position,
             "history": history, "args": json.dumps(vars(args))}, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="small")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.05, help="peak learning rate")
    parser.add_argument("--flip", action="store_true", help="random horizontal flips")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--root", default=None, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("--checkpoint", default=None, help=".npz file written every --save-every batches")
    parser.add_argument("--save-every", type=int, default=50)
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint")
    parser.add_argument("--limit-batches", type=int, default=0, help="stop after this many batches (timing)")
    args = parser.parse_args()
    if args.resume and not (args.checkpoint and os.path.exists(args.checkpoint)):
        parser.error(f"--resume needs an existing --checkpoint file, got {args.checkpoint!r}")
    cn.set_num_threads(args.threads)
    cn.manual_seed(args.seed)

    x_train, y_train, x_test, y_test = load_fashion_mnist(args.root, normalize=True, flatten=False)
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train = ((x_train - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)
    x_test = ((x_test - mean) / std).astype(np.float32).reshape(-1, 1, 28, 28)
    model = MODELS[args.model]()
    opt = cn.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    n_batches = math.ceil(len(x_train) / args.batch_size)
    total_steps = n_batches * args.epochs
    position, history = {"epoch": 0, "batch": 0, "seconds": 0.0}, []
    if args.resume:
        state = cn.load(args.checkpoint)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        position, history = dict(state["position"]), list(state["history"])
        print(f"resumed from {args.checkpoint} at epoch {position['epoch']} batch {position['batch']}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{args.model}: {n_params:,} parameters, {n_batches} batches/epoch, {args.threads} thread(s)", flush=True)

    model.train()
    done = 0
    while position["epoch"] < args.epochs:
        epoch = position["epoch"]
        order = np.random.default_rng([args.seed, epoch]).permutation(len(x_train))
        start, running, seen = time.perf_counter(), 0.0, 0
        for b in range(position["batch"], n_batches):
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            xb = x_train[idx]
            if args.flip:
                xb = random_horizontal_flip(xb, 0.5, np.random.default_rng([args.seed, epoch, b]))
            for group in opt.param_groups:
                group["lr"] = warmup_cosine_lr(epoch * n_batches + b, total_steps, args.lr, 0.05 * total_steps)
            loss = F.cross_entropy(model(cn.Tensor(xb)), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            running, seen, done = running + loss.item() * len(idx), seen + len(idx), done + 1
            position["batch"] = b + 1
            if args.checkpoint and (b + 1) % args.save_every == 0:
                position["seconds"] += time.perf_counter() - start
                start = time.perf_counter()
                save_checkpoint(args.checkpoint, model, opt, position, history, args)
                print(f"  epoch {epoch + 1} batch {b + 1}/{n_batches} loss {running / seen:.4f} "
                      f"({position['seconds']:.0f} s)", flush=True)
            if args.limit_batches and done >= args.limit_batches:
                position["seconds"] += time.perf_counter() - start
                print(f"stopped after {done} batches: {position['seconds'] / done:.3f} s/batch", flush=True)
                return
        position["seconds"] += time.perf_counter() - start
        acc = accuracy(y_test, predict_classes(model, x_test))
        history.append({"epoch": epoch + 1, "train_loss": running / max(seen, 1), "test_acc": acc,
                        "seconds": position["seconds"]})
        print(f"epoch {epoch + 1}: train loss {running / max(seen, 1):.4f}  test accuracy {acc:.4f}  "
              f"(training time so far {position['seconds']:.0f} s)", flush=True)
        position = {"epoch": epoch + 1, "batch": 0, "seconds": position["seconds"]}
        if args.checkpoint:
            save_checkpoint(args.checkpoint, model, opt, position, history, args)
    best = max(h["test_acc"] for h in history)
    print(f"\n| {args.model} | {n_params:,} | {args.epochs} | {history[-1]['test_acc']:.4f} | {best:.4f} | "
          f"{position['seconds'] / 60:.1f} min |")


if __name__ == "__main__":
    main()

"""Train an MLP on real Fashion-MNIST with corenn; compare SGD+momentum with Adam.

    python scripts/fashion_mnist_mlp.py [--epochs 10] [--threads 1] [--out docs/fashion_mnist_loss.png]

Data: `apt-get install -y dataset-fashion-mnist` (or set CORENN_FASHION_MNIST to a folder
with the four IDX files).  Prints per-epoch train loss / test accuracy and a summary table;
writes a PNG of both loss curves when matplotlib (the `plot` extra) is installed.
"""
import argparse
import time

import numpy as np

import corenn as cn
import corenn.nn.functional as F
from corenn.datasets import load_fashion_mnist
from corenn.utils.data_utils import batch_iterator


def train(optimizer_name, data, epochs, batch_size, seed):
    x_train, y_train, x_test, y_test = data
    cn.manual_seed(seed)
    model = cn.models.MLP(784, [256, 128], 10, activation="relu")
    if optimizer_name == "adam":
        opt = cn.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = cn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    sched = cn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    losses, accs, start = [], [], time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in batch_iterator(x_train, y_train, batch_size=batch_size, shuffle=True, seed=seed + epoch):
            loss = F.cross_entropy(model(cn.Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        sched.step()
        model.eval()
        with cn.no_grad():
            pred = np.concatenate([model(cn.Tensor(x_test[i:i + 2000])).data.argmax(1)
                                   for i in range(0, len(x_test), 2000)])
        losses.append(total / count)
        accs.append(float((pred == y_test).mean()))
        print(f"{optimizer_name:>4} epoch {epoch + 1:2d}  train loss {losses[-1]:.4f}  "
              f"test acc {accs[-1]:.4f}  ({time.perf_counter() - start:.1f} s)", flush=True)
    return losses, accs, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=None, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("--optimizers", default="adam,sgd")
    parser.add_argument("--out", default="docs/fashion_mnist_loss.png")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (1 is fastest for this size)")
    args = parser.parse_args()
    cn.set_num_threads(args.threads)
    x_train, y_train, x_test, y_test = load_fashion_mnist(args.root, normalize=True, flatten=True)
    mean, std = x_train.mean(), x_train.std()
    data = ((x_train - mean) / std, y_train, (x_test - mean) / std, y_test)
    results = {name: train(name, data, args.epochs, args.batch_size, args.seed)
               for name in args.optimizers.split(",")}
    print("\n| optimizer | final train loss | test accuracy | best test accuracy | wall time |")
    print("|---|---|---|---|---|")
    for name, (losses, accs, secs) in results.items():
        label = "Adam lr 1e-3" if name == "adam" else "SGD lr 0.05 momentum 0.9 (Nesterov)"
        print(f"| {label} | {losses[-1]:.4f} | {accs[-1]:.4f} | {max(accs):.4f} | {secs:.0f} s |")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install corenn[plot]); skipping the PNG")
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    for name, (losses, accs, _) in results.items():
        epochs = np.arange(1, len(losses) + 1)
        ax1.plot(epochs, losses, marker="o", label=name)
        ax2.plot(epochs, accs, marker="o", label=name)
    ax1.set(xlabel="epoch", ylabel="train cross-entropy", title="Fashion-MNIST MLP 784-256-128-10")
    ax2.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
    ax1.legend(), ax2.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

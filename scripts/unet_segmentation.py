"""Train a U-Net with corenn on synthetic shapes (discs, squares, triangles on noise); report mean IoU.

    python scripts/unet_segmentation.py [--epochs 5] [--train 3000] [--threads 1] [--size 32] [--overlap]

The data come from corenn.datasets.make_shapes (4 classes: background, disc, square, triangle; shapes
do not touch unless --overlap); the held-out set is drawn from a different seed. Mean IoU is the
unweighted mean over the 4 classes of intersection / union, counted over every pixel of the held-out
set (corenn.utils.jaccard_score), with the model in eval mode (BatchNorm running statistics).
"""
import argparse
import time

import numpy as np

import corenn as cn
import corenn.nn.functional as F
from corenn.datasets import SHAPE_CLASSES, make_shapes
from corenn.models import UNet
from corenn.utils import batch_iterator, jaccard_score, predict_classes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train", type=int, default=3000, help="training images")
    parser.add_argument("--test", type=int, default=500, help="held-out images")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--overlap", action="store_true", help="let shapes overlap (a harder task)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--base-channels", type=int, default=8)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--upsample", default="transpose", choices=("transpose", "bilinear"))
    parser.add_argument("--norm", default="batch", choices=("batch", "group"))
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (corenn.set_num_threads)")
    parser.add_argument("--target", type=float, default=0.9, help="mean IoU the run is expected to reach")
    args = parser.parse_args()

    cn.set_num_threads(args.threads)
    cn.manual_seed(args.seed)
    x_train, y_train = make_shapes(args.train, args.size, overlap=args.overlap, rng=np.random.default_rng(args.seed))
    x_test, y_test = make_shapes(args.test, args.size, overlap=args.overlap,
                                 rng=np.random.default_rng(args.seed + 10_000))
    model = UNet(1, len(SHAPE_CLASSES), base_channels=args.base_channels, depth=args.depth,
                 upsample=args.upsample, norm=args.norm)
    n_params = sum(p.data.size for p in model.parameters())
    print(f"UNet(base_channels={args.base_channels}, depth={args.depth}, upsample={args.upsample!r}, "
          f"norm={args.norm!r}): {n_params:,} parameters; {args.train} train / {args.test} test images "
          f"{args.size}x{args.size}; {args.threads} BLAS thread(s)", flush=True)
    opt = cn.optim.Adam(model.parameters(), lr=args.lr)
    sched = cn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = time.perf_counter()
    miou = 0.0
    for epoch in range(args.epochs):
        model.train()
        total, count = 0.0, 0
        for xb, yb in batch_iterator(x_train, y_train, batch_size=args.batch_size, shuffle=True,
                                     seed=args.seed + epoch):
            loss = F.cross_entropy(model(cn.Tensor(xb)), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            count += len(xb)
        sched.step()
        pred = predict_classes(model, x_test, batch_size=256)
        per_class = jaccard_score(y_test, pred, average=None, num_classes=len(SHAPE_CLASSES))
        miou = float(per_class.mean())
        print(f"epoch {epoch + 1:2d}  train loss {total / count:.4f}  test mean IoU {miou:.4f}  "
              f"({'  '.join(f'{c} {v:.3f}' for c, v in zip(SHAPE_CLASSES, per_class))})  "
              f"{time.perf_counter() - start:.1f} s", flush=True)
    pixel_acc = float((pred == y_test).mean())
    print(f"\nfinal: mean IoU {miou:.4f}, pixel accuracy {pixel_acc:.4f}, {args.epochs} epochs, "
          f"{time.perf_counter() - start:.1f} s wall; target {args.target}: "
          f"{'reached' if miou >= args.target else 'NOT reached'}")


if __name__ == "__main__":
    main()

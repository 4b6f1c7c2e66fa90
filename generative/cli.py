"""``python -m generative train | sample | eval | classifier | list``.

    python -m generative train vae --data /usr/share/datasets/fashion-mnist --out runs/generative/vae --epochs 20
    python -m generative train vae --out runs/generative/vae --resume          # continue where it stopped
    python -m generative sample runs/generative/vae --n 64 --out grid.png [--labels all] [--interpolate]
    python -m generative classifier --data /usr/share/datasets/fashion-mnist \
        --out generative/metrics/fashion_mnist_classifier.npz
    python -m generative eval runs/generative/vae --data /usr/share/datasets/fashion-mnist --n 10000

Every user error is one line on stderr and exit status 2, before anything is written; a non-finite loss stops
training with status 1 and leaves the last checkpoint as it was.
"""
from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import sys

import numpy as np

import corenn
from corenn import CheckpointError
from rl.hyperparams.parsing import parse_literal

from .core.checkpoint import load_checkpoint, read_checkpoint
from .core.data import DataError, load_image_dataset
from .core.images import save_grid
from .core.trainer import CHECKPOINT_NAME, RunConfigError, TrainConfig, train
from .registry import MODELS, ModelNotAvailableError, UnknownModelError, get_model_class, model_names

__all__ = ["main", "build_parser", "parse_dict_option", "check_sample_options", "parse_labels", "CLIError"]

USER_ERRORS = (DataError, CheckpointError, UnknownModelError, ModelNotAvailableError, FileNotFoundError,
               FileExistsError, RunConfigError)


class CLIError(ValueError):
    """A command-line mistake (printed as one line, exit status 2)."""


def parse_dict_option(text: str | None, flag: str) -> dict:
    """``"dict(lr=1e-3, betas=(0.5, 0.999))"`` or ``"{'lr': 1e-3}"`` -> a dict of literals. Nothing is evaluated:
    rl.hyperparams.parsing reads the syntax tree, and bare names are refused."""
    if text is None or not text.strip():
        return {}

    def refuse(name):
        raise ValueError(f"the name {name!r} is not a literal (quote strings: '{name}')")

    try:
        value = parse_literal(text, resolve=refuse)
    except ValueError as exc:
        raise CLIError(f"{flag}: {exc}") from None
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise CLIError(f"{flag} must be a dict such as \"dict(lr=1e-3, latent_dim=40)\", got {text!r}")
    return value


def check_sample_options(cls, options: dict, flag: str) -> None:
    """Refuse keyword options that ``cls.sample`` does not declare (a sample taking ``**options`` checks its own)."""
    if not options:
        return
    try:
        inspect.signature(cls.sample).bind(None, 1, labels=None, rng=None, **options)
    except TypeError as exc:
        params = [p for p in inspect.signature(cls.sample).parameters if p not in ("self", "n", "labels", "rng")]
        raise CLIError(f"{flag}: {cls.__name__}.sample does not take {sorted(options)} ({exc}); its options: "
                       f"{params or 'none'}") from None


def parse_labels(text: str | None, model, n: int) -> tuple[np.ndarray | None, int]:
    """(labels (n,) or None, images per grid row) for ``--labels``: 'all' (one column per class, the default for a
    conditional model), one class '3', or a list '0,1,2' repeated to n (one column each)."""
    if not model.conditional:
        if text is not None:
            raise CLIError(f"--labels: model {model.name!r} is unconditional")
        return None, int(math.ceil(math.sqrt(n)))
    k = model.num_classes
    if text is None or text.strip() == "all":
        return np.arange(n, dtype=np.int64) % k, k
    try:
        chosen = [int(part) for part in text.split(",")]
    except ValueError:
        raise CLIError(f"--labels must be 'all' or class numbers such as '0,1,2', got {text!r}") from None
    bad = [c for c in chosen if not 0 <= c < k]
    if bad:
        raise CLIError(f"--labels: {bad} outside the classes 0..{k - 1}")
    labels = np.resize(np.array(chosen, dtype=np.int64), n)
    return labels, len(chosen) if len(chosen) > 1 else int(math.ceil(math.sqrt(n)))


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _nonnegative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generative", description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=_positive, default=1,
                        help="BLAS threads (default 1: on a busy machine more threads are slower, not faster)")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("train", help="train a model (resumable)")
    p.add_argument("model", help=f"one of: {', '.join(model_names())}")
    p.add_argument("--data", help="folder with Fashion-MNIST/MNIST IDX files or CIFAR-10 binary batches")
    p.add_argument("--out", help="run folder (default runs/generative/MODEL)")
    p.add_argument("--epochs", type=_positive)
    p.add_argument("--batch-size", type=_positive)
    p.add_argument("--seed", type=_nonnegative)
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out (settings from it)")
    p.add_argument("--save-every", type=_positive, help="steps between checkpoints (and one at the end)")
    p.add_argument("--log-every", type=_positive, help="steps per logged mean of the losses")
    p.add_argument("--sample-every", type=_positive, help="steps between sample grids")
    p.add_argument("--num-samples", type=_positive, help="images in a sample grid")
    p.add_argument("--max-steps", type=_positive, help="stop after this many steps in all (smoke runs)")
    p.add_argument("--hparams", help="model hyperparameters, e.g. \"dict(lr=1e-3, latent_dim=40)\"")
    p.add_argument("--sample-options", help="options of model.sample for the grids, e.g. \"dict(steps=50)\"")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")

    p = sub.add_parser("sample", help="write a PNG grid of samples from a checkpoint")
    p.add_argument("checkpoint", help="checkpoint.npz or its run folder")
    p.add_argument("--n", type=_positive, default=64)
    p.add_argument("--out", default="samples.png")
    p.add_argument("--labels", help="'all' (default for conditional models), '3' or '0,1,2'")
    p.add_argument("--seed", type=_nonnegative, default=0)
    p.add_argument("--options", help="keyword arguments of model.sample, e.g. \"dict(sampler='ddim', steps=50)\"")
    p.add_argument("--interpolate", action="store_true", help="model.interpolation_grid(rows, steps, rng) instead")
    p.add_argument("--rows", type=_positive, default=8, help="interpolation rows")
    p.add_argument("--steps", type=_positive, default=10, help="images per interpolation row")
    p.add_argument("--nrow", type=_positive, help="images per grid row")
    p.add_argument("--scale", type=_positive, default=2, help="pixel repetition in the PNG")

    p = sub.add_parser("classifier", help="train the feature classifier the metrics use")
    p.add_argument("--data", required=True)
    p.add_argument("--out", default=None, help="default generative/metrics/fashion_mnist_classifier.npz")
    p.add_argument("--epochs", type=_positive, default=3)
    p.add_argument("--batch-size", type=_positive, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=_nonnegative, default=0)
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("eval", help="FID/KID (corenn classifier) beside the real-data floor; label accuracy; NLL")
    p.add_argument("checkpoint", help="checkpoint.npz or its run folder")
    p.add_argument("--data", help="dataset folder (default: the one the model was trained on)")
    p.add_argument("--n", type=_positive, default=10000, help="samples (and real train images for the floor)")
    p.add_argument("--classifier", help="feature classifier file (default generative/metrics/...)")
    p.add_argument("--seed", type=_nonnegative, default=0)
    p.add_argument("--options", help="keyword arguments of model.sample")
    p.add_argument("--batch-size", type=_positive, default=250, help="samples per model.sample call")
    p.add_argument("--kid-subsets", type=_positive, default=100)
    p.add_argument("--kid-subset-size", type=_positive, default=1000)
    p.add_argument("--nll-k", type=_positive, default=100, help="importance samples of the NLL bound")
    p.add_argument("--nll-n", type=_positive, help="test images for the NLL bound (default all)")
    p.add_argument("--json", help="also write the table as JSON here")
    p.add_argument("--no-progress", action="store_true")

    sub.add_parser("list", help="the registered models and whether each is present")
    return parser


def cmd_train(args) -> int:
    cls = get_model_class(args.model)
    out = args.out or os.path.join("runs", "generative", args.model)
    saved = {}
    if args.resume and os.path.exists(os.path.join(out, CHECKPOINT_NAME)):
        saved = read_checkpoint(os.path.join(out, CHECKPOINT_NAME))["args"]
    hparams = parse_dict_option(args.hparams, "--hparams") if args.hparams is not None else saved.get("hparams", {})
    unknown = sorted(set(hparams) - set(cls.default_hparams()))
    if unknown:
        raise CLIError(f"--hparams: {args.model} has no hyperparameters {unknown}; it has "
                       f"{sorted(cls.default_hparams())}")
    if args.sample_options is not None:
        sample_options = parse_dict_option(args.sample_options, "--sample-options")
    else:
        sample_options = saved.get("sample_options", {})
    check_sample_options(cls, sample_options, "--sample-options")
    data = args.data or saved.get("data")
    if not data:
        raise CLIError("--data is required (a folder with the Fashion-MNIST IDX files, e.g. "
                       "/usr/share/datasets/fashion-mnist)")
    defaults = TrainConfig(model=args.model, data=data, out=out)
    given = {name: getattr(args, name) for name in ("epochs", "batch_size", "seed", "max_steps", "save_every",
                                                    "log_every", "sample_every", "num_samples")}
    settings = {name: value if value is not None else saved.get(name, getattr(defaults, name))
                for name, value in given.items()}
    if args.max_steps is None and saved:
        settings["max_steps"] = None  # a resumed smoke run goes on to --epochs unless capped again
    config = TrainConfig(model=args.model, data=data, out=out, hparams=hparams, sample_options=sample_options,
                         progress=not args.no_progress, **settings)
    dataset = load_image_dataset(data)
    if args.resume and not saved:
        print(f"no checkpoint in {out}; starting a new run")
    result = train(config, resume=args.resume, dataset=dataset)
    last = result.history[-1] if result.history else {}
    means = ", ".join(f"{k} {v:.4g}" for k, v in last.items() if k != "step")
    print(f"{args.model}: trained to step {result.step}" + (f" (means to step {last['step']}: {means})" if last else "")
          + f"; checkpoint {result.checkpoint}; TensorBoard: tensorboard --logdir {out}")
    return 0


def cmd_sample(args) -> int:
    from .metrics.evaluate import sample_in_batches

    options = parse_dict_option(args.options, "--options")
    model, _ = load_checkpoint(args.checkpoint)
    rng = np.random.default_rng(args.seed)
    corenn.manual_seed(args.seed)
    if args.interpolate:
        grid_fn = getattr(model, "interpolation_grid", None)
        if not callable(grid_fn):
            raise CLIError(f"--interpolate: model {model.name!r} has no interpolation_grid(rows, steps, rng)")
        if options or args.labels is not None:
            raise CLIError("--interpolate takes no --options or --labels")
        with corenn.no_grad():
            images, nrow = grid_fn(args.rows, args.steps, rng), args.steps
    else:
        check_sample_options(type(model), options, "--options")
        labels, nrow = parse_labels(args.labels, model, args.n)
        images = sample_in_batches(model, args.n, labels, rng, options=options)
    path = save_grid(images, args.out, nrow=args.nrow or nrow, scale=args.scale)
    print(f"wrote {path} ({len(images)} images)")
    return 0


def cmd_classifier(args) -> int:
    from .metrics.feature_classifier import DEFAULT_CLASSIFIER_PATH, save_classifier, train_classifier

    out = args.out or DEFAULT_CLASSIFIER_PATH
    dataset = load_image_dataset(args.data)
    model, accuracy = train_classifier(dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test,
                                       epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                                       progress=not args.no_progress)
    save_classifier(model, out, accuracy, dataset.fingerprint(),
                    {"data": dataset.path, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                     "seed": args.seed})
    print(f"feature classifier: test accuracy {accuracy:.4f}; saved {out}")
    return 0


def cmd_eval(args) -> int:
    from .metrics.evaluate import evaluate, format_table
    from .metrics.feature_classifier import CLASSIFIER_COMMAND, load_classifier

    options = parse_dict_option(args.options, "--options")
    model, ckpt = load_checkpoint(args.checkpoint)
    check_sample_options(type(model), options, "--options")
    dataset = load_image_dataset(args.data or ckpt["data"]["path"])
    classifier, info = load_classifier(args.classifier)
    if info.get("data_fingerprint") != dataset.fingerprint():
        raise CLIError(f"the feature classifier was trained on other data ({info.get('info', {}).get('data')}) "
                       f"than {dataset.path}; train one for it with "
                       f"`{CLASSIFIER_COMMAND.format(data=dataset.path, path='FILE')}` "
                       f"and pass --classifier FILE")
    rows = evaluate(model, dataset, classifier, n=args.n, seed=args.seed, batch_size=args.batch_size,
                    sample_options=options, kid_subsets=args.kid_subsets, kid_subset_size=args.kid_subset_size,
                    nll_k=args.nll_k, nll_n=args.nll_n, progress=not args.no_progress)
    print(f"{ckpt['model']} at step {ckpt['position']['step']} ({ckpt['path']}); "
          f"classifier test accuracy {info.get('test_accuracy', float('nan')):.4f}")
    print(format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checkpoint": ckpt["path"], "model": ckpt["model"], "step": ckpt["position"]["step"],
                       "rows": rows}, f, indent=2)
    return 0


def cmd_list(args) -> int:
    for name in model_names():
        try:
            get_model_class(name)
            state = "ok"
        except ModelNotAvailableError as exc:
            state = f"not available ({exc})"
        print(f"{name:8s} {MODELS[name]:48s} {state}")
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help()
        return 2
    corenn.set_num_threads(args.threads)
    commands = {"train": cmd_train, "sample": cmd_sample, "classifier": cmd_classifier, "eval": cmd_eval,
                "list": cmd_list}
    try:
        return commands[args.command](args)
    except (CLIError, *USER_ERRORS) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FloatingPointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted (Ctrl-C); the last saved checkpoint is intact", file=sys.stderr)
        return 130

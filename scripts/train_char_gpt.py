"""Train a character-level GPT (corenn.models.GPT) on a text file; resumable; samples from checkpoints.

    python scripts/train_char_gpt.py --data ../shared/data/shakespeare.txt --max-iters 3000
    python scripts/train_char_gpt.py --resume                         # continue runs/char_gpt/ckpt.npz
    python scripts/train_char_gpt.py --sample --prompt "ROMEO:" --num-chars 500
    python scripts/train_char_gpt.py --evaluate                       # loss over the whole validation split

nanoGPT's recipe (Karpathy, train_shakespeare_char): AdamW (betas 0.9/0.99, weight decay 0.1 on the
matrices only), linear warm-up then cosine decay from --lr to --min-lr at --lr-decay-iters, gradient
clipping at 1.0; every --eval-interval iterations the mean loss over --eval-iters batches of each split
(the last 10% of the text is the validation split) goes to stdout and TensorBoard (<out-dir>/tb, read with
`tensorboard --logdir runs/char_gpt/tb`). A checkpoint (corenn.save: .npz + JSON, written atomically)
holds the weights, optimizer state, iteration, the batch and dropout RNG states, the tokenizer's
vocabulary, the model config and the loss history, so --resume continues with exactly the batches and
losses an uninterrupted run would have had.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

import corenn as cn
from corenn.datasets import CharTextDataset, CharTokenizer
from corenn.models import GPT, GPTConfig

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "shakespeare.txt"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=DEFAULT_DATA, help="UTF-8 text file (default: %(default)s)")
    p.add_argument("--out-dir", default="runs/char_gpt", help="checkpoint and TensorBoard folder")
    p.add_argument("--checkpoint", default=None, help="checkpoint file (default: <out-dir>/ckpt.npz)")
    m = p.add_argument_group("model")
    m.add_argument("--n-layer", type=int, default=4)
    m.add_argument("--n-head", type=int, default=4)
    m.add_argument("--n-embd", type=int, default=128)
    m.add_argument("--block-size", type=int, default=128)
    m.add_argument("--dropout", type=float, default=0.0)
    m.add_argument("--no-bias", action="store_true", help="no biases in Linear layers and LayerNorms")
    t = p.add_argument_group("training")
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--max-iters", type=int, default=3000)
    t.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    t.add_argument("--min-lr", type=float, default=1e-4)
    t.add_argument("--warmup-iters", type=int, default=100)
    t.add_argument("--lr-decay-iters", type=int, default=None, help="end of the cosine decay (default: --max-iters)")
    t.add_argument("--restart-at", type=int, default=0, help="start the warm-up and cosine schedule again at this "
                   "iteration (a warm restart for a further stage of --resume; at or before the checkpoint's)")
    t.add_argument("--weight-decay", type=float, default=0.1)
    t.add_argument("--beta1", type=float, default=0.9)
    t.add_argument("--beta2", type=float, default=0.99)
    t.add_argument("--grad-clip", type=float, default=1.0, help="0 disables clipping")
    t.add_argument("--eval-interval", type=int, default=250)
    t.add_argument("--eval-iters", type=int, default=20, help="batches per split in each evaluation")
    t.add_argument("--log-interval", type=int, default=10)
    t.add_argument("--save-interval", type=int, default=None, help="checkpoint every N iterations "
                   "(default: --eval-interval)")
    t.add_argument("--stop-after", type=int, default=0, help="stop (and save) after this many iterations of this "
                   "invocation")
    t.add_argument("--max-minutes", type=float, default=0.0, help="stop (and save) after this much training time")
    t.add_argument("--seed", type=int, default=1337)
    t.add_argument("--threads", type=int, default=1, help="BLAS threads")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    t.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--evaluate", action="store_true", help="load the checkpoint and print its mean loss over every "
                   "non-overlapping block of the validation split")
    s = p.add_argument_group("sampling")
    s.add_argument("--sample", action="store_true", help="load the checkpoint and print generated text")
    s.add_argument("--prompt", default="\n")
    s.add_argument("--num-chars", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=200)
    s.add_argument("--no-cache", action="store_true", help="generate without the key/value cache")
    return p


def learning_rate(it: int, args) -> float:
    """Linear warm-up over warmup_iters, cosine decay to min_lr at lr_decay_iters, then min_lr (nanoGPT).

    With restart_at R the whole schedule counts from iteration R (decay still ends at lr_decay_iters)."""
    it, decay_iters = it - args.restart_at, (args.lr_decay_iters or args.max_iters) - args.restart_at
    if it < args.warmup_iters:
        return args.lr * (it + 1) / (args.warmup_iters + 1)
    if it > decay_iters:
        return args.min_lr
    ratio = (it - args.warmup_iters) / max(1, decay_iters - args.warmup_iters)
    return args.min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (args.lr - args.min_lr)


def estimate_loss(model, data, args, it: int) -> dict:
    """Mean loss over eval_iters batches of each split; its own RNG, so training batches are unaffected."""
    rng = np.random.default_rng([args.seed, it, 7])
    out = {}
    model.eval()
    with cn.no_grad():
        for split in ("train", "val"):
            losses = [model(*data.get_batch(split, args.batch_size, rng))[1].item() for _ in range(args.eval_iters)]
            out[split] = float(np.mean(losses))
    model.train()
    return out


def save_checkpoint(path, model, opt, it, batch_rng, tokenizer, history, args) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    cn.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter": it,
             "rng": {"batch": json.dumps(batch_rng.bit_generator.state),
                     "corenn": json.dumps(cn.creation.generator().bit_generator.state)},
             "tokenizer": tokenizer.to_json(), "config": json.dumps(model.config.to_dict()),
             "args": json.dumps(vars(args)), "history": history}, path)


def load_checkpoint(path):
    """(state, model, tokenizer) from a checkpoint written by this script."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint not found: {path!r}")
    state = cn.load(path)
    model = GPT(GPTConfig.from_dict(json.loads(state["config"])))
    model.load_state_dict(state["model"])
    return state, model, CharTokenizer.from_json(state["tokenizer"])


def make_logger(folder):
    """TensorBoard scalars through rl's logger (the `tensorboard` package, no torch); None if unavailable."""
    try:
        from rl.core.logger import Logger
        return Logger(folder, ("tensorboard",))
    except ImportError as e:
        print(f"TensorBoard logging off ({e})", flush=True)
        return None


def sample(args, path) -> str:
    _, model, tokenizer = load_checkpoint(path)
    if not args.prompt:
        raise SystemExit("--prompt must not be empty")
    try:
        prompt = tokenizer.encode(args.prompt)
    except ValueError as e:
        raise SystemExit(f"--prompt: {e}") from None
    ids = model.generate(prompt[None], args.num_chars, temperature=args.temperature, top_k=args.top_k,
                         rng=args.seed, use_cache=not args.no_cache)
    text = tokenizer.decode(ids[0])
    print(text)
    return text


def evaluate(args, path, batch_size: int = 16) -> float:
    """Mean loss (nats/char) over every non-overlapping block_size window of the validation split."""
    state, model, tokenizer = load_checkpoint(path)
    cn.set_num_threads(args.threads)
    val = np.asarray(CharTextDataset(args.data, model.config.block_size, tokenizer=tokenizer).splits["val"])
    t = model.config.block_size
    n = (len(val) - 1) // t  # windows; window i reads val[i t : (i + 1) t + 1]
    if n == 0:
        raise SystemExit(f"the validation split ({len(val)} characters) is shorter than one block of {t}")
    inputs, targets = val[:n * t].reshape(n, t), val[1:n * t + 1].reshape(n, t)  # (n, t) each
    total = 0.0
    model.eval()
    with cn.no_grad():
        for i in range(0, n, batch_size):
            x = inputs[i:i + batch_size]
            total += model(x, targets[i:i + batch_size])[1].item() * len(x)
    loss = total / n
    print(f"iter {state['iter']}: validation loss {loss:.4f} nats/char over all {n} windows of {t} "
          f"characters ({n * t:,} of {len(val):,})", flush=True)
    return loss


def train(args, path) -> dict:
    cn.set_num_threads(args.threads)
    cn.manual_seed(args.seed)
    batch_rng = np.random.default_rng(args.seed)
    history = {"train": [], "eval": []}
    if args.resume:
        state, model, tokenizer = load_checkpoint(path)
        data = CharTextDataset(args.data, model.config.block_size, tokenizer=tokenizer)
        start = int(state["iter"])
        if args.restart_at > start:
            raise SystemExit(f"--restart-at {args.restart_at} is after the checkpoint's iteration {start}")
        history = {"train": list(state["history"]["train"]), "eval": list(state["history"]["eval"])}
        batch_rng.bit_generator.state = json.loads(state["rng"]["batch"])
        saved_args = json.loads(state["args"])
        for name in ("n_layer", "n_head", "n_embd", "block_size", "dropout", "no_bias"):
            if saved_args.get(name) != getattr(args, name):
                print(f"note: --{name.replace('_', '-')} {getattr(args, name)} ignored; the checkpoint has "
                      f"{saved_args.get(name)}", flush=True)
    else:
        data = CharTextDataset(args.data, args.block_size)
        tokenizer = data.tokenizer
        model = GPT(GPTConfig(block_size=args.block_size, vocab_size=data.vocab_size, n_layer=args.n_layer,
                              n_head=args.n_head, n_embd=args.n_embd, dropout=args.dropout, bias=not args.no_bias))
        start = 0
    opt = model.configure_optimizers(args.weight_decay, args.lr, (args.beta1, args.beta2))
    if args.resume:
        opt.load_state_dict(state["optimizer"])
        cn.creation.generator().bit_generator.state = json.loads(state["rng"]["corenn"])
        print(f"resumed from {path} at iteration {start}", flush=True)
    cfg = model.config
    print(f"GPT {cfg.n_layer} layers x {cfg.n_head} heads x {cfg.n_embd} wide, block {cfg.block_size}, vocab "
          f"{cfg.vocab_size}: {model.num_parameters():,} parameters; {len(data.splits['train']):,} train / "
          f"{len(data.splits['val']):,} val characters", flush=True)
    logger = None if args.no_tensorboard else make_logger(os.path.join(args.out_dir, "tb"))
    save_every = args.save_interval or args.eval_interval
    tokens = args.batch_size * cfg.block_size
    it, done, t0, train_time = start, 0, time.perf_counter(), 0.0
    while True:
        if it % args.eval_interval == 0 or it == args.max_iters:
            if not history["eval"] or history["eval"][-1]["iter"] != it:
                losses = estimate_loss(model, data, args, it)
                history["eval"].append({"iter": it, **losses, "seconds": train_time})
                print(f"iter {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f} "
                      f"({train_time:.0f} s of training)", flush=True)
                if logger:
                    logger.record("loss/train", losses["train"])
                    logger.record("loss/val", losses["val"])
                    logger.dump(it)
        stop = it >= args.max_iters or (args.stop_after and done >= args.stop_after) or (
            args.max_minutes and train_time >= 60 * args.max_minutes)
        if stop or (it > start and it % save_every == 0):
            save_checkpoint(path, model, opt, it, batch_rng, tokenizer, history, args)
        if stop:
            break
        step_start = time.perf_counter()
        lr = learning_rate(it, args)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = data.get_batch("train", args.batch_size, batch_rng)
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        if args.grad_clip > 0:
            cn.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        train_time += time.perf_counter() - step_start
        history["train"].append(loss.item())
        it, done = it + 1, done + 1
        if it % args.log_interval == 0:
            elapsed = time.perf_counter() - t0
            rate = tokens * done / max(elapsed, 1e-9)
            print(f"iter {it}: loss {history['train'][-1]:.4f}, lr {lr:.2e}, {rate:,.0f} tokens/s", flush=True)
            if logger:
                logger.record("train/loss", history["train"][-1])
                logger.record("train/lr", lr)
                logger.record("perf/tokens_per_s", rate)
                logger.dump(it)
    if logger:
        logger.close()
    return history


def main(argv=None):
    args = build_parser().parse_args(argv)
    path = args.checkpoint or os.path.join(args.out_dir, "ckpt.npz")
    if args.sample:
        return sample(args, path)
    if args.resume and not os.path.isfile(path):
        raise SystemExit(f"--resume needs an existing checkpoint, {path!r} does not exist")
    if not os.path.isfile(args.data):
        raise SystemExit(f"--data: text file not found: {args.data!r}")
    return evaluate(args, path) if args.evaluate else train(args, path)


if __name__ == "__main__":
    main(sys.argv[1:])

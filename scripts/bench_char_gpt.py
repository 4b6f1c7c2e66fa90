"""Training throughput (tokens/s) of corenn's GPT against the same model in PyTorch (CPU), one thread each.

    python scripts/bench_char_gpt.py                      # 4 layers x 4 heads x 128 wide, block 128, batch 32
    python scripts/bench_char_gpt.py --rounds 5 --iters 10 --profile

Both models are nanoGPT's (token + position embeddings, pre-LN blocks with causal self-attention and a
GELU MLP, final LayerNorm, lm_head tied to the token embedding); the PyTorch one starts from corenn's
weights, and the script checks that both give the same loss on the same batch before timing. One step is
forward, backward, gradient clipping at 1.0 and AdamW. The runs alternate (corenn, torch, torch, corenn,
...) so that a load on the machine affects both alike; the figure is the median over rounds.
"""
from __future__ import annotations

import argparse
import cProfile
import math
import os
import pstats
import statistics
import time

import numpy as np

import corenn as cn
from corenn.datasets import CharTextDataset
from corenn.models import GPT, GPTConfig

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "shakespeare.txt"))


def torch_gpt(config: GPTConfig):
    """nanoGPT's model in PyTorch with corenn's parameter names."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SelfAttention(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c_attn = nn.Linear(c.n_embd, 3 * c.n_embd, bias=c.bias)
            self.c_proj = nn.Linear(c.n_embd, c.n_embd, bias=c.bias)
            self.resid_dropout = nn.Dropout(c.dropout)
            self.n_head, self.dropout = c.n_head, c.dropout

        def forward(self, x):
            b, t, ch = x.shape
            q, k, v = self.c_attn(x).split(ch, dim=2)
            q, k, v = (z.view(b, t, self.n_head, ch // self.n_head).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                               is_causal=True)
            return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(b, t, ch)))

    class MLP(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.c_fc = nn.Linear(c.n_embd, 4 * c.n_embd, bias=c.bias)
            self.gelu = nn.GELU()
            self.c_proj = nn.Linear(4 * c.n_embd, c.n_embd, bias=c.bias)
            self.dropout = nn.Dropout(c.dropout)

        def forward(self, x):
            return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.ln_1 = nn.LayerNorm(c.n_embd, bias=c.bias)
            self.attn = SelfAttention(c)
            self.ln_2 = nn.LayerNorm(c.n_embd, bias=c.bias)
            self.mlp = MLP(c)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.config = c
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(c.vocab_size, c.n_embd), wpe=nn.Embedding(c.block_size, c.n_embd),
                drop=nn.Dropout(c.dropout), h=nn.ModuleList(Block(c) for _ in range(c.n_layer)),
                ln_f=nn.LayerNorm(c.n_embd, bias=c.bias)))
            self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx, targets):
            t = idx.shape[1]
            pos = torch.arange(t, dtype=torch.long)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    return TorchGPT(config)


def copy_weights(model: GPT, tmodel) -> None:
    """corenn's state dict into the torch model (the tied lm_head follows the token embedding)."""
    import torch
    state = {k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()}
    missing, unexpected = tmodel.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise RuntimeError(f"state dicts differ: missing {missing}, unexpected {unexpected}")


def torch_optimizer(tmodel, lr, weight_decay, betas):
    import torch
    decay = [p for p in tmodel.parameters() if p.dim() >= 2]
    no_decay = [p for p in tmodel.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}], lr=lr, betas=betas)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=DEFAULT_DATA, help="text file (random tokens if it does not exist)")
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--iters", type=int, default=5, help="timed steps per round and framework")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps before the first round")
    p.add_argument("--profile", action="store_true", help="cProfile corenn's steps and print the top functions")
    args = p.parse_args(argv)

    import torch
    prev_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cn.set_num_threads(1)
    cn.manual_seed(0)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if os.path.isfile(args.data):
        data = CharTextDataset(args.data, args.block_size)
        vocab = data.vocab_size
        batches = [data.get_batch("train", args.batch_size, rng) for _ in range(8)]
    else:
        vocab = 65
        batches = [(rng.integers(0, vocab, (args.batch_size, args.block_size)),) * 2 for _ in range(8)]
    cfg = GPTConfig(block_size=args.block_size, vocab_size=vocab, n_layer=args.n_layer, n_head=args.n_head,
                    n_embd=args.n_embd, dropout=0.0, bias=True)
    model = GPT(cfg)
    tmodel = torch_gpt(cfg)
    copy_weights(model, tmodel)
    x, y = batches[0]
    ours = model(x, y)[1].item()
    theirs = tmodel(torch.from_numpy(x), torch.from_numpy(y))[1].item()
    print(f"model: {args.n_layer} layers x {args.n_head} heads x {args.n_embd} wide, block {args.block_size}, "
          f"batch {args.batch_size}, vocab {vocab}: {model.num_parameters():,} parameters")
    print(f"same weights, same batch: loss corenn {ours:.6f}, torch {theirs:.6f}")
    if not math.isclose(ours, theirs, rel_tol=1e-4):
        raise SystemExit("the two models disagree; not timing different models")

    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99))
    topt = torch_optimizer(tmodel, 1e-3, 0.1, (0.9, 0.99))
    tbatches = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in batches]
    state = {"i": 0}

    def corenn_steps(n):
        for _ in range(n):
            xb, yb = batches[state["i"] % len(batches)]
            state["i"] += 1
            _, loss = model(xb, yb)
            opt.zero_grad()
            loss.backward()
            cn.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

    def torch_steps(n):
        for _ in range(n):
            xb, yb = tbatches[state["i"] % len(tbatches)]
            state["i"] += 1
            _, loss = tmodel(xb, yb)
            topt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tmodel.parameters(), 1.0)
            topt.step()

    corenn_steps(args.warmup)
    torch_steps(args.warmup)
    tokens = args.iters * args.batch_size * args.block_size
    rates = {"corenn": [], "torch": []}
    runs = {"corenn": corenn_steps, "torch": torch_steps}
    for r in range(args.rounds):
        order = ("corenn", "torch") if r % 2 == 0 else ("torch", "corenn")
        for name in order:
            start = time.perf_counter()
            runs[name](args.iters)
            rates[name].append(tokens / (time.perf_counter() - start))
        print(f"round {r + 1}: corenn {rates['corenn'][-1]:,.0f} tokens/s, torch {rates['torch'][-1]:,.0f} tokens/s",
              flush=True)
    ours, theirs = statistics.median(rates["corenn"]), statistics.median(rates["torch"])
    print(f"\nmedian tokens/s: corenn {ours:,.0f}, torch {theirs:,.0f}, ratio {ours / theirs:.2f}x "
          f"({1000 * args.batch_size * args.block_size / ours:.0f} ms vs "
          f"{1000 * args.batch_size * args.block_size / theirs:.0f} ms per step)")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        corenn_steps(args.iters)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    torch.set_num_threads(prev_threads)
    return ours, theirs


if __name__ == "__main__":
    main()

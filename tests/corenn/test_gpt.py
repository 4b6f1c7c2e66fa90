"""GPT: shapes, weight tying, the key/value cache (generation equals generation without it), PyTorch parity,
and scripts/train_char_gpt.py (resume continues exactly, sampling)."""
import importlib.util
import json
import os

import numpy as np
import pytest

import corenn as cn
from corenn.models import GPT, GPTConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny(block_size=8, dropout=0.0, bias=True, seed=0):
    cn.manual_seed(seed)
    return GPT(GPTConfig(block_size=block_size, vocab_size=11, n_layer=2, n_head=2, n_embd=16, dropout=dropout,
                         bias=bias))


def test_forward_shapes_tying_and_initial_loss():
    model = tiny()
    idx, tgt = np.random.default_rng(0).integers(0, 11, (2, 3, 8))
    logits, loss = model(idx, tgt)
    assert logits.shape == (3, 8, 11) and logits.dtype == np.float32
    assert loss.item() == pytest.approx(np.log(11), abs=0.1)  # small init: near-uniform predictions
    last, none = model(idx)
    assert none is None and last.shape == (3, 1, 11)
    np.testing.assert_allclose(last.data[:, 0], logits.data[:, -1], atol=1e-6)
    assert model.lm_head.weight is model.transformer["wte"].weight
    names = list(model.state_dict())
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names
    assert "transformer.h.1.attn.c_attn.weight" in names and "transformer.h.0.mlp.c_fc.bias" in names
    loss.backward()
    assert all(p.grad is not None and np.all(np.isfinite(p.grad)) for p in model.parameters())
    assert model.num_parameters() == model.num_parameters(non_embedding=False) - 8 * 16


def test_causality_future_tokens_do_not_change_past_logits():
    model = tiny()
    a = np.random.default_rng(1).integers(0, 11, (1, 8))
    b = a.copy()
    b[0, 5:] = (b[0, 5:] + 1) % 11
    la, lb = model(a, a)[0].data, model(b, b)[0].data
    np.testing.assert_allclose(la[:, :5], lb[:, :5], atol=1e-6)
    assert not np.allclose(la[:, 5:], lb[:, 5:])


def test_cached_logits_equal_full_forward_logits():
    model = tiny(bias=False)
    idx = np.random.default_rng(2).integers(0, 11, (2, 8))
    with cn.no_grad():
        cache = model.new_cache(2)
        first, _ = model(idx[:, :3], kv_cache=cache)  # a prompt of 3, then one token at a time
        np.testing.assert_allclose(first.data, model(idx[:, :3])[0].data, atol=1e-5)
        for t in range(3, 8):
            step, _ = model(idx[:, t:t + 1], kv_cache=cache)
            full, _ = model(idx[:, :t + 1])
            np.testing.assert_allclose(step.data, full.data, atol=1e-5)
        assert cache.length == 8
        with pytest.raises(ValueError, match="block_size"):
            model(idx[:, :1], kv_cache=cache)
    with pytest.raises(RuntimeError, match="no_grad"):
        model(idx[:, :1], kv_cache=model.new_cache(2))


@pytest.mark.parametrize("top_k", [None, 3])
def test_generation_with_cache_equals_generation_without(top_k):
    model = tiny(dropout=0.2)
    prompt = np.array([[1, 2, 3], [4, 5, 6]])
    new = 12  # runs past block_size (8), where the context is cropped
    with_cache = model.generate(prompt, new, temperature=0.9, top_k=top_k, rng=7, use_cache=True)
    without = model.generate(prompt, new, temperature=0.9, top_k=top_k, rng=7, use_cache=False)
    assert with_cache.shape == (2, 3 + new)
    np.testing.assert_array_equal(with_cache, without)
    np.testing.assert_array_equal(with_cache[:, :3], prompt)
    assert model.training  # mode restored
    other = model.generate(prompt, new, temperature=0.9, top_k=top_k, rng=8)
    assert not np.array_equal(other, with_cache)
    greedy = model.generate(prompt, 4, temperature=0.0)
    np.testing.assert_array_equal(greedy, model.generate(prompt, 4, temperature=0.0, use_cache=False))


def test_training_reduces_loss_and_optimizer_groups():
    model = tiny(block_size=8)
    opt = model.configure_optimizers(weight_decay=0.1, learning_rate=3e-3)
    decay, no_decay = opt.param_groups
    assert all(p.ndim == 2 for p in decay["params"]) and all(p.ndim == 1 for p in no_decay["params"])
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    seq = np.tile(np.arange(9), 20)
    x = np.stack([seq[i:i + 8] for i in range(8)])
    y = np.stack([seq[i + 1:i + 9] for i in range(8)])
    losses = []
    for _ in range(60):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_config_validation():
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=10, n_head=3)
    with pytest.raises(ValueError, match="block_size"):
        GPTConfig(block_size=0)
    with pytest.raises(ValueError, match="unknown"):
        GPTConfig.from_dict({"n_layers": 2})
    assert GPTConfig.from_dict(GPTConfig(n_layer=3).to_dict()) == GPTConfig(n_layer=3)
    with pytest.raises(ValueError, match="integer token ids"):
        tiny()(np.zeros((2, 3), np.float32))


def test_gpt_matches_the_benchmarks_torch_model():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        bench = load_script("bench_char_gpt")
        model = tiny()
        for p in model.parameters():
            p.data = p.data.astype(np.float64)
        tmodel = bench.torch_gpt(model.config).double()
        bench.copy_weights(model, tmodel)
        idx = np.random.default_rng(3).integers(0, 11, (2, 8))
        tgt = np.random.default_rng(4).integers(0, 11, (2, 8))
        logits, loss = model(idx, tgt)
        tlogits, tloss = tmodel(torch.tensor(idx), torch.tensor(tgt))
        np.testing.assert_allclose(logits.data, tlogits.detach().numpy(), atol=1e-6)  # GELU's erf: a 1.2e-7 fit
        loss.backward()
        tloss.backward()
        theirs = dict(tmodel.named_parameters())
        for name, p in model.named_parameters():
            np.testing.assert_allclose(p.grad, theirs[name].grad.numpy(), atol=1e-6, err_msg=name)
    finally:
        torch.set_num_threads(threads)


# ---- scripts/train_char_gpt.py ---------------------------------------------------------------------
@pytest.fixture
def text_file(tmp_path):
    rng = np.random.default_rng(0)
    words = ["to", "be", "or", "not", "that", "is", "the", "question", "whether", "tis", "nobler"]
    text = " ".join(rng.choice(words, 700)) + "\n"
    path = tmp_path / "tiny.txt"
    path.write_text(text)
    return str(path)


def script_args(text_file, out_dir, *extra):
    return ["--data", text_file, "--out-dir", str(out_dir), "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
            "--block-size", "16", "--batch-size", "4", "--max-iters", "8", "--eval-interval", "4", "--eval-iters", "2",
            "--log-interval", "100", "--warmup-iters", "2", "--dropout", "0.1", *extra]


def test_train_script_resume_continues_exactly(text_file, tmp_path, capsys):
    script = load_script("train_char_gpt")
    whole = script.main(script_args(text_file, tmp_path / "a", "--no-tensorboard"))
    assert len(whole["train"]) == 8 and [e["iter"] for e in whole["eval"]] == [0, 4, 8]
    assert np.mean(whole["train"][-3:]) < whole["train"][0]
    first = script.main(script_args(text_file, tmp_path / "b", "--no-tensorboard", "--stop-after", "3"))
    assert len(first["train"]) == 3
    resumed = script.main(script_args(text_file, tmp_path / "b", "--resume"))
    assert resumed["train"] == whole["train"]  # bit-identical losses, batches and dropout masks
    assert [(e["train"], e["val"]) for e in resumed["eval"]] == [(e["train"], e["val"]) for e in whole["eval"]]
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "b" / "tb"))
    state = cn.load(str(tmp_path / "b" / "ckpt.npz"))
    assert state["iter"] == 8 and json.loads(state["config"])["n_embd"] == 16
    capsys.readouterr()
    text = script.main(script_args(text_file, tmp_path / "b", "--sample", "--prompt", "to be", "--num-chars", "30"))
    assert text.startswith("to be") and len(text) == 35 and text in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not in the vocabulary"):
        script.main(script_args(text_file, tmp_path / "b", "--sample", "--prompt", "XYZ"))
    with pytest.raises(SystemExit, match="not found"):
        script.main(script_args(str(tmp_path / "missing.txt"), tmp_path / "c"))


def test_train_script_warm_restart_schedule(text_file, tmp_path):
    script = load_script("train_char_gpt")
    args = script.build_parser().parse_args(["--lr", "1e-4", "--min-lr", "1e-5", "--warmup-iters", "0",
                                             "--restart-at", "50", "--max-iters", "150"])
    assert script.learning_rate(50, args) == pytest.approx(1e-4)   # the restart begins at the new peak
    assert script.learning_rate(100, args) == pytest.approx(5.5e-5)  # half-way down the cosine
    assert script.learning_rate(150, args) == pytest.approx(1e-5)
    history = script.main(script_args(text_file, tmp_path / "a", "--no-tensorboard", "--stop-after", "4"))
    loss = script.main(script_args(text_file, tmp_path / "a", "--evaluate"))
    assert history["eval"][-1]["iter"] == 4 and abs(loss - history["eval"][-1]["val"]) < 0.2  # all vs sampled
    with pytest.raises(SystemExit, match="after the checkpoint's iteration 4"):
        script.main(script_args(text_file, tmp_path / "a", "--resume", "--restart-at", "5"))

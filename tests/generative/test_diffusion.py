"""generative.diffusion: schedules and posteriors against their closed forms, DDIM against DDPM, guidance, the U-Net,
and the DDPM model's training, sampling and checkpoints (tiny networks on 8x8 synthetic images)."""
import math

import numpy as np
import pytest

import corenn
from generative.diffusion import (
    DDPM,
    NoiseSchedule,
    TimeConditionedUNet,
    combine_guidance,
    cosine_betas,
    ddim_sample,
    ddim_step_mean_std,
    ddim_timesteps,
    ddpm_sample,
    ddpm_step_mean_std,
    drop_labels,
    guided_eps,
    linear_betas,
    make_schedule,
    sinusoidal_time_embedding,
)
from generative.diffusion.unet import SelfAttention2d

TINY = dict(base_channels=8, channel_mults=[1, 2], groups=4, timesteps=100, sampling_steps=5)


def tiny_ddpm(seed=0, **hparams):
    corenn.manual_seed(seed)
    return DDPM(image_shape=(1, 8, 8), num_classes=3, **{**TINY, **hparams})


def blobs(n=32, seed=0):
    """(n, 1, 8, 8) images in [-1, 1]: a bright square whose position depends on the label; labels (n,)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = -np.ones((n, 1, 8, 8), np.float32)
    for i, k in enumerate(y):
        x[i, 0, 2 * k:2 * k + 3, 1:6] = 1.0
    return x, y


# ---- noise schedules ------------------------------------------------------------------------------------------
def test_linear_and_cosine_tables():
    s = make_schedule("linear", 1000)
    assert s.betas.dtype == np.float64 and s.betas.shape == (1000,)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1 - s.betas))
    np.testing.assert_allclose(make_schedule("linear", 500).betas[[0, -1]], [2e-4, 0.04])  # scaled by 1000 / T

    T, sft = 1000, 0.008
    c = make_schedule("cosine", T)
    f = np.cos((np.arange(T + 1) / T + sft) / (1 + sft) * math.pi / 2) ** 2
    unclipped = c.betas < 0.999
    np.testing.assert_allclose(c.alphas_cumprod[unclipped], (f[1:] / f[0])[unclipped], rtol=1e-10)
    assert c.betas.max() <= 0.999 and not unclipped.all()  # the last beta is clipped
    assert np.all(np.diff(cosine_betas(T)) >= 0)


def test_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown noise schedule"):
        make_schedule("quadratic")
    with pytest.raises(ValueError, match="positive int"):
        make_schedule("linear", 0)
    with pytest.raises(ValueError, match="beta_start"):
        linear_betas(10, 0.5, 0.1)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        NoiseSchedule(np.array([0.1, 1.0]))
    with pytest.raises(ValueError, match=r"timesteps must lie in \[0, 1000\)"):
        make_schedule("linear").q_sample(np.zeros((1, 2)), np.array([1000]), np.zeros((1, 2)))


def test_q_sample_mean_and_variance_empirically():
    s = make_schedule("cosine", 1000)
    rng = np.random.default_rng(0)
    x0 = np.array([[-0.8, 0.3, 1.0]])
    for t in (0, 300, 999):
        n = 200_000
        tt = np.full(n, t)
        xt = s.q_sample(np.repeat(x0, n, 0), tt, rng.standard_normal((n, 3)))
        mean, var = s.q_mean_variance(x0, np.array([t]))
        np.testing.assert_allclose(mean, math.sqrt(s.alphas_cumprod[t]) * x0)
        assert var.item() == pytest.approx(1 - s.alphas_cumprod[t])
        se = math.sqrt(var.item() / n)
        np.testing.assert_allclose(xt.mean(0), mean[0], atol=5 * se + 1e-12)
        np.testing.assert_allclose(xt.var(0), np.full(3, var.item()), rtol=0.02)


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_posterior_is_the_bayes_posterior(name):
    """q(x_{t-1} | x_t, x_0) from Gaussian conditioning: prior N(sqrt(ab_{t-1}) x0, 1 - ab_{t-1}) for x_{t-1},
    likelihood N(sqrt(alpha_t) x_{t-1}, beta_t) for x_t."""
    s = make_schedule(name, 1000)
    rng = np.random.default_rng(1)
    x0, xt = rng.uniform(-1, 1, (4, 5)), rng.standard_normal((4, 5))
    for t in (1, 2, 250, 999):
        ab_prev, a, b = s.alphas_cumprod[t - 1], s.alphas[t], s.betas[t]
        precision = 1 / (1 - ab_prev) + a / b
        var = 1 / precision
        mean = var * (math.sqrt(ab_prev) * x0 / (1 - ab_prev) + math.sqrt(a) * xt / b)
        got_mean, got_var, got_logvar = s.q_posterior(x0, xt, np.full(4, t))
        np.testing.assert_allclose(got_mean, mean, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(got_var, var, rtol=1e-9)
        np.testing.assert_allclose(got_logvar, math.log(var), rtol=1e-9)
    mean0, var0, _ = s.q_posterior(x0, xt, np.zeros(4, np.int64))  # t = 0: x_{-1} is x_0 itself
    np.testing.assert_allclose(mean0, x0)
    assert np.all(var0 == 0)


def test_predict_x0_and_eps_invert_q_sample():
    s = make_schedule("linear", 1000)
    rng = np.random.default_rng(2)
    x0, eps, t = rng.uniform(-1, 1, (6, 1, 4, 4)), rng.standard_normal((6, 1, 4, 4)), rng.integers(0, 1000, 6)
    xt = s.q_sample(x0, t, eps)
    np.testing.assert_allclose(s.predict_x0(xt, t, eps), x0, atol=1e-9)
    np.testing.assert_allclose(s.predict_eps(xt, t, x0), eps, atol=1e-9)


# ---- DDIM against DDPM ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("clip", [False, True])
def test_ddim_eta1_on_the_full_schedule_is_the_ddpm_step(clip):
    s = make_schedule("linear", 1000)
    rng = np.random.default_rng(3)
    xt, eps = 1.5 * rng.standard_normal((3, 1, 4, 4)), rng.standard_normal((3, 1, 4, 4))
    for t in (0, 1, 17, 500, 999):
        m_ddim, sd_ddim, x0_ddim = ddim_step_mean_std(s, xt, t, t - 1, eps, eta=1.0, clip_x0=clip)
        m_ddpm, sd_ddpm, x0_ddpm = ddpm_step_mean_std(s, xt, t, eps, clip_x0=clip)
        np.testing.assert_allclose(m_ddim, m_ddpm, rtol=1e-8, atol=1e-10)
        assert sd_ddim == pytest.approx(sd_ddpm, rel=1e-9, abs=1e-15)
        np.testing.assert_allclose(x0_ddim, x0_ddpm)
    assert ddim_step_mean_std(s, xt, 500, 499, eps, eta=0.0)[1] == 0.0


def test_ddim_timesteps():
    np.testing.assert_array_equal(ddim_timesteps(1000, 1000), np.arange(999, -1, -1))
    taus = ddim_timesteps(1000, 50)
    assert len(taus) == 50 and taus[0] == 999 and taus[-1] == 0 and np.all(np.diff(taus) < 0)
    with pytest.raises(ValueError, match="DDIM steps"):
        ddim_timesteps(100, 101)


def test_ddim_eta0_is_deterministic_and_follows_the_oracle_trajectory():
    """With the exact eps of a known x_0, deterministic DDIM keeps the same implied noise at every step and
    lands on x_0; with eta = 0 the rng is never used."""
    s = make_schedule("cosine", 200)
    x0 = np.random.default_rng(4).uniform(-1, 1, (2, 1, 4, 4))
    seen = []

    def oracle(x, t):
        eps = s.predict_eps(x.astype(np.float64), t, x0)
        seen.append(eps)
        return eps

    x_T = np.random.default_rng(5).standard_normal(x0.shape).astype(np.float32)
    out = ddim_sample(oracle, s, x_T, steps=20, eta=0.0, rng=None, clip_x0=False)
    np.testing.assert_allclose(out, x0, atol=1e-5)
    assert len(seen) == 20
    for eps in seen[1:]:
        np.testing.assert_allclose(eps, seen[0], atol=2e-4)
    again = ddim_sample(oracle, s, x_T, steps=20, eta=0.0, rng=np.random.default_rng(99), clip_x0=False)
    np.testing.assert_array_equal(again, out)
    noisy = ddim_sample(lambda x, t: np.zeros_like(x), s, x_T, steps=20, eta=1.0, rng=np.random.default_rng(0))
    noisy2 = ddim_sample(lambda x, t: np.zeros_like(x), s, x_T, steps=20, eta=1.0, rng=np.random.default_rng(1))
    assert not np.allclose(noisy, noisy2)


def test_ddpm_sampler_with_oracle_returns_x0():
    s = make_schedule("linear", 50)
    x0 = np.random.default_rng(6).uniform(-1, 1, (2, 1, 4, 4))
    out = ddpm_sample(lambda x, t: s.predict_eps(x.astype(np.float64), t, x0), s,
                      np.random.default_rng(7).standard_normal(x0.shape), np.random.default_rng(8), clip_x0=False)
    np.testing.assert_allclose(out, x0, atol=1e-5)


# ---- classifier-free guidance ---------------------------------------------------------------------------------
def test_drop_labels():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 20_000)
    dropped = drop_labels(y, 0.1, 10, rng)
    mask = dropped == 10
    assert abs(mask.mean() - 0.1) < 0.01
    np.testing.assert_array_equal(dropped[~mask], y[~mask])
    np.testing.assert_array_equal(drop_labels(y, 0.0, 10, rng), y)
    assert np.all(drop_labels(y, 1.0, 10, rng) == 10)
    with pytest.raises(ValueError, match="p_uncond"):
        drop_labels(y, 1.5, 10, rng)


def test_guidance_scales_0_and_1_are_the_two_models():
    corenn.manual_seed(0)
    net = TimeConditionedUNet(1, base_channels=8, channel_mults=(1, 2), num_classes=3, groups=4)
    rng = np.random.default_rng(1)
    x, t, y = rng.standard_normal((4, 1, 8, 8)).astype(np.float32), rng.integers(0, 100, 4), np.array([0, 1, 2, 1])
    with corenn.no_grad():
        eps_u = net(corenn.Tensor(x), t, np.full(4, 3)).data
        eps_c = net(corenn.Tensor(x), t, y).data
    assert not np.allclose(eps_u, eps_c)
    np.testing.assert_array_equal(guided_eps(net, x, t, y, 0.0, null_class=3), eps_u)
    np.testing.assert_array_equal(guided_eps(net, x, t, y, 1.0, null_class=3), eps_c)
    np.testing.assert_allclose(guided_eps(net, x, t, y, 2.5, null_class=3), eps_u + 2.5 * (eps_c - eps_u),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(combine_guidance(np.ones(2), np.zeros(2), 3.0), [3.0, 3.0])


# ---- the U-Net ------------------------------------------------------------------------------------------------
def test_sinusoidal_time_embedding():
    emb = sinusoidal_time_embedding(np.array([0, 1, 500]), 16)
    assert emb.shape == (3, 16) and emb.dtype == np.float32
    np.testing.assert_array_equal(emb[0], np.r_[np.zeros(8), np.ones(8)])
    np.testing.assert_allclose(emb[1, [0, 8]], [math.sin(1), math.cos(1)], rtol=1e-6)
    np.testing.assert_allclose(emb[:, :8] ** 2 + emb[:, 8:] ** 2, 1, rtol=1e-6)
    with pytest.raises(ValueError, match="even"):
        sinusoidal_time_embedding(np.array([1]), 7)


@pytest.mark.parametrize("hw", [28, 32])
def test_unet_shapes_and_conditioning(hw):
    corenn.manual_seed(0)
    net = TimeConditionedUNet(1, base_channels=8, channel_mults=(1, 2, 2), num_classes=10, groups=4)
    x = np.random.default_rng(0).standard_normal((2, 1, hw, hw)).astype(np.float32)
    with corenn.no_grad():
        out = net(corenn.Tensor(x), np.array([5, 5]), np.array([1, 1]))
        later = net(corenn.Tensor(x), np.array([5, 900]), np.array([1, 1]))
        other = net(corenn.Tensor(x), np.array([5, 5]), np.array([1, 10]))  # 10 = the null class
    assert out.shape == (2, 1, hw, hw) and out.dtype == np.float32
    np.testing.assert_allclose(later.data[0], out.data[0], rtol=1e-5, atol=1e-6)  # per-sample
    assert np.abs(later.data[1] - out.data[1]).max() > 1e-3                          # t matters
    assert np.abs(other.data[1] - out.data[1]).max() > 1e-3                          # y matters


def test_unet_gradients_reach_every_parameter():
    corenn.manual_seed(0)
    net = TimeConditionedUNet(1, base_channels=8, channel_mults=(1, 2), num_classes=3, groups=4)
    out = net(corenn.Tensor(np.ones((2, 1, 8, 8), np.float32)), np.array([1, 2]), np.array([0, 3]))
    (out * out).sum().backward()
    missing = [name for name, p in net.named_parameters() if p.grad is None or not np.any(p.grad)]
    # class rows 1 and 2 are unused by this batch, so only the embedding table may have zero rows
    assert missing == [] or missing == ["class_emb.weight"]
    assert np.any(net.class_emb.weight.grad[[0, 3]]) and not np.any(net.class_emb.weight.grad[[1, 2]])


def test_unet_rejects_bad_input():
    corenn.manual_seed(0)
    net = TimeConditionedUNet(1, base_channels=8, channel_mults=(1, 2, 2), num_classes=3, groups=4)
    x = corenn.Tensor(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(ValueError, match="divisible by 4"):
        net(corenn.Tensor(np.zeros((2, 1, 6, 6), np.float32)), np.array([0, 0]), np.array([0, 0]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\]"):
        net(x, np.array([0, 0]), np.array([0, 4]))
    with pytest.raises(ValueError, match="class-conditional"):
        net(x, np.array([0, 0]))
    with pytest.raises(ValueError, match="timesteps must have shape"):
        net(x, np.array([0]), np.array([0, 0]))
    with pytest.raises(ValueError, match="divisible by groups"):
        TimeConditionedUNet(1, base_channels=6, groups=4)


def test_self_attention_matches_torch():
    torch = pytest.importorskip("torch")
    corenn.manual_seed(0)
    att = SelfAttention2d(8, groups=4, heads=2)
    x = np.random.default_rng(0).standard_normal((2, 8, 3, 3)).astype(np.float32)
    ours = att(corenn.Tensor(x)).data
    w = {k: torch.from_numpy(np.array(v)) for k, v in att.state_dict().items()}
    tx = torch.from_numpy(x)
    h = torch.nn.functional.group_norm(tx, 4, w["norm.weight"], w["norm.bias"], eps=1e-5)
    qkv = torch.nn.functional.conv2d(h, w["qkv.weight"], w["qkv.bias"]).reshape(2, 3, 2, 4, 9)
    q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))
    o = torch.nn.functional.scaled_dot_product_attention(q, k, v).transpose(-1, -2).reshape(2, 8, 3, 3)
    ref = tx + torch.nn.functional.conv2d(o, w["proj.weight"], w["proj.bias"])
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-5)


# ---- the DDPM model -------------------------------------------------------------------------------------------
def test_loss_falls_over_seeded_steps():
    model = tiny_ddpm(lr=3e-3, warmup_steps=0)
    x, y = blobs()

    def fixed_loss():
        with corenn.no_grad():
            return float(model.loss(x, y, np.random.default_rng(123)).data)

    before = fixed_loss()
    rng = np.random.default_rng(0)
    logs = [model.train_step(x, y, rng) for _ in range(20)]
    assert all(np.isfinite(log["loss"]) and log["grad_norm"] > 0 for log in logs)
    assert fixed_loss() < 0.6 * before
    assert model.updates == 20


def test_ema_update_and_lr_warmup():
    model = tiny_ddpm(ema_decay=0.999, warmup_steps=4, lr=1e-3)
    before = [p.data.copy() for p in model.unet.parameters()]
    x, y = blobs(8)
    model.train_step(x, y, np.random.default_rng(0))
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 / 4)
    d = 2 / 11  # min(0.999, (1 + 1) / (10 + 1)) after the first update
    for p0, p, pe in zip(before, model.unet.parameters(), model.ema.parameters()):
        np.testing.assert_allclose(pe.data, d * p0 + (1 - d) * p.data, rtol=1e-5, atol=1e-7)
    assert not any(p.requires_grad for p in model.ema.parameters())
    assert set(tiny_ddpm(ema_decay=0.0).modules()) == {"unet"}


def test_sample_options_and_ranges():
    model = tiny_ddpm(timesteps=20)
    labels = np.array([0, 1, 2])
    for options in ({}, {"sampler": "ddpm"}, {"sampler": "ddim", "steps": 5, "eta": 0.5},
                    {"guidance_scale": 0.0, "steps": 3}, {"use_ema": False, "steps": 2, "clip_x0": False}):
        images = model.sample(3, labels=labels, rng=np.random.default_rng(0), **options)
        assert images.shape == (3, 1, 8, 8) and images.dtype == np.float32
        assert images.min() >= 0 and images.max() <= 1
    a = model.sample(3, labels, np.random.default_rng(1), steps=4)
    np.testing.assert_array_equal(a, model.sample(3, labels, np.random.default_rng(1), steps=4))
    with pytest.raises(ValueError, match="sampler must be one of"):
        model.sample(3, labels, sampler="euler")
    with pytest.raises(ValueError, match="all 20 steps"):
        model.sample(3, labels, sampler="ddpm", steps=10)
    with pytest.raises(ValueError, match="needs labels"):
        model.sample(3)
    with pytest.raises(TypeError):
        model.sample(3, labels, temperature=2.0)
    with pytest.raises(ValueError, match="p_uncond=0 never"):
        tiny_ddpm(p_uncond=0.0).sample(3, labels, guidance_scale=2.0)


def test_unconditional_configuration():
    model = tiny_ddpm(class_conditional=False)
    assert model.conditional is False and model.unet.class_emb is None and DDPM.conditional is True
    x, y = blobs(8)
    assert np.isfinite(model.train_step(x, y, np.random.default_rng(0))["loss"])
    assert model.sample(2, rng=np.random.default_rng(0), steps=3).shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="unconditional"):
        model.sample(2, labels=np.array([0, 1]))
    with pytest.raises(ValueError, match="guidance_scale needs"):
        model.sample(2, guidance_scale=2.0)


def test_bad_batches_and_hparams_raise_clear_errors():
    model = tiny_ddpm()
    x, y = blobs(4)
    with pytest.raises(ValueError, match="batch holds 64 NaN/inf"):
        model.train_step(np.where(np.arange(4)[:, None, None, None] == 0, np.inf, x), y, np.random.default_rng(0))
    model.unet.conv_out.bias.data[:] = np.nan
    with pytest.raises(FloatingPointError, match="loss is nan"):
        model.train_step(x, y, np.random.default_rng(0))
    with pytest.raises(ValueError, match="expected a batch"):
        model.train_step(x[:, :, :4], y, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"labels must be \(4,\) ints in \[0, 3\)"):
        model.train_step(x, y + 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        DDPM(width=3)
    with pytest.raises(ValueError, match=r"ema_decay must be a number in \[0, 1\)"):
        tiny_ddpm(ema_decay=1.0)
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        tiny_ddpm(lr=0.0)
    with pytest.raises(ValueError, match="p_uncond must be"):
        tiny_ddpm(p_uncond=float("nan"))
    with pytest.raises(ValueError, match="unknown noise schedule"):
        tiny_ddpm(schedule="sigmoid")
    with pytest.raises(ValueError, match="cannot exceed timesteps"):
        tiny_ddpm(timesteps=20, sampling_steps=50)


def test_checkpoint_round_trip(tmp_path):
    model = tiny_ddpm(seed=0)
    x, y = blobs(8)
    for step in range(2):
        model.train_step(x, y, np.random.default_rng(step))
    corenn.save(model.state_dict(), tmp_path / "ddpm.npz")
    restored = tiny_ddpm(seed=1)
    restored.load_state_dict(corenn.load(tmp_path / "ddpm.npz"))
    assert restored.updates == 2
    for a, b in ((model.unet, restored.unet), (model.ema, restored.ema)):
        for (name, p), q in zip(a.named_parameters(), b.parameters()):
            np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    labels = np.array([2, 0])
    np.testing.assert_array_equal(model.sample(2, labels, np.random.default_rng(3), steps=3),
                                  restored.sample(2, labels, np.random.default_rng(3), steps=3))
    # the optimizer state came back too: the next step is the same step
    assert model.train_step(x, y, np.random.default_rng(9)) == restored.train_step(x, y, np.random.default_rng(9))
    with pytest.raises(ValueError, match="'updates'"):
        restored.load_extra_state({})


def test_registered_under_ddpm():
    from generative.registry import get_model_class

    assert get_model_class("ddpm") is DDPM

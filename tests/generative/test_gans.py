"""GAN, DCGAN, WGAN-GP and the conditional GAN: the gradient penalty against central differences and torch,
learning on a toy image set (two blobs on a dark background), label conditioning, checkpoints, shapes and
errors. Everything runs on 8x8 images with tiny networks."""
import numpy as np
import pytest

import corenn
import corenn.nn.functional as F
from generative.gans import DCGAN, GAN, WGANGP, ConditionalGAN
from generative.gans.losses import gradient_penalty, interpolate
from generative.gans.networks import ConvDiscriminator, ConvGenerator, upsampling_plan

SHAPE = (1, 8, 8)
TINY = {
    GAN: {"g_hidden": [32], "d_hidden": [32]},
    DCGAN: {"g_width": 8, "d_width": 8},
    ConditionalGAN: {"g_width": 8, "d_width": 8},
    WGANGP: {"g_width": 8, "d_width": 8},
}


def make(cls, seed=0, **hparams):
    corenn.manual_seed(seed)
    return cls(image_shape=SHAPE, num_classes=2, **{**TINY[cls], **hparams})


def blobs(n, rng):
    """Toy data in [-1, 1]: background -1, a 3x3 patch of +1 top-left (label 0) or bottom-right (label 1)."""
    y = rng.integers(0, 2, n)
    x = np.full((n, *SHAPE), -1.0, np.float32)
    x[y == 0, 0, 1:4, 1:4] = 1.0
    x[y == 1, 0, 4:7, 4:7] = 1.0
    x += 0.05 * rng.standard_normal(x.shape).astype(np.float32)
    return np.clip(x, -1.0, 1.0), y


def mean_image_gap(model, x, labels, seed=1):
    """Mean squared gap between the samples' mean image and the data's, both in [-1, 1]."""
    s = model.sample(len(x), labels, rng=np.random.default_rng(seed)) * 2 - 1
    return float(((s.mean(0) - x.mean(0)) ** 2).mean())


def real_beats_fake(model, x, labels):
    """P(D(real) > D(fake)) over all pairs (the discriminator's AUC; 0.5 is chance)."""
    fake = model.sample(len(x), labels, rng=np.random.default_rng(2)) * 2 - 1
    model.discriminator.eval()
    with corenn.no_grad():
        dr, df = model.discriminate(x, labels).data, model.discriminate(fake, labels).data
    model.discriminator.train()
    return float((dr[:, None] > df[None, :]).mean())


# ---- the gradient penalty ------------------------------------------------------------------------------------
def tiny_critic(x, w1, b1, w2, b2):
    """conv(3x3, stride 2) -> LeakyReLU(0.2) -> linear: (B, 1, 6, 6) -> (B,)."""
    h = F.leaky_relu(F.conv2d(x, w1, b1, stride=2), 0.2)
    return F.linear(h.reshape(x.shape[0], -1), w2, b2).reshape(x.shape[0])


def tiny_critic_inputs(rng):
    x_hat = rng.standard_normal((3, 1, 6, 6))
    params = [rng.standard_normal((2, 1, 3, 3)), 0.1 * rng.standard_normal(2),
              0.5 * rng.standard_normal((1, 8)), 0.1 * rng.standard_normal(1)]
    return x_hat, params


def test_gradient_penalty_gradient_wrt_critic_parameters_matches_central_differences():
    x_hat, params = tiny_critic_inputs(np.random.default_rng(0))
    params = [corenn.Tensor(p, requires_grad=True) for p in params]

    def penalty(*ps):
        return gradient_penalty(lambda x: tiny_critic(x, *ps), x_hat)

    assert float(penalty(*params).data) > 1e-3  # not a trivially flat point
    assert corenn.gradcheck(penalty, params, eps=1e-6, atol=1e-6, rtol=1e-4)


def test_penalty_gradient_through_the_wgan_critic_module_matches_central_differences():
    corenn.manual_seed(0)
    critic = ConvDiscriminator((1, 8, 8), width=2, batch_norm=False, dtype=np.float64)  # the WGAN-GP critic
    x_hat = np.random.default_rng(3).standard_normal((3, 1, 8, 8))
    critic.zero_grad()
    gradient_penalty(critic, x_hat).backward()
    eps = 1e-6
    for name, p in critic.named_parameters():
        analytic = np.zeros_like(p.data) if p.grad is None else p.grad
        numeric = np.zeros_like(p.data)
        flat = p.data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = float(gradient_penalty(critic, x_hat).data)
            flat[j] = orig - eps
            minus = float(gradient_penalty(critic, x_hat).data)
            flat[j] = orig
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-4, atol=1e-7, err_msg=name)
    assert np.abs(critic.body[0].weight.grad).max() > 1e-3


def test_gradient_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    x_hat, params = tiny_critic_inputs(np.random.default_rng(1))
    ours = [corenn.Tensor(p, requires_grad=True) for p in params]
    gp = gradient_penalty(lambda x: tiny_critic(x, *ours), x_hat)
    gp.backward()

    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    xt = torch.tensor(x_hat, requires_grad=True)
    h = torch.nn.functional.leaky_relu(torch.nn.functional.conv2d(xt, theirs[0], theirs[1], stride=2), 0.2)
    score = torch.nn.functional.linear(h.reshape(3, -1), theirs[2], theirs[3]).reshape(3)
    (g,) = torch.autograd.grad(score.sum(), xt, create_graph=True)
    gp_t = ((g.reshape(3, -1).pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
    gp_t.backward()
    np.testing.assert_allclose(float(gp.data), gp_t.item(), rtol=1e-10)
    for a, b in zip(ours, theirs):  # the output bias does not move the gradient: no gradient in either
        expected = np.zeros_like(a.data) if b.grad is None else b.grad.numpy()
        np.testing.assert_allclose(np.zeros_like(a.data) if a.grad is None else a.grad, expected,
                                   rtol=1e-8, atol=1e-12)
    assert np.abs(ours[0].grad).max() > 1e-3


@pytest.mark.parametrize("scale, expected", [(1.0, 0.0), (2.0, 1.0), (0.5, 0.25)])
def test_gradient_penalty_of_a_linear_critic_is_the_squared_norm_gap(scale, expected):
    # C(x) = <a, x> has gradient a everywhere, so the penalty is (||a|| - 1)^2 for every x_hat
    rng = np.random.default_rng(2)
    a = rng.standard_normal((1, 2, 3))
    a *= scale / np.linalg.norm(a)
    x_hat = rng.standard_normal((4, 1, 2, 3))
    gp = gradient_penalty(lambda x: (x * corenn.Tensor(a)).reshape(4, -1).sum(axis=1), x_hat)
    assert float(gp.data) == pytest.approx(expected, abs=1e-9)


def test_interpolate_draws_one_eps_per_example_between_real_and_fake():
    real, fake = np.ones((5, 1, 2, 2), np.float32), np.zeros((5, 1, 2, 2), np.float32)
    x_hat = interpolate(real, fake, np.random.default_rng(0))
    assert x_hat.dtype == np.float32 and x_hat.shape == real.shape
    eps = x_hat.reshape(5, -1)
    assert np.all(eps == eps[:, :1]) and np.all((eps >= 0) & (eps <= 1)) and len(np.unique(eps[:, 0])) == 5


# ---- learning on the toy set ---------------------------------------------------------------------------------
# The paper's step sizes (1e-4, 2e-4) need thousands of steps; tens of steps show learning with 2e-3 / 3e-3.
@pytest.mark.parametrize("cls, steps, lr", [(GAN, 40, 2e-3), (DCGAN, 40, 2e-3), (ConditionalGAN, 40, 2e-3),
                                            (WGANGP, 30, 3e-3)])
def test_discriminator_separates_and_generator_moves_toward_data(cls, steps, lr):
    model = make(cls, lr_g=lr, lr_d=lr)
    x_eval, y_eval = blobs(256, np.random.default_rng(99))
    labels = y_eval if model.conditional else None
    gap_before = mean_image_gap(model, x_eval, labels)
    rng = np.random.default_rng(0)
    for _ in range(steps):
        stats = model.train_step(*blobs(40, rng), rng)
    assert all(isinstance(v, float) and np.isfinite(v) for v in stats.values())
    assert mean_image_gap(model, x_eval, labels) < 0.5 * gap_before
    assert real_beats_fake(model, x_eval, labels) > 0.6


def test_conditional_generator_follows_its_label_after_training():
    model = make(ConditionalGAN, lr_g=2e-3, lr_d=2e-3)  # 100 steps show learning with a larger step
    rng = np.random.default_rng(0)
    for _ in range(100):
        model.train_step(*blobs(32, rng), rng)
    n = 200
    top_left = model.sample(n, np.zeros(n, np.int64), rng=np.random.default_rng(5))
    bottom_right = model.sample(n, np.ones(n, np.int64), rng=np.random.default_rng(5))

    def left_minus_right(s):  # brightness of the label-0 patch minus that of the label-1 patch
        return s[:, 0, 1:4, 1:4].mean() - s[:, 0, 4:7, 4:7].mean()

    assert left_minus_right(top_left) > 0.3 and left_minus_right(bottom_right) < -0.3


def test_conditional_label_reaches_the_generator_and_discriminator():
    model = make(ConditionalGAN)
    model.eval()
    z = model.noise(6, np.random.default_rng(0))
    with corenn.no_grad():
        a = model.generate(z, np.zeros(6, np.int64)).data
        b = model.generate(z, np.ones(6, np.int64)).data
        x = blobs(6, np.random.default_rng(1))[0]
        da = model.discriminate(x, np.zeros(6, np.int64)).data
        db = model.discriminate(x, np.ones(6, np.int64)).data
    assert np.abs(a - b).max() > 1e-4 and np.abs(da - db).max() > 1e-6


def test_wgan_gp_logs_the_wasserstein_estimate_and_penalty():
    model = make(WGANGP)
    stats = model.train_step(*blobs(20, np.random.default_rng(0)), np.random.default_rng(0))
    assert {"loss_critic", "loss_g", "wasserstein", "gradient_penalty", "c_real", "c_fake"} <= set(stats)
    assert stats["wasserstein"] == pytest.approx(stats["c_real"] - stats["c_fake"])
    assert stats["gradient_penalty"] >= 0


def test_wgan_gp_refuses_a_batch_too_small_to_split_across_critic_steps():
    with pytest.raises(ValueError, match="n_critic"):
        make(WGANGP).train_step(*blobs(6, np.random.default_rng(0)), np.random.default_rng(0))


# ---- checkpoints, shapes, errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [GAN, DCGAN, ConditionalGAN, WGANGP])
def test_state_dict_round_trip_through_a_checkpoint_file(cls, tmp_path):
    model = make(cls, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(2):
        model.train_step(*blobs(20, rng), rng)
    corenn.save(model.state_dict(), tmp_path / "gan.npz")
    restored = make(cls, seed=1)
    restored.load_state_dict(corenn.load(tmp_path / "gan.npz"))

    labels = np.array([0, 1, 1, 0]) if cls.conditional else None
    np.testing.assert_array_equal(model.sample(4, labels, rng=np.random.default_rng(3)),
                                  restored.sample(4, labels, rng=np.random.default_rng(3)))
    batch = blobs(20, np.random.default_rng(4))  # the optimizers' moments came back too: the next step agrees
    assert model.train_step(*batch, np.random.default_rng(5)) == restored.train_step(*batch, np.random.default_rng(5))


@pytest.mark.parametrize("cls", [GAN, DCGAN, ConditionalGAN, WGANGP])
def test_sample_shape_range_and_determinism(cls):
    model = make(cls)
    labels = np.array([0, 1, 0]) if cls.conditional else None
    s = model.sample(3, labels, rng=np.random.default_rng(0))
    assert s.shape == (3, *SHAPE) and s.dtype == np.float32 and 0.0 <= s.min() and s.max() <= 1.0
    np.testing.assert_array_equal(s, model.sample(3, labels, rng=np.random.default_rng(0)))
    assert model.generator.training  # sample() puts back the mode it found
    assert model.data_range == "symmetric" and model.conditional is (cls is ConditionalGAN)


def test_builders_follow_the_image_size():
    assert upsampling_plan((1, 28, 28)) == (7, 2) and upsampling_plan((3, 32, 32)) == (4, 3)
    with pytest.raises(ValueError, match="square"):
        upsampling_plan((1, 28, 32))
    corenn.manual_seed(0)
    g, d = ConvGenerator(16, (3, 32, 32), width=4), ConvDiscriminator((3, 32, 32), width=4)
    with corenn.no_grad():
        images = g(corenn.randn(2, 16))
        assert images.shape == (2, 3, 32, 32) and d(images).shape == (2,)
    model = DCGAN(image_shape=(1, 28, 28), g_width=4, d_width=4)
    assert model.sample(2, rng=np.random.default_rng(0)).shape == (2, 1, 28, 28)


def test_dcgan_init_is_normal_0_02_and_deterministic_under_manual_seed():
    a, b = make(DCGAN, seed=7, g_width=16, d_width=16), make(DCGAN, seed=7, g_width=16, d_width=16)
    for p, q in zip(a.generator.parameters(), b.generator.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    w = a.generator.project.weight.data
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002


def test_conditional_sample_needs_labels_and_unconditional_refuses_them():
    with pytest.raises(ValueError, match="needs labels"):
        make(ConditionalGAN).sample(2)
    with pytest.raises(ValueError, match="unconditional"):
        make(DCGAN).sample(2, np.array([0, 1]))
    with pytest.raises(TypeError, match="no options"):
        make(GAN).sample(2, steps=3)


def test_bad_batches_and_hyperparameters_raise_clear_errors():
    model = make(DCGAN)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="shape"):
        model.train_step(np.zeros((4, 1, 28, 28), np.float32), np.zeros(4, np.int64), rng)
    x, y = blobs(4, rng)
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.train_step(x, y, rng)
    with pytest.raises(ValueError, match="labels"):
        make(ConditionalGAN).train_step(blobs(4, rng)[0], np.array([0, 1, 2, 0]), rng)
    with pytest.raises(ValueError, match="g_width"):
        make(DCGAN, g_width=0)
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        make(GAN, g_width=8)


def test_a_non_finite_loss_raises_naming_it_before_any_update():
    model = make(DCGAN)
    model.discriminator.head.bias.data[...] = np.inf
    before = [p.data.copy() for p in model.discriminator.parameters()]
    with pytest.raises(FloatingPointError, match="discriminator loss"):
        model.train_step(*blobs(8, np.random.default_rng(0)), np.random.default_rng(0))
    for p, q in zip(model.discriminator.parameters(), before):
        np.testing.assert_array_equal(p.data, q)

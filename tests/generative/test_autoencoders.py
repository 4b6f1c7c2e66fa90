"""AE, VAE, CVAE and VQ-VAE: the ELBO's KL term against its closed form (and torch), Monte Carlo against analytic
ELBO, the importance-weighted bound's ordering in k, the VQ straight-through gradient and EMA codebook update,
learning over a few seeded steps, label conditioning, checkpoints, shapes and errors. Tiny nets on 8x8 images."""
import math

import numpy as np
import pytest

import corenn
from corenn import Tensor
from generative.autoencoders import CVAE, VAE, VQVAE, Autoencoder
from generative.autoencoders.distributions import (
    bernoulli_log_likelihood,
    gaussian_kl_standard,
    gaussian_log_likelihood,
)
from generative.autoencoders.vqvae import VectorQuantizer, ema_codebook_update
from generative.registry import get_model_class

SHAPE = (1, 8, 8)
TINY = {
    Autoencoder: {"latent_dim": 4, "hidden_sizes": [32], "lr": 1e-2},
    VAE: {"latent_dim": 4, "hidden_sizes": [32], "lr": 1e-2},
    CVAE: {"latent_dim": 4, "hidden_sizes": [32], "lr": 1e-2},
    VQVAE: {"num_codes": 8, "code_dim": 4, "channels": 8, "lr": 1e-2},
}
CONV = {"arch": "conv", "conv_channels": [4, 8]}


def make(cls, seed=0, **hparams):
    corenn.manual_seed(seed)
    return cls(image_shape=SHAPE, num_classes=2, **{**TINY[cls], **hparams})


def patterns(n, rng, binary=True):
    """Toy images in [0, 1]: a bright 3x3 patch top-left (label 0) or bottom-right (label 1), faint noise."""
    y = rng.integers(0, 2, n)
    x = np.full((n, *SHAPE), 0.05, np.float32)
    x[y == 0, 0, 1:4, 1:4] = 0.95
    x[y == 1, 0, 4:7, 4:7] = 0.95
    if binary:
        x = (rng.random(x.shape) < x).astype(np.float32)
    return x, y


# ---- the KL term and the likelihoods ----------------------------------------------------------------------------
MU = np.array([[0.0, 0.0], [1.0, -2.0], [0.5, 0.25]])
LOGVAR = np.array([[0.0, 0.0], [math.log(4.0), 0.0], [-1.0, 2.0]])


def test_kl_term_equals_closed_form():
    kl = gaussian_kl_standard(Tensor(MU), Tensor(LOGVAR)).numpy()
    # by hand: 0.5 * sum(mu^2 + var - 1 - log var)
    expected = [0.0, 0.5 * ((1 + 4 - 1 - math.log(4)) + (4 + 1 - 1 - 0)),
                0.5 * ((0.25 + math.exp(-1) - 1 + 1) + (0.0625 + math.exp(2) - 1 - 2))]
    np.testing.assert_allclose(kl, expected, rtol=1e-12)
    # and a Monte Carlo estimate E_q[log q(z) - log p(z)]
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((200_000, *MU.shape))
    z = MU + np.exp(0.5 * LOGVAR) * eps
    log_q = -0.5 * (eps ** 2 + LOGVAR + math.log(2 * math.pi)).sum(-1)
    log_p = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
    np.testing.assert_allclose((log_q - log_p).mean(0), expected, atol=0.03)


def test_kl_and_likelihood_gradients_against_central_differences():
    rng = np.random.default_rng(1)
    mu, logvar = (Tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(2))
    assert corenn.gradcheck(gaussian_kl_standard, (mu, logvar))
    x = (rng.random((3, 1, 2, 2)) < 0.5).astype(np.float64)
    logits = Tensor(rng.standard_normal((3, 1, 2, 2)), requires_grad=True)
    assert corenn.gradcheck(lambda t: bernoulli_log_likelihood(t, x), (logits,))
    pix_logvar = Tensor(rng.standard_normal((1, 2, 2)), requires_grad=True)
    assert corenn.gradcheck(lambda m, s: gaussian_log_likelihood(m, s, x), (logits, pix_logvar))


def test_kl_and_likelihoods_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    q = td.Normal(torch.tensor(MU), torch.exp(0.5 * torch.tensor(LOGVAR)))
    p = td.Normal(torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    np.testing.assert_allclose(gaussian_kl_standard(Tensor(MU), Tensor(LOGVAR)).numpy(),
                               td.kl_divergence(q, p).sum(-1).numpy(), rtol=1e-10)
    rng = np.random.default_rng(2)
    logits, x = rng.standard_normal((4, 1, 3, 3)) * 5, (rng.random((4, 1, 3, 3)) < 0.5).astype(np.float64)
    expected = td.Bernoulli(logits=torch.tensor(logits)).log_prob(torch.tensor(x)).sum((1, 2, 3)).numpy()
    np.testing.assert_allclose(bernoulli_log_likelihood(Tensor(logits), x).numpy(), expected, rtol=1e-10)
    s = rng.standard_normal((1, 3, 3))
    expected = td.Normal(torch.tensor(logits), torch.exp(0.5 * torch.tensor(s))).log_prob(torch.tensor(x))
    np.testing.assert_allclose(gaussian_log_likelihood(Tensor(logits), Tensor(s), x).numpy(),
                               expected.sum((1, 2, 3)).numpy(), rtol=1e-10)


def test_train_step_kl_is_the_closed_form_of_the_encoder_output():
    model = make(VAE)
    x, y = patterns(16, np.random.default_rng(0))
    mu, logvar = model.encode(x)
    kl = 0.5 * (mu.astype(np.float64) ** 2 + np.exp(logvar) - 1 - logvar).sum(1)
    stats = model.train_step(x, y, np.random.default_rng(0))
    assert stats["kl"] == pytest.approx(kl.mean(), rel=1e-5)
    assert stats["elbo"] == pytest.approx(-stats["loss"], rel=1e-6)  # no warm-up: loss = -ELBO


# ---- ELBO and the importance-weighted bound ---------------------------------------------------------------------
@pytest.mark.parametrize("decoder", [{"decoder": "bernoulli"}, {"decoder": "gaussian", "decoder_variance": 0.5}])
def test_monte_carlo_elbo_agrees_with_analytic_kl_elbo(decoder):
    model = make(VAE, **decoder)
    x, _ = patterns(8, np.random.default_rng(3), binary=model.data_range == "binary")
    analytic = model.elbo(x, np.random.default_rng(4), samples=4000)
    monte_carlo = model.elbo(x, np.random.default_rng(5), samples=4000, analytic_kl=False)
    np.testing.assert_allclose(monte_carlo, analytic, atol=0.15)
    # one sample of the Monte Carlo ELBO is the k = 1 importance-weighted bound
    np.testing.assert_allclose(model.elbo(x, np.random.default_rng(6), analytic_kl=False),
                               model.log_likelihood_bound(x, 1, np.random.default_rng(6)), rtol=1e-12)


def test_importance_weighted_bound_is_above_the_elbo_and_grows_with_k():
    model = make(VAE, latent_dim=2)
    rng = np.random.default_rng(20)
    for _ in range(40):  # an informative posterior, so that the bounds differ by more than their noise
        model.train_step(*patterns(32, rng), rng)
    x, _ = patterns(32, np.random.default_rng(7))
    elbo = model.elbo(x, np.random.default_rng(8), samples=2000).mean()
    bounds = [model.log_likelihood_bound(x, k, np.random.default_rng(9)).mean() for k in (1, 10, 100, 1000)]
    assert bounds[0] == pytest.approx(elbo, abs=1.0)
    assert elbo < bounds[1] - 0.1 < bounds[2] - 0.1 < bounds[3] - 0.1
    # batching the samples changes nothing
    a = model.log_likelihood_bound(x, 50, np.random.default_rng(10), samples_per_pass=7)
    b = model.log_likelihood_bound(x, 50, np.random.default_rng(10), samples_per_pass=50)
    np.testing.assert_allclose(a, b, rtol=1e-6)  # the same draws; float32 GEMMs of other sizes round differently


# ---- VQ-VAE -----------------------------------------------------------------------------------------------------
def quantizer(ema=False):
    corenn.manual_seed(0)
    q = VectorQuantizer(num_codes=5, code_dim=3, ema=ema, decay=0.9)
    q.weight.data[...] = np.random.default_rng(11).standard_normal((5, 3)).astype(np.float32)
    return q


def test_nearest_codes_are_the_closest_codebook_vectors():
    q = quantizer()
    z = np.random.default_rng(12).standard_normal((50, 3)).astype(np.float32)
    brute = np.linalg.norm(z[:, None, :] - q.weight.data[None], axis=-1).argmin(1)
    np.testing.assert_array_equal(q.nearest_codes(z), brute)


def test_straight_through_gradient_to_the_encoder_equals_the_gradient_at_the_quantised_output():
    q = quantizer()
    rng = np.random.default_rng(13)
    z_e = Tensor(rng.standard_normal((2, 3, 2, 2)).astype(np.float32), requires_grad=True)
    w = rng.standard_normal((2, 3, 2, 2)).astype(np.float32)
    z_st, codes, _, _ = q(z_e)
    np.testing.assert_allclose(z_st.numpy(), q.weight.data[codes].transpose(0, 3, 1, 2), atol=1e-6)
    (z_st * w).sum().backward()           # d loss / d z_q = w
    np.testing.assert_array_equal(z_e.grad, w)
    assert q.weight.grad is None          # the decoder's loss does not reach the codebook
    # the commitment term pulls z_e to its code: d/dz_e mean ||z_e - sg(e)||^2 = 2 (z_e - e) / numel
    z_e.grad = None
    q(z_e)[3].backward()
    e = q.weight.data[codes].transpose(0, 3, 1, 2)
    np.testing.assert_allclose(z_e.grad, 2 * (z_e.numpy() - e) / e.size, rtol=1e-5)
    assert q.weight.grad is None
    z_e.grad = None
    q(z_e)[2].backward()                  # and the codebook term moves the codes only
    assert z_e.grad is None
    expected = np.zeros((5, 3))
    np.add.at(expected, codes.ravel(), 2 * (e - z_e.numpy()).transpose(0, 2, 3, 1).reshape(-1, 3) / e.size)
    np.testing.assert_allclose(q.weight.grad, expected, rtol=1e-5, atol=1e-7)


def test_ema_codebook_update_equals_the_formula_on_a_hand_made_batch():
    size, sums = np.array([1.0, 2.0, 0.5]), np.array([[1.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    z, codes = np.array([[1.0, 1.0], [3.0, 1.0], [0.0, -2.0], [2.0, 2.0]]), np.array([0, 0, 1, 0])
    gamma, eps = 0.9, 1e-5
    # by hand: code 0 gets 3 vectors summing to (6, 4), code 1 one vector (0, -2), code 2 none
    n_new = np.array([0.9 * 1 + 0.1 * 3, 0.9 * 2 + 0.1 * 1, 0.9 * 0.5])
    m_new = np.array([[0.9 + 0.6, 0.4], [0.0, 1.8 - 0.2], [0.45, 0.45]])
    total = n_new.sum()
    smoothed = (n_new + eps) / (total + 3 * eps) * total
    new_size, new_sum, book = ema_codebook_update(size, sums, z, codes, gamma, eps)
    np.testing.assert_allclose(new_size, n_new, rtol=1e-12)
    np.testing.assert_allclose(new_sum, m_new, rtol=1e-12)
    np.testing.assert_allclose(book, m_new / smoothed[:, None], rtol=1e-12)


def test_quantizer_applies_the_ema_update_in_training_only():
    q = quantizer(ema=True)
    q.cluster_size[...], q.embed_sum[...] = 1.0, q.weight.data  # the initial state, with the test's codebook
    old = q.weight.data.copy()
    z_e = Tensor(np.random.default_rng(14).standard_normal((2, 3, 2, 2)).astype(np.float32))
    q.eval()
    q(z_e)
    np.testing.assert_array_equal(q.weight.data, old)
    q.train()
    _, codes, _, _ = q(z_e)
    flat = z_e.numpy().transpose(0, 2, 3, 1).reshape(-1, 3)
    np.testing.assert_array_equal(codes.ravel(), np.linalg.norm(flat[:, None] - old[None], axis=-1).argmin(1))
    _, _, book = ema_codebook_update(np.ones(5), old.astype(np.float64), flat, codes.ravel(), 0.9, 1e-5)
    np.testing.assert_allclose(q.weight.data, book, rtol=1e-5)


# ---- learning ---------------------------------------------------------------------------------------------------
CASES = [(Autoencoder, {}), (Autoencoder, {"loss": "mse", **CONV}), (VAE, {}), (VAE, {"decoder": "gaussian"}),
         (VAE, {**CONV, "activation": "relu", "kl_warmup_steps": 5}), (CVAE, {}), (VQVAE, {}),
         (VQVAE, {"ema": False})]


@pytest.mark.parametrize("cls, hparams", CASES, ids=lambda v: getattr(v, "name", None) or str(v))
def test_loss_falls_over_twenty_seeded_steps(cls, hparams):
    model = make(cls, **hparams)
    rng = np.random.default_rng(15)
    x, y = patterns(32, rng, binary=model.data_range == "binary")
    losses = [model.train_step(x, y, rng)["loss"] for _ in range(20)]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3]), losses


def test_vqvae_logs_codebook_statistics():
    model = make(VQVAE)
    x, y = patterns(16, np.random.default_rng(16), binary=False)
    stats = model.train_step(x, y, np.random.default_rng(0))
    assert set(stats) == {"loss", "recon_mse", "codebook", "commitment", "perplexity", "codes_used"}
    assert 1.0 <= stats["perplexity"] <= 8.0 and 0.0 < stats["codes_used"] <= 1.0
    codes = model.encode(x)
    assert codes.shape == (16, 2, 2) and codes.dtype == np.int64
    assert model.code_counts.sum() == pytest.approx(16 * 4)  # one batch counted at each of the 2x2 positions


def test_cvae_samples_follow_their_labels():
    model = make(CVAE)
    rng = np.random.default_rng(17)
    for _ in range(150):
        model.train_step(*patterns(32, rng), rng)
    top_left, bottom_right = (0, slice(1, 4), slice(1, 4)), (0, slice(4, 7), slice(4, 7))
    for label, own, other in ((0, top_left, bottom_right), (1, bottom_right, top_left)):
        images = model.sample(64, np.full(64, label), np.random.default_rng(18))
        assert images[(slice(None), *own)].mean() > 0.6 > 0.3 > images[(slice(None), *other)].mean()


def test_cvae_bound_without_labels_is_the_uniform_mixture_over_classes():
    model = make(CVAE)
    rng = np.random.default_rng(21)
    for _ in range(30):  # the label matters to a trained model
        model.train_step(*patterns(32, rng), rng)
    x, _ = patterns(6, np.random.default_rng(22))
    shared = np.random.default_rng(23)  # the classes take their draws one after another from one generator
    per_class = np.stack([model.log_likelihood_bound(x, 20, shared, labels=np.full(6, c)) for c in range(2)])
    marginal = model.log_likelihood_bound(x, 20, np.random.default_rng(23))
    np.testing.assert_allclose(marginal, np.logaddexp(*per_class) - math.log(2), rtol=1e-12)
    assert np.abs(per_class[0] - per_class[1]).max() > 1.0


# ---- sampling, interpolation, checkpoints -----------------------------------------------------------------------
@pytest.mark.parametrize("cls", [Autoencoder, VAE, CVAE, VQVAE])
def test_sample_and_registry(cls):
    model = make(cls)
    labels = np.array([0, 1, 1]) if cls.conditional else None
    images = model.sample(3, labels, np.random.default_rng(0))
    assert images.shape == (3, *SHAPE) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_array_equal(images, model.sample(3, labels, np.random.default_rng(0)))
    assert get_model_class(cls.name) is cls
    assert make(cls, seed=3).state_dict()["modules"].keys() == model.state_dict()["modules"].keys()
    first = next(iter(model.encoder.parameters())).numpy()
    np.testing.assert_array_equal(first, next(iter(make(cls).encoder.parameters())).numpy())


@pytest.mark.parametrize("cls", [Autoencoder, VAE, CVAE])
def test_interpolation_grid_runs_from_start_to_end(cls):
    model = make(cls)
    labels = np.array([0, 1]) if cls.conditional else None
    grid = model.interpolation_grid(2, 5, np.random.default_rng(0))  # a CVAE's row r shows class r mod K
    if cls.conditional:
        np.testing.assert_array_equal(grid, model.interpolation_grid(2, 5, np.random.default_rng(0), labels=labels))
    assert grid.shape == (10, *SHAPE) and 0.0 <= grid.min() <= grid.max() <= 1.0
    x0, _ = patterns(2, np.random.default_rng(1), binary=False)
    x1, _ = patterns(2, np.random.default_rng(2), binary=False)
    kwargs = {"labels": labels} if cls.conditional else {}
    grid = model.interpolation_grid(2, 5, endpoints=(x0, x1), **kwargs).reshape(2, 5, *SHAPE)
    recon = model.decode(model.encode(x0, labels)[0], labels) if cls is not Autoencoder else model.reconstruct(x0)
    np.testing.assert_allclose(grid[:, 0], recon, atol=1e-6)


@pytest.mark.parametrize("cls, hparams", [(Autoencoder, {}), (VAE, {"decoder": "gaussian"}), (CVAE, {}),
                                          (VQVAE, {}), (VQVAE, {"ema": False})])
def test_checkpoint_round_trip_gives_identical_outputs(cls, hparams, tmp_path):
    rng = np.random.default_rng(19)
    model = make(cls, **hparams)
    x, y = patterns(16, rng, binary=model.data_range == "binary")
    for _ in range(3):
        model.train_step(x, y, rng)
    corenn.save(model.state_dict(), tmp_path / "ckpt.npz")
    loaded = make(cls, seed=5, **hparams)
    loaded.load_state_dict(corenn.load(tmp_path / "ckpt.npz"))
    labels = y[:4] if cls.conditional else None
    np.testing.assert_array_equal(loaded.sample(4, labels, np.random.default_rng(0)),
                                  model.sample(4, labels, np.random.default_rng(0)))
    # the optimizer state and the extra state came along: the next step is the same step
    assert loaded.train_step(x, y, np.random.default_rng(1)) == model.train_step(x, y, np.random.default_rng(1))


# ---- errors -------------------------------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    vae, cvae, x = make(VAE), make(CVAE), patterns(4, np.random.default_rng(0))[0]
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match=r"shape \(B, 1, 8, 8\)"):
        vae.train_step(x[:, :, :4], y, np.random.default_rng(0))
    with pytest.raises(ValueError, match="binary"):
        vae.train_step(x * 0.5, y, np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN"):
        make(Autoencoder).train_step(np.full((4, *SHAPE), np.nan, np.float32), y, np.random.default_rng(0))
    with pytest.raises(ValueError, match="labels"):
        cvae.train_step(x, None, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"lie in \[0, 2\)"):
        cvae.train_step(x, np.full(4, 2), np.random.default_rng(0))
    with pytest.raises(ValueError, match="unconditional"):
        vae.sample(2, np.zeros(2, np.int64))
    with pytest.raises(ValueError, match="k must be >= 1"):
        vae.log_likelihood_bound(x, 0)
    with pytest.raises(ValueError, match=r"z must be finite with shape \(N, 4\)"):
        vae.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="codes must lie in"):
        make(VQVAE).decode_codes(np.full((1, 2, 2), 8))
    with pytest.raises(TypeError):
        vae.sample(2, rng=None, temperature=0.5)


def test_bad_hyperparameters_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown hyperparameters"):
        make(VAE, latent=3)
    with pytest.raises(ValueError, match="decoder must be one of"):
        make(VAE, decoder="poisson")
    with pytest.raises(ValueError, match="decoder_variance"):
        make(VAE, decoder="gaussian", decoder_variance=-1.0)
    with pytest.raises(ValueError, match="divisible by 4"):
        VAE(image_shape=(1, 10, 10), arch="conv")
    with pytest.raises(ValueError, match="unknown arch"):
        make(Autoencoder, arch="resnet")
    with pytest.raises(ValueError, match="ema_decay"):
        make(VQVAE, ema_decay=1.0)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_non_finite_loss_raises_floating_point_error_naming_it():
    model = make(VAE)
    next(iter(model.decoder.parameters())).data[...] = np.nan
    before = next(iter(model.encoder.parameters())).numpy().copy()
    with pytest.raises(FloatingPointError, match="non-finite loss"):
        model.train_step(*patterns(4, np.random.default_rng(0)), np.random.default_rng(0))
    np.testing.assert_array_equal(next(iter(model.encoder.parameters())).numpy(), before)  # no step taken


def test_evaluation_log_likelihoods_match_the_training_ones():
    from generative.autoencoders.distributions import bernoulli_log_likelihood_np, gaussian_log_likelihood_np
    rng = np.random.default_rng(24)
    logits = (rng.standard_normal((5, 1, 28, 28)) * 4).astype(np.float32)
    x = (rng.random(logits.shape) < 0.5).astype(np.float32)
    exact = bernoulli_log_likelihood(Tensor(logits.astype(np.float64)), x.astype(np.float64)).numpy()
    np.testing.assert_allclose(bernoulli_log_likelihood_np(logits, x), exact, atol=1e-4)
    s = rng.standard_normal((1, 28, 28))
    np.testing.assert_allclose(gaussian_log_likelihood_np(logits, s, x),
                               gaussian_log_likelihood(Tensor(logits.astype(np.float64)), s, x).numpy(), rtol=1e-10)

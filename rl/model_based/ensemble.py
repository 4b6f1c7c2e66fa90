"""Probabilistic ensemble dynamics model (PETS / MBPO; mbrl-lib's GaussianMLP + OneDTransitionRewardModel).

E Gaussian MLPs stored as one set of batched weights, (E, in, out) per layer, so the whole ensemble
is one batched matmul per layer. Inputs are [obs, action] normalised with the data's mean and std;
outputs are the observation change and the reward:

    x = ([s, a] - mu) / sigma                                  (B, in) shared, or (E, B, in) per member
    h = SiLU(x W_1 + b_1) ... SiLU(h W_L + b_L)                L hidden layers of width H
    [m | v] = h W_out + b_out                                  mean m, raw log-variance v  (E, B, out)
    log var = max - softplus(max - v);  log var = min + softplus(log var - min)   (soft clamps)
    target  y = [s' - s, r]                                    out = obs_dim + 1

    loss = sum_e mean_{b,d} [(m - y)^2 exp(-log var) + log var]  +  0.01 (sum max - sum min)

min and max (1, out) start at -10 and 0.5; with learn_logvar_bounds they are trained through the
second term (Chua et al. 2018, appendix A.1), else they stay constant. `fit` trains on all the
data with a holdout split, bootstrapped minibatches per member, early stopping when no member's
validation MSE improved by 1 % for `patience` epochs (keeping the best weights), and picks as
elites the `num_elites` members with the lowest validation MSE (mbrl-lib's ModelTrainer).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

import corenn
from corenn import nn, optim
from corenn.creation import generator
from corenn.nn import functional as F

from ..core.networks import FusedLinear

__all__ = ["ProbabilisticEnsemble", "FitResult", "fit_ensemble", "gaussian_nll"]


def gaussian_nll(mean, log_var, target) -> corenn.Tensor:
    """sum_e mean_{b,d} [(mean - target)^2 exp(-log_var) + log_var]: mean, log_var (E, B, D), target (E, B, D)."""
    err = mean - target
    return (err * err * (-log_var).exp() + log_var).mean(axis=(1, 2)).sum()


class ProbabilisticEnsemble(nn.Module):
    """E Gaussian MLPs in batched weights: x (B, in) or (E, B, in) -> (mean, log_var), each (E, B, out).

    Buffers travel with the weights: input_mean / input_std (in,) (the normaliser) and elites
    (num_elites,) int64 (the members used for rollouts).
    """

    def __init__(self, in_dim: int, out_dim: int, ensemble_size: int = 7, num_elites: int = 5,
                 hidden_size: int = 200, num_layers: int = 4, learn_logvar_bounds: bool = True):
        super().__init__()
        if not 1 <= num_elites <= ensemble_size:
            raise ValueError(f"num_elites must be in [1, ensemble_size={ensemble_size}], got {num_elites}")
        self.in_dim, self.out_dim = int(in_dim), int(out_dim)
        self.ensemble_size, self.num_elites = int(ensemble_size), int(num_elites)
        self.learn_logvar_bounds = bool(learn_logvar_bounds)
        dims = [self.in_dim] + [int(hidden_size)] * int(num_layers) + [2 * self.out_dim]
        self.layers = nn.ModuleList([FusedLinear(a, b, self.ensemble_size) for a, b in zip(dims[:-1], dims[1:])])
        rng = generator()
        for layer in self.layers:  # mbrl-lib's init: truncated normal, std 1 / (2 sqrt(in)), zero bias
            std = 1.0 / (2.0 * np.sqrt(layer.in_features))
            w = rng.standard_normal(layer.weight.shape)
            while (bad := np.abs(w) > 2.0).any():
                w[bad] = rng.standard_normal(int(bad.sum()))
            layer.weight.data[...] = w * std
            layer.bias.data[...] = 0.0
        self.min_logvar = nn.Parameter(np.full((1, self.out_dim), -10.0, np.float32))
        self.max_logvar = nn.Parameter(np.full((1, self.out_dim), 0.5, np.float32))
        self.min_logvar.requires_grad = self.max_logvar.requires_grad = self.learn_logvar_bounds
        self.register_buffer("input_mean", np.zeros(self.in_dim, np.float32))
        self.register_buffer("input_std", np.ones(self.in_dim, np.float32))
        self.register_buffer("elites", np.arange(self.num_elites, dtype=np.int64))

    def trainable_parameters(self) -> list:
        """Parameters the optimizer updates (the log-variance bounds only when learned)."""
        return [p for p in self.parameters() if p.requires_grad]

    # ------------------------------------------------------------------ normaliser
    def set_normalizer(self, inputs: np.ndarray) -> None:
        """Mean and std (1 where std < 1e-12) of `inputs` (N, in), computed in float64 (mbrl-lib's Normalizer)."""
        x = np.asarray(inputs, np.float64)
        std = x.std(axis=0)
        std[std < 1e-12] = 1.0
        self.input_mean[...] = x.mean(axis=0)
        self.input_std[...] = std

    def normalize(self, inputs: np.ndarray) -> np.ndarray:
        return ((np.asarray(inputs, np.float32) - self.input_mean) / self.input_std).astype(np.float32)

    # ------------------------------------------------------------------ forward
    def forward(self, x, members: np.ndarray | None = None):
        """Normalised inputs x (B, in) or (K, B, in) -> (mean, log_var) (K, B, out); K = E, or len(members)
        when `members` (indices) selects which members' weights to use."""
        h = corenn.as_tensor(x)
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            w, b = layer.weight, layer.bias
            if members is not None:
                w, b = w[members], b[members]
            h = F.fused_linear(h, w, b, None)
            if i < last:
                h = F.silu(h)
        mean, raw = h[..., :self.out_dim], h[..., self.out_dim:]
        log_var = self.max_logvar - F.softplus(self.max_logvar - raw)
        log_var = self.min_logvar + F.softplus(log_var - self.min_logvar)
        return mean, log_var

    def loss(self, x: np.ndarray, y: np.ndarray) -> corenn.Tensor:
        """Gaussian NLL summed over members plus the bounds' penalty: x (E, B, in) normalised, y (E, B, out)."""
        mean, log_var = self(x)
        return gaussian_nll(mean, log_var, y) + 0.01 * (self.max_logvar.sum() - self.min_logvar.sum())

    def score(self, x: np.ndarray, y: np.ndarray, batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Per-member (MSE, Gaussian NLL per dimension) on normalised x (N, in) and targets y (N, out): two (E,)."""
        mse, nll = np.zeros(self.ensemble_size), np.zeros(self.ensemble_size)
        with corenn.no_grad():
            for start in range(0, len(x), batch_size):
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                mean, log_var = self(xb)
                err2 = (mean.data - yb) ** 2
                mse += err2.sum(axis=(1, 2))
                nll += (err2 * np.exp(-log_var.data) + log_var.data).sum(axis=(1, 2))
        n = max(len(x), 1) * self.out_dim
        return mse / n, nll / n

    def sample(self, inputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One sampled output (N, out) per raw input row (N, in), each from an elite member picked at random.

        The rows are shuffled and dealt to the K elites in equal shares (the last share padded), so the
        forward pass is one batched matmul per layer over (K, ceil(N / K), in) (mbrl-lib's random_model)."""
        n, k = len(inputs), len(self.elites)
        per = -(-n // k)
        order = rng.permutation(per * k) % n  # padding repeats rows; their outputs are dropped
        x = self.normalize(inputs)[order].reshape(k, per, self.in_dim)
        with corenn.no_grad():
            mean, log_var = self(x, members=self.elites)
        noise = rng.standard_normal(mean.shape, dtype=np.float32)
        draws = (mean.data + np.exp(0.5 * log_var.data) * noise).reshape(k * per, self.out_dim)
        out = np.empty((n, self.out_dim), np.float32)
        out[order[:n]] = draws[:n]
        return out


class FitResult(NamedTuple):
    train_loss: float  # mean training loss of the last epoch (summed over members)
    val_mse: np.ndarray  # (E,) best validation MSE per member
    val_nll: np.ndarray  # (E,) validation Gaussian NLL per dimension with the kept weights
    epochs: int
    n_train: int
    n_val: int


def fit_ensemble(model: ProbabilisticEnsemble, optimizer: optim.Optimizer, inputs: np.ndarray, targets: np.ndarray,
                 rng: np.random.Generator, batch_size: int = 256, holdout_ratio: float = 0.2, patience: int = 5,
                 max_epochs: int | None = None, improvement_threshold: float = 0.01) -> FitResult:
    """Train `model` on raw inputs (N, in) -> targets (N, out) until early stopping; sets normaliser and elites.

    Holdout: a random `holdout_ratio` of the rows (none if that rounds to 0: then the training rows
    score the members). Each member trains on its own bootstrap resample of the training rows. After
    each epoch the members' validation MSE is compared with the best so far; an epoch where any
    member improves by more than `improvement_threshold` (relative) keeps a copy of all weights.
    """
    inputs, targets = np.asarray(inputs, np.float32), np.asarray(targets, np.float32)
    if inputs.ndim != 2 or targets.ndim != 2 or len(inputs) != len(targets):
        raise ValueError(f"fit_ensemble needs inputs (N, in) and targets (N, out) with the same N, got "
                         f"{inputs.shape} and {targets.shape}")
    if inputs.shape[1] != model.in_dim or targets.shape[1] != model.out_dim:
        raise ValueError(f"this ensemble maps {model.in_dim} inputs to {model.out_dim} outputs, got inputs "
                         f"{inputs.shape} and targets {targets.shape}")
    if len(inputs) == 0 or not (np.isfinite(inputs).all() and np.isfinite(targets).all()):
        raise ValueError("fit_ensemble needs at least one row of finite inputs and targets")
    model.set_normalizer(inputs)
    x_all = model.normalize(inputs)
    order = rng.permutation(len(x_all))
    n_val = int(len(x_all) * holdout_ratio)
    train_idx, val_idx = order[n_val:], order[:n_val]
    x_train, y_train = x_all[train_idx], targets[train_idx]
    x_val, y_val = (x_all[val_idx], targets[val_idx]) if n_val else (x_train, y_train)
    n_train, n_members = len(x_train), model.ensemble_size
    member_rows = rng.integers(0, n_train, size=(n_members, n_train))  # bootstrap with replacement

    best, _ = model.score(x_val, y_val)
    best_state, since_improved, epoch, train_loss = None, 0, 0, float("nan")
    while max_epochs is None or epoch < max_epochs:
        epoch += 1
        losses = []
        perm = rng.permutation(n_train)
        for start in range(0, n_train, batch_size):
            rows = member_rows[:, perm[start:start + batch_size]]  # (E, b)
            loss = model.loss(x_train[rows], y_train[rows])
            value = float(loss.data)
            if not np.isfinite(value):
                raise ValueError(f"the dynamics model's loss became {value} at epoch {epoch}; lower "
                                 "model_learning_rate or check the environment's observations")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(value)
        train_loss = float(np.mean(losses))
        mse, _ = model.score(x_val, y_val)
        improved = (best - mse) / np.maximum(np.abs(best), 1e-12) > improvement_threshold
        if improved.any():
            best = np.minimum(best, mse)
            best_state = {k: np.array(v) for k, v in model.state_dict().items()}
            since_improved = 0
        else:
            since_improved += 1
        if since_improved >= patience:
            break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.elites[...] = np.sort(np.argsort(best, kind="stable")[:model.num_elites])
    _, nll = model.score(x_val, y_val)
    return FitResult(train_loss, best, nll, epoch, n_train, n_val)

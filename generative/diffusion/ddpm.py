"""DDPM (Ho et al., 2020): a U-Net learns to predict the noise added to an image; sampling runs the chain backwards.

Loss (the paper's L_simple), x_0 in [-1, 1], t ~ U{0 .. T-1}, eps ~ N(0, I):
    x_t  = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps
    loss = mean || eps - eps_theta(x_t, t, y) ||^2           (y replaced by the null class with probability p_uncond)
Ancestral sampler, t = T-1 .. 0, x_{T-1} ~ N(0, I):
    x0_hat = (x_t - sqrt(1 - ab_t) eps_theta) / sqrt(ab_t)   (clipped to [-1, 1] if clip_x0)
    x_{t-1} = c1_t x0_hat + c2_t x_t + sqrt(beta_tilde_t) z  (the posterior q(x_{t-1} | x_t, x0_hat); no z at t = 0)
The DDIM sampler (ddim.py) takes the same network with fewer steps. A class-conditional model samples with
classifier-free guidance (classifier_free_guidance.py): eps = eps_uncond + s (eps_cond - eps_uncond). An
exponential moving average of the weights (decay min(ema_decay, (1 + n) / (10 + n)) after n updates) is kept as
the module "ema" and is what ``sample`` uses by default.
"""
from __future__ import annotations

import numpy as np

import corenn
import corenn.nn.functional as F
from corenn import nn, optim

from ..core.base import GenerativeModel
from .classifier_free_guidance import drop_labels, guided_eps
from .ddim import EpsFn, ddim_sample
from .noise_schedule import NoiseSchedule, make_schedule
from .unet import TimeConditionedUNet

__all__ = ["DDPM", "ddpm_step_mean_std", "ddpm_sample", "SAMPLERS"]

SAMPLERS = ("ddpm", "ddim")
_NUMBER_HPARAMS = {  # name: (valid?, the rule in words)
    "lr": (lambda v: 0 < v < np.inf, "> 0"),
    "warmup_steps": (lambda v: 0 <= v < np.inf, ">= 0"),
    "grad_clip": (lambda v: 0 <= v < np.inf, ">= 0 (0 = off)"),
    "ema_decay": (lambda v: 0 <= v < 1, "in [0, 1) (0 = off)"),
    "p_uncond": (lambda v: 0 <= v <= 1, "in [0, 1]"),
    "ddim_eta": (lambda v: 0 <= v < np.inf, ">= 0"),
}


def ddpm_step_mean_std(schedule: NoiseSchedule, x_t: np.ndarray, t: int, eps: np.ndarray,
                       clip_x0: bool = False) -> tuple[np.ndarray, float, np.ndarray]:
    """Mean (float64), standard deviation sqrt(beta_tilde_t) and x0_hat of the ancestral step x_t -> x_{t-1}."""
    tt = np.full(x_t.shape[0], t, dtype=np.int64)
    x0 = schedule.predict_x0(x_t, tt, eps)
    if clip_x0:
        x0 = np.clip(x0, -1.0, 1.0)
    mean, _, _ = schedule.q_posterior(x0, x_t, tt)
    return mean, float(np.sqrt(schedule.posterior_variance[t])), x0


def ddpm_sample(eps_fn: EpsFn, schedule: NoiseSchedule, x_T: np.ndarray, rng: np.random.Generator,
                clip_x0: bool = True) -> np.ndarray:
    """All T ancestral steps from x_T (B, C, H, W) to x_0; returns float32 (B, C, H, W)."""
    x = np.asarray(x_T, dtype=np.float32)
    for t in reversed(range(schedule.timesteps)):
        eps = eps_fn(x, np.full(x.shape[0], t, dtype=np.int64))
        mean, std, _ = ddpm_step_mean_std(schedule, x, t, eps, clip_x0)
        if t > 0:
            mean = mean + std * rng.standard_normal(x.shape)
        x = mean.astype(np.float32)
    return x


class DDPM(GenerativeModel):
    """Denoising diffusion with an eps-predicting TimeConditionedUNet; class-conditional with CFG by default.

    Hyperparameters (``default_hparams``): schedule "linear" | "cosine" over ``timesteps``; U-Net widths
    (base_channels * channel_mults), num_res_blocks, attention, groups; Adam lr with a linear warm-up over
    warmup_steps, grad_clip (global norm, 0 = off), ema_decay (0 = no EMA); class_conditional (False: an
    unconditional model, sample() takes no labels) and p_uncond (label dropout for guidance); the defaults of
    ``sample``: sampler, sampling_steps (DDIM), ddim_eta, guidance_scale, clip_x0.
    """

    name = "ddpm"
    conditional = True
    data_range = "symmetric"

    @classmethod
    def default_hparams(cls) -> dict:
        return {"schedule": "linear", "timesteps": 1000,
                "base_channels": 16, "channel_mults": [1, 2, 2], "num_res_blocks": 1, "attention": True, "groups": 8,
                "lr": 1e-3, "warmup_steps": 100, "grad_clip": 1.0, "ema_decay": 0.999,
                "class_conditional": True, "p_uncond": 0.1,
                "sampler": "ddim", "sampling_steps": 50, "ddim_eta": 0.0, "guidance_scale": 3.0, "clip_x0": True}

    def __init__(self, image_shape: tuple = (1, 28, 28), num_classes: int = 10, **hparams):
        super().__init__(image_shape, num_classes, **hparams)
        h = self.hparams
        self.conditional = bool(h["class_conditional"])  # an instance flag: the hparam decides
        for key, (check, text) in _NUMBER_HPARAMS.items():
            v = h[key]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not check(v):
                raise ValueError(f"ddpm: {key} must be a number {text}, got {v!r}")
        self._check_sampling(h["sampler"], h["sampling_steps"], h["ddim_eta"], h["guidance_scale"])
        self.schedule = make_schedule(h["schedule"], h["timesteps"])
        if h["sampling_steps"] > self.schedule.timesteps:
            raise ValueError(f"ddpm: sampling_steps ({h['sampling_steps']}) cannot exceed timesteps "
                             f"({self.schedule.timesteps})")
        self.null_class = self.num_classes if self.conditional else None
        net_args = dict(in_channels=self.image_shape[0], base_channels=h["base_channels"],
                        channel_mults=tuple(h["channel_mults"]), num_res_blocks=h["num_res_blocks"],
                        num_classes=self.num_classes if self.conditional else None,
                        attention=bool(h["attention"]), groups=h["groups"])
        self.unet = TimeConditionedUNet(**net_args)
        self.ema = None
        if h["ema_decay"] > 0:
            self.ema = TimeConditionedUNet(**net_args)
            self.ema.load_state_dict(self.unet.state_dict())
            self.ema.requires_grad_(False)
        self.optimizer = optim.Adam(self.unet.parameters(), lr=float(h["lr"]))
        self.updates = 0  # optimisation steps taken (the lr warm-up and the EMA warm-up read it)

    def _check_sampling(self, sampler, steps, eta, guidance_scale) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"ddpm: sampler must be one of {SAMPLERS}, got {sampler!r}")
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"ddpm: sampling steps must be a positive int, got {steps!r}")
        if not isinstance(eta, (int, float)) or not 0 <= eta:
            raise ValueError(f"ddpm: DDIM eta must be a number >= 0, got {eta!r}")
        if not isinstance(guidance_scale, (int, float)) or isinstance(guidance_scale, bool) \
                or not np.isfinite(guidance_scale):
            raise ValueError(f"ddpm: guidance_scale must be a finite number, got {guidance_scale!r}")

    # ---- the GenerativeModel contract ------------------------------------------------------------------------
    def modules(self) -> dict[str, nn.Module]:
        return {"unet": self.unet} if self.ema is None else {"unet": self.unet, "ema": self.ema}

    def optimizers(self) -> dict:
        return {"adam": self.optimizer}

    def extra_state(self) -> dict:
        return {"updates": self.updates}

    def load_extra_state(self, state: dict) -> None:
        if set(state) != {"updates"}:
            raise ValueError(f"ddpm: extra state must hold exactly 'updates', got {sorted(state)}")
        updates = state["updates"]
        if not isinstance(updates, (int, np.integer)) or isinstance(updates, bool) or updates < 0:
            raise ValueError(f"ddpm: extra state 'updates' must be an int >= 0, got {updates!r}")
        self.updates = int(updates)

    def loss(self, x0: np.ndarray, y: np.ndarray | None, rng: np.random.Generator) -> corenn.Tensor:
        """L_simple on a batch x0 (B, C, H, W) in [-1, 1] (labels dropped to the null class w.p. p_uncond)."""
        b = x0.shape[0]
        t = rng.integers(0, self.schedule.timesteps, size=b)
        eps = rng.standard_normal(x0.shape).astype(np.float32)
        x_t = self.schedule.q_sample(x0, t, eps)
        if self.conditional:
            y = drop_labels(y, float(self.hparams["p_uncond"]), self.null_class, rng)
        else:
            y = None
        eps_pred = self.unet(corenn.Tensor(x_t), t, y)
        return F.mse_loss(eps_pred, corenn.Tensor(eps))

    def train_step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 4 or x.shape[1:] != self.image_shape:
            raise ValueError(f"ddpm: expected a batch (B, {', '.join(map(str, self.image_shape))}), got {x.shape}")
        if self.conditional:
            y = np.asarray(y)
            if y.shape != (x.shape[0],) or y.dtype.kind not in "iu" or (y.size and (y.min() < 0 or
                                                                                  y.max() >= self.num_classes)):
                raise ValueError(f"ddpm: labels must be ({x.shape[0]},) ints in [0, {self.num_classes}), got "
                                 f"{y.shape} {y.dtype}")
        if not np.isfinite(x).all():
            raise ValueError(f"ddpm: the batch holds {int((~np.isfinite(x)).sum())} NaN/inf pixels")
        h = self.hparams
        warmup = int(h["warmup_steps"])
        for group in self.optimizer.param_groups:
            group["lr"] = float(h["lr"]) * min(1.0, (self.updates + 1) / warmup) if warmup else float(h["lr"])
        loss = self.loss(x, y, rng)
        value = float(loss.data)
        if not np.isfinite(value):
            raise FloatingPointError(f"ddpm: the noise-prediction loss is {value}")
        self.optimizer.zero_grad()
        loss.backward()
        params = list(self.unet.parameters())
        if h["grad_clip"]:
            grad_norm = nn.utils.clip_grad_norm_(params, float(h["grad_clip"]))
        else:
            grad_norm = float(np.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params
                                          if p.grad is not None)))
        if not np.isfinite(grad_norm):
            raise FloatingPointError(f"ddpm: the gradient norm is {grad_norm} (loss {value})")
        self.optimizer.step()
        self.updates += 1
        if self.ema is not None:
            self.update_ema()
        return {"loss": value, "grad_norm": float(grad_norm)}

    def update_ema(self) -> None:
        """ema <- d ema + (1 - d) theta, d = min(ema_decay, (1 + n) / (10 + n)) after n updates."""
        d = min(float(self.hparams["ema_decay"]), (1.0 + self.updates) / (10.0 + self.updates))
        for p_ema, p in zip(self.ema.parameters(), self.unet.parameters()):
            p_ema.data *= d
            p_ema.data += (1.0 - d) * p.data

    def eps_fn(self, labels: np.ndarray | None, guidance_scale: float, use_ema: bool = True) -> EpsFn:
        """(x_t, t) -> eps for the sampler: the (EMA) network, guided when the model is conditional."""
        net = self.ema if use_ema and self.ema is not None else self.unet
        if not self.conditional:
            def eps(x, t):
                with corenn.no_grad():
                    return net(corenn.Tensor(x), t, None).data
            return eps
        return lambda x, t: guided_eps(net, x, t, labels, guidance_scale, self.null_class)

    def sample(self, n: int, labels: np.ndarray | None = None, rng: np.random.Generator | None = None,
               sampler: str | None = None, steps: int | None = None, eta: float | None = None,
               guidance_scale: float | None = None, clip_x0: bool | None = None, use_ema: bool = True) -> np.ndarray:
        """n images (n, C, H, W) in [0, 1]. sampler "ddpm" (all T steps) or "ddim" (``steps`` steps, ``eta``);
        guidance_scale s (conditional models): eps_u + s (eps_c - eps_u). Unset options take the hparams'
        defaults; use_ema=False samples with the trained weights instead of their moving average."""
        h = self.hparams
        labels = self.check_labels(labels, n)
        if not self.conditional and guidance_scale is not None:
            raise ValueError("ddpm: guidance_scale needs a class-conditional model (class_conditional=True)")
        sampler = h["sampler"] if sampler is None else sampler
        eta = h["ddim_eta"] if eta is None else eta
        scale = h["guidance_scale"] if guidance_scale is None else guidance_scale
        clip_x0 = h["clip_x0"] if clip_x0 is None else bool(clip_x0)
        if steps is None:
            steps = self.schedule.timesteps if sampler == "ddpm" else h["sampling_steps"]
        self._check_sampling(sampler, steps, eta, scale)
        if sampler == "ddpm" and steps != self.schedule.timesteps:
            raise ValueError(f"ddpm: the ancestral sampler runs all {self.schedule.timesteps} steps; got steps={steps} "
                             f"(use sampler='ddim' for fewer)")
        if self.conditional and scale != 1 and h["p_uncond"] == 0:
            raise ValueError(f"ddpm: guidance_scale {scale} needs the unconditional model, but p_uncond=0 never "
                             f"trained it; use guidance_scale=1")
        rng = np.random.default_rng() if rng is None else rng
        x_T = rng.standard_normal((n,) + self.image_shape).astype(np.float32)
        eps_fn = self.eps_fn(labels, float(scale), use_ema)
        with corenn.no_grad():
            if sampler == "ddpm":
                x0 = ddpm_sample(eps_fn, self.schedule, x_T, rng, clip_x0)
            else:
                x0 = ddim_sample(eps_fn, self.schedule, x_T, int(steps), float(eta), rng, clip_x0)
        return np.clip((x0 + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)

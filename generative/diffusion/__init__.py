"""Diffusion models: noise schedules, a time-conditioned U-Net, DDPM with its ancestral sampler, the DDIM sampler
and classifier-free guidance."""
from .classifier_free_guidance import combine_guidance, drop_labels, guided_eps
from .ddim import ddim_sample, ddim_step_mean_std, ddim_timesteps
from .ddpm import DDPM, ddpm_sample, ddpm_step_mean_std
from .noise_schedule import NoiseSchedule, cosine_betas, linear_betas, make_schedule
from .unet import TimeConditionedUNet, sinusoidal_time_embedding

__all__ = ["DDPM", "ddpm_sample", "ddpm_step_mean_std", "ddim_sample", "ddim_step_mean_std", "ddim_timesteps",
           "combine_guidance", "drop_labels", "guided_eps", "NoiseSchedule", "cosine_betas", "linear_betas",
           "make_schedule", "TimeConditionedUNet", "sinusoidal_time_embedding"]

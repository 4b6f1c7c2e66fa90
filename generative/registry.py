"""Model names for the CLI and checkpoints -> the class that implements them, imported only when asked for.

    >>> get_model_class("vae")          # imports generative.autoencoders.vae and returns VAE
    >>> register_model("mine", "my_package.my_module:MyModel")

A checkpoint stores the registered name, never an import path, so loading a file imports only modules listed here.
"""
from __future__ import annotations

import importlib

from generative.core.base import GenerativeModel

__all__ = ["MODELS", "UnknownModelError", "ModelNotAvailableError", "model_names", "get_model_class",
           "register_model"]

MODELS: dict[str, str] = {
    "ae": "generative.autoencoders.vanilla_ae:Autoencoder",
    "vae": "generative.autoencoders.vae:VAE",
    "cvae": "generative.autoencoders.cvae:CVAE",
    "vqvae": "generative.autoencoders.vqvae:VQVAE",
    "gan": "generative.gans.vanilla_gan:GAN",
    "dcgan": "generative.gans.dcgan:DCGAN",
    "wgan_gp": "generative.gans.wgan_gp:WGANGP",
    "cgan": "generative.gans.cgan:ConditionalGAN",
    "ddpm": "generative.diffusion.ddpm:DDPM",
}


class UnknownModelError(KeyError):
    """A model name that is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ModelNotAvailableError(ImportError):
    """A registered model whose module or class is not present in this installation."""


def model_names() -> list[str]:
    return sorted(MODELS)


def register_model(name: str, target: str) -> None:
    """Add (or replace) ``name`` -> ``"package.module:ClassName"``; nothing is imported until it is used."""
    module, sep, cls = target.partition(":")
    if not name or not sep or not module or not cls:
        raise ValueError(f"register_model: expected a name and 'package.module:ClassName', got {name!r}, {target!r}")
    MODELS[name] = target


def get_model_class(name: str) -> type[GenerativeModel]:
    """The class registered as ``name``. Raises UnknownModelError (naming the known models) or
    ModelNotAvailableError (naming the missing module or class)."""
    if name not in MODELS:
        raise UnknownModelError(f"unknown model {name!r}; known models: {', '.join(model_names())}")
    target = MODELS[name]
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # only the model's own module (or a package above it) being absent is "not available";
        # a missing dependency inside a present file is a real error and propagates unchanged
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise ModelNotAvailableError(f"model {name!r} is registered as {target}, but the module {module_name} "
                                         f"is not present in this installation") from None
        raise
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ModelNotAvailableError(f"model {name!r}: {module_name} has no class {class_name} (registered as "
                                     f"{target})")
    if not (isinstance(cls, type) and issubclass(cls, GenerativeModel)):
        raise ModelNotAvailableError(f"model {name!r}: {target} is not a GenerativeModel subclass")
    return cls

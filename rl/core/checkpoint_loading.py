"""`Algo.load` step by step: nothing from a file is used before it is checked.

1. metadata against the schema (`checkpoint_schema`), and the policy it describes against the
   weights the file declares, before anything is built;
2. the agent is built from the metadata (a lack of memory is a CheckpointError, not a crash);
3. every array the file declares (dtype, shape) against that agent, before any is read
   (`checkpoint_tensors`, the buffers' `check_state`, `resume_state.check_arrays`);
4. the arrays are read, the checksum and finite values verified (`checkpoint.load_agent`), and
   only then assigned.
"""

from __future__ import annotations

import numpy as np

from . import resume_state
from .checkpoint import CheckpointError, check_space_matches, load_agent, space_from_json
from .checkpoint_schema import validate_metadata
from .checkpoint_tensors import check_declared_policy_size, check_module_state, check_params, check_rms_state
from .schedules import schedule_from_json
from .vec_env import wrap_env

__all__ = ["load_model", "build_from_metadata", "check_file_arrays"]

_DATA_ENTRIES = {"params", "normalizer", "replay_buffer", "log_ent_coef", "resume"}


class _WithCustomPolicy:
    """An algorithm class as the checkpoint checks see it, with the user's policy class as one more alias."""

    def __init__(self, cls, policy_class):
        self._cls = cls
        self.policy_aliases = {**cls.policy_aliases, policy_class.__name__: policy_class}

    def __getattr__(self, name):
        return getattr(self._cls, name)


def _custom_policy_view(cls, overrides: dict):
    """`cls`, or a view of it accepting `overrides.pop("policy_class")` (SB3's custom_objects key), a
    subclass of one of cls's policy classes that the user passes to load a file saved with it."""
    policy_class = overrides.pop("policy_class", None)
    if policy_class is None:
        return cls
    bases = tuple(set(cls.policy_aliases.values()))
    if not (isinstance(policy_class, type) and issubclass(policy_class, bases)):
        raise TypeError(f"custom_objects['policy_class'] must be a subclass of one of {cls.__name__}'s policy "
                        f"classes ({sorted({b.__name__ for b in bases})}), got {policy_class!r}")
    return _WithCustomPolicy(cls, policy_class)


def load_model(cls, path, env, overrides: dict, force_reset: bool):
    """A `cls` agent from the file at `path` (see the module docstring); `overrides` replace saved hyperparameters.

    A file saved from an agent with a custom policy class names that class; pass it back as
    `overrides["policy_class"]` (`load(path, custom_objects={"policy_class": MyPolicy})`): a class, never a
    name looked up from the file."""
    if env is not None:
        env = wrap_env(env, seed=None)
    overrides = dict(overrides)
    checked_as = _custom_policy_view(cls, overrides)
    built = {}

    def prepare(meta: dict, skeleton) -> None:
        validate_metadata(meta, checked_as)
        if checked_as is cls:
            check_declared_policy_size(meta, cls, skeleton)
        else:  # a user's network: its size follows from its code, checked array by array below
            overrides["_policy"] = checked_as.policy_aliases[meta.get("policy", "MlpPolicy")]
        built["model"] = build_from_metadata(cls, path, meta, env, overrides)
        check_file_arrays(built["model"], meta, skeleton)

    data, meta = load_agent(path, expected_algo=cls.algo_name, prepare=prepare)
    model = built["model"]
    try:
        params = model._full_params(data["params"], meta)
        if meta.get("optimizer_state", True):
            model.set_parameters(params, exact_match=True)
        else:  # a compact file saved with exclude=["optimizer"]
            model.policy.load_state_dict(params["policy"], strict=True)
        if model.obs_normalizer is not None and "normalizer" in data:
            model.obs_normalizer.load_state_dict(data["normalizer"])
        model._load_extra_state(data)
    except (KeyError, ValueError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: the saved arrays do not fit a {cls.algo_name} with the saved settings "
                              f"({e})") from e
    model.num_timesteps = int(meta.get("num_timesteps", 0))
    model._episode_num = int(meta.get("episode_num", 0))
    model._n_updates = int(meta.get("n_updates", 0))
    if isinstance(meta.get("rng_state"), dict):
        resume_state.set_rng(model.rng, meta["rng_state"], "rng_state")
    resume_state.restore(model, data.get("resume", {}), meta.get("resume", {}), int(meta.get("n_envs", 1)),
                         force_reset)
    return model


def build_from_metadata(cls, path, meta: dict, env, overrides: dict):
    """A new agent (policy, buffers, normaliser built; no weights loaded) from validated metadata."""
    if env is not None:
        check_space_matches(meta["observation_space"], env.single_observation_space, "observation")
        check_space_matches(meta["action_space"], env.single_action_space, "action")
    hparams = {k: schedule_from_json(v) for k, v in meta.get("hyperparameters", {}).items()}
    hparams.update(overrides)
    hparams.setdefault("policy_kwargs", meta.get("policy_kwargs"))
    hparams.setdefault("tensorboard_log", meta.get("tensorboard_log"))
    hparams.setdefault("verbose", meta.get("verbose", 0))
    hparams.setdefault("normalize", meta.get("normalize") or False)
    try:
        policy = hparams.pop("_policy", None) or meta.get("policy", "MlpPolicy")
        model = cls(policy, env=env, _init_setup_model=False, **hparams)
        if env is None:
            model.observation_space = space_from_json(meta["observation_space"])
            model.action_space = space_from_json(meta["action_space"])
            model.n_envs = int(meta.get("n_envs", 1))
            model._check_spaces()
        model.env_id = model.env_id or meta.get("env_id")
        model.seed = meta.get("seed")
        model._setup_model()
    except MemoryError:
        raise CheckpointError(f"{path}: this machine has not enough memory for the agent it describes "
                              "(buffer_size, n_steps, n_envs, net_arch)") from None
    except (ValueError, TypeError, KeyError) as e:
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{path}: cannot rebuild a {cls.algo_name} from its saved settings "
                              f"({type(e).__name__}: {e})") from e
    return model


def check_file_arrays(model, meta: dict, skeleton) -> None:
    """The arrays a file declares (corenn ArraySpecs) must fit `model` exactly: CheckpointError naming the tensor."""
    if not isinstance(skeleton, dict) or set(skeleton) - _DATA_ENTRIES:
        extra = sorted(map(str, set(skeleton) - _DATA_ENTRIES)) if isinstance(skeleton, dict) else skeleton
        raise CheckpointError(f"the file's data has unexpected entries {str(extra)[:80]}")
    with_optimizer = meta.get("optimizer_state", True)
    check_params(model, skeleton.get("params"), require_optimizer=with_optimizer,
                 with_targets=meta.get("target_networks", True), forbid_optimizer=not with_optimizer)
    if "normalizer" in skeleton:
        norm = skeleton["normalizer"]
        if not isinstance(norm, dict) or set(norm) != {"obs_rms", "ret_rms"}:
            raise CheckpointError("normalizer must hold exactly 'obs_rms' and 'ret_rms'")
        check_rms_state("normalizer/obs_rms", norm["obs_rms"], (model.preprocessor.features_dim,))
        check_rms_state("normalizer/ret_rms", norm["ret_rms"], ())
    if "log_ent_coef" in skeleton:
        check_module_state("data", {"log_ent_coef": skeleton["log_ent_coef"]},
                           {"log_ent_coef": np.zeros(1, np.float32)})
    if "replay_buffer" in skeleton:
        buffer = getattr(model, "replay_buffer", None)
        if buffer is None:
            raise CheckpointError(f"the file holds a replay buffer, but a {model.algo_name} has none")
        try:
            buffer.check_state(skeleton["replay_buffer"])
        except ValueError as e:
            raise CheckpointError(f"replay_buffer: {e}") from None
    if "resume" in skeleton:
        resume_state.check_arrays(model, int(meta.get("n_envs", 1)), skeleton["resume"])

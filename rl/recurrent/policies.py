"""Recurrent actor-critic policies for RecurrentPPO (sb3-contrib's RecurrentActorCriticPolicy, MlpLstmPolicy,
CnnLstmPolicy, MultiInputLstmPolicy).

Data flow (T time steps of B sequences, time-major; acting is T = 1, B = n_envs):
    stored obs (T*B, ...) --features_extractor--> (T*B, F) --lstm_actor, reset where episode_start--> (T*B, H)
    --MlpExtractor.policy_net--> latent_pi --action_net--> distribution
    critic: its own LSTM (enable_critic_lstm=True, default), the actor's LSTM output without gradient
    (shared_lstm=True, enable_critic_lstm=False), or a Linear(F, H) (both False); then value_net.
LSTM states: `RNNStates(pi=(h, c), vf=(h, c))`, each array (n_lstm_layers, B, lstm_hidden_size).
Before step t the states of the sequences whose episode starts at t are multiplied by 0
(`process_sequence`), exactly as during collection; in training, sequences with resets inside are split at
them into fragments that run as one padded batch (one LSTM call per minibatch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import gymnasium as gym
import numpy as np

import corenn
from corenn import nn, optim

from ..core.checkpoint import jsonable
from ..core.feature_extractors import CombinedExtractor, NatureCNN
from ..core.preprocessing import predict_input
from ..policy_gradient.policies import ActorCriticPolicy, MlpExtractor

__all__ = ["RNNStates", "RecurrentActorCriticPolicy", "RecurrentActorCriticCnnPolicy",
           "RecurrentMultiInputActorCriticPolicy", "MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy",
           "process_sequence"]

_LSTM_KWARGS = {"bias", "dropout"}


class RNNStates(NamedTuple):
    """sb3-contrib's RNNStates: pi = (h, c) of the actor's LSTM, vf = (h, c) of the critic's; each
    (n_lstm_layers, n_envs, lstm_hidden_size) float32 ndarrays."""
    pi: tuple
    vf: tuple


def process_sequence(lstm: nn.LSTM, features, states, episode_starts: np.ndarray):
    """features (T*B, F) Tensor (time-major), states (h, c) each (L, B, H), episode_starts (T, B) ->
    (output (T*B, H) Tensor, (h_n, c_n) Tensors, or None when a reset lies inside the sequence).

    The states of sequence b are zeroed before step t when episode_starts[t, b] is 1. Without a reset after
    step 0 this is one LSTM call. Otherwise (training) each column is split at its episode starts into
    fragments, which run side by side as one padded batch (sb3-contrib's scheme): a fragment that starts a
    new episode starts from zeros, the first one of a column from that column's (masked) initial state,
    which must then be a constant; outputs are put back in place, so the result is that of stepping."""
    T, B = episode_starts.shape
    h, c = (corenn.as_tensor(s) for s in states)
    keep = 1.0 - episode_starts[0]
    if T == 1 or not episode_starts[1:].any():
        if (keep != 1.0).any():
            mask = keep.reshape(1, B, 1).astype(h.data.dtype)
            h, c = h * mask, c * mask
        out, (h, c) = lstm(features.reshape(T, B, -1), (h, c))
        return out.reshape(T * B, -1), (h, c)
    col, start, length = [], [], []
    for b in range(B):
        cuts = [0, *(np.flatnonzero(episode_starts[1:, b]) + 1).tolist(), T]
        for a, e in zip(cuts[:-1], cuts[1:]):
            col.append(b)
            start.append(a)
            length.append(e - a)
    col, start, length = np.array(col), np.array(start), np.array(length)
    n, longest = len(col), int(length.max())
    pos = np.arange(longest)[:, None]
    rows = np.where(pos < length[None], start[None] + pos, start[None]) * B + col[None]  # (longest, n)
    packed = features[rows.reshape(-1)].reshape(longest, n, -1)
    first = (start == 0) * keep[col]
    scale = first.reshape(1, n, 1).astype(h.data.dtype)
    h0, c0 = h.data[:, col] * scale, c.data[:, col] * scale
    out, _ = lstm(packed, (h0, c0))
    inverse = np.empty((T, B), np.int64)
    for k in range(n):
        inverse[start[k]:start[k] + length[k], col[k]] = np.arange(length[k]) * n + k
    return out.reshape(longest * n, -1)[inverse.reshape(-1)], None


def _positive_int(value, name: str, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= high:
        raise ValueError(f"{name} must be an int in [1, {high}], got {value!r}")
    return int(value)


class RecurrentActorCriticPolicy(ActorCriticPolicy):
    """ActorCriticPolicy with an LSTM between the features extractor and the MLP heads (sb3-contrib).

    lstm_hidden_size (256), n_lstm_layers (1), shared_lstm (False: the critic reuses the actor's LSTM
    output, without gradient), enable_critic_lstm (True: the critic has its own LSTM; at most one of the two),
    lstm_kwargs (extra nn.LSTM arguments: bias, dropout); every other argument as ActorCriticPolicy. With use_sde,
    gSDE's latent is latent_pi, the actor LSTM's output after the policy MLP (as sb3-contrib).
    `predict(obs, state, episode_start, deterministic)` -> (actions, (h, c)) as sb3-contrib.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, lr_schedule: Callable[[float], float],
                 net_arch=None, activation_fn=nn.Tanh, ortho_init: bool = True, use_sde: bool = False,
                 log_std_init: float = 0.0, full_std: bool = True, use_expln: bool = False,
                 squash_output: bool = False, features_extractor_class=None,
                 features_extractor_kwargs: dict | None = None, share_features_extractor: bool = True,
                 normalize_images: bool = True, optimizer_class=optim.Adam, optimizer_kwargs: dict | None = None,
                 lstm_hidden_size: int = 256, n_lstm_layers: int = 1, shared_lstm: bool = False,
                 enable_critic_lstm: bool = True, lstm_kwargs: dict | None = None):
        lstm_kwargs = dict(lstm_kwargs or {})
        unknown = set(lstm_kwargs) - _LSTM_KWARGS
        if unknown:
            raise ValueError(f"lstm_kwargs takes {sorted(_LSTM_KWARGS)}, got {sorted(map(str, unknown))}")
        if bool(shared_lstm) and bool(enable_critic_lstm):
            raise ValueError("shared_lstm=True and enable_critic_lstm=True: choose a shared LSTM, a separate critic "
                             "LSTM or none for the critic (pass enable_critic_lstm=False with shared_lstm=True)")
        # plain values read by _build_mlp_extractor, which ActorCriticPolicy.__init__ calls
        object.__setattr__(self, "_lstm_config", {
            "lstm_hidden_size": _positive_int(lstm_hidden_size, "lstm_hidden_size", 4096),
            "n_lstm_layers": _positive_int(n_lstm_layers, "n_lstm_layers", 16),
            "shared_lstm": bool(shared_lstm), "enable_critic_lstm": bool(enable_critic_lstm),
            "lstm_kwargs": lstm_kwargs})
        super().__init__(observation_space, action_space, lr_schedule, net_arch=net_arch, activation_fn=activation_fn,
                         ortho_init=ortho_init, use_sde=use_sde, log_std_init=log_std_init, full_std=full_std,
                         use_expln=use_expln, squash_output=squash_output,
                         features_extractor_class=features_extractor_class,
                         features_extractor_kwargs=features_extractor_kwargs,
                         share_features_extractor=share_features_extractor, normalize_images=normalize_images,
                         optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)

    def _build_mlp_extractor(self) -> None:
        cfg = self._lstm_config
        self.lstm_hidden_size, self.n_lstm_layers = cfg["lstm_hidden_size"], cfg["n_lstm_layers"]
        self.shared_lstm, self.enable_critic_lstm = cfg["shared_lstm"], cfg["enable_critic_lstm"]
        self.lstm_kwargs = cfg["lstm_kwargs"]
        H, L = self.lstm_hidden_size, self.n_lstm_layers
        self.lstm_actor = nn.LSTM(self.features_dim, H, num_layers=L, **self.lstm_kwargs)
        self.lstm_critic = nn.LSTM(self.features_dim, H, num_layers=L, **self.lstm_kwargs) \
            if self.enable_critic_lstm else None
        self.critic = nn.Linear(self.features_dim, H) if not (self.enable_critic_lstm or self.shared_lstm) else None
        self.mlp_extractor = MlpExtractor(H, net_arch=self.net_arch, activation_fn=self.activation_fn)

    def _build_numpy_plans(self) -> None:
        self._pi_plan = self._vf_plan = None  # acting goes through the LSTM

    @property
    def lstm_state_shape(self) -> tuple:
        """(n_lstm_layers, lstm_hidden_size): a state is (h, c), each (n_lstm_layers, n_envs, lstm_hidden_size)."""
        return self.n_lstm_layers, self.lstm_hidden_size

    def initial_state(self, n_envs: int) -> RNNStates:
        """Zero states for `n_envs` environments."""
        z = lambda: np.zeros((self.n_lstm_layers, n_envs, self.lstm_hidden_size), np.float32)  # noqa: E731
        return RNNStates((z(), z()), (z(), z()))

    def config(self) -> dict:
        return {**super().config(), "lstm_hidden_size": self.lstm_hidden_size, "n_lstm_layers": self.n_lstm_layers,
                "shared_lstm": self.shared_lstm, "enable_critic_lstm": self.enable_critic_lstm,
                "lstm_kwargs": jsonable(self.lstm_kwargs)}

    # ------------------------------------------------------------------ forward pieces
    def _features_pair(self, obs):
        x = self.inputs.to_input(obs)
        if self.share_features_extractor:
            f = self.features_extractor(x)
            return f, f
        return self.pi_features_extractor(x), self.vf_features_extractor(x)

    def _forward_lstms(self, obs, states: RNNStates, episode_starts: np.ndarray, critic: bool = True):
        """-> (latent_pi, latent_vf or None, RNNStates of ndarrays) for T*B stored observations."""
        pi_features, vf_features = self._features_pair(obs)
        lstm_pi, pi_states = process_sequence(self.lstm_actor, pi_features, states.pi, episode_starts)
        latent_pi = self.mlp_extractor.forward_actor(lstm_pi)
        if not critic:
            return latent_pi, None, pi_states
        if self.lstm_critic is not None:
            lstm_vf, vf_states = process_sequence(self.lstm_critic, vf_features, states.vf, episode_starts)
        elif self.shared_lstm:
            lstm_vf, vf_states = corenn.as_tensor(lstm_pi.data), pi_states  # no gradient into the actor
        else:
            lstm_vf, vf_states = self.critic(vf_features), pi_states
        new = None if pi_states is None or vf_states is None else \
            RNNStates(tuple(s.data for s in pi_states), tuple(s.data for s in vf_states))
        return latent_pi, self.mlp_extractor.forward_critic(lstm_vf), new

    def evaluate_actions(self, obs, actions: np.ndarray, lstm_states: RNNStates = None,
                         episode_starts: np.ndarray = None, entropy_grad: bool = True):
        """Training path: T*B stored observations and actions (time-major), the states at the start of the
        B sequences, episode_starts (T, B) -> (values, log_prob, entropy) Tensors of shape (T*B,)."""
        if lstm_states is None or episode_starts is None:
            raise ValueError(f"{type(self).__name__}.evaluate_actions needs lstm_states and episode_starts (T, B)")
        latent_pi, latent_vf, _ = self._forward_lstms(obs, lstm_states, np.asarray(episode_starts, np.float32))
        dist = self._distribution(latent_pi)
        values = self.value_net(latent_vf).reshape(-1)
        if entropy_grad:
            return values, dist.log_prob(actions), dist.entropy()
        with corenn.no_grad():
            entropy = dist.entropy()
        return values, dist.log_prob(actions), entropy

    def act(self, obs, lstm_states: RNNStates, episode_starts: np.ndarray, deterministic: bool = False,
            rng: np.random.Generator | None = None):
        """Rollout step, no graph: stored obs (B, ...), states, episode_starts (B,) ->
        (actions, values (B,), log_probs (B,), new RNNStates)."""
        with corenn.no_grad():
            latent_pi, latent_vf, new = self._forward_lstms(obs, lstm_states, episode_starts.reshape(1, -1))
            dist = self._distribution(latent_pi)
            actions = dist.get_actions(deterministic, rng)
            log_prob = dist.log_prob(actions).data
            values = self.value_net(latent_vf).data.reshape(-1)
        return actions, values, log_prob, new

    def predict_values(self, obs, lstm_states: RNNStates = None, episode_starts: np.ndarray = None) -> np.ndarray:
        """V(s) (B,) for one step of B stored observations, from the states before it (zeros when None)."""
        n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        states = self.initial_state(n) if lstm_states is None else lstm_states
        starts = np.zeros((1, n), np.float32) if episode_starts is None else np.reshape(episode_starts, (1, n))
        with corenn.no_grad():
            _, latent_vf, _ = self._forward_lstms(obs, states, starts.astype(np.float32))
            return self.value_net(latent_vf).data.reshape(-1)

    def predict_actions(self, obs, deterministic: bool = False, rng=None, lstm_states=None, episode_starts=None):
        """-> (actions clipped to the Box bounds (B, ...), actor states (h, c)) for one step of B observations."""
        n = len(next(iter(obs.values()))) if isinstance(obs, dict) else len(obs)
        pi = self._check_state(lstm_states, n)
        starts = np.zeros(n, np.float32) if episode_starts is None else np.asarray(episode_starts, np.float32)
        if starts.shape not in ((n,), (n, 1)):
            raise ValueError(f"episode_start must hold one flag per observation ({n}), got shape {starts.shape}")
        with corenn.no_grad():
            latent_pi, _, (h, c) = self._forward_lstms(obs, RNNStates(pi, pi), starts.reshape(1, n), critic=False)
            actions = self._distribution(latent_pi).get_actions(deterministic, rng)
        return self.scale_actions(actions), (h.data, c.data)

    def _check_state(self, state, n: int) -> tuple:
        shape = (self.n_lstm_layers, n, self.lstm_hidden_size)
        if state is None:
            return np.zeros(shape, np.float32), np.zeros(shape, np.float32)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise TypeError(f"state must be a tuple (h, c) of arrays {shape} (what predict returned), or None; "
                            f"got {type(state).__name__}")
        h, c = (np.asarray(s, np.float32) for s in state)
        if h.shape != shape or c.shape != shape:
            raise ValueError(f"state (h, c) must be arrays of shape {shape} (n_lstm_layers, n_envs, "
                             f"lstm_hidden_size), got {h.shape} and {c.shape}")
        return h, c

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        """Raw observation(s) -> (actions, (h, c)) as sb3-contrib: the state is (h, c), each (n_lstm_layers,
        n_envs, lstm_hidden_size); None means zeros; episode_start (n_envs,) resets those envs' states first."""
        obs = predict_input(observation, self.observation_space, f"{type(self).__name__}.predict")
        batched = self.preprocessor.is_batched(obs)
        stored = self.preprocessor(obs, batched=batched)
        if not hasattr(self, "_predict_rng"):
            self._predict_rng = np.random.default_rng()
        actions, new = self.predict_actions(stored, deterministic, self._predict_rng, state, episode_start)
        return (actions if batched else actions[0]), new


class RecurrentActorCriticCnnPolicy(RecurrentActorCriticPolicy):
    """RecurrentActorCriticPolicy with NatureCNN as its default features extractor (images)."""

    default_features_extractor = NatureCNN


class RecurrentMultiInputActorCriticPolicy(RecurrentActorCriticPolicy):
    """RecurrentActorCriticPolicy with CombinedExtractor as its default features extractor (Dict observations)."""

    default_features_extractor = CombinedExtractor


MlpLstmPolicy = RecurrentActorCriticPolicy
CnnLstmPolicy = RecurrentActorCriticCnnPolicy
MultiInputLstmPolicy = RecurrentMultiInputActorCriticPolicy

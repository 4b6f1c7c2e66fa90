"""SB3's custom-policy guide, ported by changing only the imports (`torch` -> `corenn`, `stable_baselines3` ->
`rl`): a custom features extractor, a custom combined extractor for Dict observations, a custom
`_build_mlp_extractor` network, net_arch dicts, share_features_extractor. What rl cannot honour raises."""
import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

import corenn as th
from corenn import nn
from rl.a2c import A2C
from rl.common.envs import SimpleMultiObsEnv
from rl.common.policies import ActorCriticPolicy
from rl.common.torch_layers import BaseFeaturesExtractor, register_features_extractor
from rl.core.checkpoint import CheckpointError
from rl.ppo import PPO
from rl.sac import SAC


class CustomCNN(BaseFeaturesExtractor):
    """The guide's CustomCNN: (B, C, H, W) -> features_dim."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 256):
        super().__init__(observation_space, features_dim)
        n_input_channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(n_input_channels, 32, kernel_size=8, stride=4, padding=0), nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2, padding=0), nn.ReLU(),
            nn.Flatten(),
        )
        with th.no_grad():
            n_flatten = self.cnn(th.as_tensor(observation_space.sample()[None]).float()).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())
        self.calls = 0

    def forward(self, observations):
        self.calls += 1
        return self.linear(self.cnn(observations))


class CustomCombinedExtractor(BaseFeaturesExtractor):
    """The guide's CustomCombinedExtractor, with SimpleMultiObsEnv's keys ("img", "vec")."""

    def __init__(self, observation_space: spaces.Dict):
        super().__init__(observation_space, features_dim=1)
        extractors, total_concat_size = {}, 0
        for key, subspace in observation_space.spaces.items():
            if key == "img":
                extractors[key] = nn.Sequential(nn.MaxPool2d(4), nn.Flatten())
                total_concat_size += subspace.shape[1] // 4 * subspace.shape[2] // 4
            elif key == "vec":
                extractors[key] = nn.Linear(subspace.shape[0], 16)
                total_concat_size += 16
        self.extractors = nn.ModuleDict(extractors)
        self._features_dim = total_concat_size

    def forward(self, observations):
        return th.cat([extractor(observations[key]) for key, extractor in self.extractors.items()], dim=1)


class CustomNetwork(nn.Module):
    """The guide's CustomNetwork: separate policy and value heads of their own sizes."""

    def __init__(self, feature_dim: int, last_layer_dim_pi: int = 64, last_layer_dim_vf: int = 64):
        super().__init__()
        self.latent_dim_pi = last_layer_dim_pi
        self.latent_dim_vf = last_layer_dim_vf
        self.policy_net = nn.Sequential(nn.Linear(feature_dim, last_layer_dim_pi), nn.ReLU())
        self.value_net = nn.Sequential(nn.Linear(feature_dim, last_layer_dim_vf), nn.ReLU())
        self.actor_calls = 0

    def forward(self, features):
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features):
        self.actor_calls += 1
        return self.policy_net(features)

    def forward_critic(self, features):
        return self.value_net(features)


class CustomActorCriticPolicy(ActorCriticPolicy):
    def __init__(self, observation_space, action_space, lr_schedule, *args, **kwargs):
        kwargs["ortho_init"] = False  # the guide disables orthogonal initialization
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)

    def _build_mlp_extractor(self) -> None:
        self.mlp_extractor = CustomNetwork(self.features_dim, 32, 48)


def test_custom_cnn_features_extractor_trains_and_predicts():
    policy_kwargs = dict(features_extractor_class=CustomCNN, features_extractor_kwargs=dict(features_dim=32))
    model = PPO("CnnPolicy", "corenn/PixelSide-v0", policy_kwargs=policy_kwargs, n_steps=16, batch_size=16,
                n_epochs=1, seed=0)
    extractor = model.policy.features_extractor
    assert type(extractor) is CustomCNN and extractor.features_dim == 32
    before = extractor.linear[0].weight.data.copy()
    model.learn(32)
    assert extractor.calls > 0 and not np.array_equal(before, extractor.linear[0].weight.data)
    obs = model.env.observation_space.sample()  # a batch, channel-first after VecTransposeImage
    assert model.predict(obs)[0].shape == (obs.shape[0],)


def test_custom_combined_extractor_on_dict_observations():
    model = A2C("MultiInputPolicy", SimpleMultiObsEnv(random_start=False), n_steps=4, seed=0,
                policy_kwargs=dict(features_extractor_class=CustomCombinedExtractor))
    assert model.policy.features_dim == 64 // 4 * 64 // 4 + 16
    model.learn(16)
    obs, _ = SimpleMultiObsEnv().reset(seed=0)
    assert model.predict(obs)[0] in range(4)


def test_overridden_build_mlp_extractor_is_used(tmp_path):
    model = PPO(CustomActorCriticPolicy, "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0)
    net = model.policy.mlp_extractor
    assert type(net) is CustomNetwork
    assert model.policy.action_net.weight.shape == (2, 32) and model.policy.value_net.weight.shape == (1, 48)
    model.learn(64)
    assert net.actor_calls > 0  # rollouts and updates go through the custom network
    obs = np.zeros((3, 4), np.float32)
    path = model.policy.save(tmp_path / "custom")
    loaded = CustomActorCriticPolicy.load(path)
    assert type(loaded.mlp_extractor) is CustomNetwork
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0],
                                  model.policy.predict(obs, deterministic=True)[0])


def test_an_agent_with_a_custom_policy_class_loads_with_custom_objects(tmp_path):
    model = PPO(CustomActorCriticPolicy, "CartPole-v1", n_steps=32, batch_size=32, n_epochs=1, seed=0).learn(32)
    path = model.save(tmp_path / "agent")
    with pytest.raises(CheckpointError, match="custom_objects"):  # the file names a class; we never import it
        PPO.load(path)
    with pytest.raises(TypeError, match="subclass"):
        PPO.load(path, custom_objects={"policy_class": dict})
    loaded = PPO.load(path, env=gym.make("CartPole-v1"), custom_objects={"policy_class": CustomActorCriticPolicy})
    assert type(loaded.policy) is CustomActorCriticPolicy and type(loaded.policy.mlp_extractor) is CustomNetwork
    obs = np.linspace(-0.5, 0.5, 12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    loaded.learn(32)  # and it trains on


def test_a_broken_custom_network_fails_loudly():
    class NoLatentDims(ActorCriticPolicy):
        def _build_mlp_extractor(self):
            self.mlp_extractor = nn.Linear(self.features_dim, 8)

    with pytest.raises(TypeError, match="latent_dim_pi"):
        PPO(NoLatentDims, "CartPole-v1", n_steps=16, batch_size=16)


def test_net_arch_dicts_shape_the_networks():
    model = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=0,
                policy_kwargs=dict(activation_fn=nn.ReLU, net_arch=dict(pi=[32, 32], vf=[64, 64])))
    widths = lambda seq: [m.weight.shape[0] for m in seq if isinstance(m, nn.Linear)]  # noqa: E731
    assert widths(model.policy.mlp_extractor.policy_net) == [32, 32]
    assert widths(model.policy.mlp_extractor.value_net) == [64, 64]
    assert any(isinstance(m, nn.ReLU) for m in model.policy.mlp_extractor.policy_net)
    sac = SAC("MlpPolicy", "Pendulum-v1", learning_starts=4, buffer_size=100, seed=0,
              policy_kwargs=dict(net_arch=dict(pi=[16], qf=[24, 8])))
    sizes = [p.shape for p in sac.policy.actor.net.parameters()]
    assert (16, 3) in sizes or (3, 16) in sizes
    critic_sizes = {s for p in sac.policy.critic.net.parameters() for s in p.shape}
    assert {24, 8} <= critic_sizes and 16 not in critic_sizes


@pytest.mark.parametrize("algo, net_arch, match", [
    (PPO, dict(pi=[8], qf=[8]), "'pi' and 'vf'"),
    (PPO, [dict(pi=[8], vf=[8])], "SB3 < 1.8"),
    (PPO, [8, 0], "positive"),
    (SAC, dict(pi=[8], vf=[8]), "'pi' and 'qf'"),
])
def test_net_arch_forms_rl_cannot_honour_raise(algo, net_arch, match):
    env = "CartPole-v1" if algo is PPO else "Pendulum-v1"
    with pytest.raises(ValueError, match=match):
        algo("MlpPolicy", env, policy_kwargs=dict(net_arch=net_arch))


def test_gsde_policy_arguments_raise():
    with pytest.raises(ValueError, match="gSDE"):
        PPO("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(squash_output=True))


def test_share_features_extractor_choices():
    ppo = PPO("MlpPolicy", "CartPole-v1", n_steps=16, batch_size=16, seed=0,
              policy_kwargs=dict(share_features_extractor=False))
    assert ppo.policy.pi_features_extractor is not ppo.policy.vf_features_extractor
    ppo.learn(16)
    sac = SAC("MlpPolicy", "Pendulum-v1", learning_starts=4, buffer_size=100, batch_size=4, seed=0,
              policy_kwargs=dict(share_features_extractor=True))
    assert sac.policy.critic.share_features_extractor  # the critic reads the actor's extractor, not its own
    sac.learn(8)
    own = SAC("MlpPolicy", "Pendulum-v1", seed=0, policy_kwargs=dict(share_features_extractor=False))
    assert not own.policy.critic.share_features_extractor


def test_saving_needs_the_custom_extractor_registered(tmp_path):
    class UnregisteredCNN(CustomCNN):
        pass

    model = PPO("CnnPolicy", "corenn/PixelSide-v0", n_steps=16, batch_size=16, seed=0,
                policy_kwargs=dict(features_extractor_class=UnregisteredCNN,
                                   features_extractor_kwargs=dict(features_dim=16)))
    model.learn(16)  # training and predicting need no registration
    with pytest.raises(ValueError, match="register_features_extractor"):
        model.save(tmp_path / "agent")
    with pytest.raises(ValueError, match="register_features_extractor"):
        model.policy.save(tmp_path / "policy")
    assert not list(tmp_path.iterdir())  # nothing half-written
    register_features_extractor(UnregisteredCNN, name="SB3CompatTestCNN")
    obs = model.env.observation_space.sample()
    loaded = PPO.load(model.save(tmp_path / "agent"))
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    policy = type(model.policy).load(model.policy.save(tmp_path / "policy"))
    assert type(policy.features_extractor) is UnregisteredCNN


class SmallMlpExtractor(BaseFeaturesExtractor):
    """A user's extractor on vector observations: Linear + Tanh to features_dim."""

    def __init__(self, observation_space: spaces.Box, features_dim: int = 8):
        super().__init__(observation_space, features_dim)
        self.net = nn.Sequential(nn.Linear(int(np.prod(observation_space.shape)), features_dim), nn.Tanh())
        self.calls = 0

    def forward(self, observations):
        self.calls += 1
        return self.net(observations)


@pytest.mark.parametrize("algo, env_id", [("DQN", "CartPole-v1"), ("SAC", "Pendulum-v1"), ("TD3", "Pendulum-v1")])
def test_custom_features_extractor_in_off_policy_algorithms(algo, env_id):
    import rl

    model = getattr(rl, algo)("MlpPolicy", env_id, learning_starts=8, buffer_size=100, batch_size=8, seed=0,
                              policy_kwargs=dict(features_extractor_class=SmallMlpExtractor,
                                                 features_extractor_kwargs=dict(features_dim=6)))
    extractors = [m for m in model.policy.modules() if isinstance(m, SmallMlpExtractor)]
    assert extractors and all(e.features_dim == 6 for e in extractors)
    model.learn(24)
    assert sum(e.calls for e in extractors) > 0
    action, _ = model.predict(model.observation_space.sample(), deterministic=True)
    assert model.action_space.contains(np.asarray(action, dtype=model.action_space.dtype))

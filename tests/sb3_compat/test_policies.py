"""Policies as an SB3 user drives them, with only the package name changed: `policy.predict`,
`policy.save` / `Policy.load`, `parameters_to_vector` / `load_from_vector`, `MlpPolicy` per algorithm."""
import gymnasium as gym
import numpy as np
import pytest

from rl.a2c import A2C
from rl.common.policies import ActorCriticPolicy, BasePolicy
from rl.core.checkpoint import CheckpointError
from rl.dqn import DQN
from rl.dqn.policies import DQNPolicy
from rl.ppo import PPO
from rl.sac import SAC
from rl.sac.policies import SACPolicy
from rl.td3 import TD3
from rl.td3.policies import TD3Policy

SMALL = {
    PPO: ("CartPole-v1", dict(n_steps=32, batch_size=32, n_epochs=1, policy_kwargs=dict(net_arch=[16]))),
    A2C: ("CartPole-v1", dict(n_steps=8, policy_kwargs=dict(net_arch=[16]))),
    DQN: ("CartPole-v1", dict(learning_starts=8, buffer_size=200, batch_size=8, policy_kwargs=dict(net_arch=[16]))),
    SAC: ("Pendulum-v1", dict(learning_starts=8, buffer_size=200, batch_size=8, policy_kwargs=dict(net_arch=[16]))),
    TD3: ("Pendulum-v1", dict(learning_starts=8, buffer_size=200, batch_size=8, policy_kwargs=dict(net_arch=[16]))),
}
POLICY_CLASS = {PPO: ActorCriticPolicy, A2C: ActorCriticPolicy, DQN: DQNPolicy, SAC: SACPolicy, TD3: TD3Policy}


def trained(algo):
    env_id, kwargs = SMALL[algo]
    model = algo("MlpPolicy", env_id, seed=0, **kwargs)
    return model.learn(48), gym.make(env_id)


@pytest.mark.parametrize("algo", list(SMALL))
def test_policy_predict_matches_the_model_and_batches(algo):
    model, env = trained(algo)
    assert isinstance(model.policy, POLICY_CLASS[algo]) and isinstance(model.policy, BasePolicy)
    obs, _ = env.reset(seed=1)
    action, state = model.policy.predict(obs, deterministic=True)
    assert state is None and env.action_space.contains(np.asarray(action, dtype=env.action_space.dtype))
    np.testing.assert_allclose(action, model.predict(obs, deterministic=True)[0], rtol=1e-6)
    batch = np.stack([obs, env.observation_space.sample(), env.observation_space.sample()])
    actions, _ = model.policy.predict(batch, deterministic=True)
    assert len(actions) == 3
    np.testing.assert_allclose(actions[0], action, rtol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        model.policy.predict(np.zeros(obs.shape[0] + 1, np.float32))


@pytest.mark.parametrize("algo", list(SMALL))
def test_policy_save_then_load_predicts_the_same(algo, tmp_path):
    model, env = trained(algo)
    policy = model.policy
    path = policy.save(tmp_path / "policy")
    assert str(path).endswith(".npz")
    loaded = type(policy).load(tmp_path / "policy.npz")
    assert type(loaded) is type(policy)
    obs = np.stack([env.observation_space.sample() for _ in range(5)])
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], policy.predict(obs, deterministic=True)[0],
                               rtol=1e-6)
    np.testing.assert_array_equal(loaded.parameters_to_vector(), policy.parameters_to_vector())


def test_policy_file_is_validated_before_use(tmp_path):
    model, _ = trained(PPO)
    path = model.policy.save(tmp_path / "pi.npz")
    with pytest.raises(CheckpointError, match="ActorCriticPolicy"):
        DQNPolicy.load(path)
    model.save(tmp_path / "agent")
    with pytest.raises(CheckpointError, match="not policy"):
        ActorCriticPolicy.load(tmp_path / "agent.npz")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError):
        ActorCriticPolicy.load(bad)
    with pytest.raises(FileNotFoundError):
        ActorCriticPolicy.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("algo", list(SMALL))
def test_parameters_to_vector_round_trip(algo):
    model, env = trained(algo)
    policy = model.policy
    vec = policy.parameters_to_vector()
    assert vec.ndim == 1 and vec.dtype == np.float32
    assert vec.size == sum(p.data.size for p in policy.parameters())
    obs = np.stack([env.observation_space.sample() for _ in range(4)])
    before = policy.predict(obs, deterministic=True)[0]
    policy.load_from_vector(vec + 0.5)  # SB3's pattern: perturb, evaluate, restore (e.g. evolution strategies)
    np.testing.assert_allclose(policy.parameters_to_vector(), vec + 0.5, rtol=1e-6)
    policy.load_from_vector(vec)
    np.testing.assert_array_equal(policy.parameters_to_vector(), vec)
    np.testing.assert_allclose(policy.predict(obs, deterministic=True)[0], before, rtol=1e-6)
    with pytest.raises(ValueError, match=str(vec.size)):
        policy.load_from_vector(vec[:-1])
    with pytest.raises(ValueError, match="finite"):
        policy.load_from_vector(np.full_like(vec, np.nan))


def test_load_from_vector_changes_what_the_policy_does():
    model, env = trained(PPO)
    obs = np.stack([env.observation_space.sample() for _ in range(64)])
    vec = model.policy.parameters_to_vector()
    values_before = model.policy.predict_values(model.policy.preprocessor(obs))
    model.policy.load_from_vector(np.random.default_rng(0).standard_normal(vec.size).astype(np.float32))
    assert not np.allclose(model.policy.predict_values(model.policy.preprocessor(obs)), values_before)


def test_mlp_policy_importable_per_algorithm_module():
    from rl.a2c import MlpPolicy as A2CMlp
    from rl.ddpg import MlpPolicy as DDPGMlp
    from rl.dqn import CnnPolicy as DQNCnn
    from rl.dqn import MlpPolicy as DQNMlp
    from rl.ppo import MlpPolicy as PPOMlp
    from rl.ppo import MultiInputPolicy as PPOMulti
    from rl.sac import MlpPolicy as SACMlp
    from rl.td3 import MlpPolicy as TD3Mlp
    assert PPOMlp is A2CMlp is ActorCriticPolicy and DQNMlp is DQNPolicy
    assert SACMlp is SACPolicy and TD3Mlp is DDPGMlp is TD3Policy
    assert PPO.policy_aliases["MultiInputPolicy"] is PPOMulti and DQN.policy_aliases["CnnPolicy"] is DQNCnn
    model = PPO(PPOMlp, "CartPole-v1", n_steps=16, batch_size=16, seed=0)  # a class, as SB3 allows
    assert type(model.policy) is ActorCriticPolicy

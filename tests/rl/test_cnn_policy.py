"""CnnPolicy and image-aware MultiInputPolicy for PPO, A2C, REINFORCE, DQN, SAC, TD3 and DDPG on the pixel task
(envs/pixel_side.py): learning, acting, buffers that keep images as uint8, save/load, errors."""
import gymnasium as gym
import numpy as np
import pytest

import corenn
import envs  # noqa: F401  (corenn/PixelSide-v0)
from rl import A2C, DDPG, DQN, PPO, REINFORCE, SAC, TD3, evaluate_policy, make_vec_env
from rl.core.feature_extractors import NatureCNN, register_features_extractor
from rl.core.preprocessing import maybe_transpose
from rl.core.vec_env import VecTransposeImage

DISCRETE, CONTINUOUS = "corenn/PixelSide-v0", "corenn/PixelSideContinuous-v0"
SMALL = dict(features_extractor_kwargs=dict(features_dim=16), net_arch=[16])
REPLAY = dict(buffer_size=200, learning_starts=20, batch_size=8)
ALGOS = {
    "PPO": (PPO, DISCRETE, dict(n_steps=16, batch_size=16, n_epochs=1)),
    "A2C": (A2C, DISCRETE, dict(n_steps=8)),
    "REINFORCE": (REINFORCE, DISCRETE, dict(n_steps=20)),
    "DQN": (DQN, DISCRETE, dict(train_freq=1, target_update_interval=10, **REPLAY)),
    "SAC": (SAC, CONTINUOUS, REPLAY),
    "TD3": (TD3, CONTINUOUS, REPLAY),
    "DDPG": (DDPG, CONTINUOUS, REPLAY),
}


def images(env_id, n=4, seed=0, **env_kwargs):
    """n channel-last observations of the task, (n, 36, 36, 3) uint8 (dicts of batches for dict mode)."""
    env = gym.make(env_id, **env_kwargs)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(n - 1):
        obs, *_ = env.step(env.action_space.sample())
        out.append(obs)
    if isinstance(obs, dict):
        return {k: np.stack([o[k] for o in out]) for k in obs}
    return np.stack(out)


def values(model, obs):
    """What the agent's critic says about raw observations: V(s), Q(s, .) or Q(s, mu(s))."""
    feats = model._features(maybe_transpose(obs, model.observation_space))
    policy = model.policy
    if isinstance(model, DQN):
        return policy.q_values(feats)
    if hasattr(policy, "critic"):
        with corenn.no_grad():
            return policy.critic(feats, policy.act(feats, deterministic=True)).data
    return policy.predict_values(feats)


def first_conv(model):
    state = model.policy.state_dict()
    return next(v for k, v in state.items() if k.endswith("cnn.0.weight"))


def test_ppo_cnn_policy_solves_the_pixel_task():
    model = PPO("CnnPolicy", DISCRETE, n_envs=4, n_steps=128, batch_size=64, n_epochs=4, seed=0)
    assert isinstance(model.policy.features_extractor, NatureCNN) and model.policy.features_dim == 512
    assert isinstance(model.env, VecTransposeImage) and model.observation_space.shape == (3, 36, 36)
    before, _ = evaluate_policy(model, DISCRETE, n_eval_episodes=10)
    model.learn(2048)
    after, _ = evaluate_policy(model, DISCRETE, n_eval_episodes=20)
    assert before < 8.0 and after >= 9.5  # 10 is every answer right; chance is 5


@pytest.mark.parametrize("name", sorted(ALGOS))
def test_cnn_policy_trains_and_round_trips(name, tmp_path):
    cls, env_id, kwargs = ALGOS[name]
    model = cls("CnnPolicy", env_id, seed=0, policy_kwargs=SMALL, **kwargs)
    conv0 = first_conv(model).copy()
    model.learn(40)
    assert not np.array_equal(first_conv(model), conv0)  # the convolutions learn
    buffer = getattr(model, "replay_buffer", None) or model.rollout_buffer
    assert buffer.observations.dtype == np.uint8 and buffer.observations.shape[-3:] == (3, 36, 36)
    if getattr(buffer, "next_observations", None) is not None:
        assert buffer.next_observations.dtype == np.uint8

    save = dict(include_replay_buffer=True) if hasattr(model, "replay_buffer") else {}
    loaded = cls.load(model.save(tmp_path / "agent", **save))
    assert loaded.policy.config()["features_extractor_class"] == "NatureCNN"
    obs = images(env_id)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    np.testing.assert_array_equal(values(loaded, obs), values(model, obs))
    state, other = model.policy.state_dict(), loaded.policy.state_dict()
    assert state.keys() == other.keys() and all(np.array_equal(state[k], other[k]) for k in state)


@pytest.mark.parametrize("cls, env_id", [(PPO, DISCRETE), (SAC, CONTINUOUS), (DQN, DISCRETE)])
def test_multi_input_policy_with_an_image_key(cls, env_id, tmp_path):
    env = gym.make(env_id, observation_mode="dict")
    kwargs = ALGOS[cls.__name__][2]
    model = cls("MultiInputPolicy", env, seed=0, policy_kwargs=dict(features_extractor_kwargs=dict(cnn_output_dim=8),
                                                                    net_arch=[16]), **kwargs)
    assert model.observation_space["image"].shape == (3, 36, 36)
    model.learn(40)
    buffer = getattr(model, "replay_buffer", None) or model.rollout_buffer
    assert buffer.observations["image"].dtype == np.uint8 and buffer.observations["time"].dtype == np.float32
    extractor = model.policy.features_extractor if cls is PPO else model.policy.q_net.features_extractor \
        if cls is DQN else model.policy.actor.features_extractor
    assert extractor.features_dim == 8 + 1
    obs = images(env_id, observation_mode="dict")
    loaded = cls.load(model.save(tmp_path / "agent"))
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    single = {k: v[0] for k, v in obs.items()}
    np.testing.assert_array_equal(model.predict(single, deterministic=True)[0],
                                  model.predict(obs, deterministic=True)[0][0])


def test_predict_takes_channel_last_or_first_single_or_batched():
    model = PPO("CnnPolicy", DISCRETE, seed=0, policy_kwargs=SMALL, n_steps=16, batch_size=16)
    hwc = images(DISCRETE, n=3)
    chw = hwc.transpose(0, 3, 1, 2)
    expected = model.predict(chw, deterministic=True)[0]
    assert expected.shape == (3,)
    np.testing.assert_array_equal(model.predict(hwc, deterministic=True)[0], expected)
    for i in range(3):
        assert model.predict(hwc[i], deterministic=True)[0] == expected[i]
        assert model.predict(chw[i], deterministic=True)[0] == expected[i]
    with pytest.raises(ValueError, match=r"expected \(3, 36, 36\) .*\(n_envs, 3, 36, 36\).*channel-last"):
        model.predict(np.zeros((32, 32, 3), np.uint8))


def test_acting_builds_no_graph_and_training_does():
    seen = []

    @register_features_extractor(name="GradProbeCNN")
    class GradProbeCNN(NatureCNN):
        def forward(self, observations):
            seen.append(corenn.is_grad_enabled())
            return super().forward(observations)

    model = PPO("CnnPolicy", DISCRETE, seed=0, n_steps=16, batch_size=16, n_epochs=1,
                policy_kwargs=dict(features_extractor_class=GradProbeCNN,
                                   features_extractor_kwargs=dict(features_dim=8)))
    actions, _ = model.predict(images(DISCRETE))
    assert seen == [False] and isinstance(actions, np.ndarray)
    assert all(p.grad is None for p in model.policy.parameters())
    seen.clear()
    model.learn(16)
    # acting: 16 rollout steps, V(final obs) of the episode cut at 10 steps, V(last obs); training: one minibatch
    assert seen.count(False) == 18 and seen[-1] is True and seen.count(True) == 1


def test_normalize_images_false_feeds_raw_pixel_values():
    obs = images(DISCRETE, n=2)
    got = {}
    for flag in (True, False):
        model = PPO("CnnPolicy", DISCRETE, seed=0, n_steps=16, batch_size=16,
                    policy_kwargs=dict(normalize_images=flag, **SMALL))
        x = model.policy.inputs.to_input(model._features(maybe_transpose(obs, model.observation_space)))
        got[flag] = x.data
        assert model.policy.config()["normalize_images"] is flag
    assert got[True].max() == 1.0 and got[False].max() == 255.0
    np.testing.assert_allclose(got[False], got[True] * 255.0, rtol=1e-6)


def test_cnn_policy_on_a_non_image_space_is_a_clear_error():
    with pytest.raises(ValueError, match="(?s)You should use NatureCNN only with images.*`CnnPolicy` instead of"):
        PPO("CnnPolicy", "CartPole-v1")
    with pytest.raises(ValueError, match="NatureCNN"):
        SAC("CnnPolicy", "Pendulum-v1")


def test_observation_normalizer_is_refused_for_images_rewards_only_is_fine():
    with pytest.raises(ValueError, match="norm_obs=False"):
        PPO("CnnPolicy", DISCRETE, normalize=True)
    model = PPO("CnnPolicy", DISCRETE, seed=0, n_steps=16, batch_size=16, policy_kwargs=SMALL,
                normalize=dict(norm_obs=False))
    model.learn(16)
    assert model.obs_normalizer.ret_rms.count > 1


def test_share_features_extractor():
    ppo = PPO("CnnPolicy", DISCRETE, seed=0, n_steps=16, batch_size=16,
              policy_kwargs=dict(share_features_extractor=False, **SMALL))
    names = {k.split(".")[0] for k in ppo.policy.state_dict()}
    assert {"pi_features_extractor", "vf_features_extractor"} <= names and "features_extractor" not in names
    ppo.learn(16)

    sac = SAC("CnnPolicy", CONTINUOUS, seed=0, policy_kwargs=dict(share_features_extractor=True, **SMALL), **REPLAY)
    keys = sac.policy.state_dict().keys()
    assert not any(k.startswith("critic.features_extractor") for k in keys)
    assert any(k.startswith("critic_target.features_extractor") for k in keys)
    critic_params = {id(p) for p in sac.policy.critic.optimizer.param_groups[0]["params"]}
    assert not critic_params & {id(p) for p in sac.policy.actor.features_extractor.parameters()}
    online, target = sac.policy.target_pairs("critic")
    assert [p.shape for p in online] == [p.shape for p in target]
    sac.learn(40)
    own = SAC("CnnPolicy", CONTINUOUS, seed=0, policy_kwargs=SMALL, **REPLAY)  # SB3's default: not shared
    assert any(k.startswith("critic.features_extractor") for k in own.policy.state_dict())


def test_resume_continues_exactly(tmp_path):
    def make():
        return PPO("CnnPolicy", make_vec_env(DISCRETE, n_envs=2, seed=0), seed=0, n_steps=16, batch_size=16,
                   n_epochs=2, policy_kwargs=SMALL)

    straight = make().learn(64)
    first = make().learn(32)
    resumed = PPO.load(first.save(tmp_path / "half"), env=first.env, force_reset=False)
    assert resumed._last_obs.dtype == np.uint8
    resumed.learn(32, reset_num_timesteps=False)
    a, b = straight.policy.state_dict(), resumed.policy.state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_loads_into_a_channel_last_env_and_compact_files(tmp_path):
    model = TD3("CnnPolicy", CONTINUOUS, seed=0, policy_kwargs=dict(share_features_extractor=True, **SMALL), **REPLAY)
    model.learn(30)
    path = model.save(tmp_path / "td3", exclude=["optimizer", "target_networks"])
    loaded = TD3.load(path, env=gym.make(CONTINUOUS))  # raw (36, 36, 3) env: transposed on the way in
    assert isinstance(loaded.env, VecTransposeImage)
    obs = images(CONTINUOUS)
    np.testing.assert_array_equal(loaded.predict(obs)[0], model.predict(obs)[0])
    loaded.learn(10, reset_num_timesteps=False)


def test_custom_extractor_by_registered_name(tmp_path):
    @register_features_extractor(name="HalfNatureCNN")
    class HalfNatureCNN(NatureCNN):
        pass

    model = DQN("CnnPolicy", DISCRETE, seed=0, policy_kwargs=dict(features_extractor_class="HalfNatureCNN",
                                                                  features_extractor_kwargs=dict(features_dim=8)),
                **REPLAY)
    assert type(model.policy.q_net.features_extractor) is HalfNatureCNN
    assert model.policy.net_arch == [64, 64]  # as SB3: only NatureCNN itself gets net_arch=[]
    assert DQN("CnnPolicy", DISCRETE, **REPLAY).policy.net_arch == []
    loaded = DQN.load(model.save(tmp_path / "dqn"))
    assert type(loaded.policy.q_net_target.features_extractor) is HalfNatureCNN

    class NotRegistered(NatureCNN):
        pass

    unnamed = DQN("CnnPolicy", DISCRETE, seed=0, policy_kwargs=dict(features_extractor_class=NotRegistered), **REPLAY)
    with pytest.raises(ValueError, match="not registered"):
        unnamed.save(tmp_path / "no")


def test_yaml_entries_and_the_cli_train_a_cnn_policy(tmp_path, capsys):
    import rl
    from rl.cli import main
    from rl.hyperparams import parse_literal, resolve

    for algo, env_id in (("ppo", DISCRETE), ("a2c", DISCRETE), ("dqn", DISCRETE), ("sac", CONTINUOUS),
                         ("td3", CONTINUOUS)):
        assert resolve(algo, env_id).policy == "CnnPolicy"
    assert parse_literal("dict(features_extractor_class=NatureCNN, features_extractor_kwargs=dict(features_dim=64))") \
        == {"features_extractor_class": NatureCNN, "features_extractor_kwargs": {"features_dim": 64}}
    logs = str(tmp_path / "logs")
    assert main(["train", "--algo", "ppo", "--env", DISCRETE, "-n", "512", "--seed", "0", "-f", logs, "-v", "0",
                 "-params", "policy_kwargs:dict(features_extractor_kwargs=dict(features_dim=16))"], algos=rl.ALGOS) == 0
    assert main(["eval", "--algo", "ppo", "--env", DISCRETE, "-f", logs, "--n-episodes", "2"], algos=rl.ALGOS) == 0
    assert "mean_reward=" in capsys.readouterr().out


def test_mlp_policy_on_images_stores_uint8_and_reads_scaled_pixels():
    model = PPO("MlpPolicy", DISCRETE, seed=0, n_steps=16, batch_size=16, policy_kwargs=dict(net_arch=[8]))
    model.learn(16)
    assert model.rollout_buffer.observations.dtype == np.uint8
    assert model.policy._pi_plan is not None  # acting still runs as NumPy plans
    flat = model.policy.inputs.flat_numpy(model.rollout_buffer.observations[0])
    assert flat.shape == (1, 3 * 36 * 36) and flat.dtype == np.float32 and flat.max() == 1.0
    obs = model.rollout_buffer.observations[:4, 0]
    with corenn.no_grad():  # the NumPy plan and the Tensor path agree
        values = model.policy.value_net(model.policy.mlp_extractor.forward_critic(
            model.policy.extract_features(obs))).data.reshape(-1)
    np.testing.assert_allclose(model.policy.predict_values(obs), values, rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="features_dim"):  # FlattenExtractor takes no settings
        PPO("MlpPolicy", "CartPole-v1", policy_kwargs=dict(features_extractor_kwargs=dict(features_dim=3)))

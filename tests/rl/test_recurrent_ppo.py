"""RecurrentPPO and its LSTM policies: memory, episode-start resets, predict API, checkpoints, resume, CLI."""
import gymnasium as gym
import numpy as np
import pytest

from rl import ALGOS, RecurrentPPO
from rl.core.checkpoint import CheckpointError
from rl.core.evaluation import evaluate_policy
from rl.core.vec_env import make_vec_env
from rl.recurrent import RNNStates
from rl.recurrent.policies import process_sequence


class RememberFirst(gym.Env):
    """Step 0 shows a cue +-1, then `delay` blank steps; the last step pays 1 for naming the cue.
    Without memory the best return is 0.5."""

    def __init__(self, delay: int = 2):
        self.delay = delay
        self.observation_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.cue, self.t = int(self.np_random.integers(2)), 0
        return np.array([2 * self.cue - 1, 0], np.float32), {}

    def step(self, action):
        self.t += 1
        if self.t <= self.delay:
            return np.zeros(2, np.float32), 0.0, False, False, {}
        return np.array([0, 1], np.float32), float(int(action) == self.cue), True, False, {}


def small(env=None, n_envs=2, **kwargs):
    env = env if env is not None else make_vec_env("CartPoleNoVel-v1", n_envs=n_envs, seed=0)
    kw = dict(n_steps=16, batch_size=16, n_epochs=2, seed=0, policy_kwargs=dict(lstm_hidden_size=8, net_arch=[8]))
    kw.update(kwargs)
    return RecurrentPPO("MlpLstmPolicy", env, **kw)


def test_learns_a_memory_task():
    env = make_vec_env(RememberFirst, n_envs=4, seed=0)
    model = RecurrentPPO("MlpLstmPolicy", env, n_steps=32, batch_size=64, n_epochs=4, learning_rate=3e-3, seed=0,
                         policy_kwargs=dict(lstm_hidden_size=16, net_arch=[16]))
    model.learn(3000)
    mean, _ = evaluate_policy(model, RememberFirst(), n_eval_episodes=40)
    assert mean >= 0.95  # a memoryless policy gets 0.5


def test_episode_start_zeroes_only_that_envs_state():
    model = small()
    obs = np.random.default_rng(0).normal(size=(2, 4)).astype(np.float32)
    _, state = model.predict(obs)
    _, state = model.predict(obs, state=state)
    assert np.abs(state[0]).min(axis=-1).max() > 0  # both envs hold a non-zero state
    _, reset = model.predict(obs, state=state, episode_start=np.array([1.0, 0.0]))
    _, fresh = model.predict(obs, state=None)
    _, kept = model.predict(obs, state=state, episode_start=np.zeros(2))
    for got, zero, carried in zip(reset, fresh, kept):
        np.testing.assert_array_equal(got[:, 0], zero[:, 0])
        np.testing.assert_array_equal(got[:, 1], carried[:, 1])


def test_training_sequence_sees_the_resets_of_collection():
    """One call over a sequence with resets inside equals stepping it one step at a time (collection)."""
    policy = small().policy
    T, B = 7, 3
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(T * B, 4)).astype(np.float32)
    starts = (rng.random((T, B)) < 0.3).astype(np.float32)
    states = RNNStates(*[tuple(rng.normal(size=(1, B, 8)).astype(np.float32) for _ in range(2)) for _ in range(2)])
    actions = rng.integers(2, size=T * B)
    values, log_prob, _ = policy.evaluate_actions(obs, actions, states, starts)
    step_values, step_log_prob, s = [], [], states
    for t in range(T):
        rows = slice(t * B, (t + 1) * B)
        _, lp_t, _ = policy.evaluate_actions(obs[rows], actions[rows], s, starts[t:t + 1])
        _, v, _, s = policy.act(obs[rows], s, starts[t], deterministic=True)
        step_values.append(v)
        step_log_prob.append(lp_t.data)
    np.testing.assert_allclose(values.data, np.concatenate(step_values), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(log_prob.data, np.concatenate(step_log_prob), rtol=1e-5, atol=1e-6)


def test_process_sequence_resets_inside_a_sequence():
    policy = small().policy
    rng = np.random.default_rng(2)
    feats = policy.extract_features(rng.normal(size=(4 * 2, 4)).astype(np.float32))
    h0 = rng.normal(size=(1, 2, 8)).astype(np.float32)
    starts = np.zeros((4, 2), np.float32)
    starts[2, 1] = 1.0
    out, _ = process_sequence(policy.lstm_actor, feats, (h0, h0), starts)
    # env 1 from step 2 on must equal a fresh run from zeros over its steps 2..3
    tail = feats.reshape(4, 2, -1)[2:, 1:2].reshape(2, -1)
    fresh, _ = process_sequence(policy.lstm_actor, tail, (np.zeros((1, 1, 8), np.float32),) * 2, np.zeros((2, 1)))
    np.testing.assert_allclose(out.data.reshape(4, 2, -1)[2:, 1], fresh.data, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("n", [1, 3])
def test_predict_shapes(n):
    model = small()
    obs = np.zeros((n, 4), np.float32)
    actions, (h, c) = model.predict(obs)
    assert actions.shape == (n,) and h.shape == c.shape == (1, n, 8)
    actions, (h2, _) = model.predict(obs, state=(h, c), episode_start=np.zeros(n), deterministic=True)
    assert actions.shape == (n,) and h2.shape == (1, n, 8)
    single, (h1, _) = model.predict(obs[0])
    assert np.ndim(single) == 0 and h1.shape == (1, 1, 8)
    with pytest.raises(ValueError, match="state"):
        model.predict(obs, state=(np.zeros((1, n + 1, 8)), np.zeros((1, n + 1, 8))))
    with pytest.raises(TypeError, match="state"):
        model.predict(obs, state=np.zeros((1, n, 8)))


def test_policy_kwargs_rules():
    with pytest.raises(ValueError, match="shared_lstm"):
        small(policy_kwargs=dict(lstm_hidden_size=8, shared_lstm=True))
    for kwargs in (dict(shared_lstm=True, enable_critic_lstm=False), dict(enable_critic_lstm=False),
                   dict(n_lstm_layers=2)):
        model = small(policy_kwargs=dict(lstm_hidden_size=8, **kwargs), n_steps=8, batch_size=8)
        model.learn(16)
        assert np.isfinite(model.policy.parameters_to_vector()).all()
    with pytest.raises(ValueError, match="lstm_kwargs"):
        small(policy_kwargs=dict(lstm_kwargs={"batch_first": True}))


def test_save_load_predicts_identically_with_states(tmp_path):
    model = small(policy_kwargs=dict(lstm_hidden_size=8, n_lstm_layers=2, lstm_kwargs={"bias": True}))
    model.learn(32)
    path = model.save(tmp_path / "rppo")
    loaded = RecurrentPPO.load(path)
    assert loaded.policy.config() == model.policy.config()
    obs = np.random.default_rng(3).normal(size=(6, 2, 4)).astype(np.float32)
    s1 = s2 = None
    for t, o in enumerate(obs):
        start = np.array([t == 3, False])
        a1, s1 = model.predict(o, state=s1, episode_start=start, deterministic=True)
        a2, s2 = loaded.predict(o, state=s2, episode_start=start, deterministic=True)
        np.testing.assert_array_equal(a1, a2)
        for x, y in zip(s1, s2):
            np.testing.assert_array_equal(x, y)


def test_resume_carries_the_envs_states(tmp_path):
    model = small()
    model.learn(32)
    path = model.save(tmp_path / "rppo")
    loaded = RecurrentPPO.load(path, env=model.env, force_reset=False)
    np.testing.assert_array_equal(loaded.lstm_states_array(), model.lstm_states_array())
    assert np.abs(loaded.lstm_states_array()).max() > 0
    loaded.learn(32, reset_num_timesteps=False)
    twin = small()  # the same run without a save/load in the middle
    twin.learn(32)
    twin.learn(32, reset_num_timesteps=False)
    assert loaded.num_timesteps == twin.num_timesteps == 64
    np.testing.assert_array_equal(loaded.policy.parameters_to_vector(), twin.policy.parameters_to_vector())
    np.testing.assert_array_equal(loaded.lstm_states_array(), twin.lstm_states_array())
    fresh = RecurrentPPO.load(path, env=make_vec_env("CartPoleNoVel-v1", n_envs=3, seed=0))
    assert fresh.lstm_states_array().shape == (4, 1, 3, 8) and not fresh.lstm_states_array().any()


def test_schema_range_checks():
    from rl.core import checkpoint_schema
    from rl.core.checkpoint import space_to_json

    model = small(policy_kwargs=dict(lstm_hidden_size=8, lstm_kwargs={"dropout": 0.0}))
    meta = {"algo": "RecurrentPPO", "policy": "MlpLstmPolicy", "n_envs": model.n_envs,
            "observation_space": space_to_json(model.observation_space),
            "action_space": space_to_json(model.action_space),
            "hyperparameters": model._hyperparameters(), "policy_kwargs": model.policy.config()}
    checkpoint_schema.validate_metadata(meta, RecurrentPPO)
    for key, bad in (("lstm_hidden_size", 0), ("n_lstm_layers", 10**6), ("shared_lstm", "yes"),
                     ("lstm_kwargs", {"dropout": 2.0}), ("lstm_kwargs", {"proj_size": 4})):
        broken = dict(meta, policy_kwargs=dict(meta["policy_kwargs"], **{key: bad}))
        with pytest.raises(CheckpointError, match=f"policy_kwargs.{key}"):
            checkpoint_schema.validate_metadata(broken, RecurrentPPO)
    with pytest.raises(CheckpointError, match="gamma"):
        checkpoint_schema.validate_metadata(dict(meta, hyperparameters=dict(meta["hyperparameters"], gamma=2.0)),
                                            RecurrentPPO)


def test_algo_names_and_aliases():
    from rl.ppo_recurrent import MlpLstmPolicy
    from rl.ppo_recurrent import RecurrentPPO as Alias
    assert ALGOS["ppo_lstm"] is ALGOS["recurrentppo"] is RecurrentPPO is Alias
    assert RecurrentPPO.policy_aliases["MlpLstmPolicy"] is MlpLstmPolicy


def test_cli_train_eval_enjoy(tmp_path, capsys):
    from rl.cli import main

    folder = str(tmp_path / "logs")
    assert main(["train", "--algo", "recurrentppo", "--env", "CartPoleNoVel-v1", "-n", "256", "-f", folder,
                 "--seed", "0", "-params", "n_epochs:1", "policy_kwargs:dict(lstm_hidden_size=8)"]) == 0
    assert main(["eval", "--algo", "recurrentppo", "--env", "CartPoleNoVel-v1", "-f", folder,
                 "--n-episodes", "2"]) == 0
    assert main(["enjoy", "--algo", "recurrentppo", "--env", "CartPoleNoVel-v1", "-f", folder, "--no-render",
                 "-n", "30"]) == 0
    out = capsys.readouterr().out
    assert "mean_reward=" in out and "CartPoleNoVel-v1" in out


def test_sb3_contrib_arguments_are_all_accepted():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    import inspect
    theirs = set(inspect.signature(sb3_contrib.RecurrentPPO).parameters)
    assert theirs <= set(inspect.signature(RecurrentPPO).parameters)
    policy = sb3_contrib.ppo_recurrent.MlpLstmPolicy
    from rl.recurrent import MlpLstmPolicy
    ours = set(inspect.signature(MlpLstmPolicy).parameters)
    assert {"lstm_hidden_size", "n_lstm_layers", "shared_lstm", "enable_critic_lstm", "lstm_kwargs"} <= ours
    assert set(inspect.signature(policy).parameters) - {"features_extractor_class"} <= ours | {"use_sde"}


def test_buffer_sequences_cover_every_step_once_with_their_states():
    from rl.core.recurrent_rollout_buffer import RecurrentRolloutBuffer

    T, N, L, H = 10, 3, 1, 2
    buf = RecurrentRolloutBuffer(T, N, (1,), (), (L, H), np.int64)
    rng = np.random.default_rng(0)
    for t in range(T):
        state = tuple(np.full((L, N, H), 100 * t + np.arange(N)[None, :, None], np.float32) for _ in range(2))
        buf.add(np.full((N, 1), t, np.float32) + np.arange(N)[:, None] / 10, np.zeros(N), np.zeros(N),
                rng.random(N) < 0.3, np.zeros(N), np.zeros(N), lstm_states=(state, state))
    buf.compute_returns_and_advantage(np.zeros(N), np.zeros(N))
    seen, sizes = [], []
    for batch in buf.get(4, rng):  # blocks of 4 steps of the rotated env-major order, cut into sequences
        S, B = batch.episode_starts.shape
        mask = batch.mask.reshape(S, B) > 0
        assert batch.mask.shape == (S * B,) and mask[0].all() and S == mask.sum(0).max()
        sizes.append(int(mask.sum()))
        obs = batch.observations.reshape(S, B)
        h0 = batch.lstm_states[0][0]  # (L, B, H)
        for b in range(B):
            t0, env = int(obs[0, b]), round(obs[0, b] % 1 * 10)
            assert np.all(h0[:, b] == 100 * t0 + env)  # the states stored at the sequence's first step
            n = int(mask[:, b].sum())
            assert not mask[n:, b].any() and not obs[n:, b].any()  # padding after the real steps, zeros
            np.testing.assert_allclose(obs[:n, b], t0 + np.arange(n) + env / 10, rtol=1e-6)  # consecutive steps
            assert not buf.episode_starts[t0 + 1:t0 + n, env].any()  # no episode start inside a sequence
            assert batch.episode_starts[0, b] == buf.episode_starts[t0, env] and not batch.episode_starts[1:, b].any()
            seen += [(t0 + i, env) for i in range(n)]
    assert sizes == [4] * 7 + [2]
    assert sorted(seen) == [(t, e) for t in range(T) for e in range(N)]


def test_learns_with_padded_sequences():
    model = small(n_steps=10, batch_size=4)
    model.learn(40)
    assert model._n_updates == 4 and np.isfinite(model.policy.parameters_to_vector()).all()

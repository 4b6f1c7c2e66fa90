"""RecurrentPPO against sb3-contrib's: the same weights and the same rollout data give the same returns and
advantages, the same minibatch sequences (for the same split index), the same loss terms and parameter updates,
the same collection (truncation bootstrap, last values, stored LSTM states) and the same `predict` with
states; with the same random draws whole trainings (obs normalisation, schedules) run in lockstep."""
import gymnasium as gym
import numpy as np
import pytest

sb3_contrib = pytest.importorskip("sb3_contrib")
torch = pytest.importorskip("torch")

from sb3_contrib.common.recurrent.type_aliases import RNNStates as TorchRNNStates  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env as sb3_make_vec_env  # noqa: E402
from stable_baselines3.common.logger import configure  # noqa: E402

from corenn import nn, optim  # noqa: E402
from rl import RecurrentPPO  # noqa: E402
from rl.core.vec_env import make_vec_env  # noqa: E402
from rl.recurrent import RNNStates  # noqa: E402

H = 8  # LSTM width


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny tensors: torch's thread pool only costs time (and the machine is shared)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


class Blink(gym.Env):
    """Observations are noise, episodes end at random (terminated) or after `limit` steps (truncated):
    plenty of episode starts inside sequences and time-limit bootstraps. Discrete(2) or Box(1,) actions."""

    def __init__(self, continuous: bool = False, limit: int = 7):
        self.observation_space = gym.spaces.Box(-3, 3, (3,), np.float32)
        self.action_space = gym.spaces.Box(-1, 1, (1,), np.float32) if continuous else gym.spaces.Discrete(2)
        self.limit = limit

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.np_random.normal(size=3).astype(np.float32), {}

    def step(self, action):
        self.t += 1
        obs = self.np_random.normal(size=3).astype(np.float32)
        reward = float(self.np_random.normal()) + float(np.sum(action))
        terminated = bool(self.np_random.random() < 0.1)
        return obs, reward, terminated, self.t >= self.limit and not terminated, {}


def policy_kwargs(torch_side: bool, sgd: bool):
    act = torch.nn.ReLU if torch_side else nn.ReLU
    kw = dict(ortho_init=False, activation_fn=act, lstm_hidden_size=H, enable_critic_lstm=True,
              net_arch=dict(pi=[8], vf=[8]))
    if sgd:
        kw["optimizer_class"] = torch.optim.SGD if torch_side else optim.SGD
    return kw


def make_pair(continuous=False, n_envs=3, n_steps=12, sgd=False, **kwargs):
    """Our RecurrentPPO and sb3-contrib's on the same env, sb3's weights set to ours."""
    ours = RecurrentPPO("MlpLstmPolicy", make_vec_env(lambda: Blink(continuous), n_envs=n_envs, seed=0),
                        n_steps=n_steps, seed=0, policy_kwargs=policy_kwargs(False, sgd), **kwargs)
    env = sb3_make_vec_env(lambda: Blink(continuous), n_envs=n_envs, seed=0)
    theirs = sb3_contrib.RecurrentPPO("MlpLstmPolicy", env, n_steps=n_steps, seed=0, device="cpu",
                                      policy_kwargs=policy_kwargs(True, sgd), **kwargs)
    theirs.set_logger(configure(None, []))
    copy_weights(ours, theirs)
    return ours, theirs


def copy_weights(ours, theirs):
    mine = dict(ours.policy.named_parameters())
    with torch.no_grad():
        for name, p in theirs.policy.named_parameters():
            assert mine[name].data.shape == tuple(p.shape), name
            p.copy_(torch.as_tensor(mine[name].data))
    # fresh optimizers on the copied parameters (same hyperparameters, empty state)
    theirs.policy.optimizer = theirs.policy.optimizer_class(theirs.policy.parameters(), lr=theirs.lr_schedule(1),
                                                            **theirs.policy.optimizer_kwargs)


def assert_same_parameters(ours, theirs, atol=1e-5, rtol=1e-4):
    mine = parameters(ours)
    for name, value in parameters(theirs).items():
        np.testing.assert_allclose(mine[name], value, atol=atol, rtol=rtol, err_msg=name)


def to_torch_states(states: RNNStates) -> TorchRNNStates:
    return TorchRNNStates(*[tuple(torch.as_tensor(np.array(s)) for s in pair) for pair in states])


# ---------------------------------------------------------------------------------------------- rollout data
def synthetic_rollout(ours, starts: np.ndarray, seed=0):
    """Step our policy over random observations with the given episode starts (T+1, N) (the last row flags
    the step after the rollout); states carried from a few warm-up steps, so none starts at zero."""
    T, N = starts.shape[0] - 1, starts.shape[1]
    rng = np.random.default_rng(seed)
    policy = ours.policy
    states = policy.initial_state(N)
    for _ in range(3):
        *_, states = policy.act(rng.normal(size=(N, 3)).astype(np.float32), states, np.zeros(N, np.float32), rng=rng)
    data = dict(obs=[], actions=[], rewards=[], values=[], log_probs=[], states=[], starts=starts[:T])
    for t in range(T):
        obs = rng.normal(size=(N, 3)).astype(np.float32)
        actions, values, log_probs, new = policy.act(obs, states, starts[t].astype(np.float32), rng=rng)
        for key, value in (("obs", obs), ("actions", actions), ("values", values), ("log_probs", log_probs),
                           ("states", states), ("rewards", rng.normal(size=N).astype(np.float32))):
            data[key].append(value)
        states = new
    data["last_obs"] = rng.normal(size=(N, 3)).astype(np.float32)
    data["dones"] = starts[T].astype(bool)
    data["last_values"] = policy.predict_values(data["last_obs"], states, starts[T].astype(np.float32))
    return data


def fill_buffers(ours, theirs, data):
    ob, tb = ours.rollout_buffer, theirs.rollout_buffer
    ob.reset()
    tb.reset()
    for t in range(len(data["obs"])):
        ob.add(data["obs"][t], data["actions"][t], data["rewards"][t], data["starts"][t], data["values"][t],
               data["log_probs"][t], lstm_states=data["states"][t])
        act = data["actions"][t]
        tb.add(data["obs"][t], act.reshape(len(act), -1), data["rewards"][t], data["starts"][t],
               torch.as_tensor(data["values"][t]).reshape(-1, 1), torch.as_tensor(data["log_probs"][t]),
               lstm_states=to_torch_states(data["states"][t]))
    ob.compute_returns_and_advantage(data["last_values"], data["dones"])
    tb.compute_returns_and_advantage(torch.as_tensor(data["last_values"]).reshape(-1, 1), data["dones"])


STARTS = np.zeros((13, 3))
STARTS[[0, 5], 0] = 1  # a start at the first step of the rollout, then one inside
STARTS[[3, 4, 9], 1] = 1  # starts inside sequences, two in a row
STARTS[[6, 12], 2] = 1    # a start at a chunk boundary (seq_len 6) and one right after the rollout
STARTS[12, 0] = 1


def same_splits(monkeypatch, ours, seed=7):
    """Both buffers draw the same split index per epoch: ours from ours.rng, sb3-contrib's from np.random."""
    ours.rng = np.random.default_rng(seed)
    draws = np.random.default_rng(seed)
    monkeypatch.setattr(np.random, "randint", lambda n: int(draws.integers(n)))


def time_major(x, n_seq):
    """sb3-contrib's batch-first (n_seq * max_len, ...) tensor -> our time-major (max_len * n_seq, ...)."""
    x = np.asarray(x)
    x = x.reshape(n_seq, -1, *x.shape[1:])
    return x.swapaxes(0, 1).reshape(-1, *x.shape[2:])


# ---------------------------------------------------------------------------------------------- tests
@pytest.mark.parametrize("continuous", [False, True])
def test_returns_and_advantages_match(continuous):
    ours, theirs = make_pair(continuous)
    fill_buffers(ours, theirs, synthetic_rollout(ours, STARTS))
    np.testing.assert_allclose(ours.rollout_buffer.advantages, theirs.rollout_buffer.advantages, atol=1e-5)
    np.testing.assert_allclose(ours.rollout_buffer.returns, theirs.rollout_buffer.returns, atol=1e-5)


@pytest.mark.parametrize("batch_size", [36, 20, 8, None])
def test_minibatch_sequences_match(monkeypatch, batch_size):
    """The same split index -> the same minibatches, cut into the same padded sequences with the same
    starting states (sb3-contrib's layout is batch-first, ours time-major)."""
    ours, theirs = make_pair(continuous=True)
    fill_buffers(ours, theirs, synthetic_rollout(ours, STARTS))
    same_splits(monkeypatch, ours)
    for _ in range(3):  # epochs, each with its own split
        mine, other = list(ours.rollout_buffer.get(batch_size, ours.rng)), list(theirs.rollout_buffer.get(batch_size))
        assert len(mine) == len(other) == -(-36 // (batch_size or 36))
        for a, b in zip(mine, other):
            n_seq = b.lstm_states.pi[0].shape[1]
            assert a.episode_starts.shape[1] == n_seq
            for name in ("observations", "actions", "old_values", "old_log_prob", "advantages", "returns",
                         "episode_starts", "mask"):
                np.testing.assert_allclose(np.reshape(getattr(a, name), (-1, *np.shape(getattr(b, name))[1:])),
                                           time_major(getattr(b, name), n_seq), atol=1e-6, err_msg=name)
            for x, y in zip([*a.lstm_states[0], *a.lstm_states[1]], [*b.lstm_states.pi, *b.lstm_states.vf]):
                np.testing.assert_array_equal(x, y.numpy())


@pytest.mark.parametrize("continuous", [False, True])
@pytest.mark.parametrize("batch_size", [36, 20, 8])
def test_one_epoch_updates_match(monkeypatch, continuous, batch_size):
    """SGD (the update is the gradient) over every minibatch of one epoch: same losses, same parameters."""
    ours, theirs = make_pair(continuous, sgd=True, batch_size=batch_size, n_epochs=1, learning_rate=0.05,
                             max_grad_norm=1e9)
    fill_buffers(ours, theirs, synthetic_rollout(ours, STARTS))
    same_splits(monkeypatch, ours)
    before = parameters(ours)
    ours.train()
    theirs.train()
    assert max(np.abs(p - before[n]).max() for n, p in parameters(ours).items()) > 1e-3
    assert_same_parameters(ours, theirs)
    for tag in ("policy_gradient_loss", "value_loss", "entropy_loss", "approx_kl", "clip_fraction"):
        np.testing.assert_allclose(ours.logger.name_to_value[f"train/{tag}"],
                                   theirs.logger.name_to_value[f"train/{tag}"], atol=1e-5, rtol=1e-4,
                                   err_msg=tag)


def parameters(model) -> dict:
    return {n: np.array(p.detach().numpy() if hasattr(p, "detach") else p.data)
            for n, p in model.policy.named_parameters()}


def snapshot_each_rollout(model, keys, then_train: bool = False):
    """Replace `train` by a copy of the rollout buffer's arrays (one dict per rollout); with then_train, train
    as usual afterwards and add the parameters to the copy."""
    shots, original_train = [], model.train

    def train():
        buf = model.rollout_buffer
        shot = {k: np.array(getattr(buf, k)) for k in keys}
        if hasattr(buf, "hidden_states"):  # ours: dict of (T, L, N, H)
            shot.update({k: np.array(v) for k, v in buf.hidden_states.items()})
        else:
            shot.update(pi_h=buf.hidden_states_pi.copy(), pi_c=buf.cell_states_pi.copy(),
                        vf_h=buf.hidden_states_vf.copy(), vf_c=buf.cell_states_vf.copy())
        shots.append(shot)
        if then_train:
            original_train()
            shot["params"] = parameters(model)
    model.train = train
    return shots


@pytest.mark.parametrize("continuous", [False, True])
def test_collection_matches(continuous):
    """Deterministic actions on the same seeded envs: the same stored data, truncation bootstraps with the
    critic's state, last values and stored states (also across the rollout boundary), returns, advantages."""
    ours, theirs = make_pair(continuous, n_envs=3, n_steps=10)
    act = ours.policy.act
    ours.policy.act = lambda obs, states, starts, deterministic=False, rng=None: act(obs, states, starts, True, rng)
    forward = theirs.policy.forward
    theirs.policy.forward = lambda obs, states, starts, deterministic=False: forward(obs, states, starts, True)
    keys = ("observations", "actions", "rewards", "episode_starts", "values", "log_probs", "advantages",
            "returns")
    mine, other = snapshot_each_rollout(ours, keys), snapshot_each_rollout(theirs, keys)
    ours.learn(60)
    theirs.learn(60)
    assert len(mine) == len(other) == 2
    for a, b in zip(mine, other):
        assert a["episode_starts"][1:].sum() >= 3  # episodes end inside the rollout
        for key in a:
            np.testing.assert_allclose(a[key].reshape(b[key].shape), b[key], atol=1e-5, rtol=1e-5, err_msg=key)


@pytest.mark.parametrize("continuous", [False, True])
def test_adam_epochs_with_clipping_match(monkeypatch, continuous):
    """Adam, several epochs of shuffled minibatches, clipped ratios and gradient-norm clipping, learning rate
    and clip range on linear schedules half-way through (the zoo's settings, smaller): the same parameters."""
    ours, theirs = make_pair(continuous, batch_size=12, n_epochs=4, learning_rate=lambda p: 2e-2 * p,
                             clip_range=lambda p: 0.1 * p, max_grad_norm=0.5)
    ours._current_progress_remaining = theirs._current_progress_remaining = 0.5
    fill_buffers(ours, theirs, synthetic_rollout(ours, STARTS))
    same_splits(monkeypatch, ours)
    ours.train()
    theirs.train()
    assert ours.logger.name_to_value["train/clip_fraction"] > 0  # the clipping was active
    assert_same_parameters(ours, theirs, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("continuous", [False, True])
def test_predict_with_states_matches(continuous):
    """A few steps of `predict` carrying the states, with an episode start for one env on the way: the same
    deterministic actions and the same (h, c)."""
    ours, theirs = make_pair(continuous)
    rng = np.random.default_rng(3)
    mine = other = None
    for t, start in enumerate([None, [0, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]]):
        obs = rng.normal(size=(3, 3)).astype(np.float32) * 2
        start = None if start is None else np.array(start, bool)
        a, mine = ours.predict(obs, state=mine, episode_start=start, deterministic=True)
        b, other = theirs.predict(obs, state=other, episode_start=start, deterministic=True)
        np.testing.assert_allclose(np.asarray(a, np.float32).reshape(b.shape), b, atol=1e-5, err_msg=f"step {t}")
        for x, y in zip(mine, other):
            np.testing.assert_allclose(x, y, atol=1e-6, err_msg=f"state at step {t}")
    assert np.abs(mine[0]).max() > 0.05  # the states carry something


class SharedDraws:
    """One stream of uniforms (action sampling by inverse CDF) and one of split indices, replayed to both
    implementations: ours reads it as its Generator, sb3-contrib through its patched sampler and np.random."""

    def __init__(self, seed):
        self.uniforms = [np.random.default_rng(seed), np.random.default_rng(seed)]
        self.splits = [np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)]

    def for_ours(self):
        draws = self

        class Rng:
            def random(self, size=None, dtype=np.float64):
                return draws.uniforms[0].random(size, dtype=np.float32).astype(dtype)

            def integers(self, n):
                return int(draws.splits[0].integers(n))
        return Rng()

    def patch_theirs(self, monkeypatch, theirs):
        dist = theirs.policy.action_dist

        def sample():  # the inverse CDF of our Categorical sampler, on the same uniforms
            cdf = torch.cumsum(dist.distribution.probs, -1)
            u = torch.as_tensor(self.uniforms[1].random((cdf.shape[0], 1), dtype=np.float32)) * cdf[:, -1:]
            return torch.clamp((cdf < u).sum(-1), max=cdf.shape[-1] - 1)
        monkeypatch.setattr(dist, "sample", sample)
        monkeypatch.setattr(np.random, "randint", lambda n: int(self.splits[1].integers(n)))


def test_training_runs_in_lockstep_with_sb3_contrib(monkeypatch):
    """End to end on CartPoleNoVel-v1 with the zoo's settings, smaller (VecNormalize / normalize=..., linear
    schedules, several iterations): with the same draws the same rollouts and the same parameters."""
    from stable_baselines3.common.vec_env import VecNormalize

    import envs  # noqa: F401  (registers CartPoleNoVel-v1)
    n_envs, n_steps, iterations = 4, 16, 4
    kw = dict(n_steps=n_steps, batch_size=48, gae_lambda=0.8, gamma=0.98, n_epochs=4, ent_coef=0.0, seed=0)
    ours = RecurrentPPO("MlpLstmPolicy", make_vec_env("CartPoleNoVel-v1", n_envs=n_envs, seed=0),
                        policy_kwargs=policy_kwargs(False, False), normalize=dict(norm_obs=True, norm_reward=False),
                        learning_rate="lin_0.003", clip_range="lin_0.2", **kw)
    env = VecNormalize(sb3_make_vec_env("CartPoleNoVel-v1", n_envs=n_envs, seed=0), norm_obs=True, norm_reward=False)
    theirs = sb3_contrib.RecurrentPPO("MlpLstmPolicy", env, device="cpu", policy_kwargs=policy_kwargs(True, False),
                                      learning_rate=lambda p: 3e-3 * p, clip_range=lambda p: 0.2 * p, **kw)
    copy_weights(ours, theirs)
    draws = SharedDraws(11)
    ours.rng = draws.for_ours()
    draws.patch_theirs(monkeypatch, theirs)
    keys = ("observations", "actions", "rewards", "episode_starts", "values", "log_probs", "advantages", "returns")
    mine, other = snapshot_each_rollout(ours, keys, True), snapshot_each_rollout(theirs, keys, True)
    ours.learn(n_envs * n_steps * iterations)
    theirs.learn(n_envs * n_steps * iterations)
    assert len(mine) == len(other) == iterations
    assert sum(shot["episode_starts"][1:].sum() for shot in mine) >= 4
    for i, (a, b) in enumerate(zip(mine, other)):
        for key in keys:
            np.testing.assert_allclose(a[key].reshape(b[key].shape), b[key], atol=2e-5, rtol=1e-4,
                                       err_msg=f"rollout {i}: {key}")
        for name, value in b["params"].items():
            np.testing.assert_allclose(a["params"][name], value, atol=2e-5, rtol=1e-4, err_msg=f"rollout {i}: {name}")
    assert not np.allclose(mine[0]["params"]["lstm_actor.weight_hh_l0"], mine[-1]["params"]["lstm_actor.weight_hh_l0"])

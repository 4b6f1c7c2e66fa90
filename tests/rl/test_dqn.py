import numpy as np
import pytest

from rl.core.callbacks import BaseCallback
from rl.core.evaluation import evaluate_policy
from rl.value_based.double_dqn import DoubleDQN
from rl.value_based.dqn import DQN
from tests.rl.identity_envs import IdentityEnv

SMALL = dict(learning_starts=100, batch_size=64, policy_kwargs=dict(net_arch=[32, 32]))


class Record(BaseCallback):
    def __init__(self, fn):
        super().__init__()
        self.fn, self.values = fn, []

    def _on_step(self):
        self.values.append(self.fn(self.model))
        return True


@pytest.mark.parametrize("cls", [DQN, DoubleDQN])
def test_dqn_learns_identity(cls):
    model = cls("MlpPolicy", IdentityEnv(4), seed=0, learning_rate=1e-3, gamma=0.5, train_freq=1,
                target_update_interval=100, exploration_fraction=0.3, **SMALL)
    model.learn(1200)
    mean, _ = evaluate_policy(model, IdentityEnv(4), n_eval_episodes=4)
    assert mean >= 45  # 50 is perfect, random ~12.5


def test_linear_exploration_schedule():
    rec = Record(lambda m: m.exploration_rate)
    model = DQN("MlpPolicy", IdentityEnv(), seed=1, exploration_fraction=0.5, exploration_initial_eps=1.0,
                exploration_final_eps=0.1, **dict(SMALL, learning_starts=10_000))
    model.learn(400, callback=rec)
    # on_step runs before _on_step updates the rate: value i is the rate after step i (i >= 1)
    rates = np.array(rec.values[1:])
    steps = np.arange(1, 400)
    expected = np.where(steps < 200, 1.0 - 0.9 * steps / 200, 0.1)
    np.testing.assert_allclose(rates, expected, atol=1e-6)


def test_hard_target_update_every_interval():
    rec = Record(lambda m: ([p.data.copy() for p in m.policy.q_net.parameters()],
                            [p.data.copy() for p in m.policy.q_net_target.parameters()]))
    model = DQN("MlpPolicy", IdentityEnv(), seed=2, train_freq=1, target_update_interval=25, **SMALL)
    model.learn(300, callback=rec)
    # rec.values[i]: the state after env step i and the training that followed it
    for i in range(102, 300):
        online_before, target_before = rec.values[i - 1]
        _, target_now = rec.values[i]
        changed = any(not np.array_equal(a, b) for a, b in zip(target_now, target_before))
        assert changed == (i % 25 == 0), i
        if changed:  # a hard copy of the online net as it was before this step's training
            for a, b in zip(target_now, online_before):
                np.testing.assert_array_equal(a, b)


def test_double_dqn_target_uses_online_argmax():
    model = DoubleDQN("MlpPolicy", IdentityEnv(), seed=3, **SMALL)
    for p in model.policy.q_net_target.parameters():
        p.data[...] = np.random.default_rng(0).standard_normal(p.shape)  # make the nets disagree
    obs = np.eye(4, dtype=np.float32)
    online, target = model.policy.q_values(obs), model.policy.q_net_target(obs).data
    np.testing.assert_allclose(model._target_q(obs), target[np.arange(4), online.argmax(1)], rtol=1e-6)
    np.testing.assert_allclose(DQN._target_q(model, obs), target.max(1), rtol=1e-6)


def test_gradient_norm_is_clipped():
    model = DQN("MlpPolicy", IdentityEnv(), seed=4, max_grad_norm=1e-3, learning_rate=1.0,
                **dict(SMALL, learning_starts=10_000, policy_kwargs=dict(net_arch=[16], optimizer_class="SGD")))
    model.learn(100)
    before = [p.data.copy() for p in model.policy.q_net.parameters()]
    model.train(gradient_steps=1, batch_size=32)
    step = np.sqrt(sum(np.sum((p.data - b) ** 2) for p, b in zip(model.policy.q_net.parameters(), before)))
    assert 0 < step <= 1e-3 * 1.001


def test_predict_explores_only_when_not_deterministic():
    model = DQN("MlpPolicy", IdentityEnv(4), seed=5, **SMALL)
    model.exploration_rate = 1.0
    obs = np.zeros(500, np.int64)
    greedy, _ = model.predict(obs, deterministic=True)
    explored, _ = model.predict(obs, deterministic=False)
    assert len(set(greedy.tolist())) == 1 and len(set(explored.tolist())) == 4
    single, _ = model.predict(2, deterministic=True)
    assert np.ndim(single) == 0


def test_dqn_rejects_box_actions():
    with pytest.raises(ValueError, match="DQN supports only Discrete action spaces"):
        DQN("MlpPolicy", "Pendulum-v1")


def test_update_matches_stable_baselines3():
    """Same weights, same batches: our DQN.train and SB3's DQN.train give the same network."""
    torch = pytest.importorskip("torch")
    sb3_lib = pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.type_aliases import ReplayBufferSamples as SB3Samples

    from rl.core.replay_buffer import ReplayBufferSamples

    kwargs = dict(learning_rate=2.3e-3, batch_size=32, policy_kwargs=dict(net_arch=[32, 32]), gamma=0.9)
    ours = DQN("MlpPolicy", "CartPole-v1", seed=0, **kwargs)
    theirs = sb3_lib.DQN("MlpPolicy", "CartPole-v1", seed=0, device="cpu", **kwargs)
    theirs.set_logger(configure(None, []))
    linears = [m for m in theirs.q_net.q_net if isinstance(m, torch.nn.Linear)]
    for net in (ours.policy.q_net, ours.policy.q_net_target):
        for layer, lin in zip(net.net.layers, linears):
            layer.weight.data[...] = lin.weight.detach().numpy().T
            layer.bias.data[...] = lin.bias.detach().numpy()
    theirs.q_net_target.load_state_dict(theirs.q_net.state_dict())
    rng = np.random.default_rng(0)

    class Batch:
        def sample(self, batch_size, rng=None, env=None):
            return self.now

    ours.replay_buffer, theirs.replay_buffer = Batch(), Batch()
    for _ in range(10):
        obs, next_obs = rng.standard_normal((2, 32, 4)).astype(np.float32)
        act = rng.integers(0, 2, (32, 1)).astype(np.float32)
        rew, done = np.ones((32, 1), np.float32), (rng.random((32, 1)) < 0.2).astype(np.float32)
        ours.replay_buffer.now = ReplayBufferSamples(obs, act, next_obs, done, rew)
        theirs.replay_buffer.now = SB3Samples(*(torch.as_tensor(x) for x in (obs, act.astype(np.int64), next_obs,
                                                                             done, rew)))
        ours.train(1, 32)
        theirs.train(1, 32)
    for layer, lin in zip(ours.policy.q_net.net.layers, linears):
        np.testing.assert_allclose(layer.weight.data, lin.weight.detach().numpy().T, atol=1e-5)

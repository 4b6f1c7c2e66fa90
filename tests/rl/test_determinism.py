"""Same seed => identical training; different seeds differ."""
import numpy as np
import pytest

from rl import A2C, PPO, REINFORCE, make_vec_env

from .identity_envs import IdentityEnv, IdentityEnvBox


def _train(algo, make_env, seed, **kw):
    model = algo("MlpPolicy", make_vec_env(make_env, n_envs=2), seed=seed, **kw)
    model.learn(256)
    return model


def _params(model):
    return [p.data.copy() for p in model.policy.parameters()]


@pytest.mark.parametrize("algo,make_env,kw", [
    (PPO, lambda: IdentityEnv(3), dict(n_steps=32, batch_size=16, n_epochs=2)),
    (PPO, lambda: IdentityEnvBox(), dict(n_steps=32, batch_size=16, n_epochs=2)),
    (A2C, lambda: IdentityEnv(3), {}),
    (REINFORCE, lambda: IdentityEnv(3, ep_length=10), dict(n_steps=32)),
], ids=["ppo-discrete", "ppo-box", "a2c", "reinforce"])
def test_same_seed_identical(algo, make_env, kw):
    a, b = _train(algo, make_env, 7, **kw), _train(algo, make_env, 7, **kw)
    for x, y in zip(_params(a), _params(b)):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.rollout_buffer.actions, b.rollout_buffer.actions)
    c = _train(algo, make_env, 8, **kw)
    assert any(not np.array_equal(x, y) for x, y in zip(_params(a), _params(c)))

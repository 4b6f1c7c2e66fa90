"""ActorCriticPolicy (rl.policy_gradient.policies): SB3 policy_kwargs, separate pi/vf nets, orthogonal init,
preprocessing, no-grad acting."""
import math

import gymnasium as gym
import numpy as np
import pytest

from corenn import nn, optim
from rl.core.schedules import get_schedule_fn
from rl.policy_gradient.policies import ActorCriticPolicy

BOX4 = gym.spaces.Box(-1, 1, (4,), np.float32)
DISCRETE2 = gym.spaces.Discrete(2)


def _policy(action_space=DISCRETE2, obs_space=BOX4, **kw):
    return ActorCriticPolicy(obs_space, action_space, get_schedule_fn(1e-3), **kw)


def _widths(seq):
    return [m.weight.shape for m in seq if isinstance(m, nn.Linear)]


def test_default_architecture_and_init():
    p = _policy()
    assert _widths(p.mlp_extractor.policy_net) == [(64, 4), (64, 64)]
    assert _widths(p.mlp_extractor.value_net) == [(64, 4), (64, 64)]
    w = p.mlp_extractor.policy_net[2].weight.data
    np.testing.assert_allclose(w @ w.T, 2.0 * np.eye(64), atol=1e-4)  # orthogonal, gain sqrt(2)
    np.testing.assert_allclose(np.linalg.norm(p.action_net.weight.data, axis=1), 0.01, rtol=1e-4)
    np.testing.assert_allclose(np.linalg.norm(p.value_net.weight.data, axis=1), 1.0, rtol=1e-4)
    assert not p.value_net.bias.data.any()
    assert isinstance(p.optimizer, optim.Adam) and p.optimizer.param_groups[0]["eps"] == 1e-5


def test_policy_kwargs():
    p = _policy(net_arch=dict(pi=[32], vf=[16, 8]), activation_fn="relu", ortho_init=False)
    assert _widths(p.mlp_extractor.policy_net) == [(32, 4)]
    assert _widths(p.mlp_extractor.value_net) == [(16, 4), (8, 16)]
    assert isinstance(p.mlp_extractor.policy_net[1], nn.ReLU)
    q = _policy(net_arch=[8], activation_fn=nn.Tanh, optimizer_class="RMSprop", optimizer_kwargs=dict(alpha=0.9))
    assert isinstance(q.optimizer, optim.RMSprop)
    g = _policy(gym.spaces.Box(-2, 2, (3,), np.float32), log_std_init=-1.0)
    np.testing.assert_allclose(g.log_std.data, -1.0)
    assert g.config()["activation_fn"] == "Tanh"


def test_act_and_evaluate_shapes_and_gradients():
    for space in (gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,), np.float32)):
        p = _policy(space)
        x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
        actions, values, log_prob = p.act(x, rng=np.random.default_rng(0))
        assert values.shape == (5,) and log_prob.shape == (5,)
        assert all(param.grad is None for param in p.parameters())
        v, lp, ent = p.evaluate_actions(x, actions)
        np.testing.assert_allclose(lp.data, log_prob, rtol=1e-5)
        np.testing.assert_allclose(v.data, values, rtol=1e-5)
        (lp.mean() + v.mean() + ent.mean()).backward()
        assert all(param.grad is not None for param in p.parameters())


def test_box_actions_are_clipped():
    p = _policy(gym.spaces.Box(-0.1, 0.1, (2,), np.float32), log_std_init=3.0)
    a = p.predict_actions(np.zeros((100, 4), np.float32), rng=np.random.default_rng(0))
    assert a.min() >= -0.1 and a.max() <= 0.1


def test_dict_observation_policy():
    space = gym.spaces.Dict({"obs": BOX4, "goal": gym.spaces.Box(-1, 1, (2,), np.float32)})
    p = _policy(obs_space=space)
    feats = p.preprocessor({"obs": np.zeros((3, 4)), "goal": np.zeros((3, 2))})
    assert p.act(feats, rng=np.random.default_rng(0))[0].shape == (3,)
    assert math.isclose(p.features_dim, 6)


@pytest.mark.parametrize("space", [gym.spaces.Discrete(3), gym.spaces.Box(-1, 1, (2,), np.float32)])
def test_numpy_acting_path_matches_tensor_path(space):
    p = _policy(space, activation_fn="relu")
    assert p._pi_plan is not None
    x = np.random.default_rng(1).normal(size=(6, 4)).astype(np.float32)
    fast = p.act(x, rng=np.random.default_rng(5))
    fast_det = p.predict_actions(x, deterministic=True)
    p._pi_plan = p._vf_plan = None  # force the Tensor (no_grad) path
    slow = p.act(x, rng=np.random.default_rng(5))
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fast_det, p.predict_actions(x, deterministic=True), rtol=1e-6)
    assert _policy(space, activation_fn="elu")._pi_plan is None

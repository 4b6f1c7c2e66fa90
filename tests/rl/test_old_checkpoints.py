"""Checkpoints written by corenn 0.1.0, before rl's layout changed, still load and act the same.

The files in data/checkpoints_v0_1/ were made by make_checkpoints.py there, run on 0.1.0; each
holds optimizer states (the SAC one also its replay buffer). expected.json has the deterministic
actions each agent gave for three observations when it was saved.
"""
import json
import os

import numpy as np
import pytest

import envs  # noqa: F401  (corenn/BitFlipping-v0 for the HER agent)
import rl

DATA = os.path.join(os.path.dirname(__file__), "data", "checkpoints_v0_1")
EXPECTED = json.load(open(os.path.join(DATA, "expected.json")))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_checkpoint_from_0_1_loads_and_predicts_the_same(name):
    case = EXPECTED[name]
    model = rl.ALGOS[case["algo"].lower()].load(os.path.join(DATA, f"{name}.npz"))
    obs = case["observations"]
    obs = {k: np.asarray(v) for k, v in obs.items()} if isinstance(obs, dict) else np.asarray(obs, np.float32)
    actions, _ = model.predict(obs, deterministic=True)
    np.testing.assert_allclose(np.asarray(actions, np.float64), np.asarray(case["actions"]), rtol=1e-5, atol=1e-6)
    assert model.num_timesteps == case["num_timesteps"]


def test_old_sac_checkpoint_resumes_training_with_its_buffer():
    model = rl.SAC.load(os.path.join(DATA, "sac_pendulum.npz"), env="Pendulum-v1")
    assert model.replay_buffer.size() > 0
    model.learn(20, reset_num_timesteps=False)
    assert model.num_timesteps == EXPECTED["sac_pendulum"]["num_timesteps"] + 20

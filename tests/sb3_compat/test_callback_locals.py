"""SB3's callbacks read `self.locals["dones"]` for the step being reported (not the step before)."""
import numpy as np
import pytest

from rl import DQN, PPO
from rl.common.callbacks import BaseCallback


class DonesProbe(BaseCallback):
    def __init__(self):
        super().__init__()
        self.mismatches, self.episode_ends = 0, 0

    def _on_step(self) -> bool:
        dones = np.asarray(self.locals["dones"], bool)
        expected = np.asarray(self.locals["terminated"], bool) | np.asarray(self.locals["truncated"], bool)
        self.mismatches += int(not np.array_equal(dones, expected))
        self.episode_ends += int(dones.sum())
        return True


@pytest.mark.parametrize("algo, kwargs", [(PPO, dict(n_steps=64, batch_size=64, n_epochs=1)),
                                          (DQN, dict(learning_starts=100))])
def test_locals_dones_belong_to_the_reported_step(algo, kwargs):
    probe = DonesProbe()
    algo("MlpPolicy", "CartPole-v1", seed=0, **kwargs).learn(400, callback=probe)
    assert probe.episode_ends > 0 and probe.mismatches == 0

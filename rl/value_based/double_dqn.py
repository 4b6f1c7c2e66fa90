"""Double DQN (van Hasselt et al. 2016): the online network picks the next action, the target
network scores it, which removes most of DQN's overestimation:
    y = r + gamma (1 - d) Q_target(s', argmax_a' Q(s', a'))
Everything else is DQN.
"""

from __future__ import annotations

import numpy as np

import corenn

from .dqn import DQN

__all__ = ["DoubleDQN"]


class DoubleDQN(DQN):
    algo_name = "DoubleDQN"

    def _target_q(self, next_obs: np.ndarray) -> np.ndarray:
        with corenn.no_grad():
            best = self.policy.q_net(next_obs).data.argmax(axis=1)
            q_target = self.policy.q_net_target(next_obs).data
        return q_target[np.arange(q_target.shape[0]), best]

"""Checkpoints written by corenn 0.1.0 (before the rl layout change), with the actions they predict."""
import json

import gymnasium as gym
import numpy as np

import envs  # noqa: F401 - registers corenn/BitFlipping-v0
from rl import A2C, DDPG, DQN, PPO, REINFORCE, SAC, TD3, DoubleDQN, HerReplayBuffer

out = "tests/rl/data/checkpoints_v0_1"
small = dict(net_arch=[16, 16])
cases = {  # name: (algorithm, env id (None: BitFlipping), constructor kwargs, learn steps, save kwargs)
    "ppo_cartpole": (PPO, "CartPole-v1", dict(n_steps=32, batch_size=16, n_epochs=1, policy_kwargs=small), 64, {}),
    "ppo_pendulum_normalize": (PPO, "Pendulum-v1", dict(n_steps=32, batch_size=16, n_epochs=1, normalize=True,
                                                        policy_kwargs=small), 64, {}),
    "a2c_cartpole": (A2C, "CartPole-v1", dict(n_steps=8, policy_kwargs=small), 32, {}),
    "reinforce_cartpole": (REINFORCE, "CartPole-v1", dict(policy_kwargs=small), 64, {}),
    "dqn_cartpole": (DQN, "CartPole-v1", dict(buffer_size=200, learning_starts=20, policy_kwargs=small), 60, {}),
    "double_dqn_cartpole": (DoubleDQN, "CartPole-v1", dict(buffer_size=200, learning_starts=20, policy_kwargs=small),
                            60, {}),
    "sac_pendulum": (SAC, "Pendulum-v1", dict(buffer_size=200, learning_starts=20, batch_size=16, policy_kwargs=small),
                     60, {"include_replay_buffer": True}),
    "sac_pendulum_fixed_ent": (SAC, "Pendulum-v1", dict(buffer_size=200, learning_starts=20, batch_size=16,
                                                        ent_coef=0.1, policy_kwargs=small), 40, {}),
    "td3_pendulum": (TD3, "Pendulum-v1", dict(buffer_size=200, learning_starts=20, batch_size=16, policy_kwargs=small),
                     60, {}),
    "ddpg_pendulum": (DDPG, "Pendulum-v1", dict(buffer_size=200, learning_starts=20, batch_size=16,
                                                policy_kwargs=small), 60, {}),
    "sac_her_bitflip": (SAC, None, dict(buffer_size=400, learning_starts=20, batch_size=16, policy_kwargs=small,
                                        replay_buffer_class=HerReplayBuffer,
                                        replay_buffer_kwargs=dict(n_sampled_goal=2)), 60, {}),
}
record = {}
for name, (cls, env_id, kw, steps, save_kw) in cases.items():
    if env_id is None:
        env_id = "corenn/BitFlipping-v0"
        env = gym.make(env_id, n_bits=4, continuous=True)
        pol = "MultiInputPolicy"
    else:
        env, pol = env_id, "MlpPolicy"
    m = cls(pol, env, seed=0, **kw).learn(steps)
    m.save(f"{out}/{name}.npz", **save_kw)
    space = m.observation_space
    space.seed(1)
    obs = [space.sample() for _ in range(3)]
    if isinstance(obs[0], dict):
        batch = {k: np.stack([o[k] for o in obs]) for k in obs[0]}
        obs_json = {k: v.tolist() for k, v in batch.items()}
    else:
        batch = np.stack(obs)
        obs_json = batch.tolist()
    act, _ = m.predict(batch, deterministic=True)
    record[name] = {"algo": cls.__name__, "env_id": env_id, "observations": obs_json,
                    "actions": np.asarray(act).tolist(), "num_timesteps": int(m.num_timesteps)}
    print(name, np.asarray(act).ravel()[:4])
json.dump(record, open(f"{out}/expected.json", "w"), indent=1)

"""SB3's VecEnv API as an SB3 user calls it (stable_baselines3 -> rl): DummyVecEnv / SubprocVecEnv step and
reset semantics, attribute access, seeding, rendering and the wrappers."""

import os

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces

from rl.common.env_util import make_atari_env, make_vec_env
from rl.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecCheckNan,
    VecFrameStack,
    VecMonitor,
    VecTransposeImage,
    VecVideoRecorder,
    is_vecenv_wrapped,
)


class CountdownEnv(gym.Env):
    """Observation [steps left]; terminates (a real terminal state) after `length` steps."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10}

    def __init__(self, length: int = 3, render_mode=None):
        self.length, self.render_mode = length, render_mode
        self.observation_space = spaces.Box(0, 100, (1,), np.float32)
        self.action_space = spaces.Discrete(2)
        self.left = length
        self.custom = "hello"

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.left = self.length if not options else options.get("length", self.length)
        return np.array([self.left], np.float32), {"reset": True}

    def step(self, action):
        self.left -= 1
        return np.array([self.left], np.float32), 1.0, self.left == 0, False, {"step_info": int(action)}

    def render(self):
        return np.full((4, 6, 3), self.left * 10, np.uint8)

    def double(self, x):
        return 2 * x


class ImageEnv(gym.Env):
    """Channel-last uint8 images (8, 6, 3); the pixel value counts the steps."""

    def __init__(self):
        self.observation_space = spaces.Box(0, 255, (8, 6, 3), np.uint8)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros((8, 6, 3), np.uint8), {}

    def step(self, action):
        self.t += 1
        return np.full((8, 6, 3), self.t, np.uint8), 0.0, False, self.t >= 4, {}


def test_dummy_vec_env_reset_step_terminal_observation():
    vec_env = DummyVecEnv([lambda: CountdownEnv(3), lambda: CountdownEnv(2)])
    obs = vec_env.reset()
    assert obs.shape == (2, 1) and vec_env.reset_infos == [{"reset": True}, {"reset": True}]
    obs, rewards, dones, infos = vec_env.step(np.array([0, 1]))
    assert rewards.dtype == np.float32 and dones.tolist() == [False, False] and isinstance(infos, list)
    assert infos[1] == {"step_info": 1, "TimeLimit.truncated": False}
    obs, rewards, dones, infos = vec_env.step(np.array([0, 1]))
    assert dones.tolist() == [False, True]
    # the finished env was reset in the same step: its last observation is in the infos
    np.testing.assert_array_equal(infos[1]["terminal_observation"], [0.0])
    np.testing.assert_array_equal(obs[1], [2.0])
    assert infos[1]["TimeLimit.truncated"] is False and "terminal_observation" not in infos[0]


def test_time_limit_truncated_flag():
    vec_env = make_vec_env("CartPole-v1", n_envs=1, seed=0, env_kwargs={"max_episode_steps": 3})
    vec_env.reset()
    infos = None
    for _ in range(3):
        _, _, dones, infos = vec_env.step(np.array([0]))
    assert dones[0] and infos[0]["TimeLimit.truncated"] is True
    assert infos[0]["episode"]["l"] == 3  # the Monitor's episode statistics


def test_seed_applies_to_next_reset_and_make_vec_env_seeds():
    vec_env = make_vec_env("CartPole-v1", n_envs=2, seed=3)
    first = vec_env.reset()
    assert vec_env.seed(3) == [3, 4]
    np.testing.assert_array_equal(vec_env.reset(), first)
    assert not np.allclose(vec_env.reset(), first)  # the seed was used once
    again = make_vec_env("CartPole-v1", n_envs=2, seed=3).reset()
    np.testing.assert_array_equal(again, first)


def test_env_method_get_attr_set_attr_has_attr_set_options():
    vec_env = DummyVecEnv([lambda: CountdownEnv(3) for _ in range(3)])
    assert vec_env.get_attr("custom") == ["hello"] * 3
    vec_env.set_attr("custom", "bye", indices=[1])
    assert vec_env.get_attr("custom") == ["hello", "bye", "hello"]
    assert vec_env.get_attr("custom", indices=2) == ["hello"]
    assert vec_env.env_method("double", 4, indices=[0, 2]) == [8, 8]
    assert vec_env.has_attr("custom") and not vec_env.has_attr("no_such_attribute")
    assert vec_env.env_is_wrapped(gym.wrappers.TimeLimit) == [False] * 3
    vec_env.set_options({"length": 7})
    assert vec_env.reset()[:, 0].tolist() == [7, 7, 7]
    assert vec_env.reset()[:, 0].tolist() == [3, 3, 3]  # options apply to one reset, as seeds
    with pytest.raises(ValueError, match="one dict per sub-env"):
        vec_env.set_options([{}])


def test_dummy_vec_env_refuses_shared_env_objects():
    env = CountdownEnv()
    with pytest.raises(ValueError, match="new env"):
        DummyVecEnv([lambda: env] * 2)
    with pytest.raises(TypeError, match="list of callables"):
        DummyVecEnv(lambda: env)


def test_render_tiles_images_and_get_images():
    vec_env = DummyVecEnv([lambda: CountdownEnv(3, render_mode="rgb_array") for _ in range(3)])
    vec_env.reset()
    assert [im.shape for im in vec_env.get_images()] == [(4, 6, 3)] * 3
    big = vec_env.render()
    assert big.shape == (8, 12, 3)  # 3 frames on a 2 x 2 grid, the fourth tile blank
    assert big[4:, 6:].sum() == 0 and big[:4, :6].min() == 30
    assert vec_env.render("human") is None  # shown with pygame (dummy video driver in CI)


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_subproc_vec_env_matches_dummy(start_method):
    if start_method not in __import__("multiprocessing").get_all_start_methods():
        pytest.skip(f"{start_method} is not available here")
    fns = [lambda: CountdownEnv(3), lambda: CountdownEnv(2)]
    sub, dummy = SubprocVecEnv(fns, start_method=start_method), DummyVecEnv(fns)
    try:
        np.testing.assert_array_equal(sub.reset(), dummy.reset())
        for _ in range(4):
            a = sub.step(np.array([1, 0]))
            b = dummy.step(np.array([1, 0]))
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_array_equal(a[2], b[2])
            assert [set(i) for i in a[3]] == [set(i) for i in b[3]]
        assert sub.get_attr("custom") == ["hello", "hello"]
        sub.set_attr("custom", "x", indices=0)
        assert sub.get_attr("custom") == ["x", "hello"] and sub.env_method("double", 3) == [6, 6]
        assert sub.has_attr("custom") and not sub.has_attr("nothing_here")
        with pytest.raises(AttributeError):
            sub.get_attr("nothing_here")
    finally:
        sub.close()


def test_vec_check_nan_raises():
    class NanEnv(CountdownEnv):
        def step(self, action):
            obs, r, term, trunc, info = super().step(action)
            return obs * np.nan, r, term, trunc, info

    vec_env = VecCheckNan(DummyVecEnv([NanEnv]), raise_exception=True)
    vec_env.reset()
    with pytest.raises(ValueError, match="nan in observations"):
        vec_env.step(np.array([0]))
    vec_env = VecCheckNan(DummyVecEnv([CountdownEnv]), raise_exception=True)
    vec_env.reset()
    with pytest.raises(ValueError, match="inf in actions"):
        vec_env.step(np.array([np.inf]))
    quiet = VecCheckNan(DummyVecEnv([NanEnv]), raise_exception=False, warn_once=True)
    quiet.reset()
    with pytest.warns(UserWarning, match="nan"):
        quiet.step(np.array([0]))


def test_vec_frame_stack_shapes_and_terminal_observation():
    vec_env = VecFrameStack(DummyVecEnv([ImageEnv, ImageEnv]), n_stack=4)
    assert vec_env.observation_space.shape == (8, 6, 12)
    obs = vec_env.reset()
    assert obs.shape == (2, 8, 6, 12) and obs.sum() == 0
    for _ in range(4):
        obs, _, dones, infos = vec_env.step(np.zeros(2, int))
    assert dones.all()  # truncated at t = 4: the terminal observation holds frames 1..4
    assert [int(infos[0]["terminal_observation"][0, 0, 3 * k]) for k in range(4)] == [1, 2, 3, 4]
    assert obs[0].sum() == 0  # a fresh stack after the reset
    transposed = VecFrameStack(VecTransposeImage(DummyVecEnv([ImageEnv])), n_stack=3)
    assert transposed.observation_space.shape == (9, 8, 6) and transposed.reset().shape == (1, 9, 8, 6)
    flat = VecFrameStack(make_vec_env("CartPole-v1", n_envs=2, seed=0), n_stack=2)
    assert flat.reset().shape == (2, 8)


def test_vec_frame_stack_dict_observations():
    class DictEnv(CountdownEnv):
        def __init__(self):
            super().__init__()
            self.observation_space = spaces.Dict({"a": spaces.Box(0, 9, (2,), np.float32),
                                                  "b": spaces.Box(0, 9, (1,), np.float32)})

        def reset(self, *, seed=None, options=None):
            obs, info = super().reset(seed=seed)
            return {"a": np.repeat(obs, 2), "b": obs}, info

        def step(self, action):
            obs, r, term, trunc, info = super().step(action)
            return {"a": np.repeat(obs, 2), "b": obs}, r, term, trunc, info

    vec_env = VecFrameStack(DummyVecEnv([DictEnv]), n_stack=3)
    assert vec_env.observation_space["a"].shape == (6,) and vec_env.observation_space["b"].shape == (3,)
    vec_env.reset()
    for _ in range(3):
        obs, _, dones, infos = vec_env.step(np.array([0]))
    assert dones[0] and infos[0]["terminal_observation"]["b"].tolist() == [2, 1, 0]


def test_vec_transpose_image():
    vec_env = VecTransposeImage(DummyVecEnv([ImageEnv]))
    assert vec_env.observation_space.shape == (3, 8, 6)
    assert vec_env.reset().shape == (1, 3, 8, 6)
    for _ in range(4):
        _, _, dones, infos = vec_env.step(np.array([0]))
    assert dones[0] and infos[0]["terminal_observation"].shape == (3, 8, 6)
    with pytest.raises(ValueError, match="channel-last image"):
        VecTransposeImage(DummyVecEnv([CountdownEnv]))


def test_vec_monitor_episode_infos_and_csv(tmp_path):
    vec_env = VecMonitor(DummyVecEnv([lambda: CountdownEnv(3), lambda: CountdownEnv(2)]),
                         filename=str(tmp_path / "vec"))
    vec_env.reset()
    episodes = []
    for _ in range(6):
        _, _, dones, infos = vec_env.step(np.array([0, 0]))
        episodes += [infos[i]["episode"] for i in np.flatnonzero(dones)]
    vec_env.close()
    assert sorted(e["l"] for e in episodes) == [2, 2, 2, 3, 3]
    assert all(e["r"] == e["l"] for e in episodes)
    lines = (tmp_path / "vec.monitor.csv").read_text().splitlines()
    assert lines[0].startswith("#{") and lines[1] == "r,l,t" and len(lines) == 2 + len(episodes)
    assert is_vecenv_wrapped(vec_env, VecMonitor)


def test_vec_video_recorder_writes_a_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    vec_env = DummyVecEnv([lambda: CountdownEnv(5, render_mode="rgb_array") for _ in range(2)])
    vec_env = VecVideoRecorder(vec_env, str(tmp_path), record_video_trigger=lambda step: step == 0, video_length=6,
                               name_prefix="countdown")
    vec_env.reset()
    for _ in range(8):
        vec_env.step(np.zeros(2, int))
    vec_env.close()
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].startswith("countdown-step-0-to-step-6")
    assert os.path.getsize(vec_env.video_path) > 0
    with pytest.raises(ValueError, match="rgb_array"):
        VecVideoRecorder(DummyVecEnv([CountdownEnv]), str(tmp_path), lambda s: True)


def test_make_vec_env_options(tmp_path):
    vec_env = make_vec_env(CountdownEnv, n_envs=2, seed=0, start_index=3, monitor_dir=str(tmp_path),
                           env_kwargs={"length": 2}, wrapper_class=gym.wrappers.TimeLimit,
                           wrapper_kwargs={"max_episode_steps": 1})
    assert isinstance(vec_env, DummyVecEnv) and vec_env.env_is_wrapped(gym.wrappers.TimeLimit) == [True, True]
    vec_env.reset()
    _, _, dones, infos = vec_env.step(np.zeros(2, int))
    assert dones.all() and infos[0]["TimeLimit.truncated"]
    vec_env.close()
    assert sorted(os.listdir(tmp_path)) == ["3.monitor.csv", "4.monitor.csv"]
    sub = make_vec_env("CartPole-v1", n_envs=2, seed=0, vec_env_cls=SubprocVecEnv,
                       vec_env_kwargs={"start_method": "fork"})
    try:
        np.testing.assert_array_equal(sub.reset(), make_vec_env("CartPole-v1", n_envs=2, seed=0).reset())
    finally:
        sub.close()
    with pytest.raises(NotImplementedError, match="make_atari_env"):
        make_atari_env("PongNoFrameskip-v4")
    with pytest.raises(ValueError, match="n_envs"):
        make_vec_env("CartPole-v1", n_envs=0)


def test_user_vec_env_wrapper_and_attribute_forwarding():
    from rl.common.vec_env import VecEnvWrapper, VecNormalize, sync_envs_normalization, unwrap_vec_normalize

    class AddOne(VecEnvWrapper):  # SB3's documented way to write a VecEnv wrapper
        def reset(self):
            return self.venv.reset() + 1

        def step_wait(self):
            obs, rewards, dones, infos = self.venv.step_wait()
            return obs + 1, rewards, dones, infos

    base = DummyVecEnv([lambda: CountdownEnv(3)])
    wrapped = VecNormalize(AddOne(base), norm_reward=False)
    assert wrapped.envs is base.envs  # attributes read through the wrapper chain
    assert wrapped.unwrapped is base and unwrap_vec_normalize(wrapped) is wrapped
    assert AddOne(base).reset()[0, 0] == 4
    assert wrapped.get_attr("custom") == ["hello"] and wrapped.env_method("double", 1) == [2]
    with pytest.raises(AttributeError):
        _ = wrapped.no_such_attribute
    wrapped.reset()
    for _ in range(5):
        wrapped.step(np.array([0]))
    eval_env = VecNormalize(AddOne(DummyVecEnv([lambda: CountdownEnv(3)])), training=False)
    sync_envs_normalization(wrapped, eval_env)
    np.testing.assert_array_equal(eval_env.obs_rms.mean, wrapped.obs_rms.mean)
    assert eval_env.obs_rms is not wrapped.obs_rms  # a copy: evaluation does not move training statistics
    with pytest.raises(TypeError, match="SB3-style VecEnv"):
        AddOne(gym.make("CartPole-v1"))


def test_vec_extract_dict_obs_and_env_util_helpers():
    from rl.common.env_util import is_wrapped, unwrap_wrapper
    from rl.common.vec_env import VecExtractDictObs
    from rl.common.vec_env import VecFrameStack as Stack

    class DictEnv(CountdownEnv):
        def __init__(self):
            super().__init__(2)
            self.observation_space = spaces.Dict({"state": spaces.Box(0, 9, (1,), np.float32)})

        def reset(self, *, seed=None, options=None):
            obs, info = super().reset(seed=seed)
            return {"state": obs}, info

        def step(self, action):
            obs, *rest = super().step(action)
            return ({"state": obs}, *rest)

    vec_env = VecExtractDictObs(DummyVecEnv([DictEnv]), key="state")
    assert vec_env.observation_space.shape == (1,) and vec_env.reset().tolist() == [[2.0]]
    vec_env.step(np.array([0]))
    obs, _, dones, infos = vec_env.step(np.array([0]))
    assert dones[0] and infos[0]["terminal_observation"].tolist() == [0.0] and obs.tolist() == [[2.0]]
    assert Stack(vec_env, 2).reset().shape == (1, 2)
    with pytest.raises(ValueError, match="key 'nope'"):
        VecExtractDictObs(DummyVecEnv([DictEnv]), key="nope")
    env = gym.wrappers.TimeLimit(CountdownEnv(), 5)
    assert is_wrapped(env, gym.wrappers.TimeLimit) and unwrap_wrapper(env, gym.wrappers.TimeLimit) is env
    assert unwrap_wrapper(CountdownEnv(), gym.wrappers.TimeLimit) is None

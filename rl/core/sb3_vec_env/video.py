"""VecVideoRecorder: SB3's wrapper recording videos of a VecEnv's rendered (tiled) frames.

Frames come from `venv.get_images()` (the sub-envs need render_mode="rgb_array"), tiled as `render()`
tiles them. Recording starts when `record_video_trigger(step)` is true and stops after `video_length`
frames (or at close). The file is `<video_folder>/<name_prefix>-step-<a>-to-step-<b>` with the first
format available: .mp4 (imageio with imageio-ffmpeg, as SB3's moviepy output), else .gif (Pillow, as
`python -m rl enjoy --gif`), else .npz holding the frames array (T, H, W, 3) under "frames".
`video_path` is the last file written."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

import corenn

from .base import VecEnvWrapper, tile_images

__all__ = ["VecVideoRecorder", "write_video"]


def _video_format() -> str:
    try:
        import imageio  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
        return "mp4"
    except ImportError:
        pass
    try:
        import PIL  # noqa: F401
        return "gif"
    except ImportError:
        return "npz"


def write_video(frames: list[np.ndarray], base_path: str, fps: float) -> str:
    """Write frames (H, W, 3) uint8 to base_path + the extension of the first available format; returns the path."""
    fmt = _video_format()
    path = f"{base_path}.{fmt}"
    frames = [np.asarray(f, dtype=np.uint8)[..., :3] for f in frames]
    if fmt == "mp4":
        import imageio
        imageio.mimwrite(path, frames, fps=fps)
    elif fmt == "gif":
        from PIL import Image
        images = [Image.fromarray(f) for f in frames]
        images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(int(1000 / fps), 20), loop=0)
    else:
        corenn.save({"frames": np.stack(frames), "fps": float(fps)}, path)
    return path


class VecVideoRecorder(VecEnvWrapper):
    """record_video_trigger(step) -> bool starts a recording; video_length frames per video."""

    def __init__(self, venv, video_folder: str, record_video_trigger: Callable[[int], bool], video_length: int = 200,
                 name_prefix: str = "rl-video"):
        super().__init__(venv)
        if not callable(record_video_trigger):
            raise TypeError("record_video_trigger must be a callable step -> bool, e.g. lambda step: step == 0")
        if int(video_length) < 1:
            raise ValueError(f"video_length must be >= 1, got {video_length!r}")
        if venv.render_mode != "rgb_array":
            raise ValueError(f"VecVideoRecorder needs envs made with render_mode='rgb_array', got "
                             f"{venv.render_mode!r} (make_vec_env passes it for env ids)")
        self.frames_per_sec = float(venv.metadata.get("render_fps", 30) or 30) if isinstance(venv.metadata, dict) \
            else 30.0
        self.record_video_trigger = record_video_trigger
        self.video_folder = os.path.abspath(video_folder)
        os.makedirs(self.video_folder, exist_ok=True)
        self.name_prefix, self.video_length = name_prefix, int(video_length)
        self.step_id = 0
        self.recording = False
        self.recorded_frames: list[np.ndarray] = []
        self.video_path: str | None = None
        self._base_path: str | None = None

    def reset(self):
        observations = self.venv.reset()
        if self.recording:
            self._capture_frame()
        elif self.record_video_trigger(self.step_id):
            self._start_video_recorder()
        return observations

    def _start_video_recorder(self) -> None:
        self._base_path = os.path.join(self.video_folder, f"{self.name_prefix}-step-{self.step_id}-to-step-"
                                                          f"{self.step_id + self.video_length}")
        self.recorded_frames = []
        self.recording = True
        self._capture_frame()

    def _capture_frame(self) -> None:
        images = self.venv.get_images()
        if any(im is None for im in images):
            return
        self.recorded_frames.append(tile_images(images))

    def step_wait(self):
        observations, rewards, dones, infos = self.venv.step_wait()
        self.step_id += 1
        if self.recording:
            self._capture_frame()
            if len(self.recorded_frames) > self.video_length:
                self._stop_recording()
        elif self.record_video_trigger(self.step_id):
            self._start_video_recorder()
        return observations, rewards, dones, infos

    def _stop_recording(self) -> None:
        if self.recorded_frames:
            self.video_path = write_video(self.recorded_frames, self._base_path, self.frames_per_sec)
        self.recorded_frames = []
        self.recording = False

    def close(self) -> None:
        if self.recording:
            self._stop_recording()
        return self.venv.close()

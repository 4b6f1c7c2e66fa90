"""The zoo's GIFs, docs/zoo_<algo>_<env>.gif, recorded with `python -m rl enjoy --gif`."""
import os
import subprocess
import sys

import gymnasium as gym

import agents_zoo
from rl.cli import safe_env_name

__all__ = ["docs_dir", "gif_path", "record_gif", "shrink_gif"]


def docs_dir():
    """The repository's docs/ folder (beside agents_zoo/), where the GIFs live."""
    return os.path.join(os.path.dirname(agents_zoo.ROOT), "docs")


def gif_path(algo, env_id):
    return os.path.join(docs_dir(), f"zoo_{algo}_{safe_env_name(env_id)}.gif")


def record_gif(algo, env_id, steps=300):
    """Record the zoo agent (MuJoCo: tracking camera, small frames, then shrunk)."""
    gif = gif_path(algo, env_id)
    cmd = [sys.executable, "-m", "rl", "enjoy", "--algo", algo, "--env", env_id, "-f", "/nonexistent",
           "--render-mode", "rgb_array", "--gif", gif, "-n", str(steps)]
    if "mujoco" in str(gym.spec(env_id).entry_point) and not env_id.startswith("corenn/"):
        cmd += ["--env-kwargs", "camera_name:track", "width:240", "height:180"]
    subprocess.run(cmd, check=True, env=dict(os.environ, MUJOCO_GL=os.environ.get("MUJOCO_GL", "egl")))
    if "--env-kwargs" in cmd:
        shrink_gif(gif)
    return gif


def shrink_gif(path, keep_every=2, colors=48):
    """Every `keep_every`-th frame, a `colors`-colour palette: MuJoCo GIFs from ~1.3 MB to ~0.3 MB."""
    from PIL import Image, ImageSequence
    with Image.open(path) as im:
        duration = im.info.get("duration", 20)
        frames = [f.convert("RGB").quantize(colors=colors) for i, f in enumerate(ImageSequence.Iterator(im))
                  if i % keep_every == 0]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=keep_every * duration, loop=0,
                   optimize=True)

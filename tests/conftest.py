import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MUJOCO_GL", "egl")

# One BLAS thread for the whole suite: the matrices in tests are small, and on a busy 2-core
# machine a multi-threaded BLAS fights the other process for the cores (an order of magnitude slower).
import corenn  # noqa: E402

corenn.set_num_threads(1)

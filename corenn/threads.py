"""BLAS thread control, PyTorch-shaped (``corenn.set_num_threads``).

Small matmuls (RL-sized networks) run fastest on one BLAS thread, and on a busy machine extra
BLAS threads fight other processes for the cores; measured here, a 2-thread OpenBLAS made an MLP
epoch ~25x slower under load while one thread matched PyTorch.
"""
from threadpoolctl import threadpool_info, threadpool_limits

_limits = {"ctx": None}


def set_num_threads(n):
    """Limit NumPy's BLAS (OpenBLAS/MKL) to ``n`` threads for the rest of the process."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads needs n >= 1, got {n}")
    _limits["ctx"] = threadpool_limits(limits=int(n), user_api="blas")


def get_num_threads():
    """Threads of the first BLAS library NumPy uses (1 if none is found)."""
    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    return int(blas[0]["num_threads"]) if blas else 1

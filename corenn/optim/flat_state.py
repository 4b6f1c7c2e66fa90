"""One contiguous buffer per optimizer state name for a whole parameter group.

An optimizer step over many small parameters spends most of its time in per-array NumPy calls.
`FlatState` keeps each state buffer (Adam's ``exp_avg``, ``exp_avg_sq``) as one flat array of all
the group's elements, and puts views of it into ``optimizer.state[p]``, so ``state_dict()``, the
checkpoints and anything that edits a state array in place see PyTorch's per-parameter layout while
the update runs as a few whole-group passes (PyTorch's ``foreach`` idea):

    grads (n_params arrays) --gather--> g (N,)      N = total elements of the group
    m, v (N,) updated in whole-group passes;  update (N,) --scatter--> p.data -= update[p]

A FlatState only matches while nothing replaced the per-parameter state (load_state_dict, a new
parameter); `matches` checks that by identity, and the optimizer rebuilds it otherwise.
"""
from __future__ import annotations

import numpy as np


class FlatState:
    """Flat buffers for `names` over `params` (same dtype, equal step counts).

    Attributes: ``buffers[name]`` (N,), ``grad`` (N,) and ``work`` (N,) scratch, ``step`` (int),
    ``work_views`` (one view of ``work`` per parameter, shaped like it).
    """

    def __init__(self, params: list, state: dict, names: tuple[str, ...]):
        dtype = params[0].data.dtype
        sizes = [p.data.size for p in params]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        total = offsets[-1]
        self.params = list(params)
        self.names = names
        self.buffers = {name: np.zeros(total, dtype) for name in names}
        self.grad = np.empty(total, dtype)
        self.work = np.empty(total, dtype)
        self.step = 0
        self._states, self._views = [], []
        for i, p in enumerate(params):
            lo, hi, shape = offsets[i], offsets[i + 1], p.data.shape
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0}
            self.step = int(st["step"])
            views = {}
            for name in names:
                view = self.buffers[name][lo:hi].reshape(shape)
                if name in st:
                    view[...] = st[name]
                st[name] = views[name] = view
            self._states.append(st)
            self._views.append(views)
        self.work_views = [self.work[offsets[i]:offsets[i + 1]].reshape(p.data.shape)
                           for i, p in enumerate(params)]

    @staticmethod
    def usable(params: list, state: dict) -> bool:
        """True when every parameter has a gradient, all share one dtype, and all have taken the same
        number of steps (none yet counts as 0)."""
        if not params:
            return False
        dtype = params[0].data.dtype
        steps = set()
        for p in params:
            if p.grad is None or p.data.dtype != dtype or p.grad.shape != p.data.shape:
                return False
            st = state.get(p)
            steps.add(0 if st is None else st.get("step", 0))
        return len(steps) == 1

    def matches(self, params: list, state: dict) -> bool:
        """Whether `params` and their state entries are still the ones this FlatState laid out."""
        if len(params) != len(self.params):
            return False
        for p, q, st, views in zip(params, self.params, self._states, self._views, strict=True):
            if p is not q or p.grad is None or state.get(p) is not st or st["step"] != self.step:
                return False
            for name, view in views.items():
                if st.get(name) is not view:
                    return False
        return True

    def gather_grads(self) -> np.ndarray:
        """Copy every parameter's gradient into ``grad`` (N,) and return it."""
        np.concatenate([p.grad.reshape(-1) for p in self.params], out=self.grad)
        return self.grad

    def advance(self) -> int:
        """Count one step in every parameter's state; returns the new step number."""
        self.step += 1
        for st in self._states:
            st["step"] = self.step
        return self.step

    def subtract_work(self) -> None:
        """``p.data -= work[p]`` for every parameter."""
        for p, upd in zip(self.params, self.work_views):
            np.subtract(p.data, upd, out=p.data)

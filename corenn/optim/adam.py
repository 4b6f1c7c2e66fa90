"""Adam and AdamW with bias correction folded into one scalar step size."""
import math

import numpy as np

from .flat_state import FlatState
from .optimizer import Optimizer


def _adam_step(g, m, v, tmp, t: int, lr, b1, b2, eps, vmax=None) -> np.ndarray:
    """One Adam step on arrays of one shape: m and v (and vmax, AMSGrad's running max of v) updated in place,
    then ``tmp`` filled with the step to subtract from the parameter and returned."""
    np.subtract(g, m, out=tmp)  # m.lerp_(g, 1 - b1)
    tmp *= 1.0 - b1
    m += tmp
    np.multiply(g, 1.0 - b2, out=tmp)  # v = b2 * v + (1 - b2) * g * g
    tmp *= g
    v *= b2
    v += tmp
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        v = vmax
    bc2_sqrt = math.sqrt(1.0 - b2 ** t)
    np.sqrt(v, out=tmp)
    tmp += eps * bc2_sqrt
    np.divide(m, tmp, out=tmp)
    tmp *= lr * bc2_sqrt / (1.0 - b1 ** t)
    return tmp


class Adam(Optimizer):
    """PyTorch's Adam (optionally AMSGrad, maximize, decoupled weight decay).

    Per parameter: ``m = lerp(m, g, 1-b1)``, ``v = b2*v + (1-b2)*g*g``, then
    ``p -= lr*sqrt(bc2)/bc1 * m / (sqrt(v) + eps*sqrt(bc2))``, which equals
    PyTorch's ``lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)`` with one pass fewer.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        b1, b2 = betas
        if not 0.0 <= b1 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {b1}")
        if not 0.0 <= b2 < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {b2}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay)
        self._flats = {}  # id(param group) -> FlatState
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        maximize = bool(group["maximize"])
        decoupled = bool(group.get("decoupled_weight_decay", False))
        state = self.state
        if not amsgrad and not (wd and not decoupled):
            flat = self._flat_state(group)
            if flat is not None:
                self._flat_update(flat, lr, b1, b2, eps, wd, maximize)
                return
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            data = p.data
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "exp_avg": np.zeros_like(data),
                                 "exp_avg_sq": np.zeros_like(data)}
            if amsgrad and "max_exp_avg_sq" not in st:
                st["max_exp_avg_sq"] = np.zeros_like(data)
            t = st["step"] + 1
            st["step"] = t
            if decoupled:
                if wd:
                    data *= 1.0 - lr * wd
                g = self._grad(p, data, g, 0.0, maximize)
            else:
                g = self._grad(p, data, g, wd, maximize)
            vmax = st["max_exp_avg_sq"] if amsgrad else None
            data -= _adam_step(g, st["exp_avg"], st["exp_avg_sq"], self._buffer(p, data), t, lr, b1, b2, eps, vmax)

    def _flat_state(self, group) -> FlatState | None:
        """The group's FlatState (built or rebuilt when needed), or None when the group cannot use one."""
        params, flats = group["params"], self._flats
        flat = flats.get(id(group))
        if flat is not None and flat.matches(params, self.state):
            return flat
        flats.pop(id(group), None)
        if not FlatState.usable(params, self.state):
            return None
        flat = flats[id(group)] = FlatState(params, self.state, ("exp_avg", "exp_avg_sq"))
        return flat

    @staticmethod
    def _flat_update(flat: FlatState, lr, b1, b2, eps, wd, maximize) -> None:
        """The same update as the per-parameter loop, as whole-group passes over flat buffers (N,)."""
        g = flat.gather_grads()
        if maximize:
            np.negative(g, out=g)
        if wd:  # decoupled: p *= 1 - lr * wd
            for p in flat.params:
                p.data *= 1.0 - lr * wd
        t = flat.advance()
        _adam_step(g, flat.buffers["exp_avg"], flat.buffers["exp_avg_sq"], flat.work, t, lr, b1, b2, eps)
        flat.subtract_work()


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr*weight_decay`` before the step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

"""Adam and AdamW with bias correction folded into one scalar step size."""
import math

import numpy as np

from .optimizer import Optimizer


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
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        b1, b2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = bool(group["amsgrad"])
        maximize = bool(group["maximize"])
        decoupled = bool(group.get("decoupled_weight_decay", False))
        w1, w2 = 1.0 - b1, 1.0 - b2
        state = self.state
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
            m = st["exp_avg"]
            v = st["exp_avg_sq"]
            tmp = self._buffer(p, data)
            # m.lerp_(g, 1 - b1)
            np.subtract(g, m, out=tmp)
            tmp *= w1
            m += tmp
            # v = b2 * v + (1 - b2) * g * g
            np.multiply(g, w2, out=tmp)
            tmp *= g
            v *= b2
            v += tmp
            if amsgrad:
                vmax = st["max_exp_avg_sq"]
                np.maximum(vmax, v, out=vmax)
                v = vmax
            bc2_sqrt = math.sqrt(1.0 - b2 ** t)
            step_size = lr * bc2_sqrt / (1.0 - b1 ** t)
            np.sqrt(v, out=tmp)
            tmp += eps * bc2_sqrt
            np.divide(m, tmp, out=tmp)
            tmp *= step_size
            data -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr*weight_decay`` before the step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=True)

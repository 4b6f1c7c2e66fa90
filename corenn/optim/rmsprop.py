"""RMSprop (optionally centered, with momentum)."""
import numpy as np

from .optimizer import Optimizer


class RMSprop(Optimizer):
    """PyTorch's RMSprop: ``s = alpha*s + (1-alpha)*g*g``; ``avg = sqrt(s - gbar^2) + eps``
    (centered) or ``sqrt(s) + eps``; ``p -= lr * g/avg`` or through a momentum buffer."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = bool(group["centered"])
        maximize = bool(group["maximize"])
        w = 1.0 - alpha
        state = self.state
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            data = p.data
            st = state.get(p)
            if st is None:
                st = state[p] = {"step": 0, "square_avg": np.zeros_like(data)}
            if momentum > 0 and "momentum_buffer" not in st:
                st["momentum_buffer"] = np.zeros_like(data)
            if centered and "grad_avg" not in st:
                st["grad_avg"] = np.zeros_like(data)
            st["step"] += 1
            g = self._grad(p, data, g, wd, maximize)
            sq = st["square_avg"]
            tmp = self._buffer(p, data)
            np.multiply(g, w, out=tmp)
            tmp *= g
            sq *= alpha
            sq += tmp
            if centered:
                ga = st["grad_avg"]
                np.subtract(g, ga, out=tmp)
                tmp *= w
                ga += tmp
                np.multiply(ga, ga, out=tmp)
                np.subtract(sq, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(sq, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)
            if momentum > 0:
                buf = st["momentum_buffer"]
                buf *= momentum
                buf += tmp
                np.multiply(buf, lr, out=tmp)
            else:
                tmp *= lr
            data -= tmp

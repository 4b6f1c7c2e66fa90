"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """PyTorch's SGD: ``buf = momentum*buf + (1-dampening)*g``; ``p -= lr*buf``
    (or ``lr*(g + momentum*buf)`` with Nesterov). The first step sets ``buf = g``."""

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _update_group(self, group):
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        keep = 1.0 - float(group["dampening"])
        wd = float(group["weight_decay"])
        nesterov = bool(group["nesterov"])
        maximize = bool(group["maximize"])
        state = self.state
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            data = p.data
            g = self._grad(p, data, g, wd, maximize)
            tmp = self._buffer(p, data)
            if momentum:
                st = state.get(p)
                buf = None if st is None else st.get("momentum_buffer")
                if buf is None:
                    buf = np.array(g, dtype=data.dtype)
                    state[p] = {"momentum_buffer": buf}
                else:
                    buf *= momentum
                    if keep == 1.0:
                        buf += g
                    else:
                        np.multiply(g, keep, out=tmp)
                        buf += tmp
                if nesterov:
                    np.multiply(buf, momentum, out=tmp)
                    tmp += g
                    g = tmp
                else:
                    g = buf
            np.multiply(g, lr, out=tmp)
            data -= tmp

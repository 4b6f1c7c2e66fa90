"""Gradient checking against float64 central differences."""
import numpy as np

from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd gradients of ``sum(fn(*inputs) * w)`` (random fixed ``w``) with
    central differences.  ``inputs`` are Tensors/arrays; float ones are cast to float64 and
    checked when they require grad (all float inputs if none does).  Returns True or raises."""
    inputs = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    wanted = [x.requires_grad for x in inputs]
    floats = [x.data.dtype.kind == "f" for x in inputs]
    check = wanted if any(wanted) else floats
    xs = [Tensor(x.data.astype(np.float64), requires_grad=c) if f else x
          for x, f, c in zip(inputs, floats, check)]
    out = fn(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def objective():
        res = fn(*xs)
        res = res if isinstance(res, (tuple, list)) else (res,)
        return sum(float(np.sum(r.data.astype(np.float64) * w)) for r, w in zip(res, weights))

    total = None
    for o, w in zip(outs, weights):
        term = (o * Tensor(w)).sum()
        total = term if total is None else total + term
    total.backward()
    for i, x in enumerate(xs):
        if not check[i]:
            continue
        analytic = np.zeros_like(x.data) if x.grad is None else x.grad
        numeric = np.zeros_like(x.data)
        flat = x.data.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = objective()
            flat[j] = orig - eps
            minus = objective()
            flat[j] = orig
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            err = np.abs(analytic - numeric)
            j = int(np.argmax(err))
            msg = (f"gradcheck failed for input {i} (shape {x.shape}): max abs error {err.max():.3g} at "
                   f"flat index {j}: analytic {analytic.reshape(-1)[j]:.6g} vs numeric "
                   f"{numeric.reshape(-1)[j]:.6g}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True

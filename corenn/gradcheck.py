"""Gradient checking against float64 central differences: first derivatives (``gradcheck``) and
second derivatives (``gradgradcheck``, central differences of the first derivatives)."""
import numpy as np

from .tensor import Tensor


class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Compare autograd gradients of ``sum(fn(*inputs) * w)`` (random fixed ``w``) with
    central differences.  ``inputs`` are Tensors/arrays; float ones are cast to float64 and
    checked when they require grad (all float inputs if none does).  ``fn`` returns a Tensor or a
    sequence of them (None entries count as zeros).  Returns True or raises."""
    inputs = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    wanted = [x.requires_grad for x in inputs]
    floats = [x.data.dtype.kind == "f" for x in inputs]
    check = wanted if any(wanted) else floats
    xs = [Tensor(x.data.astype(np.float64), requires_grad=c) if f else x
          for x, f, c in zip(inputs, floats, check)]

    def outputs():
        res = fn(*xs)
        return [r for r in (res if isinstance(res, (tuple, list)) else (res,)) if r is not None]

    outs = outputs()
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal(o.shape) for o in outs]

    def objective():
        return sum(float(np.sum(r.data.astype(np.float64) * w)) for r, w in zip(outputs(), weights))

    total = None
    for o, w in zip(outs, weights):
        term = (o * Tensor(w)).sum()
        total = term if total is None else total + term
    if total is not None and total.requires_grad:  # else no output depends on a checked input
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


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check second derivatives, as torch.autograd.gradgradcheck: the first derivatives
    ``corenn.autograd.grad(fn(*inputs), inputs, grad_outputs, create_graph=True)`` are themselves
    gradient-checked (``gradcheck``) with respect to the inputs and to ``grad_outputs``, i.e. their
    Tensor-level gradients against central differences of the first derivatives, in float64.

    ``grad_outputs``: one array per output of ``fn`` (random normal, seeded, when None).  Inputs
    are checked as in ``gradcheck`` (those requiring grad, else every float input)."""
    from .autograd import grad

    inputs = [x if isinstance(x, Tensor) else Tensor(np.asarray(x)) for x in inputs]
    floats = [x.data.dtype.kind == "f" for x in inputs]
    check = [x.requires_grad for x in inputs]
    check = check if any(check) else floats
    xs = [Tensor(x.data.astype(np.float64), requires_grad=c) if f else x
          for x, f, c in zip(inputs, floats, check)]
    first = fn(*xs)
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        outs = first if isinstance(first, (tuple, list)) else (first,)
        grad_outputs = [rng.standard_normal(o.shape) for o in outs]
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    vs = [Tensor(np.asarray(getattr(v, "data", v), dtype=np.float64), requires_grad=True) for v in grad_outputs]
    diff = [i for i, c in enumerate(check) if c]

    def first_derivatives(*args):
        out = fn(*args[:len(xs)])
        out = out if isinstance(out, (tuple, list)) else (out,)
        return grad(out, [args[i] for i in diff], grad_outputs=list(args[len(xs):]), create_graph=True,
                    allow_unused=True)

    return gradcheck(first_derivatives, xs + vs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)

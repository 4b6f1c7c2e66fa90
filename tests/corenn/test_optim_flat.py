"""Adam's whole-group flat path (corenn/optim/flat_state.py) against its per-parameter loop."""
import numpy as np
import pytest

from corenn.nn import Parameter
from corenn.optim import Adam, AdamW

SHAPES = [(3, 4), (4,), (2, 4, 5), (1,)]


def _params(seed):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(np.float32)) for s in SHAPES]


def _grads(step, params):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(p.data.shape).astype(np.float32) for p in params]


class PerParameterAdam(Adam):
    """The reference: the same optimizer with the flat path switched off."""

    def _flat_state(self, group):
        return None


class PerParameterAdamW(AdamW):
    def _flat_state(self, group):
        return None


@pytest.mark.parametrize("make, make_ref", [
    (lambda ps: Adam(ps, lr=1e-2), lambda ps: PerParameterAdam(ps, lr=1e-2)),
    (lambda ps: Adam(ps, lr=1e-2, maximize=True), lambda ps: PerParameterAdam(ps, lr=1e-2, maximize=True)),
    (lambda ps: AdamW(ps, lr=1e-2, weight_decay=0.1), lambda ps: PerParameterAdamW(ps, lr=1e-2, weight_decay=0.1)),
])
def test_flat_path_is_bit_identical_to_the_per_parameter_loop(make, make_ref):
    a, b = _params(0), _params(0)
    opt, ref = make(a), make_ref(b)
    for step in range(5):
        for ps in (a, b):
            for p, g in zip(ps, _grads(step, ps)):
                p.grad = g
        opt.step()
        ref.step()
    assert opt._flats, "the flat path was not taken"
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)
        for name in ("exp_avg", "exp_avg_sq", "step"):
            np.testing.assert_array_equal(opt.state[p][name], ref.state[q][name])


def test_state_entries_are_views_that_in_place_edits_reach():
    ps = _params(1)
    opt = Adam(ps, lr=1e-2)
    for step in range(2):
        for p, g in zip(ps, _grads(step, ps)):
            p.grad = g
        opt.step()
    st = opt.state[ps[2]]
    assert st["exp_avg"].shape == ps[2].data.shape and st["step"] == 2
    st["exp_avg"][...] = 0.0  # e.g. rl's subnormal flush edits state arrays in place
    st["exp_avg_sq"][...] = 1.0
    before = ps[2].data.copy()
    ps[2].grad = np.zeros_like(before)
    for p in ps[:2] + ps[3:]:
        p.grad = np.ones_like(p.data)
    opt.step()
    np.testing.assert_array_equal(ps[2].data, before)  # m = 0 and g = 0: no move


def test_load_state_dict_and_missing_grads_fall_back_and_rebuild():
    a, b = _params(2), _params(2)
    opt, ref = Adam(a, lr=1e-2), PerParameterAdam(b, lr=1e-2)
    steps = [(0, None), (1, 1), (2, None), (3, None)]  # step 1: parameter 1 has no gradient
    for step, missing in steps:
        for ps in (a, b):
            for i, (p, g) in enumerate(zip(ps, _grads(step, ps))):
                p.grad = None if i == missing else g
        opt.step()
        ref.step()
        if step == 0:  # a reload replaces every state array: the flat buffers must be rebuilt from it
            opt.load_state_dict(ref.state_dict())
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p.data, q.data)
        assert opt.state[p]["step"] == ref.state[q]["step"]
    assert opt.state[a[1]]["step"] == 3 and opt.state[a[0]]["step"] == 4


def test_mixed_dtypes_use_the_per_parameter_loop():
    ps = [Parameter(np.ones(3, np.float32)), Parameter(np.ones(2, np.float64))]
    opt = Adam(ps, lr=0.1)
    for p in ps:
        p.grad = np.ones_like(p.data)
    opt.step()
    assert not opt._flats
    assert ps[0].data.dtype == np.float32 and ps[1].data.dtype == np.float64
    np.testing.assert_allclose(ps[0].data, 0.9, rtol=1e-6)
    np.testing.assert_allclose(ps[1].data, 0.9)

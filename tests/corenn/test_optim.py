"""Optimizers: behaviour, state_dict, and step-by-step parity with torch.optim."""
import numpy as np
import pytest

from corenn.nn import Parameter
from corenn.optim import SGD, Adam, AdamW, Optimizer, RMSprop

SHAPES = [(4, 3), (5,), (2, 3, 2)]


def make_params(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [Parameter(rng.standard_normal(s).astype(dtype)) for s in SHAPES]


def grad_fn(data, step, i):
    """A gradient that depends on the current parameter (quadratic) plus a step-dependent term."""
    rng = np.random.default_rng(1000 * step + i)
    return 2.0 * (data - 0.5) + rng.standard_normal(data.shape).astype(data.dtype)


# ---------------------------------------------------------------------------------------------
# PyTorch parity
# ---------------------------------------------------------------------------------------------
CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-3, weight_decay=0.05, amsgrad=True,
                  maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.2, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.005, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, maximize=True, weight_decay=0.05)),
]
OURS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_parity_with_torch(name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    params = make_params(dtype)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    opt = OURS[name](params, **kwargs)
    topt = getattr(torch.optim, name)(tparams, foreach=False, **kwargs)
    for step in range(25):
        for i, (p, tp) in enumerate(zip(params, tparams)):
            if i == 1 and step % 5 == 3:  # a parameter without gradient is skipped
                p.grad, tp.grad = None, None
                continue
            p.grad = grad_fn(p.data, step, i)
            tp.grad = torch.from_numpy(grad_fn(tp.detach().numpy(), step, i))
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        assert p.data.dtype == dtype
        np.testing.assert_allclose(p.data, tp.detach().numpy(), **TOL[dtype])
    for i, tp in enumerate(tparams):
        for key, tval in topt.state[tp].items():
            ours = opt.state[params[i]][key]
            np.testing.assert_allclose(np.asarray(ours, dtype=np.float64),
                                       np.asarray(tval, dtype=np.float64), **TOL[dtype])


def test_param_groups_parity_with_torch():
    torch = pytest.importorskip("torch")
    params = make_params(np.float64)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]

    def groups(ps):
        return [{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1, "betas": (0.5, 0.9)}]

    opt = Adam(groups(params), lr=0.01)
    topt = torch.optim.Adam(groups(tparams), lr=0.01, foreach=False)
    for step in range(20):
        for i, (p, tp) in enumerate(zip(params, tparams)):
            p.grad = grad_fn(p.data, step, i)
            tp.grad = torch.from_numpy(p.grad.copy())
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_loads_a_torch_state_dict_and_continues_identically():
    torch = pytest.importorskip("torch")
    params = make_params(np.float64)
    tparams = [torch.tensor(p.data.copy(), requires_grad=True) for p in params]
    topt = torch.optim.Adam(tparams, lr=0.01, amsgrad=True, foreach=False)
    for step in range(5):
        for i, tp in enumerate(tparams):
            tp.grad = torch.from_numpy(grad_fn(tp.detach().numpy(), step, i))
        topt.step()
    sd = topt.state_dict()
    converted = {"state": {k: {n: v.numpy() for n, v in s.items()} for k, s in sd["state"].items()},
                 "param_groups": sd["param_groups"]}
    for p, tp in zip(params, tparams):
        p.data[...] = tp.detach().numpy()
    opt = Adam(params, lr=0.01, amsgrad=True)
    opt.load_state_dict(converted)
    for step in range(5, 25):
        for i, (p, tp) in enumerate(zip(params, tparams)):
            p.grad = grad_fn(p.data, step, i)
            tp.grad = torch.from_numpy(p.grad.copy())
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# Behaviour
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1),
    lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, lr=0.1),
    lambda ps: AdamW(ps, lr=0.1, weight_decay=1e-4),
    lambda ps: RMSprop(ps, lr=0.01, centered=True),
])
def test_converges_on_a_quadratic(make):
    target = np.array([1.0, -2.0, 3.0], dtype=np.float32)
    p = Parameter(np.zeros(3, dtype=np.float32))
    opt = make([p])
    for _ in range(500):
        opt.zero_grad()
        p.grad = 2.0 * (p.data - target)
        opt.step()
    np.testing.assert_allclose(p.data, target, atol=2e-2)


def test_adam_first_step_is_lr_times_sign():
    p = Parameter(np.zeros(4, dtype=np.float32))
    p.grad = np.array([3.0, -0.5, 1e-3, -20.0], dtype=np.float32)
    Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, -0.01 * np.sign(p.grad), rtol=1e-4)


def test_updates_in_place_without_upcasting():
    p = Parameter(np.ones((3, 2), dtype=np.float32))
    data = p.data
    for opt in (SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1), Adam([p], weight_decay=0.1),
                AdamW([p]), RMSprop([p], centered=True, momentum=0.9)):
        for _ in range(3):
            p.grad = np.full((3, 2), 0.5, dtype=np.float32)
            opt.step()
        assert p.data is data and data.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray))


def test_skips_parameters_without_grad_and_does_not_touch_grad():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    a.grad = np.array([1.0, -1.0])
    opt = Adam([a, b], weight_decay=0.1, maximize=True)
    opt.step()
    assert b not in opt.state and np.array_equal(b.data, np.ones(2))
    np.testing.assert_array_equal(a.grad, [1.0, -1.0])
    assert opt.state[a]["step"] == 1


def test_zero_grad_and_closure():
    p = Parameter(np.ones(2))
    opt = SGD([p], lr=0.5)
    p.grad = np.ones(2)
    opt.zero_grad(set_to_none=False)
    assert np.array_equal(p.grad, np.zeros(2))
    opt.zero_grad()
    assert p.grad is None

    def closure():
        p.grad = 2.0 * p.data
        return float(np.sum(p.data ** 2))

    assert opt.step(closure) == 2.0
    np.testing.assert_allclose(p.data, [0.0, 0.0])


def test_bad_arguments():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="only optimize"):
        SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="beta"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError):
        Optimizer([p], {})  # abstract


def test_add_param_group_uses_defaults():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(3))
    opt = RMSprop([a], lr=0.1)
    opt.add_param_group({"params": b, "alpha": 0.5})
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["alpha"] == 0.5
    assert opt.param_groups[1]["params"] == [b]


def _train(opt, params, steps, start=0):
    for step in range(start, start + steps):
        for i, p in enumerate(params):
            p.grad = grad_fn(p.data, step, i)
        opt.step()


@pytest.mark.parametrize("make", [
    lambda ps: SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01}], lr=0.1, momentum=0.9),
    lambda ps: Adam(ps, lr=0.01, amsgrad=True),
    lambda ps: AdamW(ps, lr=0.01),
    lambda ps: RMSprop(ps, lr=0.01, centered=True, momentum=0.9),
])
def test_state_dict_round_trip_through_a_file_resumes_bit_identically(make, tmp_path):
    from corenn.serialization import load, save

    params = make_params(np.float32)
    opt = make(params)
    _train(opt, params, 10)
    save({"params": [p.data for p in params], "optim": opt.state_dict()}, tmp_path / "ck.npz")

    ck = load(tmp_path / "ck.npz")
    params2 = [Parameter(a) for a in ck["params"]]
    opt2 = make(params2)
    opt2.load_state_dict(ck["optim"])
    assert opt2.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    _train(opt, params, 10, start=10)
    _train(opt2, params2, 10, start=10)
    for p, q in zip(params, params2):
        assert np.array_equal(p.data, q.data)


def test_state_dict_layout():
    params = make_params(np.float32)
    opt = Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}])
    params[0].grad = np.ones(SHAPES[0], dtype=np.float32)
    params[2].grad = np.ones(SHAPES[2], dtype=np.float32)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 1


def test_load_state_dict_errors():
    params = make_params(np.float32)
    opt = SGD(params, lr=0.1, momentum=0.9)
    _train(opt, params, 2)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="parameter groups"):
        SGD([{"params": params[:1]}, {"params": params[1:]}], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="has 2 parameters, but the loaded group has 3"):
        SGD(params[:2], lr=0.1).load_state_dict(sd)
    other = [Parameter(np.zeros((4, 3), np.float32)), Parameter(np.zeros(6, np.float32)),
             Parameter(np.zeros((2, 3, 2), np.float32))]
    with pytest.raises(ValueError, match=r"'momentum_buffer' of parameter 1 has shape \(5,\)"):
        SGD(other, lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        SGD(params, lr=0.1).load_state_dict({"state": {}})


def test_load_state_dict_copies_and_restores_hyperparameters():
    params = make_params(np.float32)
    opt = SGD(params, lr=0.1, momentum=0.9)
    _train(opt, params, 2)
    sd = opt.state_dict()
    opt2 = SGD(params, lr=0.7)
    group = opt2.param_groups[0]
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0] is group and group["lr"] == 0.1 and group["momentum"] == 0.9
    buf = opt2.state[params[0]]["momentum_buffer"]
    assert buf is not sd["state"][0]["momentum_buffer"]
    np.testing.assert_array_equal(buf, sd["state"][0]["momentum_buffer"])


def test_trains_an_mlp_through_autograd_and_resumes_from_a_checkpoint(tmp_path):
    import corenn
    from corenn import nn
    from corenn.nn.utils import clip_grad_norm_

    rng = np.random.default_rng(0)
    x = corenn.Tensor(rng.standard_normal((64, 3)).astype(np.float32))
    y = corenn.Tensor(np.sin(x.data[:, :1]) * x.data[:, 1:2])
    make = lambda: nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))  # noqa: E731

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        return loss.item()

    model = make()
    opt = Adam(model.parameters(), lr=1e-2)
    first = train(model, opt, 1)
    assert train(model, opt, 150) < 0.2 * first
    corenn.save({"model": model.state_dict(), "optim": opt.state_dict()}, tmp_path / "ck")
    ck = corenn.load(tmp_path / "ck")
    model2 = make()
    model2.load_state_dict(ck["model"])
    opt2 = Adam(model2.parameters(), lr=1e-2)
    opt2.load_state_dict(ck["optim"])
    train(model, opt, 5)
    train(model2, opt2, 5)
    for p, q in zip(model.parameters(), model2.parameters()):
        assert np.array_equal(p.data, q.data)

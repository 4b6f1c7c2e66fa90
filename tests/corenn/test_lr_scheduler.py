"""Learning-rate schedulers: exact values against torch.optim.lr_scheduler, and state."""
import math

import numpy as np
import pytest

from corenn.nn import Parameter
from corenn.optim import SGD, lr_scheduler

LR_LAMBDA = lambda step: 0.95 ** step  # noqa: E731

CASES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=13, eta_min=1e-3)),
    ("LambdaLR", dict(lr_lambda=LR_LAMBDA)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.5, total_iters=12)),
]


def _opts(torch):
    p = Parameter(np.zeros(2))
    tp = torch.zeros(2, requires_grad=True)
    ours = SGD([{"params": [p]}, {"params": [Parameter(np.zeros(1))], "lr": 0.01}], lr=0.1)
    theirs = torch.optim.SGD([{"params": [tp]}, {"params": [torch.zeros(1)], "lr": 0.01}], lr=0.1)
    return ours, theirs


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{sorted(k)}" for n, k in CASES])
def test_values_equal_torch_exactly(name, kwargs):
    torch = pytest.importorskip("torch")
    opt, topt = _opts(torch)
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert sched.get_last_lr() == tsched.get_last_lr()
    for _ in range(45):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert sched.last_epoch == tsched.last_epoch == 45


def test_linear_warmup_matches_a_torch_lambda_and_the_formula():
    torch = pytest.importorskip("torch")
    opt, topt = _opts(torch)
    sched = lr_scheduler.linear_warmup(opt, warmup_steps=5, total_steps=15)
    fn = sched.lr_lambdas[0]
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, fn)
    seen = [sched.get_last_lr()[0]]
    for _ in range(20):
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
        seen.append(sched.get_last_lr()[0])
    # Hugging Face's get_linear_schedule_with_warmup
    expected = [0.1 * (t / 5 if t < 5 else max(0.0, (15 - t) / 10)) for t in range(21)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12, atol=1e-15)


def test_linear_warmup_start_factor_equals_linear_lr_closed_form():
    opt = SGD([Parameter(np.zeros(1))], lr=0.2)
    sched = lr_scheduler.linear_warmup(opt, warmup_steps=4, start_factor=0.25)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(7):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    expected = [0.2 * (0.25 + 0.75 * min(4, t) / 4) for t in range(8)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-12)


def test_cosine_reaches_eta_min_at_t_max():
    opt = SGD([Parameter(np.zeros(1))], lr=1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.1)
    for t in range(1, 9):
        sched.step()
        assert math.isclose(sched.get_last_lr()[0], 0.1 + 0.9 * (1 + math.cos(math.pi * t / 8)) / 2)
    assert math.isclose(opt.param_groups[0]["lr"], 0.1)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
    lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6),
    lambda o: lr_scheduler.linear_warmup(o, warmup_steps=4, total_steps=12),
    lambda o: lr_scheduler.LinearLR(o, start_factor=0.2, total_iters=5),
])
def test_state_dict_round_trip_through_a_file(make, tmp_path):
    from corenn.serialization import load, save

    opt = SGD([Parameter(np.zeros(1))], lr=0.3)
    sched = make(opt)
    for _ in range(5):
        sched.step()
    save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.npz")
    ck = load(tmp_path / "s.npz")
    opt2 = SGD([Parameter(np.zeros(1))], lr=0.3)
    sched2 = make(opt2)
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    assert sched2.last_epoch == 5 and sched2.get_last_lr() == sched.get_last_lr()
    for _ in range(10):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


def test_resume_requires_initial_lr_and_type_checks():
    opt = SGD([Parameter(np.zeros(1))], lr=0.3)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=4)
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas"):
        lr_scheduler.LambdaLR(opt, [LR_LAMBDA, LR_LAMBDA])
    with pytest.raises(ValueError, match="total_steps"):
        lr_scheduler.linear_warmup(opt, warmup_steps=5, total_steps=3)

"""disttorch.optim.lr_scheduler against torch's: lr (and momentum) sequences, state_dict,
round trips, warnings and errors.

Each schedule runs the same way in both frameworks: optimizer.step() then scheduler.step(),
60 times, recording every param group's lr, momentum/betas and get_last_lr().
"""

import copy
import warnings

import numpy as np
import pytest
import torch

import disttorch
import disttorch.optim as doptim

STEPS = 60


def make_optimizer(m, optim, kind="SGD"):
    """Two param groups with different learning rates."""
    a = m.tensor(np.ones(3), requires_grad=True)
    b = m.tensor(np.ones(2), requires_grad=True)
    groups = [{"params": [a]}, {"params": [b], "lr": 0.05}]
    if kind == "SGD":
        return optim.SGD(groups, lr=0.1, momentum=0.9)
    return optim.Adam(groups, lr=0.1)


def snapshot(opt, scheduler):
    groups = [(g["lr"], g.get("momentum"), g.get("betas")) for g in opt.param_groups]
    return groups, list(scheduler.get_last_lr())


def run_schedule(m, optim, factory, kind="SGD", steps=STEPS):
    opt = make_optimizer(m, optim, kind)
    scheduler = factory(optim.lr_scheduler, opt)
    history = [snapshot(opt, scheduler)]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        history.append(snapshot(opt, scheduler))
    return history, scheduler, opt


def _seq(L, o):
    return L.SequentialLR(o, [L.LinearLR(o, start_factor=0.1, total_iters=5),
                              L.ExponentialLR(o, gamma=0.9)], milestones=[5])


def _seq3(L, o):
    return L.SequentialLR(o, [L.ConstantLR(o, factor=0.5, total_iters=3),
                              L.CosineAnnealingLR(o, T_max=10),
                              L.StepLR(o, step_size=4, gamma=0.5)], milestones=[6, 20])


class Halving:
    """A callable object: its attributes go into LambdaLR's state_dict."""

    def __init__(self):
        self.factor = 0.5

    def __call__(self, epoch):
        return self.factor ** (epoch // 10)


SCHEDULE_ROWS = {
    "StepLR": lambda L, o: L.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda L, o: L.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda L, o: L.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR": lambda L, o: L.CosineAnnealingLR(o, T_max=15, eta_min=0.001),
    "CosineAnnealingLR-T1": lambda L, o: L.CosineAnnealingLR(o, T_max=1),
    "LambdaLR": lambda L, o: L.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda L, o: L.LambdaLR(o, [lambda e: 1 / (e + 1), Halving()]),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.97),
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.2, total_iters=10),
    "LinearLR-down": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.5,
                                             total_iters=25),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=8),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=30, power=2.0),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=61),
    "OneCycleLR-linear": lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=6,
                                                   steps_per_epoch=11,
                                                   anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-three": lambda L, o: L.OneCycleLR(o, max_lr=0.8, total_steps=70,
                                                  three_phase=True, div_factor=10.0),
    "OneCycleLR-nomom": lambda L, o: L.OneCycleLR(o, max_lr=0.8, total_steps=61,
                                                  cycle_momentum=False),
    "CyclicLR": lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=7),
    "CyclicLR-tri2": lambda L, o: L.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.1,
                                             step_size_up=5, step_size_down=9,
                                             mode="triangular2"),
    "CyclicLR-exp": lambda L, o: L.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6,
                                            mode="exp_range", gamma=0.97,
                                            base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-custom": lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=4,
                                               scale_fn=lambda x: 0.9 ** x,
                                               scale_mode="iterations",
                                               cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=7, T_mult=2, eta_min=0.001),
    "CosineAnnealingWarmRestarts-1": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=9),
    "SequentialLR": _seq,
    "SequentialLR-3": _seq3,
    "ChainedScheduler": lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.5, total_iters=4), L.ExponentialLR(o, gamma=0.9)]),
}

ADAM_ROWS = ["OneCycleLR", "OneCycleLR-three", "CyclicLR", "CyclicLR-exp"]


def assert_same_history(d_hist, t_hist):
    # the schedules are Python float arithmetic in both: the values agree exactly
    assert len(d_hist) == len(t_hist)
    for step, (d, t) in enumerate(zip(d_hist, t_hist)):
        assert d == t, f"step {step}: {d} != {t}"


@pytest.mark.parametrize("name", list(SCHEDULE_ROWS))
def test_schedule(name):
    factory = SCHEDULE_ROWS[name]
    t_hist, t_sched, t_opt = run_schedule(torch, torch.optim, factory)
    d_hist, d_sched, d_opt = run_schedule(disttorch, doptim, factory)
    assert_same_history(d_hist, t_hist)
    assert _comparable(d_sched.state_dict()) == _comparable(t_sched.state_dict())
    assert repr(d_opt) == repr(t_opt)


@pytest.mark.parametrize("name", ADAM_ROWS)
def test_schedule_cycles_adam_beta1(name):
    factory = SCHEDULE_ROWS[name]
    t_hist, _, _ = run_schedule(torch, torch.optim, factory, kind="Adam")
    d_hist, _, _ = run_schedule(disttorch, doptim, factory, kind="Adam")
    assert_same_history(d_hist, t_hist)


def _comparable(state):
    """A state_dict with tuples and lists alike and Counters as plain dicts."""
    if isinstance(state, dict):
        return {k: _comparable(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return [_comparable(v) for v in state]
    return state


@pytest.mark.parametrize("name", list(SCHEDULE_ROWS))
def test_state_dict_keys(name):
    factory = SCHEDULE_ROWS[name]
    t_sched = factory(torch.optim.lr_scheduler, make_optimizer(torch, torch.optim))
    d_sched = factory(doptim.lr_scheduler, make_optimizer(disttorch, doptim))
    t_sd, d_sd = t_sched.state_dict(), d_sched.state_dict()
    assert list(d_sd) == list(t_sd)
    assert _comparable(d_sd) == _comparable(t_sd)


@pytest.mark.parametrize("name", list(SCHEDULE_ROWS))
def test_state_dict_round_trip(name):
    factory = SCHEDULE_ROWS[name]
    straight, _, _ = run_schedule(disttorch, doptim, factory, steps=40)

    opt = make_optimizer(disttorch, doptim)
    scheduler = factory(doptim.lr_scheduler, opt)
    for _ in range(20):
        opt.step()
        scheduler.step()
    saved_sched = copy.deepcopy(scheduler.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())

    opt = make_optimizer(disttorch, doptim)
    scheduler = factory(doptim.lr_scheduler, opt)
    opt.load_state_dict(saved_opt)
    scheduler.load_state_dict(saved_sched)
    history = []
    for _ in range(20):
        opt.step()
        scheduler.step()
        history.append(snapshot(opt, scheduler))
    assert history == straight[21:]


def test_lambda_state_dict_keeps_callable_objects():
    halving = Halving()
    opt = make_optimizer(disttorch, doptim)
    scheduler = doptim.lr_scheduler.LambdaLR(opt, [lambda e: 1.0, halving])
    sd = scheduler.state_dict()
    assert sd["lr_lambdas"] == [None, {"factor": 0.5}]
    sd["lr_lambdas"][1] = {"factor": 0.25}
    scheduler.load_state_dict(sd)
    assert halving.factor == 0.25


# ---------------------------------------------------------------- ReduceLROnPlateau

METRICS = [1.0, 0.9, 0.95, 0.95, 0.96, 0.97, 0.89, 0.9, 0.9, 0.9, 0.91, 0.92, 0.93, 0.5,
           0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.49999, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1]

PLATEAU_ROWS = [
    {"patience": 2},
    {"patience": 1, "cooldown": 2, "factor": 0.5},
    {"mode": "max", "patience": 1, "threshold": 0.05},
    {"mode": "min", "threshold_mode": "abs", "threshold": 0.02, "patience": 0},
    {"mode": "max", "threshold_mode": "abs", "patience": 2, "min_lr": [0.01, 0.02]},
    {"patience": 0, "factor": 0.5, "min_lr": 0.004, "eps": 1e-3},
]


@pytest.mark.parametrize("kwargs", PLATEAU_ROWS)
def test_reduce_lr_on_plateau(kwargs):
    results = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        opt = make_optimizer(m, optim)
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
        history = []
        for metric in METRICS * 2:
            opt.step()
            scheduler.step(metric)
            history.append(([g["lr"] for g in opt.param_groups], scheduler.get_last_lr(),
                            scheduler.num_bad_epochs, scheduler.cooldown_counter,
                            scheduler.best))
        results.append((history, scheduler.state_dict()))
    (t_hist, t_sd), (d_hist, d_sd) = results
    assert d_hist == t_hist
    assert list(d_sd) == list(t_sd) and d_sd == t_sd


def test_reduce_lr_on_plateau_metric_tensor_and_round_trip():
    opt = make_optimizer(disttorch, doptim)
    scheduler = doptim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    for metric in METRICS[:10]:
        scheduler.step(disttorch.tensor(metric))
    fresh = doptim.lr_scheduler.ReduceLROnPlateau(make_optimizer(disttorch, doptim))
    fresh.load_state_dict(copy.deepcopy(scheduler.state_dict()))
    assert fresh.state_dict() == scheduler.state_dict()


# ---------------------------------------------------------------- warnings

def _warnings_of(m, optim, body):
    opt = make_optimizer(m, optim)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        body(optim.lr_scheduler, opt)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


WARNING_ROWS = {
    "right order": lambda L, o: (o.step(), L.StepLR(o, 3).step()),
    "scheduler first": lambda L, o: L.StepLR(o, 3).step(),
    "get_lr outside step": lambda L, o: L.ExponentialLR(o, 0.9).get_lr(),
    "epoch argument": lambda L, o: (o.step(), L.StepLR(o, 3).step(5)),
}


@pytest.mark.parametrize("name", list(WARNING_ROWS))
def test_warnings(name):
    body = WARNING_ROWS[name]
    assert _warnings_of(disttorch, doptim, body) == _warnings_of(torch, torch.optim, body)


def test_closed_form_with_epoch():
    for name in ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
                 "ConstantLR", "PolynomialLR"):
        factory = SCHEDULE_ROWS[name]
        results = []
        for m, optim in ((torch, torch.optim), (disttorch, doptim)):
            opt = make_optimizer(m, optim)
            scheduler = factory(optim.lr_scheduler, opt)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lrs = []
                for epoch in (3, 9, 17, 4, 40):
                    scheduler.step(epoch)
                    lrs.append(scheduler.get_last_lr())
            results.append(lrs)
        assert results[1] == results[0], name


def test_warm_restarts_fractional_epochs():
    results = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        opt = make_optimizer(m, optim)
        scheduler = optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2)
        lrs = []
        for epoch in np.arange(0, 30, 0.7):
            scheduler.step(float(epoch))
            lrs.append(scheduler.get_last_lr())
        results.append(lrs)
    assert results[1] == results[0]


def test_resume_with_last_epoch():
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        opt = make_optimizer(m, optim)
        optim.lr_scheduler.StepLR(opt, 3)
        scheduler = optim.lr_scheduler.StepLR(opt, 3, last_epoch=4)
        assert scheduler.last_epoch == 5


# ---------------------------------------------------------------- errors

ERROR_ROWS = [
    lambda L, o: L.StepLR(3, step_size=2),
    lambda L, o: L.ConstantLR(o, factor=1.5),
    lambda L, o: L.LinearLR(o, start_factor=0),
    lambda L, o: L.LinearLR(o, end_factor=2),
    lambda L, o: L.LambdaLR(o, [lambda e: 1.0]),
    lambda L, o: L.MultiplicativeLR(o, 0.9),
    lambda L, o: L.StepLR(o, step_size=2, last_epoch=3),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=0),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, epochs=0, steps_per_epoch=3),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, pct_start=1),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10, anneal_strategy="sin"),
    lambda L, o: L.OneCycleLR(o, max_lr=[1.0], total_steps=10),
    lambda L, o: [s.step() for s in [L.OneCycleLR(o, max_lr=1.0, total_steps=3)] * 4],
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="square"),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, eta_min="0"),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2).step(-1),
    lambda L, o: L.ReduceLROnPlateau(o, factor=1.0),
    lambda L, o: L.ReduceLROnPlateau(o, mode="median"),
    lambda L, o: L.ReduceLROnPlateau(o, threshold_mode="pct"),
    lambda L, o: L.ReduceLROnPlateau(o, min_lr=[0.1]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], milestones=[]),
    lambda L, o: L.SequentialLR(o, [], milestones=[]),
    lambda L, o: L.SequentialLR(o, [L.StepLR(o, 2), L.ReduceLROnPlateau(o)], [3]),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ChainedScheduler([L.StepLR(o, 2), object()]),
]


@pytest.mark.parametrize("index", range(len(ERROR_ROWS)))
def test_errors(index):
    fn = ERROR_ROWS[index]
    caught = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(Exception) as info:
                fn(optim.lr_scheduler, make_optimizer(m, optim))
        caught.append(info.value)
    t_err, d_err = caught
    assert type(d_err) is type(t_err)
    assert str(d_err) == str(t_err)


def test_tensor_lr_filled_in_place():
    results = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        p = m.tensor(np.ones(3), requires_grad=True)
        lr = m.tensor(0.1)
        opt = optim.SGD([p], lr=lr, momentum=0.9)
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        history = []
        for _ in range(6):
            p.grad = m.tensor(np.ones(3))
            opt.step()
            scheduler.step()
            last = scheduler.get_last_lr()[0]
            assert isinstance(last, m.Tensor) and last is not lr
            history.append((float(lr), float(last)))
        assert opt.param_groups[0]["lr"] is lr
        results.append((history, p.detach().numpy().copy()))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)

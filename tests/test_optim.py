"""disttorch.optim against torch.optim: trajectories, state_dict, repr, errors, hooks.

Every trajectory starts from the same NumPy arrays in both frameworks; at each step the
gradient of a fixed function is computed in NumPy from each framework's current parameters
and set as `p.grad`, so the two runs stay closed-loop and must agree to float rounding.
"""

import copy

import numpy as np
import pytest
import torch

import disttorch
import disttorch.optim as doptim

RNG = np.random.default_rng(7)
SHAPES = [(3, 4), (5,), (2,)]
STARTS = [RNG.uniform(-2, 2, s) for s in SHAPES]
SCALES = [RNG.uniform(0.5, 2.0, s) for s in SHAPES]
CENTERS = [RNG.uniform(-1, 1, s) for s in SHAPES]
STEPS = 50


def gradient(x, i):
    """A fixed, nonlinear gradient field: a quadratic bowl plus a ripple."""
    return SCALES[i] * (x - CENTERS[i]) + 0.3 * np.sin(3 * x)


def as_numpy(t):
    return t.detach().numpy()


def make_params(m, dtype=np.float64, arrays=STARTS):
    return [m.tensor(a.astype(dtype), requires_grad=True) for a in arrays]


def set_grads(m, params, step):
    """Gradients for every parameter except: the last one only gets one every other step."""
    for i, p in enumerate(params):
        if i == len(params) - 1 and step % 2 == 1:
            p.grad = None
            continue
        x = as_numpy(p)
        p.grad = m.tensor(gradient(x.astype(np.float64), i).astype(x.dtype))


def run(m, optim_module, name, kwargs, steps=STEPS, dtype=np.float64, groups=None):
    """Parameters after each step of `steps` steps, and the optimizer."""
    params = make_params(m, dtype)
    spec = params if groups is None else groups(params)
    opt = getattr(optim_module, name)(spec, **kwargs)
    history = []
    for step in range(steps):
        set_grads(m, params, step)
        opt.step()
        history.append([as_numpy(p).copy() for p in params])
    return history, opt, params


def assert_same_state(d_opt, t_opt, rtol):
    d_sd, t_sd = d_opt.state_dict(), t_opt.state_dict()
    assert d_sd["param_groups"] == t_sd["param_groups"]
    assert list(d_sd["state"]) == list(t_sd["state"])
    for index, t_state in t_sd["state"].items():
        d_state = d_sd["state"][index]
        assert list(d_state) == list(t_state)
        for key, t_value in t_state.items():
            d_value = d_state[key]
            if isinstance(t_value, torch.Tensor):
                assert isinstance(d_value, disttorch.Tensor), key
                assert str(d_value.dtype) == str(t_value.dtype), key
                assert tuple(d_value.shape) == tuple(t_value.shape), key
                np.testing.assert_allclose(as_numpy(d_value), t_value.numpy(), rtol=rtol,
                                           atol=1e-12, err_msg=key)
            else:
                assert d_value == t_value, key


OPTIMIZER_ROWS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.01, "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.05, "nesterov": True,
             "maximize": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "foreach": True}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "fused": True}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05, "amsgrad": True}),
    ("Adam", {"lr": 0.05, "maximize": True}),
    ("Adam", {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6}),
    ("Adam", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("Adam", {"lr": 0.05, "foreach": True}),
    ("Adam", {"lr": 0.05, "fused": True, "amsgrad": True}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05, "maximize": True}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.01, "maximize": True, "alpha": 0.9}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adagrad", {"lr": 0.1, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"lr": 0.1, "eps": 1e-5, "maximize": True}),
    ("Adagrad", {"lr": 0.1, "fused": True}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": True}),
    ("Adamax", {"lr": 0.05}),
    ("Adamax", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "maximize": True}),
    ("NAdam", {"lr": 0.05}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True,
               "maximize": True}),
    ("RAdam", {"lr": 0.05}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9)}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "maximize": True}),
    ("ASGD", {"lr": 0.05}),
    ("ASGD", {"lr": 0.05, "t0": 10, "lambd": 0.01, "weight_decay": 0.1}),
    ("ASGD", {"lr": 0.05, "t0": 5, "alpha": 0.5, "maximize": True}),
    ("Rprop", {}),
    ("Rprop", {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-3, 0.2)}),
    ("Rprop", {"lr": 0.05, "maximize": True}),
]


def _row_id(row):
    name, kwargs = row
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("row", OPTIMIZER_ROWS, ids=[_row_id(r) for r in OPTIMIZER_ROWS])
def test_trajectory_float64(row):
    name, kwargs = row
    t_hist, t_opt, _ = run(torch, torch.optim, name, kwargs)
    d_hist, d_opt, _ = run(disttorch, doptim, name, kwargs)
    for step, (d_params, t_params) in enumerate(zip(d_hist, t_hist)):
        for d, t in zip(d_params, t_params):
            np.testing.assert_allclose(d, t, rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step}")
    assert_same_state(d_opt, t_opt, rtol=1e-10)


FLOAT32_ROWS = [("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
                ("NAdam", {"lr": 0.05}),
                ("ASGD", {"lr": 0.05, "t0": 10}),
                ("Rprop", {"lr": 0.05}),
                ("Adam", {"lr": 0.05, "amsgrad": True}),
                ("AdamW", {"lr": 0.05}),
                ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                ("Adagrad", {"lr": 0.1, "lr_decay": 0.01})]


@pytest.mark.parametrize("row", FLOAT32_ROWS, ids=[_row_id(r) for r in FLOAT32_ROWS])
def test_trajectory_float32(row):
    name, kwargs = row
    t_hist, t_opt, t_params = run(torch, torch.optim, name, kwargs, dtype=np.float32)
    d_hist, d_opt, d_params = run(disttorch, doptim, name, kwargs, dtype=np.float32)
    for d, t in zip(d_hist[-1], t_hist[-1]):
        assert d.dtype == np.float32
        np.testing.assert_allclose(d, t, rtol=1e-4, atol=1e-5)
    assert_same_state(d_opt, t_opt, rtol=1e-3)


def _two_groups(params):
    return [{"params": params[:1], "lr": 0.02}, {"params": params[1:]}]


@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9}),
                                          ("Adam", {"lr": 0.05}),
                                          ("RMSprop", {"lr": 0.01, "momentum": 0.3})])
def test_param_groups_trajectory(name, kwargs):
    t_hist, t_opt, _ = run(torch, torch.optim, name, kwargs, steps=20, groups=_two_groups)
    d_hist, d_opt, _ = run(disttorch, doptim, name, kwargs, steps=20, groups=_two_groups)
    for d, t in zip(d_hist[-1], t_hist[-1]):
        np.testing.assert_allclose(d, t, rtol=1e-10, atol=1e-12)
    assert_same_state(d_opt, t_opt, rtol=1e-10)


def test_tensor_lr():
    t_hist, _, _ = run(torch, torch.optim, "SGD", {"lr": torch.tensor(0.05), "momentum": 0.9})
    d_hist, _, _ = run(disttorch, doptim, "SGD", {"lr": disttorch.tensor(0.05),
                                                   "momentum": 0.9})
    for d, t in zip(d_hist[-1], t_hist[-1]):
        np.testing.assert_allclose(d, t, rtol=1e-6)


def test_float64_default_dtype_step():
    torch.set_default_dtype(torch.float64)
    disttorch.set_default_dtype(disttorch.float64)
    try:
        _, t_opt, _ = run(torch, torch.optim, "Adam", {}, steps=2)
        _, d_opt, _ = run(disttorch, doptim, "Adam", {}, steps=2)
    finally:
        torch.set_default_dtype(torch.float32)
        disttorch.set_default_dtype(disttorch.float32)
    assert_same_state(d_opt, t_opt, rtol=1e-10)


# ---------------------------------------------------------------- state_dict round trip

ROUND_TRIP_ROWS = [("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
                   ("Adam", {"lr": 0.05, "amsgrad": True}),
                   ("AdamW", {"lr": 0.05}),
                   ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5}),
                   ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
                   ("Adadelta", {}), ("Adamax", {"lr": 0.05}), ("NAdam", {"lr": 0.05}),
                   ("RAdam", {"lr": 0.05}), ("ASGD", {"lr": 0.05, "t0": 10}),
                   ("Rprop", {"lr": 0.05})]


def round_trip(m, optim, name, kwargs):
    """15 steps, state_dict saved; a fresh optimizer loads it and makes 15 more steps."""
    params = make_params(m)
    opt = getattr(optim, name)(params, **kwargs)
    for step in range(15):
        set_grads(m, params, step)
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    values = [as_numpy(p).copy() for p in params]

    params = make_params(m, arrays=values)
    opt = getattr(optim, name)(params, **dict(kwargs, lr=0.5))  # the load restores lr
    opt.load_state_dict(saved)
    for step in range(15, 30):
        set_grads(m, params, step)
        opt.step()
    return [as_numpy(p).copy() for p in params]


@pytest.mark.parametrize("name, kwargs", ROUND_TRIP_ROWS)
def test_state_dict_round_trip(name, kwargs):
    straight, _, _ = run(disttorch, doptim, name, kwargs, steps=30)
    resumed = round_trip(disttorch, doptim, name, kwargs)
    torch_resumed = round_trip(torch, torch.optim, name, kwargs)
    for d, t, expected in zip(resumed, torch_resumed, straight[-1]):
        np.testing.assert_allclose(d, t, rtol=1e-10, atol=1e-12)
        if name not in ("NAdam", "ASGD"):
            np.testing.assert_array_equal(d, expected)
        # NAdam's mu_product and ASGD's eta and mu are float32 scalars that loading casts
        # to the parameters' float64, as in torch: the resumed run is not bit-identical


def test_load_state_dict_casts_to_param_dtype():
    params = make_params(disttorch)
    opt = doptim.Adam(params, lr=0.1)
    set_grads(disttorch, params, 0)
    opt.step()
    saved = copy.deepcopy(opt.state_dict())
    params32 = make_params(disttorch, np.float32)
    opt32 = doptim.Adam(params32, lr=0.1)
    opt32.load_state_dict(saved)
    state = opt32.state[params32[0]]
    assert state["exp_avg"].dtype == disttorch.float32
    assert state["step"].dtype == disttorch.float32  # step is never cast


def test_state_dict_shares_state_like_torch():
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1, momentum=0.9)
    set_grads(disttorch, params, 0)
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["momentum_buffer"] is opt.state[params[0]]["momentum_buffer"]
    assert sd["param_groups"][0] is not opt.param_groups[0]


def test_state_dict_keys_before_step_and_adagrad_eager_state():
    for name in ("SGD", "Adam", "Adagrad", "RMSprop"):
        t_opt = getattr(torch.optim, name)(make_params(torch))
        d_opt = getattr(doptim, name)(make_params(disttorch))
        assert_same_state(d_opt, t_opt, rtol=0)


@pytest.mark.parametrize("change, message", [
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])),
     "loaded state dict has a different number of parameter groups"),
    (lambda sd: sd["param_groups"][0]["params"].pop(),
     "loaded state dict contains a parameter group that doesn't match the size of "
     "optimizer's group"),
])
def test_load_state_dict_errors(change, message):
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        opt = optim.SGD(make_params(m), lr=0.1)
        sd = copy.deepcopy(opt.state_dict())
        change(sd)
        with pytest.raises(ValueError) as info:
            opt.load_state_dict(sd)
        assert str(info.value) == message


# ---------------------------------------------------------------- repr

REPR_ROWS = [("SGD", {}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
             ("Adam", {}), ("Adam", {"betas": (0.8, 0.99), "amsgrad": True}), ("AdamW", {}),
             ("RMSprop", {}), ("Adagrad", {}), ("LBFGS", {}), ("Adadelta", {}),
             ("Adamax", {}), ("NAdam", {}), ("RAdam", {}), ("ASGD", {}), ("Rprop", {}),
             ("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 5})]


@pytest.mark.parametrize("name, kwargs", REPR_ROWS)
def test_repr(name, kwargs):
    t_opt = getattr(torch.optim, name)(make_params(torch), **kwargs)
    d_opt = getattr(doptim, name)(make_params(disttorch), **kwargs)
    assert repr(d_opt) == repr(t_opt)


def test_repr_groups():
    t_opt = torch.optim.SGD(_two_groups(make_params(torch)), lr=0.1)
    d_opt = doptim.SGD(_two_groups(make_params(disttorch)), lr=0.1)
    assert repr(d_opt) == repr(t_opt)


# ---------------------------------------------------------------- errors

def _params(m):
    return make_params(m)


ERROR_ROWS = [
    lambda m, o: o.SGD(m.tensor(np.ones(3), requires_grad=True)),
    lambda m, o: o.SGD([]),
    lambda m, o: o.SGD([1.0]),
    lambda m, o: o.SGD([_params(m)[0] * 2]),
    lambda m, o: (lambda ps: o.SGD([{"params": ps[:1]}, {"params": ps[:1]}]))(_params(m)),
    lambda m, o: o.SGD(_params(m), lr=-1),
    lambda m, o: o.SGD(_params(m), momentum=-0.5),
    lambda m, o: o.SGD(_params(m), weight_decay=-1),
    lambda m, o: o.SGD(_params(m), nesterov=True),
    lambda m, o: o.SGD(_params(m), momentum=0.9, dampening=0.1, nesterov=True),
    lambda m, o: o.SGD(_params(m), fused=True, foreach=True),
    lambda m, o: o.SGD(_params(m), lr=m.tensor([0.1, 0.2])),
    lambda m, o: o.Adam(_params(m), lr=-1.0),
    lambda m, o: o.Adam(_params(m), eps=-1),
    lambda m, o: o.Adam(_params(m), betas=(1.0, 0.9)),
    lambda m, o: o.Adam(_params(m), betas=(0.9, -0.1)),
    lambda m, o: o.Adam(_params(m), betas=(0, 0.9)),
    lambda m, o: o.Adam(_params(m), weight_decay=-1),
    lambda m, o: o.Adam(_params(m), fused=True, foreach=True),
    lambda m, o: o.AdamW(_params(m), lr=-0.1),
    lambda m, o: o.RMSprop(_params(m), alpha=-1),
    lambda m, o: o.RMSprop(_params(m), momentum=-1),
    lambda m, o: o.RMSprop(_params(m), eps=-1),
    lambda m, o: o.Adagrad(_params(m), lr_decay=-1),
    lambda m, o: o.Adagrad(_params(m), initial_accumulator_value=-1),
    lambda m, o: o.LBFGS(_params(m), lr=-1),
    lambda m, o: o.Adadelta(_params(m), rho=1.5),
    lambda m, o: o.Adamax(_params(m), betas=(0.9, 1.0)),
    lambda m, o: o.NAdam(_params(m), momentum_decay=-1),
    lambda m, o: o.RAdam(_params(m), eps=-1e-8),
    lambda m, o: o.ASGD(_params(m), weight_decay=-1),
    lambda m, o: o.Rprop(_params(m), etas=(1.2, 0.5)),
    lambda m, o: o.LBFGS(_two_groups(_params(m))),
    lambda m, o: o.SGD(_params(m)).add_param_group(_params(m)),
    lambda m, o: o.SGD(_params(m)).add_param_group({"params": set(_params(m))}),
]


@pytest.mark.parametrize("index", range(len(ERROR_ROWS)))
def test_errors(index):
    fn = ERROR_ROWS[index]
    with pytest.raises(Exception) as t_info:
        fn(torch, torch.optim)
    with pytest.raises(Exception) as d_info:
        fn(disttorch, doptim)
    assert type(d_info.value) is type(t_info.value)
    assert str(d_info.value) == str(t_info.value)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam",
                                  "RAdam", "ASGD", "Rprop"])
def test_capturable_needs_an_accelerator(name):
    messages = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        params = make_params(m)
        set_grads(m, params, 0)
        with pytest.raises(AssertionError) as info:
            getattr(optim, name)(params, capturable=True).step()
        messages.append(str(info.value))
    assert messages[1] == messages[0]


def test_differentiable_is_refused():
    with pytest.raises(ValueError, match="differentiable=True"):
        doptim.SGD(_params(disttorch), differentiable=True)


# ---------------------------------------------------------------- zero_grad, closure, hooks

def test_zero_grad():
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1)
    set_grads(disttorch, params, 0)
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and not as_numpy(grad).any()
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_returns_closure_loss_with_grad_enabled():
    params = make_params(disttorch)
    opt = doptim.Adam(params)
    seen = []

    def closure():
        seen.append(disttorch.is_grad_enabled())
        set_grads(disttorch, params, 0)
        return 3.5

    assert opt.step(closure) == 3.5
    assert seen == [True]


def test_step_runs_without_grad():
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1)
    opt.register_step_pre_hook(lambda o, a, k: seen.append(disttorch.is_grad_enabled()))
    seen = []
    set_grads(disttorch, params, 0)
    opt.step()
    assert params[0].requires_grad and params[0].is_leaf and params[0].grad_fn is None


def test_version_counter_bumped():
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1)
    set_grads(disttorch, params, 0)
    before = params[0]._version_counter
    opt.step()
    assert params[0]._version_counter == before + 1


def test_step_hooks():
    calls = []
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1)
    pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o, args)))
    post = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o)))
    opt.step()
    assert [c[0] for c in calls] == ["pre", "post"]
    assert calls[0][1] is opt and calls[0][2] == (opt,)
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2


def test_global_step_hooks():
    from disttorch.optim import optimizer as doptimizer

    calls = []
    handle = doptimizer.register_optimizer_step_pre_hook(lambda o, a, k: calls.append(o))
    try:
        opt = doptim.Adam(make_params(disttorch))
        opt.step()
    finally:
        handle.remove()
    assert calls == [opt]


def test_state_dict_hooks():
    opt = doptim.SGD(make_params(disttorch), lr=0.1)
    order = []
    opt.register_state_dict_pre_hook(lambda o: order.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
    opt.register_load_state_dict_pre_hook(lambda o, sd: order.append("load_pre"))
    opt.register_load_state_dict_post_hook(lambda o: order.append("load_post"))
    sd = opt.state_dict()
    assert sd["extra"] == 1
    opt.load_state_dict(sd)
    assert order == ["pre", "load_pre", "load_post"]


def test_add_param_group_defaults():
    params = make_params(disttorch)
    opt = doptim.SGD(params[:1], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": params[1:], "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.01


def test_named_parameters():
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        params = make_params(m)
        opt = optim.SGD([("a", params[0]), ("b", params[1])], lr=0.1)
        sd = opt.state_dict()
        assert sd["param_groups"][0]["param_names"] == ["a", "b"]
        assert sd["param_groups"][0]["params"] == [0, 1]


# ---------------------------------------------------------------- LBFGS

def rosenbrock(x):
    """Value and gradient of the n-dimensional Rosenbrock function."""
    value = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    grad[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return value, grad


def run_lbfgs(m, optim, kwargs, outer_steps, start):
    x = m.tensor(start.copy(), requires_grad=True)
    y = m.tensor(np.array([0.5, -0.2], dtype=start.dtype), requires_grad=True)
    opt = optim.LBFGS([x, y], **kwargs)
    evaluations = []

    def closure():
        opt.zero_grad()
        value, grad = rosenbrock(np.concatenate([as_numpy(x), as_numpy(y)]))
        grad = grad.astype(start.dtype)
        x.grad = m.tensor(grad[:start.size])
        y.grad = m.tensor(grad[start.size:])
        evaluations.append(value)
        return m.tensor(np.asarray(value))  # a 0-d array keeps float64 in both

    history = []
    for _ in range(outer_steps):
        loss = opt.step(closure)
        history.append((float(loss), as_numpy(x).copy(), as_numpy(y).copy()))
    return history, evaluations, opt


LBFGS_ROWS = [
    {"lr": 1, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "line_search_fn": "strong_wolfe", "history_size": 3, "max_iter": 7},
    {"lr": 1, "line_search_fn": "strong_wolfe", "max_iter": 4, "max_eval": 6},
    {"lr": 0.002},
    {"lr": 0.001, "history_size": 2, "max_iter": 5},
]


@pytest.mark.parametrize("kwargs", LBFGS_ROWS)
def test_lbfgs_rosenbrock(kwargs):
    start = np.array([-1.2, 1.0, -0.5, 0.8])
    t_hist, t_evals, t_opt = run_lbfgs(torch, torch.optim, kwargs, 6, start)
    d_hist, d_evals, d_opt = run_lbfgs(disttorch, doptim, kwargs, 6, start)
    assert len(d_evals) == len(t_evals)
    # near the optimum the losses are tiny: compare them absolutely there
    np.testing.assert_allclose(d_evals, t_evals, rtol=1e-9, atol=1e-10)
    for (d_loss, dx, dy), (t_loss, tx, ty) in zip(d_hist, t_hist):
        np.testing.assert_allclose(d_loss, t_loss, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(dx, tx, rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(dy, ty, rtol=1e-9, atol=1e-10)
    t_state = t_opt.state_dict()["state"][0]
    d_state = d_opt.state_dict()["state"][0]
    assert list(d_state) == list(t_state)
    assert d_state["func_evals"] == t_state["func_evals"]
    assert d_state["n_iter"] == t_state["n_iter"]
    assert len(d_state["old_dirs"]) == len(t_state["old_dirs"])


def test_lbfgs_converges_and_stops_at_tolerance():
    start = np.array([-1.2, 1.0, -0.5, 0.8])
    hist, _, opt = run_lbfgs(disttorch, doptim, {"line_search_fn": "strong_wolfe"}, 10, start)
    np.testing.assert_allclose(hist[-1][1], 1.0, atol=1e-5)


def test_lbfgs_float32():
    start = np.array([-1.2, 1.0, -0.5, 0.8], dtype=np.float32)
    kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 5}
    t_hist, _, _ = run_lbfgs(torch, torch.optim, kwargs, 2, start)
    d_hist, _, _ = run_lbfgs(disttorch, doptim, kwargs, 2, start)
    np.testing.assert_allclose(d_hist[-1][1], t_hist[-1][1], rtol=1e-3, atol=1e-4)


def test_lbfgs_state_dict_round_trip():
    start = np.array([-1.2, 1.0, -0.5, 0.8])
    kwargs = {"line_search_fn": "strong_wolfe", "max_iter": 3}
    straight, _, _ = run_lbfgs(disttorch, doptim, kwargs, 4, start)
    first, _, opt = run_lbfgs(disttorch, doptim, kwargs, 2, start)
    saved = copy.deepcopy(opt.state_dict())

    x = disttorch.tensor(first[-1][1].copy(), requires_grad=True)
    y = disttorch.tensor(first[-1][2].copy(), requires_grad=True)
    opt = doptim.LBFGS([x, y], **kwargs)
    opt.load_state_dict(saved)

    def closure():
        opt.zero_grad()
        value, grad = rosenbrock(np.concatenate([as_numpy(x), as_numpy(y)]))
        x.grad = disttorch.tensor(grad[:4])
        y.grad = disttorch.tensor(grad[4:])
        return disttorch.tensor(np.asarray(value))

    for _ in range(2):
        opt.step(closure)
    np.testing.assert_allclose(as_numpy(x), straight[-1][1], rtol=0, atol=0)


def test_lbfgs_unknown_line_search():
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        x = m.tensor(np.array([1.0, 2.0]), requires_grad=True)
        opt = optim.LBFGS([x], line_search_fn="wolfe")

        def closure():
            x.grad = m.tensor(np.array([1.0, 1.0]))
            return m.tensor(1.0)

        with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
            opt.step(closure)


def test_load_old_state_dict_with_number_step():
    """States saved by old versions keep `step` as a number: loading makes it a tensor."""
    results = []
    for m, optim in ((torch, torch.optim), (disttorch, doptim)):
        params = make_params(m)
        opt = optim.Adam(params, lr=0.05)
        for step in range(3):
            set_grads(m, params, step)
            opt.step()
        saved = copy.deepcopy(opt.state_dict())
        for state in saved["state"].values():
            state["step"] = float(state["step"])
        opt = optim.Adam(params, lr=0.05)
        opt.load_state_dict(saved)
        step_t = opt.state[params[0]]["step"]
        assert isinstance(step_t, m.Tensor) and str(step_t.dtype) == "torch.float32"
        set_grads(m, params, 3)
        opt.step()
        results.append(as_numpy(params[0]).copy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-10)


def test_deepcopy_optimizer():
    params = make_params(disttorch)
    opt = doptim.SGD(params, lr=0.1, momentum=0.9)
    set_grads(disttorch, params, 0)
    opt.step()
    clone = copy.deepcopy(opt)
    assert clone.param_groups[0]["params"][0] is not params[0]
    clone_buf = clone.state[clone.param_groups[0]["params"][0]]["momentum_buffer"]
    np.testing.assert_array_equal(as_numpy(clone_buf),
                                  as_numpy(opt.state[params[0]]["momentum_buffer"]))
    assert repr(clone) == repr(opt)

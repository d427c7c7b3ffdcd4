"""nn activations against torch: functional values, dtypes, gradients (first and second order),
node names, integer/bool refusals, in-place forms, softmax family, prelu, glu, and the
activation Modules' outputs and repr strings."""

import warnings

import numpy as np
import pytest
import torch
from oracle import arr, check, check_error, gradcheck_op

import disttorch

# torch's thread pool only slows these tiny oracle computations down (and spins on a
# busy machine)
torch.set_num_threads(1)
F_T = torch.nn.functional
F_D = disttorch.nn.functional


def fn(m):
    """nn.functional of a module (torch or disttorch)."""
    return F_T if m is torch else F_D


def activate(m, name, args, t):
    """F.<name>(t, *args), or with keyword arguments when args is a dict."""
    if isinstance(args, dict):
        return getattr(fn(m), name)(t, **args)
    return getattr(fn(m), name)(t, *args)


# name, extra args, input domain; every row runs values, grads, gradcheck and node checks
ACTIVATIONS = [
    ("relu", (), (-2, 2)),
    ("relu6", (), (-8, 8)),
    ("leaky_relu", (), (-2, 2)),
    ("leaky_relu", (0.2,), (-2, 2)),
    ("elu", (), (-3, 3)),
    ("elu", (0.5,), (-3, 3)),
    ("selu", (), (-3, 3)),
    ("celu", (), (-3, 3)),
    ("celu", (2.0,), (-3, 3)),
    ("gelu", (), (-3, 3)),
    ("gelu", {"approximate": "tanh"}, (-3, 3)),
    ("silu", (), (-4, 4)),
    ("mish", (), (-4, 4)),
    ("softplus", (), (-4, 4)),
    ("softplus", (2.0, 3.0), (-4, 4)),
    ("softsign", (), (-3, 3)),
    ("tanhshrink", (), (-3, 3)),
    ("hardtanh", (), (-2, 2)),
    ("hardtanh", (-0.5, 1.5), (-2, 2)),
    ("hardsigmoid", (), (-5, 5)),
    ("hardswish", (), (-5, 5)),
    ("logsigmoid", (), (-4, 4)),
    ("sigmoid", (), (-4, 4)),
    ("tanh", (), (-3, 3)),
    ("threshold", (0.1, 20.0), (-2, 2)),
    ("hardshrink", (), (-2, 2)),
    ("hardshrink", (1.0,), (-2, 2)),
    ("softshrink", (), (-2, 2)),
    ("softshrink", (0.3,), (-2, 2)),
]
# not differentiable twice at the kinks in a way gradgradcheck can see: skip those
SMOOTH = {"elu", "selu", "celu", "gelu", "silu", "mish", "softplus", "softsign", "tanhshrink",
          "logsigmoid", "sigmoid", "tanh", "hardswish"}
IDS = [f"{name}{args}" for name, args, _ in ACTIVATIONS]


def _kinks(name, args):
    """The points where a piecewise activation has no derivative."""
    if name in ("relu", "leaky_relu", "elu", "selu", "celu"):
        return [0]
    if name == "relu6":
        return [0, 6]
    if name == "hardtanh":
        return list(args or (-1, 1))
    if name in ("hardsigmoid", "hardswish"):
        return [-3, 3]
    if name == "threshold":
        return [args[0]]
    if name in ("hardshrink", "softshrink"):
        lambd = args[0] if args else 0.5
        return [-lambd, lambd]
    return []


def _away_from_kinks(x, name, args):
    """Nudge values off the kinks, where finite differences are meaningless."""
    for k in _kinks(name, args):
        x[np.abs(x - k) < 0.05] += 0.1
    return x


@pytest.mark.parametrize("name,args,domain", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activation_values_grads(name, args, domain, dtype):
    x = _away_from_kinks(arr(4, 5, dtype=dtype, low=domain[0], high=domain[1]), name, args)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float64" else dict(rtol=1e-5, atol=2e-6)
    out = check(lambda m, t: activate(m, name, args, t), x, **tol)
    expected = activate(torch, name, args, torch.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__


@pytest.mark.parametrize("name,args,domain", ACTIVATIONS, ids=IDS)
def test_activation_gradcheck(name, args, domain):
    x = _away_from_kinks(arr(6, low=domain[0], high=domain[1]), name, args)
    gradcheck_op(lambda m, t: activate(m, name, args, t), x, gradgrad=name in SMOOTH)


def test_extreme_values_stay_finite():
    x = np.array([-1000.0, -50.0, -20.0, 0.0, 20.0, 50.0, 1000.0])
    for name in ("softplus", "logsigmoid", "silu", "mish", "elu", "selu", "celu", "gelu",
                 "sigmoid"):
        for dtype in ("float32", "float64"):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                check(lambda m, t: getattr(fn(m), name)(t), x.astype(dtype), rtol=1e-5,
                      atol=1e-6)


@pytest.mark.parametrize("name,args", [("relu", ()), ("relu6", ()), ("hardtanh", ()),
                                       ("hardtanh", (-2, 3)), ("threshold", (2, 20)),
                                       ("threshold", (2.5, 20.5))])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_integer_inputs_keep_dtype(name, args, dtype):
    x = arr(3, 4, dtype=dtype, low=-4, high=8)
    if dtype == "uint8" and name == "hardtanh":  # torch refuses negative limits there
        check_error(lambda m, t: activate(m, name, args, t), x, match="same")
        return
    check(lambda m, t: activate(m, name, args, t), x, grad=False)


NO_INT = ["leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
          "hardsigmoid", "hardswish", "logsigmoid", "glu", "hardshrink", "softshrink"]


@pytest.mark.parametrize("name", NO_INT + ["relu", "relu6", "hardtanh", "softsign",
                                           "tanhshrink"])
@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_bool_refusals(name, dtype):
    x = arr(3, 4, dtype=dtype)
    if name in ("relu", "relu6", "hardtanh", "softsign", "tanhshrink") and dtype == "int64":
        check(lambda m, t: getattr(fn(m), name)(t), x, grad=False)
        return
    check_error(lambda m, t: getattr(fn(m), name)(t), x, match="same")


def test_threshold_and_softmax_refusals():
    check_error(lambda m, t: fn(m).threshold(t, 0.5, 1), arr(3, dtype="bool"), match="same")
    for dim in (0, 1):
        check_error(lambda m, t: fn(m).softmax(t, dim), arr(2, 3, dtype="int64"), match="same")
        check_error(lambda m, t: fn(m).log_softmax(t, dim), arr(2, 3, dtype="int64"),
                    match="same")


@pytest.mark.parametrize("call", [
    lambda m, t: fn(m).gelu(t, approximate="foo"),
    lambda m, t: fn(m).hardtanh(t, 2.0, 1.0),
    lambda m, t: fn(m).celu(t, 0.0),
    lambda m, t: fn(m).softshrink(t, -1.0),
    lambda m, t: fn(m).glu(t[:, :3]),
    lambda m, t: fn(m).glu(t[0, 0]),
    lambda m, t: fn(m).prelu(t, m.ones(3)),
    lambda m, t: fn(m).prelu(t, m.ones(1, dtype=m.float64)),
    lambda m, t: fn(m).softmax(t, 2),
    lambda m, t: m.relu(3),
    lambda m, t: fn(m).relu(t.requires_grad_(), inplace=True),
    lambda m, t: fn(m).elu(t.requires_grad_(), inplace=True),
])
def test_errors(call):
    check_error(call, arr(3, 4, dtype="float32"), match="same")


INPLACE = [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
           ("selu", {}), ("celu", {}), ("silu", {}), ("mish", {}), ("hardtanh", {}),
           ("hardsigmoid", {}), ("hardswish", {})]


@pytest.mark.parametrize("name,kwargs", INPLACE)
def test_inplace_functional(name, kwargs):
    x = arr(3, 4, low=-3, high=3)

    def run(m, t):
        y = t * 1
        out = getattr(fn(m), name)(y, inplace=True, **kwargs)
        assert out is y
        return out

    out = check(run, x)
    expected = run(torch, torch.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__
    gradcheck_op(run, arr(5, low=-3, high=3))


@pytest.mark.parametrize("call", [
    lambda m, t: m.relu_(t * 1), lambda m, t: t.mul(1).relu_(), lambda m, t: m.relu(t),
    lambda m, t: t.relu(), lambda m, t: m.selu_(t * 1), lambda m, t: m.celu_(t * 1, 1.5),
    lambda m, t: m.threshold_(t * 1, 0.2, 5.0), lambda m, t: m.threshold(t, 0.2, 5.0),
    lambda m, t: fn(m).threshold(t * 1, 0.2, 5.0, True), lambda m, t: fn(m).elu_(t * 1),
    lambda m, t: fn(m).leaky_relu_(t * 1, 0.3), lambda m, t: fn(m).hardtanh_(t * 1, -0.5, 0.5),
    lambda m, t: m.selu(t), lambda m, t: m.celu(t, 0.7), lambda m, t: m.hardshrink(t, 0.3),
    lambda m, t: t.hardshrink(0.3),
])
def test_top_level_and_methods(call):
    x = arr(3, 4, low=-3, high=3)
    out = check(call, x)
    expected = call(torch, torch.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__


def test_half_precision():
    x = arr(3, 4, dtype="float16")
    for name in ("relu", "gelu", "silu", "softplus", "elu", "hardswish"):
        check(lambda m, t: getattr(fn(m), name)(t), x, grad=False, rtol=2e-3, atol=2e-3)
    check(lambda m, t: m.softmax(t, 1), x, grad=False, rtol=2e-3, atol=2e-3)


# ---------------------------------------------------------------- softmax family

SOFTMAX_SHAPES = [((4, 5), 1), ((4, 5), 0), ((4, 5), -1), ((2, 3, 4), 1), ((2, 3, 4), -1),
                  ((5,), 0), ((), 0), ((0, 3), 1), ((3, 0), 1)]


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", SOFTMAX_SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_family(name, shape, dim, dtype):
    x = arr(*shape, dtype=dtype, low=-5, high=5)
    out = check(lambda m, t: getattr(fn(m), name)(t, dim), x)
    if out.numel():
        gradcheck_op(lambda m, t: getattr(fn(m), name)(t, dim), x.astype("float64"),
                     gradgrad=len(shape) <= 2 and x.size <= 20)


@pytest.mark.parametrize("call", [
    lambda m, t: m.softmax(t, 1), lambda m, t: t.softmax(0), lambda m, t: m.log_softmax(t, 1),
    lambda m, t: t.log_softmax(-1), lambda m, t: m.softmax(t, 1, m.float64),
    lambda m, t: t.softmax(1, dtype=m.float64), lambda m, t: fn(m).softmax(t, 1, dtype=m.float64),
    lambda m, t: fn(m).log_softmax(t, 0, dtype=m.float64),
    lambda m, t: fn(m).softmin(t, 1, dtype=m.float64),
])
def test_softmax_spellings(call):
    x = arr(3, 4, dtype="float32", low=-3, high=3)
    out = check(call, x)
    expected = call(torch, torch.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__


def test_softmax_stable_for_large_logits():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1000.0, -1000.0]])
    for name in ("softmax", "log_softmax"):
        check(lambda m, t: getattr(fn(m), name)(t, 1), x)
        check(lambda m, t: getattr(fn(m), name)(t, 1), x.astype("float32"))
    inf = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, 2.0]])
    check(lambda m, t: fn(m).softmax(t, 1), inf, grad=False)
    check(lambda m, t: fn(m).log_softmax(t, 1), inf, grad=False)


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_implicit_dim(shape):
    x = arr(*shape, dtype="float32")
    for name in ("softmax", "log_softmax", "softmin"):
        with pytest.warns(UserWarning, match="Implicit dimension choice for " + name):
            out = getattr(F_D, name)(disttorch.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = getattr(F_T, name)(torch.tensor(x))
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- prelu, glu


@pytest.mark.parametrize("xshape,wshape", [((3, 4), (1,)), ((3, 4), (4,)), ((2, 3, 5), (3,)),
                                           ((2, 3, 4, 4), (3,)), ((5,), (1,)), ((), (1,)),
                                           ((3, 4), ())])
def test_prelu(xshape, wshape):
    x, w = arr(*xshape), arr(*wshape, low=0.05, high=0.5)
    out = check(lambda m, t, u: fn(m).prelu(t, u), x, w)
    assert out.grad_fn.name() == "PreluKernelBackward0"
    check(lambda m, t, u: t.prelu(u), x, w)
    check(lambda m, t, u: m.prelu(t, u), x.astype("float32"), w.astype("float32"))
    gradcheck_op(lambda m, t, u: fn(m).prelu(t, u), x, w)


@pytest.mark.parametrize("shape,dim", [((4, 6), -1), ((4, 6), 0), ((2, 4, 3), 1), ((6,), 0)])
def test_glu(shape, dim):
    x = arr(*shape)
    out = check(lambda m, t: fn(m).glu(t, dim), x)
    assert out.grad_fn.name() == "GluBackward0"
    gradcheck_op(lambda m, t: fn(m).glu(t, dim), x, gradgrad=True)


# ---------------------------------------------------------------- modules

MODULES = [
    "ReLU()", "ReLU(True)", "ReLU6()", "ReLU6(inplace=True)", "LeakyReLU()",
    "LeakyReLU(0.2, True)", "LeakyReLU(negative_slope=0.05)", "ELU()", "ELU(0.5, True)",
    "SELU()", "SELU(True)", "CELU()", "CELU(2.0, True)", "GELU()", "GELU('tanh')",
    "GELU(approximate='tanh')", "SiLU()", "SiLU(True)", "Mish()", "Mish(True)", "Softplus()",
    "Softplus(2, 10)", "Softplus(beta=0.5, threshold=5.0)", "Softsign()", "Tanhshrink()",
    "Hardtanh()", "Hardtanh(-2, 3, True)", "Hardtanh(-2.5, 3.5)", "Hardsigmoid()",
    "Hardsigmoid(True)", "Hardswish()", "Hardswish(True)", "LogSigmoid()", "Sigmoid()",
    "Tanh()", "Softmax(1)", "Softmax(dim=-1)", "LogSoftmax(1)", "Softmin(0)", "Softmax2d()",
    "GLU()", "GLU(1)", "Threshold(0.1, 20)", "Threshold(0.1, 20, True)", "Hardshrink()",
    "Hardshrink(1)", "Softshrink()", "Softshrink(0.2)", "PReLU()", "PReLU(3, 0.1)",
    "RReLU().eval()", "RReLU(0.1, 0.3, True).eval()",
]


@pytest.mark.parametrize("spec", MODULES)
def test_module_repr_and_output(spec):
    t_mod = eval("torch.nn." + spec)
    d_mod = eval("disttorch.nn." + spec)
    assert repr(d_mod) == repr(t_mod)
    shape = (2, 3, 4, 4) if "Softmax2d" in spec else (4, 6) if "GLU" in spec else (4, 3)
    x = arr(*shape, low=-3, high=3, dtype="float32")

    def run(m, t):
        module = t_mod if m is torch else d_mod
        return module(t * 1)  # a non-leaf, so in-place modules may write into it

    check(run, x)
    assert [n for n, _ in d_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    for (_, p), (_, q) in zip(d_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy())


def test_module_softmax_without_dim_and_softmax2d_errors():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        disttorch.nn.Softmax()(disttorch.ones(2, 3))
    assert repr(disttorch.nn.Softmax()) == "Softmax(dim=None)"
    check_error(lambda m, t: m.nn.Softmax2d()(t), arr(3, 4), match="same")
    with pytest.raises(AssertionError):
        disttorch.nn.Hardtanh(1.0, 0.5)


def test_rrelu():
    x = arr(4, 5)
    for args in ((), (0.2, 0.4)):
        out = check(lambda m, t: fn(m).rrelu(t, *args), x)  # eval: the mean slope
        assert out.grad_fn.name() == "RreluWithNoiseBackward0"
        check(lambda m, t: m.rrelu(t, *args), x)
        check(lambda m, t: fn(m).rrelu(t * 1, *args, inplace=True), x)
        gradcheck_op(lambda m, t: fn(m).rrelu(t, *args), x)
    disttorch.manual_seed(0)
    t = disttorch.tensor(-np.abs(x) - 0.1, requires_grad=True)
    y = F_D.rrelu(t, 0.1, 0.3, training=True)
    slopes = (y / t).detach().numpy()
    assert (slopes >= 0.1).all() and (slopes <= 0.3).all() and slopes.std() > 0.01
    y.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), slopes, rtol=1e-6)
    gen = disttorch.Generator().manual_seed(2)
    a = disttorch.rrelu(t.detach(), 0.1, 0.3, True, gen)
    gen.manual_seed(2)
    assert disttorch.equal(a, disttorch.rrelu(t.detach(), 0.1, 0.3, True, gen))
    check_error(lambda m, v: fn(m).rrelu(v, 0.5, 0.2), x, match="same")
    check_error(lambda m, v: fn(m).rrelu(v), arr(3, dtype="int64"), match="same")
    assert repr(disttorch.nn.RReLU(0.1, 0.3, True)) == repr(torch.nn.RReLU(0.1, 0.3, True))

"""Elementwise arithmetic and math against torch: values, dtypes, gradients, node names,
integer/bool/half inputs, broadcasting, operators, in-place forms and errors."""

import math

import numpy as np
import pytest
import torch
from oracle import arr, assert_same, check, check_error, gradcheck_op

import disttorch

# ---------------------------------------------------------------- unary math

# name, input domain (low, high)
UNARY = [
    ("sqrt", (0.1, 3)), ("rsqrt", (0.1, 3)), ("reciprocal", (0.2, 3)), ("exp", (-2, 2)),
    ("exp2", (-2, 2)), ("expm1", (-2, 2)), ("log", (0.1, 3)), ("log1p", (-0.5, 3)),
    ("log2", (0.1, 3)), ("log10", (0.1, 3)), ("sin", (-3, 3)), ("cos", (-3, 3)),
    ("tan", (-1.2, 1.2)), ("asin", (-0.9, 0.9)), ("acos", (-0.9, 0.9)), ("atan", (-3, 3)),
    ("sinh", (-2, 2)), ("cosh", (-2, 2)), ("tanh", (-2, 2)), ("asinh", (-3, 3)),
    ("acosh", (1.1, 3)), ("atanh", (-0.9, 0.9)), ("sigmoid", (-4, 4)), ("erf", (-3, 3)),
    ("erfc", (-3, 3)), ("erfinv", (-0.95, 0.95)), ("deg2rad", (-3, 3)), ("rad2deg", (-3, 3)),
    ("sinc", (-2, 2)), ("logit", (0.05, 0.95)), ("abs", (-2, 2)), ("absolute", (-2, 2)),
    ("square", (-2, 2)), ("neg", (-2, 2)), ("negative", (-2, 2)), ("frac", (-3, 3)),
    ("arcsin", (-0.9, 0.9)), ("arccos", (-0.9, 0.9)), ("arctan", (-2, 2)),
    ("arcsinh", (-2, 2)), ("arccosh", (1.1, 3)), ("arctanh", (-0.9, 0.9)),
]
# zero derivative almost everywhere (gradcheck is trivial, values and node names still checked)
PIECEWISE = [("ceil", (-3, 3)), ("floor", (-3, 3)), ("round", (-3, 3)), ("trunc", (-3, 3)),
             ("fix", (-3, 3)), ("sign", (-3, 3)), ("sgn", (-3, 3))]
FLOAT_ONLY = {"sqrt", "rsqrt", "reciprocal", "exp", "exp2", "expm1", "log", "log1p", "log2",
              "log10", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
              "asinh", "acosh", "atanh", "sigmoid", "erf", "erfc", "erfinv", "deg2rad",
              "rad2deg", "sinc", "logit", "arcsin", "arccos", "arctan", "arcsinh", "arccosh",
              "arctanh"}


def version(t):
    """The version counter (an int in torch, a one-element list box in disttorch)."""
    v = t._version
    return v if isinstance(v, int) else v[0]


def _node(out):
    fn = out.grad_fn
    return None if fn is None else fn.name()


def same_node(fn, *inputs):
    """The grad_fn name of fn's output is torch's."""
    outs = []
    for m in (torch, disttorch):
        args = [m.tensor(a.copy(), requires_grad=a.dtype.kind == "f") if isinstance(
            a, np.ndarray) else a for a in inputs]
        outs.append(_node(fn(m, *args)))
    assert outs[1] == outs[0], f"node {outs[1]} != torch's {outs[0]}"


@pytest.mark.parametrize("name,domain", UNARY + PIECEWISE)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_values_and_grads(name, domain, dtype):
    x = arr(3, 4, dtype=dtype, low=domain[0], high=domain[1])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float64" else dict(rtol=2e-5, atol=2e-6)
    grad = name != "sgn"  # torch's sgn gradient is a ZeroTensor the harness cannot read
    check(lambda m, t: getattr(m, name)(t), x, grad=grad, **tol)
    check(lambda m, t: getattr(t, name)(), x, grad=grad, **tol)
    same_node(lambda m, t: getattr(m, name)(t), x)


@pytest.mark.parametrize("name,domain", UNARY)
def test_unary_gradcheck(name, domain):
    x = arr(5, low=domain[0], high=domain[1])
    gradgrad = name in ("exp", "tanh", "sigmoid", "sqrt", "log", "sin", "erf", "reciprocal",
                        "atan", "rsqrt", "asin", "erfinv", "logit", "sinc", "abs")
    gradcheck_op(lambda m, t: getattr(m, name)(t), x, gradgrad=gradgrad)


@pytest.mark.parametrize("name,domain", UNARY + PIECEWISE)
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool"])
def test_unary_integer_inputs(name, domain, dtype):
    x = arr(7, dtype=dtype, low=-3, high=3)

    def fn(m, t):
        return getattr(m, name)(t)

    t_err = None
    try:
        fn(torch, torch.tensor(x))
    except Exception as e:  # noqa: BLE001 - torch decides what is allowed
        t_err = e
    if t_err is not None:
        check_error(fn, x, match="same")
    else:
        check(fn, x, grad=False, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,domain", UNARY + PIECEWISE)
@pytest.mark.parametrize("half", ["float16", "bfloat16"])
def test_unary_half_precision(name, domain, half):
    x = arr(9, dtype="float32", low=domain[0], high=domain[1])
    outs = []
    for m in (torch, disttorch):
        out = getattr(m, name)(m.tensor(x).to(getattr(m, half)))
        outs.append((str(out.dtype), out.float().numpy()))
    assert outs[1][0] == outs[0][0]
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-2, atol=1e-2, equal_nan=True)


@pytest.mark.parametrize("name", ["erf", "erfc", "erfinv", "sigmoid", "exp", "log", "sqrt",
                                  "tanh", "sinc", "logit", "sign", "abs", "reciprocal",
                                  "nan_to_num", "frac", "rsqrt", "expm1", "log1p"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_unary_special_values(name, dtype):
    values = np.array([0.0, -0.0, 1.0, -1.0, 1 - 1e-12, -1 + 1e-9, 0.5, 2.5, -2.5, 6.0, -9.0,
                       30.0, 1e-30, np.inf, -np.inf, np.nan], dtype=dtype)
    check(lambda m, t: getattr(m, name)(t), values, grad=False, rtol=1e-5, atol=1e-12)


def test_erf_family_precision():
    x = np.linspace(-6, 6, 241)
    check(lambda m, t: m.erf(t), x, rtol=1e-13, atol=1e-15)
    check(lambda m, t: m.erfc(t), x, rtol=1e-12, atol=1e-300)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 101), [1 - 1e-15, -1 + 1e-15]])
    check(lambda m, t: m.erfinv(t), y, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("fn", [
    lambda m, t: m.round(t, decimals=2), lambda m, t: m.round(t * 100, decimals=-1),
    lambda m, t: m.round(t), lambda m, t: t.round(decimals=1),
    lambda m, t: m.nan_to_num(t / 0, posinf=1e30, neginf=-2.0),
    lambda m, t: m.nan_to_num(t / 0, nan=1.5, posinf=3.0),
    lambda m, t: m.nan_to_num(m.log(t), neginf=-7.0), lambda m, t: m.logit(t, eps=0.2),
    lambda m, t: m.logit(t), lambda m, t: t.sign(), lambda m, t: m.signbit(t - 0.5),
    lambda m, t: m.positive(t), lambda m, t: +t, lambda m, t: abs(t), lambda m, t: -t,
])
def test_unary_options(fn):
    check(fn, np.array([-0.25, 0.0, 0.125, 0.5, 0.75, 1.0, 1.5, 2.675, 2.5, -1.5]))


def test_unary_option_node_names():
    x = arr(4, low=0.1, high=0.9)
    for fn in (lambda m, t: m.round(t, decimals=0), lambda m, t: m.round(t),
               lambda m, t: m.nan_to_num(t), lambda m, t: m.logit(t, 0.1),
               lambda m, t: m.square(t)):
        same_node(fn, x)
    gradcheck_op(lambda m, t: m.nan_to_num(t), arr(4))
    gradcheck_op(lambda m, t: m.logit(t, eps=0.05), arr(4, low=0.1, high=0.9), gradgrad=True)


# ---------------------------------------------------------------- binary arithmetic

POS = dict(low=0.5, high=2.0)
BINARY = [
    ("add", lambda m, x, y: m.add(x, y), {}),
    ("add_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), {}),
    ("sub", lambda m, x, y: m.sub(x, y), {}),
    ("sub_alpha", lambda m, x, y: m.subtract(x, y, alpha=-3), {}),
    ("rsub", lambda m, x, y: m.rsub(x, y, alpha=2), {}),
    ("mul", lambda m, x, y: m.mul(x, y), {}),
    ("multiply", lambda m, x, y: m.multiply(x, y), {}),
    ("div", lambda m, x, y: m.div(x, y), POS),
    ("divide", lambda m, x, y: m.divide(x, y), POS),
    ("true_divide", lambda m, x, y: m.true_divide(x, y), POS),
    ("div_floor", lambda m, x, y: m.div(x, y, rounding_mode="floor"), POS),
    ("div_trunc", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), POS),
    ("remainder", lambda m, x, y: m.remainder(x, y), POS),
    ("fmod", lambda m, x, y: m.fmod(x, y), POS),
    ("pow", lambda m, x, y: m.pow(x.abs() + 0.5, y), {}),
    ("float_power", lambda m, x, y: m.float_power(x.abs() + 0.5, y), {}),
    ("atan2", lambda m, x, y: m.atan2(x, y), {}),
    ("arctan2", lambda m, x, y: m.arctan2(x, y), {}),
    ("hypot", lambda m, x, y: m.hypot(x, y), {}),
    ("logaddexp", lambda m, x, y: m.logaddexp(x, y), {}),
    ("logaddexp2", lambda m, x, y: m.logaddexp2(x, y), {}),
    ("xlogy", lambda m, x, y: m.xlogy(x, y), POS),
    ("copysign", lambda m, x, y: m.copysign(x, y), {}),
    ("minimum", lambda m, x, y: m.minimum(x, y), {}),
    ("maximum", lambda m, x, y: m.maximum(x, y), {}),
    ("fmin", lambda m, x, y: m.fmin(x, y), {}),
    ("fmax", lambda m, x, y: m.fmax(x, y), {}),
    ("lerp", lambda m, x, y: m.lerp(x, y, 0.3), {}),
    ("lerp_tensor", lambda m, x, y: m.lerp(x, y, y.sigmoid()), {}),
    ("addcmul", lambda m, x, y: m.addcmul(x, x, y, value=0.5), {}),
    ("addcdiv", lambda m, x, y: m.addcdiv(x, x, y, value=-2), POS),
]
BINARY_IDS = [row[0] for row in BINARY]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((5,), ())]


@pytest.mark.parametrize("name,fn,domain", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("shapes", SHAPES)
def test_binary_values_and_grads(name, fn, domain, shapes):
    a = arr(*shapes[0], **domain)
    b = arr(*shapes[1], **domain)
    check(fn, a, b)
    same_node(fn, a, b)


@pytest.mark.parametrize("name,fn,domain", BINARY, ids=BINARY_IDS)
def test_binary_gradcheck(name, fn, domain):
    # (gradgradcheck needs every first derivative to depend on the inputs)
    gradgrad = name in ("mul", "div", "pow", "atan2", "hypot", "logaddexp", "xlogy",
                        "float_power", "lerp_tensor", "addcdiv")
    gradcheck_op(fn, arr(2, 3, **domain), arr(3, **domain), gradgrad=gradgrad)


@pytest.mark.parametrize("name,fn,domain", BINARY, ids=BINARY_IDS)
@pytest.mark.parametrize("dtypes", [("float32", "float64"), ("int64", "float32"),
                                    ("int32", "int64"), ("uint8", "int8"), ("bool", "bool"),
                                    ("bool", "int16"), ("float32", "float32")])
def test_binary_dtypes(name, fn, domain, dtypes):
    if name in ("pow", "float_power"):
        fn = (lambda m, x, y: m.pow(x, y)) if name == "pow" else (
            lambda m, x, y: m.float_power(x, y))
    low, high = (1, 3) if domain else (-3, 3)
    a = arr(2, 3, dtype=dtypes[0], low=low, high=high)
    b = arr(3, dtype=dtypes[1], low=low, high=high)
    try:
        fn(torch, torch.tensor(a), torch.tensor(b))
    except Exception:  # noqa: BLE001 - torch decides what is allowed
        check_error(fn, a, b, match="same")
        return
    check(fn, a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("half", ["float16", "bfloat16"])
@pytest.mark.parametrize("name,fn,domain", BINARY, ids=BINARY_IDS)
def test_binary_half_precision(half, name, fn, domain):
    a, b = arr(2, 3, dtype="float32", **domain), arr(3, dtype="float32", **domain)
    outs = []
    for m in (torch, disttorch):
        dt = getattr(m, half)
        try:
            out = fn(m, m.tensor(a).to(dt), m.tensor(b).to(dt))
        except Exception as e:  # noqa: BLE001
            outs.append((type(e).__name__, str(e)))
            continue
        outs.append((str(out.dtype), out.float().numpy()))
    assert outs[1][0] == outs[0][0]
    if isinstance(outs[0][1], np.ndarray):
        np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=2e-2, atol=2e-2)
    else:
        assert outs[1][1] == outs[0][1]


def test_integer_division_family():
    a = np.array([-7, -6, -1, 0, 1, 5, 7, 9])
    b = np.array([2, -2, 3, -3, 4, -4, 2, 5])
    for fn in (lambda m, x, y: x // y, lambda m, x, y: x % y, lambda m, x, y: m.fmod(x, y),
               lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
               lambda m, x, y: m.div(x, y, rounding_mode="floor"), lambda m, x, y: x / y,
               lambda m, x, y: m.floor_divide(x, y), lambda m, x, y: m.remainder(x, -3),
               lambda m, x, y: m.remainder(-3, y), lambda m, x, y: -7 // y,
               lambda m, x, y: x // 2.5, lambda m, x, y: x % 2.5, lambda m, x, y: m.fmod(x, 2.5)):
        check(fn, a, b)
    fa, fb = a.astype(float), b.astype(float)
    fa[0], fb[1] = -0.0, 0.0
    for fn in (lambda m, x, y: x // y, lambda m, x, y: x % y, lambda m, x, y: m.fmod(x, y),
               lambda m, x, y: m.div(x, y, rounding_mode="trunc"),
               lambda m, x, y: x % math.inf, lambda m, x, y: m.fmod(x, -math.inf),
               lambda m, x, y: x // 0.0, lambda m, x, y: x % 0.0):
        check(fn, fa, fb, grad=False)


def test_integer_powers():
    base = np.array([0, 1, -1, 2, -2, 3, -1, 2])
    expo = np.array([0, -3, -3, -2, 3, 2, -2, 5])
    for fn in (lambda m, x, y: x ** y, lambda m, x, y: m.pow(2, y), lambda m, x, y: 3 ** y,
               lambda m, x, y: x ** 2, lambda m, x, y: x ** 2.5, lambda m, x, y: x ** -1.0,
               lambda m, x, y: m.pow(x, True), lambda m, x, y: m.square(x),
               lambda m, x, y: m.float_power(x, y)):
        check(fn, base, expo)
    check(lambda m, x: m.square(x), np.array([True, False]))
    check(lambda m, x: x ** 2, np.array([True, False]))


@pytest.mark.parametrize("fn", [
    lambda m, x: 2 - x, lambda m, x: 2 / x, lambda m, x: 2 ** x, lambda m, x: 2 + x,
    lambda m, x: 2 * x, lambda m, x: x - 2, lambda m, x: x / 2, lambda m, x: x ** 2,
    lambda m, x: x ** 0, lambda m, x: x % 2, lambda m, x: 1.5 - x, lambda m, x: True + x,
    lambda m, x: x * False, lambda m, x: x ** 0.5, lambda m, x: 0.5 ** x, lambda m, x: abs(-x),
    lambda m, x: -x, lambda m, x: +x, lambda m, x: x.pow(3), lambda m, x: m.pow(2.5, x),
    lambda m, x: m.float_power(2, x), lambda m, x: x.float_power(2),
    lambda m, x: m.rsub(x, 2), lambda m, x: m.add(2, x), lambda m, x: m.mul(3, x),
    lambda m, x: m.sub(2, x), lambda m, x: m.div(2, x), lambda m, x: m.remainder(x, 0.7),
    lambda m, x: m.fmod(x, -0.7), lambda m, x: m.xlogy(2, x), lambda m, x: m.xlogy(x, 3.0),
    lambda m, x: m.copysign(x, -1), lambda m, x: m.div(x, 0.3, rounding_mode="floor"),
    lambda m, x: m.add(x, 2, alpha=3), lambda m, x: m.sub(x, 2, alpha=3),
])
def test_scalar_operands_and_reflected(fn):
    x = arr(2, 3, low=0.5, high=2)
    check(fn, x)
    same_node(fn, x)
    check(fn, arr(2, 3, dtype="int64", low=1, high=3), grad=False)


@pytest.mark.parametrize("fn", [
    lambda m, x: 2 // x, lambda m, x: 2 % x, lambda m, x: x // 2, lambda m, x: 7.5 // x,
    lambda m, x: x // x.flip(0) if hasattr(x, "flip") else x // (x + 1),
])
def test_scalar_operands_without_derivative(fn):
    x = arr(2, 3, low=0.5, high=2)
    check(fn, x, grad=False)
    same_node(fn, x)
    check(fn, arr(2, 3, dtype="int64", low=1, high=3), grad=False)


def test_node_names_of_non_differentiable_results():
    x = arr(3, low=0.5, high=2)
    for fn in (lambda m, t: t // t, lambda m, t: 2 // t, lambda m, t: 2 % t,
               lambda m, t: m.floor_divide(t, 2), lambda m, t: m.heaviside(t, t)):
        same_node(fn, x)
        check_error(lambda m, t: fn(m, t.requires_grad_()).sum().backward(), x, match="same")


@pytest.mark.parametrize("fn", [
    lambda m, x: m.heaviside(x - 1, m.tensor(0.5, dtype=x.dtype)),
    lambda m, x: m.heaviside(x.long() - 1, x.long()),
    lambda m, x: m.heaviside(x > 1, x < 1),
    lambda m, x: m.heaviside(m.tensor([math.nan, 0.0, -0.0, 2.0]), m.tensor([0.25])),
])
def test_heaviside(fn):
    check(fn, np.array([0.0, 1.0, 2.0, 1.0]), grad=False)


# ---------------------------------------------------------------- in-place and operators


@pytest.mark.parametrize("method,args", [
    ("add_", (2.0,)), ("sub_", (1.5,)), ("mul_", (3,)), ("div_", (2.0,)), ("pow_", (2,)),
    ("floor_divide_", (0.7,)), ("remainder_", (0.7,)), ("fmod_", (0.7,)), ("neg_", ()),
    ("negative_", ()), ("abs_", ()), ("sqrt_", ()), ("exp_", ()), ("log_", ()),
    ("tanh_", ()), ("sigmoid_", ()), ("reciprocal_", ()), ("square_", ()), ("round_", ()),
    ("floor_", ()), ("ceil_", ()), ("trunc_", ()), ("frac_", ()), ("sign_", ()),
    ("atan2_", "tensor"), ("hypot_", "tensor"), ("copysign_", "tensor"), ("xlogy_", "tensor"),
    ("lerp_", "lerp"), ("addcmul_", "addc"), ("addcdiv_", "addc"), ("erf_", ()),
    ("nan_to_num_", ()), ("logit_", ()), ("float_power_", (2,)), ("sinc_", ()),
])
def test_inplace_methods(method, args):
    x = arr(2, 3, low=0.2, high=0.9)

    def run(m, t):
        t = t.detach().clone()
        other = t * 0.5 + 0.25
        extra = {"tensor": (other,), "lerp": (other, 0.3), "addc": (other, other)}
        before = version(t)
        out = getattr(t, method)(*extra.get(args, args))
        assert out is t and version(t) > before
        return t

    check(run, x, grad=False)


@pytest.mark.parametrize("method", ["add_", "mul_", "sub_", "div_", "pow_", "exp_", "clamp_",
                                    "sqrt_", "abs_", "tanh_", "lerp_", "addcmul_"])
def test_inplace_on_leaf_requiring_grad(method):
    args = {"clamp_": (0.0,), "lerp_": (1.0, 0.5), "addcmul_": None}.get(method, (1.0,))
    if method in ("exp_", "sqrt_", "abs_", "tanh_"):
        args = ()

    def run(m, t):
        t.requires_grad_()
        extra = args if args is not None else (t.detach(), t.detach())
        if method == "lerp_":
            extra = (m.ones(t.shape), 0.5)
        return getattr(t, method)(*extra)

    check_error(run, arr(3, low=0.1, high=1), match="same")


@pytest.mark.parametrize("fn", [
    lambda m, x: x.add_(1.5), lambda m, x: x.div_(2), lambda m, x: x.sqrt_(),
    lambda m, x: x.mul_(m.ones(2, 3).long()), lambda m, x: x.sub_(True),
    lambda m, x: (x > 0).add_(1), lambda m, x: (x > 0).sub_(x > 0),
    lambda m, x: x.float().float_power_(2), lambda m, x: x.pow_(-1),
])
def test_inplace_errors(fn):
    check_error(fn, arr(3, dtype="int64", low=1, high=3), match="same")


def test_inplace_operators_and_autograd():
    def run(m, x, y):
        z = x * 1
        z += y
        z -= 0.5
        z *= y
        z /= 2
        z **= 2
        z %= 3
        return z + x * y

    check(run, arr(2, 3), arr(3))
    check(lambda m, x, y: x.mul(1).add_(y, alpha=2).sub_(y, alpha=0.5).div_(y.abs() + 1,
                                                                           rounding_mode=None),
          arr(2, 3), arr(3))


def test_inplace_int_operators():
    def run(m, x):
        y = x.clone()
        y += 2
        y *= 3
        y //= 2
        y %= 5
        y -= 1
        y **= 2
        return y

    check(run, arr(6, dtype="int64"))


def test_inplace_saved_tensor_modified():
    def run(m, x):
        y = x * 1
        z = y.sin()
        y.add_(1)
        return z

    check_error(lambda m, x: run(m, x.requires_grad_()).sum().backward(), arr(3),
                match="one of the variables needed for gradient computation")
    check(lambda m, x: (x * 1).mul_(x).sum(), arr(3))
    check_error(lambda m, x: x.requires_grad_().exp().exp_().sum().backward(), arr(3),
                match="one of the variables needed for gradient computation")
    check(lambda m, x: x.sin().add_(1), arr(3))


def test_version_counter_bumps():
    x = disttorch.tensor(arr(3))
    versions = [version(x)]
    for op in (lambda t: t.add_(1), lambda t: t.mul_(2), lambda t: t.clamp_(0),
               lambda t: t.__iadd__(1), lambda t: t.exp_(), lambda t: t.lerp_(t, 0.5),
               lambda t: t.eq_(t), lambda t: t.logical_not_()):
        op(x)
        versions.append(version(x))
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


def test_unsupported_operands():
    for fn in (lambda m, x: x + "a", lambda m, x: "a" - x, lambda m, x: x - None,
               lambda m, x: x ** "a", lambda m, x: x // None,
               lambda m, x: x % None):
        check_error(fn, arr(3), match="unsupported operand")

    def iadd(m, x):
        x += "a"

    check_error(iadd, arr(3), match="same")


@pytest.mark.parametrize("fn", [
    lambda m, x: m.add(x, "a"), lambda m, x: m.add("a", x), lambda m, x: m.mul(x, None),
    lambda m, x: m.sub(x, [1]), lambda m, x: m.pow(x, "a"), lambda m, x: m.atan2(x, 2.0),
    lambda m, x: m.atan2(2, x), lambda m, x: m.hypot(x, 1), lambda m, x: m.minimum(x, 1.0),
    lambda m, x: m.fmod(2, x), lambda m, x: m.copysign(2, x), lambda m, x: m.xlogy(2, 3),
    lambda m, x: m.heaviside(x, 0.5), lambda m, x: m.lerp(x, x, "a"), lambda m, x: m.sqrt(2.0),
    lambda m, x: m.abs(-1), lambda m, x: m.logaddexp(x, 1.0),
])
def test_argument_type_errors(fn):
    check_error(fn, arr(3), match="same")


@pytest.mark.parametrize("fn,dtype", [
    (lambda m, x: x - x, "bool"), (lambda m, x: x - 1, "bool"), (lambda m, x: 1 - x, "bool"),
    (lambda m, x: x.float() - x, "bool"), (lambda m, x: -x, "bool"), (lambda m, x: +x, "bool"),
    (lambda m, x: x ** -1, "int64"), (lambda m, x: x // 0, "int64"),
    (lambda m, x: x % 0, "int64"), (lambda m, x: m.fmod(x, 0), "int64"),
    (lambda m, x: m.div(x, 0, rounding_mode="trunc"), "int64"),
    (lambda m, x: m.div(x, 1, rounding_mode="bad"), "float32"),
    (lambda m, x: m.add(x, x, alpha=2.5), "int64"), (lambda m, x: m.add(x, 1, alpha=True),
                                                     "float32"),
    (lambda m, x: x // x, "bool"), (lambda m, x: x % x, "bool"), (lambda m, x: x ** x, "bool"),
    (lambda m, x: m.hypot(x, x), "int64"), (lambda m, x: m.logaddexp(x, x), "int32"),
    (lambda m, x: m.lerp(x, x, 0.5), "int64"), (lambda m, x: m.lerp(x, x, x), "int64"),
    (lambda m, x: m.lerp(x, x.double(), 0.5), "float32"),
    (lambda m, x: m.lerp(x, x, x.half()), "float32"),
    (lambda m, x: m.lerp(x.half(), x.bfloat16(), 0.5), "float32"),
    (lambda m, x: m.heaviside(x, x.double()), "float32"),
    (lambda m, x: m.addcdiv(x.float(), x, x), "int64"),
    (lambda m, x: m.addcmul(x, x, x), "bool"), (lambda m, x: x.frac(), "int64"),
    (lambda m, x: x.abs(), "bool"), (lambda m, x: x.ceil(), "bool"),
    (lambda m, x: m.round(x, decimals=1), "int64"), (lambda m, x: m.round(x, decimals=0),
                                                     "int32"),
    (lambda m, x: x + m.ones(2, 4), "float32"), (lambda m, x: m.atan2(x, m.ones(4)), "float32"),
    (lambda m, x: m.addcmul(x, m.ones(2), x), "float32"),
    (lambda m, x: m.lerp(x, m.ones(5), 0.2), "float32"),
])
def test_errors(fn, dtype):
    check_error(fn, arr(3, dtype=dtype, low=1, high=3), match="same")


def test_float_only_ops_use_default_dtype():
    x = np.arange(4)
    try:
        for m in (torch, disttorch):
            m.set_default_dtype(m.float64)
        check(lambda m, t: m.sqrt(t), x, grad=False)
        check(lambda m, t: t / 2, x, grad=False)
        check(lambda m, t: m.atan2(t, t), x, grad=False)
    finally:
        for m in (torch, disttorch):
            m.set_default_dtype(m.float32)
    check(lambda m, t: m.exp(t), x, grad=False)
    check(lambda m, t: t / t.flip(0) if hasattr(t, "flip") else t / (t + 1), x, grad=False)


def test_higher_order_gradients():
    def second(m, x):
        y = x ** 3 + x.sin() * x.exp() / (1 + x * x).sqrt() - x.tanh().sigmoid()
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        return h

    check(second, arr(5))


def test_mixed_dtype_gradients_keep_input_dtypes():
    def run(m, a, b):
        a32 = a.float().detach().requires_grad_()
        out = (a32 * b + a32 / b - b ** a32).sum()
        out.backward()
        return a32.grad, b.grad

    check(run, arr(3), arr(3, low=0.5, high=2), grad=False)


def test_functions_in_torch_namespace():
    for name in ("exp_", "sqrt_", "neg_", "abs_", "sigmoid_", "round_", "clamp_", "xlogy_"):
        assert callable(getattr(disttorch, name)) and hasattr(torch, name)
    for name in ("erfinv_", "absolute_", "sign_", "add_"):
        assert hasattr(disttorch, name) == hasattr(torch, name), name
    x = disttorch.tensor([0.25, 4.0])
    disttorch.sqrt_(x)
    assert_same(x, torch.tensor([0.5, 2.0]))


@pytest.mark.parametrize("method,args", [
    ("mul_", ("b",)), ("div_", ("b",)), ("pow_", ("b",)), ("atan2_", ("b",)),
    ("lerp_", ("b", 0.3)), ("addcmul_", ("b", "b")), ("clamp_", ("b",)), ("add_", ("b",)),
    ("xlogy_", ("b",)), ("copysign_", ("b",)), ("sub_", ("b",)), ("hypot_", ("b",)),
])
def test_inplace_with_grad_from_the_other_operand(method, args):
    def run(m, a, b):
        a = a.detach().clone()  # self does not require grad, the other operand does
        return getattr(a, method)(*(b if v == "b" else v for v in args))

    inputs = arr(3, low=0.5, high=2), arr(3, low=0.5, high=2)
    check(run, *inputs)
    same_node(run, *inputs)


@pytest.mark.parametrize("fn", [
    lambda m, x: np.float64(2.0) + x, lambda m, x: np.float32(2.0) * x,
    lambda m, x: np.int64(3) - x, lambda m, x: np.float64(2) ** x, lambda m, x: x / np.int32(2),
    lambda m, x: np.float64(0.5) < x,
])
def test_numpy_scalar_operands(fn):
    check(fn, arr(4, dtype="float32"))

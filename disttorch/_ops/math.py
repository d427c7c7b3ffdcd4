"""Unary math: exp/log families, roots, trigonometry, sigmoid, erf, rounding, sign, abs.

Most ops are one row of a table: the NumPy computation and the derivative in Tensor ops,
written on the input or on the output (whichever the derivative is cheaper from). Float-only
ops compute integer and bool inputs in the default float dtype, like torch; half precision
formulas of several steps run in float32. The math family's binary ops live in
binary_math.py and pointwise.py and are re-exported from here.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import make_unary_inplace, register, to_float
from ._elementwise_base import compute as arithmetic
from ._elementwise_base import in_float32, not_implemented, quiet, type_error, where, zero_grads
from .binary_math import *  # noqa: F403 - the family's binary ops, re-exported
from .binary_math import __all__ as _binary_names
from .pointwise import *  # noqa: F403
from .pointwise import __all__ as _pointwise_names

_SQRT_PI = math.sqrt(math.pi)
_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# ---------------------------------------------------------------- erf, erfc, erfinv


def _erf_series(x, terms):
    """erf(x) for |x| < 2: 2/sqrt(pi) exp(-x^2) sum (2x^2)^n x / (2n+1)!!, terms all > 0."""
    x2 = x * x
    ratio = 2 * x2
    term = x.copy()
    total = x.copy()
    for n in range(1, terms):
        term = term * ratio / (2 * n + 1)
        total += term
    return total * np.exp(-x2) * (2 / _SQRT_PI)


def _erfc_fraction(x, terms):
    """erfc(x) for x >= 2 from its continued fraction, evaluated from the tail."""
    t = x
    for k in range(terms, 0, -1):
        t = x + (k / 2) / t
    return np.exp(-x * x) / (t * _SQRT_PI)


def _terms(dtype):
    # float64 needs ~32 series and ~50 fraction terms for full precision, float32 far fewer
    return (32, 50) if dtype == np.float64 else (20, 20)


def _erf(x):
    series, fraction = _terms(x.dtype)
    work = x.astype(np.float64)
    xp = B.get_array_module(work)
    out = xp.empty_like(work)
    small = np.abs(work) < 2
    out[small] = _erf_series(work[small], series)
    large = ~small  # NaN lands here and stays NaN
    big = work[large]
    out[large] = np.sign(big) * (1 - _erfc_fraction(np.abs(big), fraction))
    return out.astype(x.dtype)


def _erfc(x):
    series, fraction = _terms(x.dtype)
    work = x.astype(np.float64)
    xp = B.get_array_module(work)
    out = xp.empty_like(work)
    high, low = work >= 2, work <= -2
    middle = ~(high | low)
    out[high] = _erfc_fraction(work[high], fraction)
    out[low] = 2 - _erfc_fraction(-work[low], fraction)
    out[middle] = 1 - _erf_series(work[middle], series)
    return out.astype(x.dtype)


def _erfinv(y):
    """Winitzki's closed form as a start, then Halley steps on erf(x) = |y|."""
    work = y.astype(np.float64)
    xp = B.get_array_module(work)
    a = np.abs(work)
    out = xp.full(work.shape, np.nan)
    out[a == 1] = np.inf
    inside = a < 1
    a = a[inside]
    log_term = np.log1p(-a * a)
    k = 0.147
    t = 2 / (math.pi * k) + log_term / 2
    x = np.sqrt(np.sqrt(t * t - log_term / k) - t)
    near_one = a > 0.5  # there erfc keeps the residual accurate
    for _ in range(3):
        residual = xp.empty_like(x)
        residual[near_one] = (1 - a[near_one]) - _erfc(x[near_one])
        residual[~near_one] = _erf(x[~near_one]) - a[~near_one]
        step = residual / ((2 / _SQRT_PI) * np.exp(-x * x))
        x = x - step / (1 + x * step)
    out[inside] = x
    return (np.sign(work) * out).astype(y.dtype)


def _sigmoid(x):
    return np.reciprocal(np.exp(np.negative(x)) + 1)


def _rsqrt(x):
    return np.reciprocal(np.sqrt(x))


def _sinc(x):
    xp = B.get_array_module(x)
    scaled = x * math.pi
    safe = xp.where(x == 0, 1, scaled)
    return xp.where(x == 0, 1, np.sin(safe) / safe).astype(x.dtype)


def _sinc_grad(g, x):
    scaled = x * math.pi
    value = (scaled * scaled.cos() - scaled.sin()) / (scaled * x)
    return g * where(x == 0, 0.0, value)


# ---------------------------------------------------------------- the float-only table


def _float_unary(name, node, compute, derivative, uses):
    """One float-only unary op: its Op class and public function."""

    if name in _ARITHMETIC:  # the derivative also runs on arrays: see `arithmetic`
        def formula(grad, saved):
            return arithmetic(derivative, grad, saved)
    else:
        formula = derivative

    if uses == "output":
        def forward(ctx, x):
            ctx.save_output()
            return in_float32(compute, to_float(x))

        def backward(ctx, grad):
            return formula(grad, ctx.saved_output)
    elif uses == "input":
        def forward(ctx, x):
            if ctx.needs_input_grad:
                ctx.save_for_backward(x)
            return in_float32(compute, to_float(x))

        def backward(ctx, grad):
            return formula(grad, ctx.saved_tensors[0])
    else:
        def forward(ctx, x):
            return in_float32(compute, to_float(x))

        def backward(ctx, grad):
            return formula(grad, None)

    op = type(Op)(node[:-len("Backward0")], (Op,), {
        "node_name": node, "forward": staticmethod(forward),
        "backward": staticmethod(backward), "__module__": __name__})
    return _public(name, op)


def _public(name, op):
    apply = op.apply

    def fn(input):
        try:
            return apply(input)
        except AttributeError:
            if not isinstance(input, Tensor):
                type_error(name, input, "input", 1)
            raise

    fn.__name__ = fn.__qualname__ = name
    return fn


_FLOAT_OPS = [
    # name, node, compute, derivative, what the derivative reads
    ("sqrt", "SqrtBackward0", np.sqrt, lambda g, y: g / (2 * y), "output"),
    ("rsqrt", "RsqrtBackward0", _rsqrt, lambda g, y: g * (-0.5 * y.pow(3)), "output"),
    ("reciprocal", "ReciprocalBackward0", np.reciprocal, lambda g, y: -g * (y * y), "output"),
    ("exp", "ExpBackward0", np.exp, lambda g, y: g * y, "output"),
    ("exp2", "Exp2Backward0", np.exp2, lambda g, y: g * (y * _LN2), "output"),
    ("expm1", "Expm1Backward0", np.expm1, lambda g, y: g * (y + 1), "output"),
    ("log", "LogBackward0", np.log, lambda g, x: g / x, "input"),
    ("log1p", "Log1PBackward0", np.log1p, lambda g, x: g / (x + 1), "input"),
    ("log2", "Log2Backward0", np.log2, lambda g, x: g / (x * _LN2), "input"),
    ("log10", "Log10Backward0", np.log10, lambda g, x: g / (x * _LN10), "input"),
    ("sin", "SinBackward0", np.sin, lambda g, x: g * x.cos(), "input"),
    ("cos", "CosBackward0", np.cos, lambda g, x: g * -x.sin(), "input"),
    ("tan", "TanBackward0", np.tan, lambda g, y: g * (y * y + 1), "output"),
    ("asin", "AsinBackward0", np.arcsin, lambda g, x: g * (-x * x + 1).rsqrt(), "input"),
    ("acos", "AcosBackward0", np.arccos, lambda g, x: g * -(-x * x + 1).rsqrt(), "input"),
    ("atan", "AtanBackward0", np.arctan, lambda g, x: g / (x * x + 1), "input"),
    ("sinh", "SinhBackward0", np.sinh, lambda g, x: g * x.cosh(), "input"),
    ("cosh", "CoshBackward0", np.cosh, lambda g, x: g * x.sinh(), "input"),
    ("tanh", "TanhBackward0", np.tanh, lambda g, y: g * (1 - y * y), "output"),
    ("asinh", "AsinhBackward0", np.arcsinh, lambda g, x: g * (x * x + 1).rsqrt(), "input"),
    ("acosh", "AcoshBackward0", np.arccosh, lambda g, x: g * (x * x - 1).rsqrt(), "input"),
    ("atanh", "AtanhBackward0", np.arctanh, lambda g, x: g / (1 - x * x), "input"),
    ("sigmoid", "SigmoidBackward0", _sigmoid, lambda g, y: g * (y * (1 - y)), "output"),
    ("erf", "ErfBackward0", _erf,
     lambda g, x: g * ((2 / _SQRT_PI) * (-x * x).exp()), "input"),
    ("erfc", "ErfcBackward0", _erfc,
     lambda g, x: g * ((-2 / _SQRT_PI) * (-x * x).exp()), "input"),
    ("erfinv", "ErfinvBackward0", _erfinv,
     lambda g, y: g * ((_SQRT_PI / 2) * (y * y).exp()), "output"),
    ("deg2rad", "Deg2RadBackward0", np.deg2rad, lambda g, _: g * (math.pi / 180), "none"),
    ("rad2deg", "Rad2DegBackward0", np.rad2deg, lambda g, _: g * (180 / math.pi), "none"),
    ("sinc", "SincBackward0", _sinc, _sinc_grad, "input"),
]

# derivatives written with arithmetic only, so that they also evaluate on arrays
_ARITHMETIC = {"sqrt", "reciprocal", "exp", "exp2", "expm1", "log", "log1p", "log2", "log10",
               "tan", "atan", "tanh", "atanh", "sigmoid", "deg2rad", "rad2deg"}

_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
            "arccosh": "acosh", "arctanh": "atanh"}

__all__ = []
for _row in _FLOAT_OPS:
    _fn = _float_unary(*_row)
    globals()[_row[0]] = _fn
    __all__.append(_row[0])
    register(_row[0], _fn, inplace=make_unary_inplace(_fn))
for _alias, _target in _ALIASES.items():
    globals()[_alias] = globals()[_target]
    __all__.append(_alias)
    register(_alias, globals()[_target], inplace=getattr(Tensor, _target + "_"))


# ---------------------------------------------------------------- ops that keep integer dtypes


class Abs(Op):
    node_name = "AbsBackward0"

    @staticmethod
    def forward(ctx, x):
        d = x._data
        if d.dtype == np.bool_:
            not_implemented("abs_cpu", B.bool_)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
        return np.abs(d)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_tensors[0].sgn()


def _sign(d):
    if d.dtype == np.bool_:
        return d.copy()
    if d.dtype.kind in "iu":
        return np.sign(d)
    # torch's sign of NaN is 0
    return ((d > 0).astype(np.int8) - (d < 0).astype(np.int8)).astype(d.dtype)


class Sign(Op):
    node_name = "SignBackward0"

    @staticmethod
    def forward(ctx, x):
        return _sign(x._data)

    @staticmethod
    def backward(ctx, grad):
        return zero_grads(ctx, grad)[0]


class Sgn(Sign):
    node_name = "SgnBackward0"


class Frac(Op):
    node_name = "FracBackward0"

    @staticmethod
    def forward(ctx, x):
        d = x._data
        if d.dtype.kind not in "fV":
            not_implemented("frac_cpu", x.dtype)
        return in_float32(lambda v: v - np.trunc(v), d)

    @staticmethod
    def backward(ctx, grad):
        return grad


def _rounding(name, node, ufunc):
    """ceil/floor/trunc/round: integers pass through unchanged, the derivative is zero."""

    def forward(ctx, x):
        d = x._data
        if d.dtype.kind in "fV":
            return in_float32(ufunc, d)
        if d.dtype == np.bool_:
            not_implemented(f"{name}_vml_cpu", B.bool_)
        return d.copy()

    def backward(ctx, grad):
        return zero_grads(ctx, grad)[0]

    return type(Op)(node[:-len("Backward0")], (Op,), {
        "node_name": node, "forward": staticmethod(forward),
        "backward": staticmethod(backward), "__module__": __name__})


Ceil = _rounding("ceil", "CeilBackward0", np.ceil)
Floor = _rounding("floor", "FloorBackward0", np.floor)
Trunc = _rounding("trunc", "TruncBackward0", np.trunc)
Round = _rounding("round", "RoundBackward0", np.rint)  # rint: half to even, like torch


def _round_decimals(d, decimals):
    scale = 10.0 ** (decimals if decimals > 0 else -decimals)
    if decimals > 0:
        return np.rint(d * scale) / scale
    return np.rint(d / scale) * scale


class RoundDecimals(Op):
    node_name = "RoundBackward1"

    @staticmethod
    def forward(ctx, x, decimals):
        d = x._data
        if d.dtype.kind not in "fV":
            not_implemented("round_vml_cpu" if decimals == 0 else "round_cpu", x.dtype)
        return in_float32(_round_decimals, d, decimals)

    @staticmethod
    def backward(ctx, grad):
        return zero_grads(ctx, grad)[0], None


abs = _public("abs", Abs)
sign = _public("sign", Sign)
sgn = _public("sgn", Sgn)
frac = _public("frac", Frac)
ceil = _public("ceil", Ceil)
floor = _public("floor", Floor)
trunc = _public("trunc", Trunc)
_round = _public("round", Round)


def round(input, *, decimals=None):
    if decimals is None:
        return _round(input)
    return RoundDecimals.apply(input, int(decimals))


def square(input):
    if not isinstance(input, Tensor):
        type_error("square", input, "input", 1)
    return input.pow(2)  # torch's square is pow(x, 2): same node, same integer dtypes


def signbit(input):
    if not isinstance(input, Tensor):
        type_error("signbit", input, "input", 1)
    d = input._data
    if d.dtype.kind in "fV":
        return Tensor._wrap(np.signbit(d))
    return Tensor._wrap(d < 0 if d.dtype.kind == "i" else np.zeros_like(d, dtype=bool))


class NanToNum(Op):
    node_name = "NanToNumBackward0"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        d = x._data
        if d.dtype.kind not in "fV":
            return d.copy()
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
        info = _finfo(d.dtype)
        quiet()
        xp = B.get_array_module(d)
        out = xp.where(np.isnan(d), xp.asarray(nan, dtype=d.dtype), d)
        out = xp.where(out == np.inf, xp.asarray(
            info.max if posinf is None else posinf, dtype=d.dtype), out)
        return xp.where(out == -np.inf, xp.asarray(
            info.min if neginf is None else neginf, dtype=d.dtype), out)

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.saved_tensors[0].isfinite(), None, None, None


def _finfo(dtype):
    try:
        return np.finfo(dtype)
    except ValueError:  # bfloat16: ml_dtypes has its own finfo
        import ml_dtypes

        return ml_dtypes.finfo(dtype)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    if not isinstance(input, Tensor):
        type_error("nan_to_num", input, "input", 1)
    return NanToNum.apply(input, nan, posinf, neginf)


class Logit(Op):
    node_name = "LogitBackward0"

    @staticmethod
    def forward(ctx, x, eps):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
        ctx.eps = eps
        return in_float32(_logit, to_float(x), eps)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        value = grad / (x * (1 - x))
        if eps is None:
            return where((x < 0) | (x > 1), math.nan, value), None
        return where((x < eps) | (x > 1 - eps), 0.0, value), None


def _logit(d, eps):
    if eps is not None:
        d = np.clip(d, eps, 1 - eps)
    return np.log(d / (1 - d))


def logit(input, eps=None):
    if not isinstance(input, Tensor):
        type_error("logit", input, "input", 1)
    return Logit.apply(input, eps)


fix = trunc
absolute = abs
for _name, _fn in (("abs", abs), ("sign", sign), ("sgn", sgn), ("frac", frac),
                   ("ceil", ceil), ("floor", floor), ("trunc", trunc), ("round", round),
                   ("square", square), ("nan_to_num", nan_to_num), ("logit", logit)):
    register(_name, _fn, inplace=make_unary_inplace(_fn))
register("__abs__", abs)
register("absolute", abs, inplace=Tensor.abs_)
register("fix", trunc, inplace=Tensor.trunc_)
register("signbit", signbit)
__all__ += ["abs", "absolute", "sign", "sgn", "frac", "ceil", "floor", "trunc", "fix", "round",
            "square", "signbit", "nan_to_num", "logit"]

# torch also has these in-place forms as functions: torch.exp_(t) ...
_NO_FUNCTION_FORM = ("sign", "sgn", "signbit", "erfinv", "absolute")
for _name in [n for n in __all__ if n not in _NO_FUNCTION_FORM]:
    globals()[_name + "_"] = getattr(Tensor, _name + "_")
__all__ += [n + "_" for n in __all__ if n not in _NO_FUNCTION_FORM]
__all__ += list(_binary_names) + list(_pointwise_names)
del _row, _fn, _alias, _target, _name

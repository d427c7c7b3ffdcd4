"""nn activations (relu, gelu, softplus ...) and the family's exports to nn.functional.

Each pointwise activation is one Op built from a table row: the forward on arrays and the
derivative written once for arrays and Tensors (see _nn_util.chain), read from the input or
the output. In-place forms run the same op and write the result back (torch's in-place nodes
that differ in name, like EluBackward1, are subclasses under that name). Softmax, prelu and glu
live in nn_softmax.py; linear, dropout, embedding and the distance functions in nn_layers.py
and nn_pad.py; this module re-exports them all as the family.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from . import _nn_enum_losses, nn_layers, nn_pad, nn_softmax
from ._common import make_unary_inplace, quiet, register
from ._elementwise_base import in_float32, type_error
from ._nn_util import array_sigmoid, array_softplus, chain, not_implemented, scale_by
from .math import sigmoid, tanh  # noqa: F401 - nn.functional's sigmoid and tanh

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT1_2 = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_GELU_K = math.sqrt(2 / math.pi)
_GELU_C = 0.044715


def _float_only(kernel):
    def check(d):
        if d.dtype.kind not in "fV":
            not_implemented(kernel, B._FROM_NP[d.dtype])
    return check


def _no_bool(message):
    def check(d):
        if d.dtype == np.bool_:
            raise RuntimeError(message)
    return check


def _activation(node, compute, derivative, check, uses="input", piecewise=False):
    """One pointwise activation Op: compute(data, *params) and derivative(value, m, *params).

    A piecewise derivative (a mask or a step) is evaluated on arrays even when the backward
    records a graph: it does not depend differentiably on the value.
    """

    def forward(ctx, x, *params):
        d = x._data
        check(d)
        if ctx.needs_input_grad:
            ctx.params = params
            if uses == "input":
                ctx.save_for_backward(x)
            else:
                ctx.save_output()
        quiet()
        if d.dtype.itemsize == 2:  # half precision computes in float32, as torch's kernels
            return in_float32(compute, d, *params)
        return compute(d, *params)

    def backward(ctx, grad):
        value = ctx.saved_tensors[0] if uses == "input" else ctx.saved_output
        params = ctx.params
        if piecewise:
            from ._nn_util import ARRAY

            out = scale_by(grad, derivative(value._data, ARRAY, *params))
        else:
            out = chain(grad, value, derivative, params)
        return (out,) + (None,) * len(params)

    return type(Op)(node[:-len("Backward0")], (Op,), {
        "node_name": node, "forward": staticmethod(forward),
        "backward": staticmethod(backward), "__module__": __name__})


def _renamed(op, node):
    """The same op recorded under another of torch's node names (its in-place form)."""
    return type(op)(node[:-len("Backward1")] + "Inplace", (op,), {"node_name": node})


# ---------------------------------------------------------------- forward formulas


def _elu(d, alpha, scale, input_scale):
    negative = np.expm1(np.minimum(d, 0) * input_scale) * (alpha * scale)
    return np.where(d > 0, d * scale, negative).astype(d.dtype, copy=False)


def _elu_grad(x, m, alpha, scale, input_scale):
    return m.where(x > 0, scale,
                   m.exp(m.negative_part(x) * input_scale) * (alpha * scale * input_scale))


def _gelu(d, approximate):
    if approximate == "tanh":
        inner = (d + d * d * d * _GELU_C) * _GELU_K
        return d * (0.5 * (1 + np.tanh(inner)))
    from .math import _erf

    return d * (0.5 * (1 + _erf(d * _SQRT1_2)))


def _gelu_grad(x, m, approximate):
    if approximate == "tanh":
        t = m.tanh((x + x * x * x * _GELU_C) * _GELU_K)
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _GELU_K * (1 + 3 * _GELU_C * x * x)
    cdf = 0.5 * (1 + m.erf(x * _SQRT1_2))
    return cdf + x * m.exp(-0.5 * x * x) * _INV_SQRT_2PI


def _silu_grad(x, m):
    s = m.sigmoid(x)
    return s * (1 + x * (1 - s))


def _mish_grad(x, m):
    t = m.tanh(m.softplus(x))
    return t + x * m.sigmoid(x) * (1 - t * t)


def _softplus(d, beta, threshold):
    z = d * beta
    return np.where(z > threshold, d, array_softplus(z) / beta).astype(d.dtype, copy=False)


def _hardswish_grad(x, m):
    return m.where(x < -3, 0.0, m.where(x <= 3, x / 3 + 0.5, 1.0))


def _bounds(d, low, high):
    """Clip bounds as scalars of the array's dtype (torch casts them to the input type)."""
    kind = d.dtype.type
    return kind(low), kind(high)


def _hardtanh(d, low, high):
    return np.clip(d, *_bounds(d, low, high))


def _threshold(d, threshold, value):
    return np.where(d > threshold, d, d.dtype.type(value))


def _softshrink(d, lambd):
    return np.where(d > lambd, d - lambd, np.where(d < -lambd, d + lambd, 0)).astype(
        d.dtype, copy=False)


def _outside(x, m, lambd):
    return (x < -lambd) | (x > lambd)


_HARDTANH_CHECK = _no_bool("Bool inputs not supported for hardtanh")

Relu = _activation("ReluBackward0", lambda d: np.maximum(d, 0), lambda y, m: y > 0,
                   _no_bool("Boolean inputs not supported for relu"), "output", True)
LeakyRelu = _activation("LeakyReluBackward0", lambda d, s: np.where(d > 0, d, d * s),
                        lambda x, m, s: np.where(x > 0, 1, s), _float_only("leaky_relu_cpu"),
                        piecewise=True)
Elu = _activation("EluBackward0", _elu, _elu_grad, _float_only("elu_cpu"))
Celu = _activation("CeluBackward0", _elu, _elu_grad, _float_only("elu_cpu"))
Gelu = _activation("GeluBackward0", _gelu, _gelu_grad, _float_only("GeluKernelImpl"))
Silu = _activation("SiluBackward0", lambda d: d * array_sigmoid(d), _silu_grad,
                   _float_only("silu_cpu"))
Mish = _activation("MishBackward0", lambda d: d * np.tanh(array_softplus(d)), _mish_grad,
                   _float_only("mish_cpu"))
Softplus = _activation("SoftplusBackward0", _softplus,
                       lambda x, m, beta, threshold: m.where(
                           x * beta > threshold, 1.0, m.sigmoid(x * beta)),
                       _float_only("softplus_cpu"))
LogSigmoid = _activation("LogSigmoidBackward0", lambda d: -array_softplus(-d),
                         lambda x, m: m.sigmoid(-x), _float_only("log_sigmoid_cpu"))
Hardtanh = _activation("HardtanhBackward0", _hardtanh,
                       lambda x, m, low, high: (x > low) & (x < high), _HARDTANH_CHECK,
                       piecewise=True)
Hardsigmoid = _activation("HardsigmoidBackward0", lambda d: np.clip(d + 3, 0, 6) / 6,
                          lambda x, m: ((x > -3) & (x < 3)) / 6,
                          _float_only("hardsigmoid_cpu"), piecewise=True)
Hardswish = _activation("HardswishBackward0", lambda d: d * np.clip(d + 3, 0, 6) / 6,
                        _hardswish_grad, _float_only("hardswish_cpu"))
Threshold = _activation("ThresholdBackward0", _threshold,
                        lambda x, m, threshold, value: x > threshold,
                        _no_bool('"threshold_cpu" not implemented for \'Bool\''), piecewise=True)
Hardshrink = _activation("HardshrinkBackward0",
                         lambda d, lambd: np.where((d >= -lambd) & (d <= lambd), 0, d),
                         _outside, _float_only("hardshrink_cpu"), piecewise=True)
Softshrink = _activation("SoftshrinkBackward0", _softshrink, _outside,
                         _float_only("softshrink_check"), piecewise=True)

_LeakyReluInplace = _renamed(LeakyRelu, "LeakyReluBackward1")


class RreluWithNoise(Op):
    """x * slope on negative inputs: slopes drawn from U(lower, upper) in training, their
    mean otherwise."""

    node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, lower, upper, training, generator):
        d = x._data
        if d.dtype.kind not in "fV":
            not_implemented("leaky_relu_cpu", x.dtype)
        if training:
            from .random import rng_of, uniform

            drawn = uniform(rng_of(generator, "rrelu"), d.shape, x.dtype, lower, upper)
            if type(d) is not np.ndarray:
                drawn = B.move_array(drawn, x.device)
            slope = np.where(d >= 0, 1, drawn).astype(d.dtype)
        else:
            slope = np.where(d >= 0, 1, (lower + upper) / 2).astype(d.dtype)
        if ctx.needs_input_grad:
            ctx.slope = slope
        return d * slope

    @staticmethod
    def backward(ctx, grad):
        return scale_by(grad, ctx.slope), None, None, None, None
_EluInplace = _renamed(Elu, "EluBackward1")
_CeluInplace = _renamed(Celu, "CeluBackward1")
_ThresholdInplace = _renamed(Threshold, "ThresholdBackward1")


# ---------------------------------------------------------------- public functions


def _tensor_arg(name, input):
    if not isinstance(input, Tensor):
        type_error(name, input, "input", 1)


def _inplace_of(op):
    def run(input, *params):
        return op.apply(input, *params)

    return make_unary_inplace(run)


_relu_inplace = _inplace_of(Relu)
_leaky_relu_inplace = _inplace_of(_LeakyReluInplace)
_elu_inplace = _inplace_of(_EluInplace)
_celu_inplace = _inplace_of(_CeluInplace)
_hardtanh_inplace = _inplace_of(Hardtanh)
_threshold_inplace = _inplace_of(_ThresholdInplace)
_silu_inplace = _inplace_of(Silu)
_mish_inplace = _inplace_of(Mish)
_hardsigmoid_inplace = _inplace_of(Hardsigmoid)
_hardswish_inplace = _inplace_of(Hardswish)
_rrelu_inplace = _inplace_of(RreluWithNoise)


def relu(input, inplace=False):
    _tensor_arg("relu", input)
    return _relu_inplace(input) if inplace else Relu.apply(input)


def relu_(input):
    _tensor_arg("relu_", input)
    return _relu_inplace(input)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _tensor_arg("leaky_relu", input)
    if inplace:
        return _leaky_relu_inplace(input, negative_slope)
    return LeakyRelu.apply(input, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, True)


def elu(input, alpha=1.0, inplace=False):
    _tensor_arg("elu", input)
    if inplace:
        return _elu_inplace(input, alpha, 1.0, 1.0)
    return Elu.apply(input, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, True)


def selu(input, inplace=False):
    _tensor_arg("selu", input)
    if inplace:
        return _elu_inplace(input, _SELU_ALPHA, _SELU_SCALE, 1.0)
    return Elu.apply(input, _SELU_ALPHA, _SELU_SCALE, 1.0)


def selu_(input):
    return selu(input, True)


def celu(input, alpha=1.0, inplace=False):
    _tensor_arg("celu", input)
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    if inplace:
        return _celu_inplace(input, alpha, 1.0, 1.0 / alpha)
    return Celu.apply(input, alpha, 1.0, 1.0 / alpha)


def celu_(input, alpha=1.0):
    return celu(input, alpha, True)


def gelu(input, *, approximate="none"):
    _tensor_arg("gelu", input)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return Gelu.apply(input, approximate)


def silu(input, inplace=False):
    _tensor_arg("silu", input)
    return _silu_inplace(input) if inplace else Silu.apply(input)


def mish(input, inplace=False):
    _tensor_arg("mish", input)
    return _mish_inplace(input) if inplace else Mish.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    _tensor_arg("softplus", input)
    return Softplus.apply(input, beta, threshold)


def logsigmoid(input):
    _tensor_arg("logsigmoid", input)
    return LogSigmoid.apply(input)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _tensor_arg("hardtanh", input)
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input._data.dtype == np.uint8 and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if inplace:
        return _hardtanh_inplace(input, min_val, max_val)
    return Hardtanh.apply(input, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, True)


def hardsigmoid(input, inplace=False):
    _tensor_arg("hardsigmoid", input)
    return _hardsigmoid_inplace(input) if inplace else Hardsigmoid.apply(input)


def hardswish(input, inplace=False):
    _tensor_arg("hardswish", input)
    return _hardswish_inplace(input) if inplace else Hardswish.apply(input)


def threshold(input, threshold, value, inplace=False):
    _tensor_arg("threshold", input)
    if inplace:
        return _threshold_inplace(input, threshold, value)
    return Threshold.apply(input, threshold, value)


def threshold_(input, threshold, value):
    _tensor_arg("threshold_", input)
    return _threshold_inplace(input, threshold, value)


def hardshrink(input, lambd=0.5):
    _tensor_arg("hardshrink", input)
    return Hardshrink.apply(input, lambd)


def softshrink(input, lambd=0.5):
    _tensor_arg("softshrink", input)
    if lambd < 0 and input.dtype.is_floating_point:
        from ._common import _legacy_name

        top = float(np.finfo(np.float32 if input._data.dtype.kind == "V" else
                             input._data.dtype).max)
        raise RuntimeError(f"lambda must be in range [0, {top:g}] for input dtype "
                           f"{_legacy_name(input.dtype)}, but found {lambd:g}")
    return Softshrink.apply(input, lambd)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    _tensor_arg("rrelu", input)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    generator = None
    if inplace is not None and not isinstance(inplace, (bool, int)):
        # torch.rrelu(input, lower, upper, training, generator) shares this function
        generator, inplace = inplace, False
    if inplace:
        return _rrelu_inplace(input, lower, upper, training, generator)
    return RreluWithNoise.apply(input, lower, upper, training, generator)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False, generator=None):
    _tensor_arg("rrelu_", input)
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    return _rrelu_inplace(input, lower, upper, training, generator)


def softsign(input):
    return input / (input.abs() + 1)


def tanhshrink(input):
    return input - input.tanh()


register("relu", relu, inplace=relu_)
register("hardshrink", hardshrink)

_PARTS = (nn_softmax, nn_layers, nn_pad, _nn_enum_losses)
__all__ = ["relu", "relu_", "selu", "selu_", "celu", "celu_", "threshold", "threshold_",
           "hardshrink", "rrelu", "rrelu_"]
FUNCTIONAL = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
              "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "logsigmoid",
              "hardtanh", "hardtanh_", "hardsigmoid", "hardswish", "threshold", "threshold_",
              "hardshrink", "softshrink", "softsign", "tanhshrink", "sigmoid", "tanh", "rrelu",
              "rrelu_"]
for _part in _PARTS:  # the family's other files, re-exported from here
    for _name in (*_part.__all__, *_part.FUNCTIONAL):
        globals()[_name] = getattr(_part, _name)
    __all__ += [n for n in _part.__all__ if n not in __all__]
    FUNCTIONAL += [n for n in _part.FUNCTIONAL if n not in FUNCTIONAL]
del _part, _name

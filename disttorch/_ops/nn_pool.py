"""Pooling: max (with indices), average, power-average, max_unpool.

The 2-d ops are the primitives (1-d pooling runs them on an unsqueezed input, as torch does, so
the graphs carry the same nodes). Max pooling compares one strided slice per kernel position and
keeps the flat index of each window's max; its gradient scatters to those indices. Average
pooling sums the same slices. Every gradient is a linear map whose own gradient is its adjoint
(see `_nn_window.linear_pair`), so higher-order gradients exist. Adaptive pooling is in
nn_adaptive_pool.py and interpolation/pixel shuffle in nn_upsample.py, re-exported from here.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from . import nn_adaptive_pool, nn_upsample
from ._common import wrap_dim
from ._elementwise_base import type_error
from ._nn_util import not_implemented
from ._nn_window import FlatScatter, TapScatter, Windows, add_taps, linear_pair, max_taps, sum_taps
from .nn_activation import relu
from .nn_adaptive_pool import _check_dim_range, _ints, _one

# (torch.adaptive_max_pool1d returns indices too, unlike F's: it is left out of torch's namespace)
__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "avg_pool1d"]
FUNCTIONAL = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices",
              "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d", "max_unpool1d",
              "max_unpool2d"]


def _pair_args(fname, kernel_size, stride, padding, dilation=None):
    """torch's kernel_size/stride/padding(/dilation) of a 2-d pool, with its messages."""
    kernel = _ints(kernel_size, fname, "kernel_size", 2)
    if len(kernel) not in (1, 2):
        raise RuntimeError(f"{fname}: kernel_size must either be a single int, or a tuple of two "
                           "ints")
    kernel = (kernel[0], kernel[-1])
    stride = () if stride is None else _ints(stride, fname, "stride", 3)
    if len(stride) not in (0, 1, 2):
        raise RuntimeError(f"{fname}: stride must either be omitted, a single int, or a tuple of "
                           "two ints")
    stride = kernel if not stride else (stride[0], stride[-1])
    padding = _ints(padding, fname, "padding", 4)
    if len(padding) not in (1, 2):
        raise RuntimeError(f"{fname}: padding must either be a single int, or a tuple of two ints")
    padding = (padding[0], padding[-1])
    if dilation is None:
        return kernel, stride, padding, (1, 1)
    dilation = _ints(dilation, fname, "dilation", 5)
    if len(dilation) not in (1, 2):
        raise RuntimeError(f"{fname}: dilation must be either a single int, or a tuple of two "
                           "ints")
    return kernel, stride, padding, (dilation[0], dilation[-1])


def _check_pool_dims(kernel, stride, padding, dilation):
    """The per-dim checks of torch's pooling_output_shape (height first)."""
    for k, s, p, dl in zip(kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > int(((k - 1) * dl + 1) / 2):  # C++ division truncates
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={dl}")


def _check_pool_shape(shape, kernel, stride, dilation, out):
    """torch's pool2d_shape_check."""
    (kh, kw), (dh, dw), (lh, lw) = kernel, stride, dilation
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {dh} dW: {dw}")
    if lh <= 0 or lw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {lh} "
                           f"dilationW: {lw}")
    ndim = len(shape)
    valid = ndim in (3, 4) and shape[-3] != 0 and shape[-2] != 0 and shape[-1] != 0
    if not valid:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(shape)}")
    if out[0] < 1 or out[1] < 1:
        c, h, w = shape[-3:]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: "
                           f"({c}x{out[0]}x{out[1]}). Output size is too small")


# ---------------------------------------------------------------- max pooling


_MaxPoolGrad, _MaxPoolGather = linear_pair("MaxPool2DWithIndicesBackwardBackward0",
                                           "MaxPool2DWithIndicesBackward0")


class MaxPool2d(Op):
    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, windows, with_indices):
        d = x._data
        values, tap = max_taps(d, windows, with_indices or bool(ctx.needs_input_grad))
        if ctx.needs_input_grad:
            ctx.scatter = TapScatter(windows, tap)
        if with_indices:
            return values, windows.flat_index(tap, B.get_array_module(d))
        return values

    @staticmethod
    def backward(ctx, grad, *index_grad):
        return _MaxPoolGrad.apply(grad, ctx.scatter), None, None


def _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, with_indices):
    if not isinstance(input, Tensor):
        type_error("max_pool2d", input, "input", 1)
    kernel, stride, padding, dilation = _pair_args("max_pool2d", kernel_size, stride, padding,
                                                   dilation)
    shape = input._data.shape
    if len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _check_pool_dims(kernel, stride, padding, dilation)
    windows = Windows(shape, kernel, stride, padding, dilation, ceil_mode)
    _check_pool_shape(shape, kernel, stride, dilation, windows.out)
    if input._data.dtype.kind == "b":
        not_implemented("max_pool2d", input.dtype)
    return MaxPool2d.apply(input, windows, with_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode,
                       bool(return_indices))


def _max_pool1d_checks(input, kernel, stride, padding, dilation, ceil_mode):
    """torch's check_max_pool1d (the path without indices)."""
    shape = list(input.shape)
    if input.dim() not in (2, 3) or shape[-2] == 0 or shape[-1] == 0:
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{shape}")
    if len(kernel) != 1:
        raise RuntimeError("max_pool1d() kernel_size must be an int, list of ints or tuple of "
                           f"ints of size 1 but got size {len(kernel)}")
    for name, value, ok, expected in (
            ("stride", stride, lambda v: len(v) in (0, 1), None),
            ("padding", padding, lambda v: len(v) == 1, None),
            ("dilation", dilation, lambda v: len(v) == 1, None)):
        if not ok(value):
            raise RuntimeError(f"max_pool1d() {name} must be an int, list of ints or tuple of "
                               f"ints of size 1 but got size {len(value)}")
    k, s = kernel[0], (stride or kernel)[0]
    p, dl = padding[0], dilation[0]
    for name, value, bad, expected in (("kernel_size", k, k <= 0, "greater than zero"),
                                       ("stride", s, s <= 0, "greater than zero"),
                                       ("padding", p, p < 0, "non-negative")):
        if bad:
            raise RuntimeError(f"max_pool1d() {name} must be {expected}, but got {value}")
    if p > k // 2:
        raise RuntimeError(f"max_pool1d() padding should be at most half of kernel size, but got "
                           f"padding={p} and kernel_size={k}")
    if dl <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {dl}")
    windows = Windows(input.shape, (k,), (s,), (p,), (dl,), ceil_mode)
    if windows.out[0] < 1:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {windows.out[0]}")


def _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, with_indices):
    if not isinstance(input, Tensor):
        type_error("max_pool1d", input, "input", 1)
    kernel = _ints(kernel_size, "max_pool1d", "kernel_size", 2)
    stride = () if stride is None else _ints(stride, "max_pool1d", "stride", 3)
    padding = _ints(padding, "max_pool1d", "padding", 4)
    dilation = _ints(dilation, "max_pool1d", "dilation", 5)
    if not with_indices:
        _max_pool1d_checks(input, kernel, stride, padding, dilation, ceil_mode)
    else:
        _check_dim_range("max_pool1d", input, 2, 4)
        for name, value in (("kernel_size", kernel), ("stride", stride or kernel),
                            ("padding", padding), ("dilation", dilation)):
            if len(value) != 1:
                raise RuntimeError(f"max_pool1d() argument '{name}' should contain one int (got "
                                   f"{len(value)})")
    stride = stride or kernel
    out = _max_pool2d(input.unsqueeze(-2), (1, kernel[0]), (1, stride[0]), (0, padding[0]),
                      (1, dilation[0]), ceil_mode, with_indices)
    if with_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=True):
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, True)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    return _max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode,
                       bool(return_indices))


# ---------------------------------------------------------------- average pooling


class _AveragePlan:
    """Window sums divided by torch's divisor (window size, optionally without padding)."""

    def __init__(self, windows, count_include_pad, divisor_override):
        self.windows = windows
        if divisor_override is not None:
            self.divisor = divisor_override
            return
        counts = []
        for s, k, st, p, o in zip(windows.size, windows.kernel, windows.stride,
                                  windows.padding, windows.out):
            start = np.arange(o) * st - p
            end = np.minimum(start + k, s + p)
            if count_include_pad:
                counts.append(end - start)
            else:
                counts.append(np.minimum(end, s) - np.maximum(start, 0))
        divisor = counts[0][:, None] * counts[1][None, :]
        self.divisor = int(divisor.flat[0]) if (divisor == divisor.flat[0]).all() else divisor

    def _divide(self, total):
        divisor = self.divisor
        if total.dtype.kind in "iu":  # torch divides integers in C++: toward zero
            quotient = np.abs(total) // np.abs(divisor)
            return (quotient * (np.sign(total) * np.sign(divisor))).astype(total.dtype)
        if not isinstance(divisor, int):
            divisor = B.get_array_module(total).asarray(divisor, dtype=total.dtype)
        total /= divisor
        return total

    def apply(self, x):
        if x.dtype == np.float16:  # torch sums half precision in float
            return self.apply(x.astype(np.float32)).astype(np.float16)
        return self._divide(sum_taps(self.windows.padded(x), self.windows))

    def adjoint(self, grad):
        if grad.dtype == np.float16:
            return self.adjoint(grad.astype(np.float32)).astype(np.float16)
        return add_taps(self._divide(grad.copy()), self.windows, grad.dtype)


_AvgPool2d, _AvgPool2dBackward = linear_pair("AvgPool2DBackward0", "AvgPool2DBackwardBackward0")


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    if not isinstance(input, Tensor):
        type_error("avg_pool2d", input, "input", 1)
    kernel, stride, padding, _ = _pair_args("avg_pool2d", kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    shape = input._data.shape
    wrap_dim(-3, len(shape))
    _check_pool_dims(kernel, stride, padding, (1, 1))
    windows = Windows(shape, kernel, stride, padding, (1, 1), ceil_mode)
    _check_pool_shape(shape, kernel, stride, (1, 1), windows.out)
    dt = input._data.dtype
    if dt.kind == "b" or (dt.kind in "iu" and dt != np.int64):
        not_implemented("avg_pool2d", input.dtype)
    plan = _AveragePlan(windows, count_include_pad, divisor_override)
    return _AvgPool2d.apply(input, plan)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    if not isinstance(input, Tensor):
        type_error("avg_pool1d", input, "input", 1)
    _check_dim_range("avg_pool1d", input, 2, 4)
    kernel = _one("avg_pool1d", "kernel_size", kernel_size, 2)
    stride = kernel if stride is None or stride == () else _one("avg_pool1d", "stride", stride, 3)
    padding = _one("avg_pool1d", "padding", padding, 4)
    out = avg_pool2d(input.unsqueeze(-2), (1, kernel), (1, stride), (0, padding), ceil_mode,
                     count_include_pad)
    return out.squeeze(-2)


# ---------------------------------------------------------------- power-average pooling


def _lp_finish(out, norm_type, window):
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    kw, kh = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    if stride is not None:
        out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool2d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return _lp_finish(out, norm_type, kw * kh)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    if stride is not None:
        out = avg_pool1d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    else:
        out = avg_pool1d(input.pow(norm_type), kernel_size, padding=0, ceil_mode=ceil_mode)
    return _lp_finish(out, norm_type, kernel_size)


# ---------------------------------------------------------------- max_unpool


_MaxUnpool2d, _MaxUnpoolGather = linear_pair("MaxUnpool2DBackward0", "GatherBackward0")


def _unpool_output_size(input, kernel_size, stride, padding, output_size):
    shape = input.shape
    d = len(kernel_size)
    default = [(shape[len(shape) - d + i] - 1) * stride[i] + kernel_size[i] - 2 * padding[i]
               for i in range(d)]
    if output_size is None:
        return default
    if len(output_size) == d + 2:
        output_size = output_size[2:]
    if len(output_size) != d:
        raise ValueError(f"output_size should be a sequence containing {d} or {d + 2} elements, "
                         f"but it has a length of '{len(output_size)}'")
    for i in range(d):
        low, high = default[i] - stride[i], default[i] + stride[i]
        if not low < output_size[i] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                             f'{low} and {high})')
    return list(output_size)


def _max_unpool2d(input, indices, output_size):
    if indices._data.dtype != np.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: "
                           f"{indices.dtype.__repr__()[6:].capitalize()}")
    if len(output_size) != 2:
        raise RuntimeError(f"There should be exactly two elements (height, width) in "
                           f"output_size, but got {len(output_size)} elements.")
    shape = list(input._data.shape)
    if len(shape) not in (3, 4):
        raise RuntimeError(f"Input to max_unpooling2d should be a 3d or 4d Tensor, but got a "
                           f"tensor with {len(shape)} dimensions.")
    if shape != list(indices._data.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({shape}) but got indices tensor with shape: "
                           f"{list(indices._data.shape)}")
    for i in range(1, len(shape)):
        if shape[i] <= 0:
            raise RuntimeError(f"max_unpooling2d_forward_out_cpu(): Expected input to have "
                               f"non-zero size for non-batch dimensions, but got {shape} with "
                               f"dimension {i} being empty.")
    oh, ow = output_size
    index = indices._data
    bad = (index < 0) | (index >= oh * ow)
    if bad.any():
        raise RuntimeError(f"Found an invalid max index: {int(index[bad].flat[0])} (output "
                           f"volumes are of size {oh}x{ow})")
    plan = FlatScatter(index, tuple(shape[:-2]) + (oh, ow), len(shape) - 2, accumulate=False)
    return _MaxUnpool2d.apply(input, plan)


def _pair(value):
    return (value, value) if isinstance(value, int) else tuple(value)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = _pair(kernel_size)
    stride = _pair(stride) if stride is not None else kernel_size
    padding = _pair(padding)
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool2d(input, indices, size)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    kernel_size = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
    stride = kernel_size if stride is None else (
        (stride,) if isinstance(stride, int) else tuple(stride))
    padding = (padding,) if isinstance(padding, int) else tuple(padding)
    size = _unpool_output_size(input, kernel_size, stride, padding, output_size)
    return _max_unpool2d(input.unsqueeze(-1), indices.unsqueeze(-1), list(size) + [1]).squeeze(-1)


_PARTS = (nn_adaptive_pool, nn_upsample)
for _part in _PARTS:  # the family's other files, re-exported from here
    for _name in (*_part.__all__, *_part.FUNCTIONAL):
        globals()[_name] = getattr(_part, _name)
    __all__ += [n for n in _part.__all__ if n not in __all__]
    FUNCTIONAL += [n for n in _part.FUNCTIONAL if n not in FUNCTIONAL]
del _part, _name

"""Convolution over 1 to 3 spatial dims (strided, padded incl. 'same', dilated, grouped,
transposed); fold/unfold live in nn_fold.py, re-exported from here.

A convolution is one op: im2col and a batched matmul, block by block over the batch so that a
block's columns stay in cache. Without create_graph its backward runs on arrays. With
create_graph the gradients come from ops that differentiate again: the input's gradient is a
transposed convolution of the gradient, the weight's a `_WeightGrad` of input and gradient,
and each of the three ops is built from the others' backward, so every order exists.
"""

import math
import warnings

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from . import nn_fold
from ._common import _legacy_name
from ._elementwise_base import CPP_TYPE_NAMES, invalid_arguments
from ._nn_util import not_implemented
from ._nn_window import add_windows, crop, im2col, out_size, scratch
from .nn_pad import constant_pad_nd

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "convolution"]
FUNCTIONAL = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d"]

# the weight's gradient sums per-sample products; this bounds their memory (in elements)
# Samples are processed in blocks whose columns (im2col) stay in the CPU's cache: writing them
# once and reading them back from cache beats a round trip through memory for the whole batch.
_BLOCK_BYTES = 2 << 20


def _working(a):
    """Half precision computes in float32 (as torch accumulates it), then rounds back."""
    return a.astype("float32") if a.dtype.kind in "fV" and a.dtype.itemsize == 2 else a


class ConvParams:
    """stride, padding, dilation and groups of one convolution, and its array kernels."""

    __slots__ = ("stride", "padding", "dilation", "groups")

    def __init__(self, stride, padding, dilation, groups):
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups = groups

    def out_size(self, size, kernel):
        return tuple(out_size(*args) for args in zip(size, kernel, self.stride, self.padding,
                                                      self.dilation))

    def _blocks(self, n, per_sample, like):
        """Slices of the batch, each small enough to keep its columns in cache (on the CPU;
        a GPU takes the batch at once)."""
        step = n
        if B.device_of(like).type == "cpu":
            step = max(1, min(n, _BLOCK_BYTES // max(1, per_sample)))
        return [slice(start, start + step) for start in range(0, n, step)] or [slice(0, 0)]

    def _columns(self, x, kernel, out):
        """x's windows as (N, groups, C/groups * prod(kernel), prod(out)), in scratch."""
        n, c = x.shape[:2]
        shape = (n, self.groups, c // self.groups * math.prod(kernel), math.prod(out))
        cols = im2col(x, kernel, self.stride, self.padding, self.dilation, out,
                      scratch("columns", shape, x.dtype, x))
        return cols.reshape(shape)

    def over_columns(self, x, kernel, weight=None, grad=None):
        """One pass over x's columns, block by block: its convolution with `weight` and the
        weight's gradient for output gradient `grad` (either None when not wanted)."""
        dtype = x.dtype
        x = _working(x)
        xp = B.get_array_module(x)
        n, c = x.shape[:2]
        g = self.groups
        out = self.out_size(x.shape[2:], kernel)
        rows, length = c // g * math.prod(kernel), math.prod(out)
        result = total = None
        if weight is not None:
            w = _working(weight).reshape(g, weight.shape[0] // g, rows)
            result = xp.empty((n, g, w.shape[1], length), dtype=x.dtype)
        if grad is not None:
            grad = _working(grad).reshape(n, g, grad.shape[1] // g, length)
            total = xp.zeros((g, grad.shape[2], rows), dtype=x.dtype)
        for block in self._blocks(n, c * math.prod(kernel) * length * x.itemsize, x):
            cols = self._columns(x[block], kernel, out)
            if result is not None:
                xp.matmul(w, cols, out=result[block])
            if grad is not None:
                total += xp.matmul(grad[block], cols.transpose(0, 1, 3, 2)).sum(0)
        if result is not None:
            result = result.reshape((n, weight.shape[0]) + out).astype(dtype, copy=False)
        if total is not None:
            total = total.reshape((-1, c // g) + tuple(kernel)).astype(dtype, copy=False)
        return result, total

    def forward(self, x, weight):
        return self.over_columns(x, weight.shape[2:], weight=weight)[0]

    def weight_grad(self, x, grad, shape):
        """The adjoint of the convolution in its weight."""
        return self.over_columns(x, shape[2:], grad=grad)[1]

    def input_grad(self, grad, weight, size):
        """The adjoint of the convolution in its input (a transposed convolution)."""
        dtype = weight.dtype
        grad, weight = _working(grad), _working(weight)
        xp = B.get_array_module(grad)
        n, g = grad.shape[0], self.groups
        kernel, out = weight.shape[2:], grad.shape[2:]
        length = math.prod(out)
        grad_cols = grad.reshape(n, g, weight.shape[0] // g, length)
        w = weight.reshape(g, weight.shape[0] // g, weight.shape[1] * math.prod(kernel))
        w = w.transpose(0, 2, 1)
        channels = g * weight.shape[1]
        padded = tuple(s + 2 * p for s, p in zip(size, self.padding))
        total = xp.zeros((n, channels) + padded, dtype=grad.dtype)
        for block in self._blocks(n, g * w.shape[1] * length * grad.itemsize, grad):
            part = grad_cols[block]
            cols = xp.matmul(w, part, out=scratch("input_grad", part.shape[:2] + w.shape[1:2] + (
                length,), grad.dtype, grad))
            add_windows(cols.reshape((part.shape[0], channels) + kernel + out), total[block],
                        self.stride, self.dilation)
        return crop(total, self.padding, size).astype(dtype, copy=False)


def _add_bias(out, bias):
    if bias is not None:
        out += bias._data.reshape((-1,) + (1,) * (out.ndim - 2))
    return out


def _bias_grad(grad):
    return grad.sum((0, *range(2, grad.dim())))


class Convolution(Op):
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, conv):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.conv = conv
        return _add_bias(conv.forward(x._data, weight._data), bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        conv = ctx.conv
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        size = x._data.shape[2:]
        if state.enabled:
            if need_x:
                grad_x = _InputGrad.apply(grad, weight, None, conv, size)
            if need_w:
                grad_w = _WeightGrad.apply(x, grad, conv, weight._data.shape)
        else:
            g = grad._data
            if need_x:
                grad_x = Tensor._wrap(conv.input_grad(g, weight._data, size))
            if need_w:
                grad_w = Tensor._wrap(conv.weight_grad(x._data, g, weight._data.shape))
        if need_b:
            grad_b = _bias_grad(grad)
        return grad_x, grad_w, grad_b, None


class TransposedConvolution(Op):
    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, conv, size):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.conv = conv
        return _add_bias(conv.input_grad(x._data, weight._data, size), bias)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        conv = ctx.conv
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if state.enabled:
            if need_x:
                grad_x = _ForwardAgain.apply(grad, weight, None, conv)
            if need_w:
                grad_w = _WeightGrad.apply(grad, x, conv, weight._data.shape)
        elif need_x or need_w:  # one pass over the gradient's columns gives both
            grad_x, grad_w = conv.over_columns(grad._data, weight._data.shape[2:],
                                               weight._data if need_x else None,
                                               x._data if need_w else None)
            grad_x = None if grad_x is None else Tensor._wrap(grad_x)
            grad_w = None if grad_w is None else Tensor._wrap(grad_w)
        if need_b:
            grad_b = _bias_grad(grad)
        return grad_x, grad_w, grad_b, None, None


class _InputGrad(TransposedConvolution):
    node_name = "ConvolutionBackwardBackward0"


class _ForwardAgain(Convolution):
    node_name = "ConvolutionBackwardBackward0"


class _WeightGrad(Op):
    """The weight's gradient as a function of input and output gradient."""

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, x, grad, conv, shape):
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, grad)
            ctx.conv = conv
        return conv.weight_grad(x._data, grad._data, shape)

    @staticmethod
    def backward(ctx, grad_weight):
        x, grad = ctx.saved_tensors
        need_x, need_grad = ctx.needs_input_grad[:2]
        grad_x = grad_grad = None
        if need_x:
            grad_x = _InputGrad.apply(grad, grad_weight, None, ctx.conv, x._data.shape[2:])
        if need_grad:
            grad_grad = _ForwardAgain.apply(x, grad_weight, None, ctx.conv)
        return grad_x, grad_grad, None, None


# ---------------------------------------------------------------- arguments and checks


def _sizes(t):
    return list(t._data.shape)


def _int_list(value, n, fname, name, position=None):
    """torch's int[n] argument: an int repeats, a 1-element list expands, others pass."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,) * n
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        value = tuple(int(v) for v in value)
        return value * n if len(value) == 1 else value
    where = f" (position {position})" if position else ""
    raise TypeError(f"{fname}(): argument '{name}'{where} must be tuple of ints, not "
                    f"{type(value).__name__}")


def _expand(name, values, d):
    if len(values) == 1:
        return values * d
    if len(values) != d:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {d} "
                           f"values to match the convolution dimensions, but got "
                           f"{name}={list(values)}")
    return tuple(values)


def _check_shape(input, weight, bias, conv, transposed, output_padding):
    """torch's check_shape_forward, in its order."""
    if any(p < 0 for p in conv.padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(s <= 0 for s in conv.stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in conv.dilation):
        raise RuntimeError("non-positive dilation is not supported")
    ws, ins, groups = _sizes(weight), _sizes(input), conv.groups
    if len(ws) != len(ins):
        raise RuntimeError(f"Expected {len(ws)}-dimensional input for {len(ws)}-dimensional "
                           f"weight {ws}, but got {len(ins)}-dimensional input of size {ins} "
                           "instead")
    if ws[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at "
                           f"dimension 0, but got weight of size {ws} instead")
    if ws[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} "
                           f"at dimension 0, but got weight of size [{ws}] instead")
    if transposed:
        channels, bias_size = ws[0], ws[1] * groups
        prefix = f"Given transposed=1, weight of size {ws}"
    else:
        channels, bias_size = ws[1] * groups, ws[0]
        prefix = f"Given groups={groups}, weight of size {ws}"
    if ins[1] != channels:
        raise RuntimeError(f"{prefix}, expected input{ins} to have {channels} channels, but got "
                           f"{ins[1]} channels instead")
    if bias is not None and (bias.dim() != 1 or bias.shape[0] != bias_size):
        prefix = "Given transposed=1, weight of size" if transposed else "Given weight of size"
        raise RuntimeError(f"{prefix} {ws}, expected bias to be 1-dimensional with {bias_size} "
                           f"elements, but got bias of size {_sizes(bias)} instead")
    if not transposed:
        padded = [s + 2 * p for s, p in zip(ins[2:], conv.padding)]
        kernel = [d * (k - 1) + 1 for d, k in zip(conv.dilation, ws[2:])]
        if any(p < k for p, k in zip(padded, kernel)):
            raise RuntimeError(
                f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                f"Kernel size: ({' x '.join(map(str, kernel))}). Kernel size can't be greater "
                "than actual input size")


def _tensor_name(t):
    return f"torch.{_legacy_name(t.dtype)}Tensor"


def _check_types(input, weight, bias, transposed):
    dt = input._data.dtype
    if weight._data.dtype != dt:
        if dt.name == "float32":
            raise RuntimeError(f"Input type ({_tensor_name(input)}) and weight type "
                               f"({_tensor_name(weight)}) should be the same or input should be "
                               "a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {_legacy_name(input.dtype)} but found "
                           f"{_legacy_name(weight.dtype)}")
    if bias is not None and bias._data.dtype != dt and dt.name == "float32":
        raise RuntimeError(f"Input type ({_tensor_name(input)}) and bias type "
                           f"({_tensor_name(bias)}) should be the same or input should be a "
                           "MKLDNN tensor and bias is a dense tensor")
    # torch's CPU kernels: no bool; transposed ones take int64 as their only integer type
    if dt.kind == "b" or (transposed and dt.kind in "iu" and dt.itemsize < 8):
        d = "3" if input.dim() == 5 else "2"
        kernel = f"slow_conv_transpose{d}d_out_cpu" if transposed else f"slow_conv{d}d_cpu"
        not_implemented(kernel, input.dtype)


def _output_padding_error(output_padding, stride, dilation):
    names = ("depth", "height", "width")[3 - max(2, len(stride)):]
    pad = (0,) * (len(names) - len(stride))  # 1-d runs as 2-d in torch
    parts = [f"{kind}_{name}: {v}" for kind, values in (
        ("output_padding", pad + output_padding), ("stride", (1,) * len(pad) + stride),
        ("dilation", (1,) * len(pad) + dilation)) for name, v in zip(names, values)]
    raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                       + " ".join(parts))


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding,
                groups):
    """torch.convolution: the one entry point behind every conv and conv_transpose."""
    if weight.dim() < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    d = weight.dim() - 2
    stride = _expand("stride", tuple(stride), d)
    padding = _expand("padding", tuple(padding), d)
    dilation = _expand("dilation", tuple(dilation), d)
    output_padding = _expand("output_padding", tuple(output_padding), d)
    conv = ConvParams(stride, padding, dilation, groups)
    _check_shape(input, weight, bias, conv, transposed, output_padding)
    _check_types(input, weight, bias, transposed)
    if bias is not None and bias._data.dtype != input._data.dtype:
        bias = bias.to(input.dtype)
    if not transposed:
        return Convolution.apply(input, weight, bias, conv)
    if any(op >= s and op >= dl for op, s, dl in zip(output_padding, stride, dilation)):
        _output_padding_error(output_padding, stride, dilation)
    size = tuple((i - 1) * s - 2 * p + dl * (k - 1) + op + 1 for i, s, p, dl, k, op in zip(
        input.shape[2:], stride, padding, dilation, weight.shape[2:], output_padding))
    if any(s < 0 for s in size):
        raise RuntimeError(f"Given input size per channel: {list(input.shape[2:])}, the "
                           f"calculated output size {list(size)} is negative")
    return TransposedConvolution.apply(input, weight, bias, conv, size)


def _check_tensors(fname, input, weight, bias):
    for value, position in ((input, 1), (weight, 2)):
        if not isinstance(value, Tensor):
            invalid_arguments(fname, input, weight)
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fname}(): argument 'bias' (position 3) must be Tensor, not "
                        f"{type(bias).__name__}")


def _batched(fname, input, d, transposed):
    if input.dim() not in (d + 1, d + 2):
        raise RuntimeError(f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to "
                           f"{fname}, but got input of size: {_sizes(input)}")
    return input.dim() == d + 1


_same_warned = False


def _same_padding(input, weight, dilation):
    """torch's padding='same': half the dilated kernel on each side, the odd one on the right
    (that one as an explicit pad of the input)."""
    global _same_warned
    d = weight.dim() - 2
    dilation = dilation * d if len(dilation) == 1 else dilation
    left, extra = [], []
    for dl, k in zip(dilation, weight.shape[2:]):
        total = dl * (k - 1)
        left.append(total // 2)
        extra.append(total - 2 * (total // 2))
    if any(extra):
        if not _same_warned:
            _same_warned = True
            warnings.warn("Using padding='same' with even kernel lengths and odd dilation may "
                          "require a zero-padded copy of the input be created", UserWarning,
                          stacklevel=4)
        pad = []
        for e in reversed(extra):  # F.pad lists the last dim first
            pad += [0, e]
        input = constant_pad_nd(input, pad, 0)
    return input, tuple(left)


def _conv_nd(d, fname, input, weight, bias, stride, padding, dilation, groups):
    _check_tensors(fname, input, weight, bias)
    if bias is not None and bias._data.dtype != input._data.dtype:
        raise RuntimeError(f"Input type ({CPP_TYPE_NAMES[input.dtype.name]}) and bias type "
                           f"({CPP_TYPE_NAMES[bias.dtype.name]}) should be the same")
    unbatched = _batched(fname, input, d, False)
    if not isinstance(groups, int) or isinstance(groups, bool):
        invalid_arguments(fname, input, weight, bias, stride, padding, dilation, groups)
    stride = _int_list(stride, d, fname, "stride", 4)
    dilation = _int_list(dilation, d, fname, "dilation", 6)
    if unbatched:
        input = input.unsqueeze(0)
    if isinstance(padding, str):
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            input, padding = _same_padding(input, weight, dilation)
        elif padding == "valid":
            padding = (0,)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = _int_list(padding, d, fname, "padding", 5)
    out = convolution(input, weight, bias, stride, padding, dilation, False, (0,), groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv_nd(3, "conv3d", input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose_nd(d, fname, input, weight, bias, stride, padding, output_padding, groups,
                       dilation):
    _check_tensors(fname, input, weight, bias)
    unbatched = _batched(fname, input, d, True)
    stride = _int_list(stride, d, fname, "stride")
    padding = _int_list(padding, d, fname, "padding")
    output_padding = _int_list(output_padding, d, fname, "output_padding")
    dilation = _int_list(dilation, d, fname, "dilation")
    if unbatched:
        input = input.unsqueeze(0)
    out = convolution(input, weight, bias, stride, padding, dilation, True, output_padding,
                      groups)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose_nd(1, "conv_transpose1d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose_nd(2, "conv_transpose2d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    return _conv_transpose_nd(3, "conv_transpose3d", input, weight, bias, stride, padding,
                              output_padding, groups, dilation)


for _name in nn_fold.FUNCTIONAL:  # the family's other file, re-exported from here
    globals()[_name] = getattr(nn_fold, _name)
FUNCTIONAL += nn_fold.FUNCTIONAL
del _name

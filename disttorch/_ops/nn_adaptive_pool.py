"""Adaptive pooling (average 1-d to 3-d, max 1-d and 2-d) and the argument checks pooling
shares.

Adaptive windows are [floor(i * size / out), ceil((i + 1) * size / out)). The average is a
separable tap plan (one weighted tap per position of the widest window); the max gathers each
window, takes the first max along the width and then along the height (torch's row-major
scan), and scatters its gradient to the chosen flat positions.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._elementwise_base import type_error
from ._nn_util import not_implemented
from ._nn_window import FlatScatter, TapPlan, linear_pair

__all__ = ["adaptive_avg_pool1d"]
FUNCTIONAL = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
              "adaptive_max_pool1d",
              "adaptive_max_pool2d", "adaptive_max_pool1d_with_indices",
              "adaptive_max_pool2d_with_indices"]


def _ints(value, fname, name, position):
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, (tuple, list)) and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be tuple of ints, "
                    f"not {type(value).__name__}")


def _check_dim_range(fname, input, low, high):
    if not low <= input.dim() < high:
        raise RuntimeError(f"Expected {low} to {high - 1} dimensions, but got {input.dim()}-"
                           f"dimensional tensor for argument #1 'self' (while checking arguments "
                           f"for {fname})")


def _one(fname, name, value, position):
    values = _ints(value, fname, name, position)
    if len(values) != 1:
        raise RuntimeError(f"{fname}() argument '{name}' should contain one int (got "
                           f"{len(values)})")
    return values[0]


def _adaptive_bounds(size, out):
    """torch's adaptive windows: [floor(i * size / out), ceil((i + 1) * size / out))."""
    i = np.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _adaptive_average_taps(size, out):
    """Each adaptive window's mean as taps: one per position of the widest window (positions
    past a shorter window's end get weight 0)."""
    start, end = _adaptive_bounds(size, out)
    count = end - start
    if not out:
        return [(start, np.zeros(0))]
    return [(np.minimum(start + j, end - 1), np.where(j < count, 1.0 / count, 0.0))
            for j in range(int(count.max()))]


_AdaptiveAvgPool2d, _AdaptiveAvgPool2dBackward = linear_pair(
    "AdaptiveAvgPool2DBackward0", "AdaptiveAvgPool2DBackwardBackward0")


def _output_size(output_size, shape):
    """Python's _list_with_default: None keeps the input's size."""
    if isinstance(output_size, int):
        return output_size
    if len(shape) <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    return [s if v is None else v for v, s in zip(output_size, shape[-len(output_size):])]


def adaptive_avg_pool2d(input, output_size):
    if not isinstance(input, Tensor):
        type_error("adaptive_avg_pool2d", input, "input", 1)
    shape = list(input._data.shape)
    out = _output_size(output_size, shape)
    out = (out, out) if isinstance(out, int) else tuple(out)
    if len(out) != 2:
        raise RuntimeError("adaptive_avg_pool2d: output_size must be 2")
    if out[0] < 0 or out[1] < 0:
        raise RuntimeError("adaptive_avg_pool2d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{out[0]}, {out[1]}}}")
    _check_adaptive_input("adaptive_avg_pool2d", shape, "")
    if input._data.dtype.kind not in "fV":
        not_implemented("adaptive_avg_pool2d", input.dtype)
    if out == (1, 1):  # as torch does: a mean, with its node
        return input.mean((-1, -2), keepdim=True)
    plan = TapPlan([(size, _adaptive_average_taps(size, o)) for size, o in zip(shape[-2:], out)],
                   input._data.dtype, B.get_array_module(input._data))
    return _AdaptiveAvgPool2d.apply(input, plan)


def _check_adaptive_input(fname, shape, colon):
    ndim = len(shape)
    if ndim >= 2:
        for i in (-2, -1):
            if shape[i] <= 0:
                raise RuntimeError(f"{fname}(): Expected input to have non-zero size for "
                                   f"non-batch dimensions, but input has sizes {shape} with "
                                   f"dimension {i + ndim} being empty")
    if ndim not in (3, 4):
        raise RuntimeError(f"{fname}(): Expected 3D or 4D tensor, but got{colon} {shape}")


_AdaptiveAvgPool3d, _AdaptiveAvgPool3dBackward = linear_pair(
    "AdaptiveAvgPool3DBackward0", "AdaptiveAvgPool3DBackwardBackward0")


def adaptive_avg_pool3d(input, output_size):
    if not isinstance(input, Tensor):
        type_error("adaptive_avg_pool3d", input, "input", 1)
    shape = list(input._data.shape)
    out = _output_size(output_size, shape)
    out = (out,) * 3 if isinstance(out, int) else tuple(out)
    if len(out) != 3:
        raise RuntimeError("adaptive_avg_pool3d: output_size must be 3")
    if min(out) < 0:
        raise RuntimeError("adaptive_avg_pool3d: elements of output_size must be greater than "
                           f"or equal to 0 but received {{{out[0]}, {out[1]},{out[2]}}}")
    if len(shape) not in (4, 5):
        raise RuntimeError(f"adaptive_avg_pool3d(): Expected 4D or 5D tensor, but got {shape}")
    for i in (-3, -2, -1):
        if shape[i] == 0:
            raise RuntimeError("adaptive_avg_pool3d(): Expected input to have non-zero size for "
                               f"non-batch dimensions, but input has sizes {shape} with "
                               f"dimension {i + len(shape)} being empty")
    if input._data.dtype.kind not in "fV":
        not_implemented("adaptive_avg_pool3d_cpu", input.dtype)
    if out == (1, 1, 1):  # as torch does: a mean, with its node
        return input.mean((-1, -2, -3), keepdim=True)
    plan = TapPlan([(size, _adaptive_average_taps(size, o)) for size, o in zip(shape[-3:], out)],
                   input._data.dtype, B.get_array_module(input._data))
    return _AdaptiveAvgPool3d.apply(input, plan)


def adaptive_avg_pool1d(input, output_size):
    if not isinstance(input, Tensor):
        type_error("adaptive_avg_pool1d", input, "input", 1)
    _check_dim_range("adaptive_avg_pool1d", input, 2, 4)
    size = _one("adaptive_avg_pool1d", "output_size", output_size, 2)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def _adaptive_max(x, out):
    """Max of each adaptive window over the last two dims, and its flat index there."""
    xp = B.get_array_module(x)
    h, w = x.shape[-2:]
    lead = x.shape[:-2]
    choices = []
    for axis, (size, o) in enumerate(zip((h, w), out)):
        start, end = _adaptive_bounds(size, o)
        width = int((end - start).max()) if o else 1
        # shorter windows repeat their last position, which never changes a max or its index
        index = np.minimum(start[:, None] + np.arange(width), end[:, None] - 1)
        choices.append((xp.asarray(index), width))
    (rows, row_width), (cols, col_width) = choices
    across = x.take(cols.reshape(-1), axis=-1).reshape(lead + (h, out[1], col_width))
    col_pick = across.argmax(-1)
    across = xp.take_along_axis(across, col_pick[..., None], -1)[..., 0]
    down = across.take(rows.reshape(-1), axis=-2).reshape(lead + (out[0], row_width, out[1]))
    row_pick = down.argmax(-2)
    values = xp.take_along_axis(down, row_pick[..., None, :], -2)[..., 0, :]
    row = rows[xp.arange(out[0])[:, None], row_pick]
    col_in_row = xp.take_along_axis(col_pick, row, -2)
    col = cols[xp.arange(out[1]), col_in_row]
    return values, (row * w + col).astype(np.int64)


_AdaptiveMaxGrad, _AdaptiveMaxGather = linear_pair("AdaptiveMaxPool2DBackwardBackward0",
                                                   "AdaptiveMaxPool2DBackward0")


class AdaptiveMaxPool2d(Op):
    node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, out):
        d = x._data
        values, index = _adaptive_max(d, out)
        if ctx.needs_input_grad:
            ctx.scatter = FlatScatter(index, d.shape, d.ndim - 2)
        return values, index

    @staticmethod
    def backward(ctx, grad, index_grad):
        return _AdaptiveMaxGrad.apply(grad, ctx.scatter), None


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    if not isinstance(input, Tensor):
        type_error("adaptive_max_pool2d", input, "input", 1)
    shape = list(input._data.shape)
    out = _output_size(output_size, shape)
    out = (out, out) if isinstance(out, int) else tuple(out)
    _check_adaptive_input("adaptive_max_pool2d", shape, ":")
    if len(out) != 2:
        raise RuntimeError("adaptive_max_pool2d(): internal error: output_size.size() must be 2")
    if out[0] < 0 or out[1] < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(out)}: {shape[:-2] + list(out)}")
    if input._data.dtype.kind not in "fV":
        not_implemented("adaptive_max_pool2d", input.dtype)
    return AdaptiveMaxPool2d.apply(input, out)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    values, index = adaptive_max_pool2d_with_indices(input, output_size)
    return (values, index) if return_indices else values


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    if not isinstance(input, Tensor):
        type_error("adaptive_max_pool1d", input, "input", 1)
    _check_dim_range("adaptive_max_pool1d", input, 2, 4)
    size = _one("adaptive_max_pool1d", "output_size", output_size, 2)
    values, index = adaptive_max_pool2d_with_indices(input.unsqueeze(-2), (1, size))
    return values.squeeze(-2), index.squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    values, index = adaptive_max_pool1d_with_indices(input, output_size)
    return (values, index) if return_indices else values

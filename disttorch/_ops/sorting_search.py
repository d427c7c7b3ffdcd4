"""Search and counting: unique, unique_consecutive, searchsorted, bucketize, histc, bincount.

None of these has a gradient. Like torch, unique and bincount on a tensor that requires grad
return one whose backward raises; the others return plain tensors.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register
from ._reduce_util import legacy, one_axis

__all__ = ["unique", "unique_consecutive", "searchsorted", "bucketize", "histc", "bincount"]


class _NoDerivative(Op):
    """Runs `compute(array)`; its outputs require grad but backward raises, as in torch."""

    node_name = "NotImplemented"
    error = RuntimeError
    message = ""

    @staticmethod
    def forward(ctx, x, compute, *extra):
        return compute(x._data, *extra)

    @staticmethod
    def backward(ctx, *grads):
        raise ctx.error(ctx.message)


def _no_derivative(node, error, message):
    return type(node, (_NoDerivative,), {"node_name": node, "error": error, "message": message})


_Unique2 = _no_derivative("Unique2Backward0", NotImplementedError,
                          "the derivative for '_unique2' is not implemented.")
_UniqueDim = _no_derivative("UniqueDimBackward0", NotImplementedError,
                            "the derivative for 'unique_dim' is not implemented.")
_UniqueConsecutive = _no_derivative(
    "UniqueConsecutiveBackward0", NotImplementedError,
    "the derivative for 'unique_consecutive' is not implemented.")
_UniqueDimConsecutive = _no_derivative(
    "UniqueDimConsecutiveBackward0", NotImplementedError,
    "the derivative for 'unique_dim_consecutive' is not implemented.")
_Bincount = _no_derivative("NotImplemented", RuntimeError,
                           "derivative for aten::bincount is not implemented")


# ---------------------------------------------------------------- unique


def _runs(ordered, rows):
    """Where each run of equal items (elements, or rows when `rows`) starts; NaN never
    equals anything, so each NaN is its own run, as in torch."""
    xp = B.get_array_module(ordered)
    starts = xp.ones(ordered.shape[0], dtype=bool)
    if ordered.shape[0] > 1:
        differs = ordered[1:] != ordered[:-1]
        starts[1:] = differs.any(axis=1) if rows else differs
    return starts


def _group(ordered, order, starts, shape):
    """(values, inverse, counts) from items in grouped order, their original positions and
    the starts of the groups."""
    xp = B.get_array_module(ordered)
    n = ordered.shape[0]
    group = xp.cumsum(starts) - 1
    inverse = xp.empty(n, np.int64)
    inverse[order] = group
    first = xp.flatnonzero(starts)
    counts = xp.diff(xp.concatenate([first, xp.asarray([n])])).astype(np.int64)
    return ordered[starts], inverse.reshape(shape), counts


def _unique_elements(data, consecutive):
    xp = B.get_array_module(data)
    flat = data.reshape(-1)
    order = xp.arange(flat.size) if consecutive else flat.argsort(kind="stable")
    ordered = flat[order]
    return _group(ordered, order, _runs(ordered, False), data.shape)


def _unique_slices(data, axis, consecutive):
    xp = B.get_array_module(data)
    moved = xp.moveaxis(data, axis, 0)
    n = moved.shape[0]
    if moved.size == 0 and n:
        raise RuntimeError("There are 0 sized dimensions, and they aren't selected, so unique "
                           "cannot be applied")
    width = 1
    for size in moved.shape[1:]:
        width *= size
    rows = moved.reshape(n, width)
    if consecutive or n == 0:
        order = xp.arange(n)
    else:  # lexicographic: lexsort's last key is the primary one
        order = xp.lexsort(rows.T[::-1])
    ordered = rows[order]
    values, inverse, counts = _group(ordered, order, _runs(ordered, True), (n,))
    values = xp.moveaxis(values.reshape((values.shape[0],) + moved.shape[1:]), 0, axis)
    return values, inverse, counts


def _unique_result(outputs, return_inverse, return_counts):
    values, inverse, counts = outputs
    if not return_inverse and not return_counts:
        return values
    result = (values,)
    if return_inverse:
        result += (inverse,)
    if return_counts:
        result += (counts,)
    return result


def _slices_axis(data, dim):
    if data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return one_axis("unique", dim, data.ndim)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    data = input._data
    if dim is None:
        outputs = _Unique2.apply(input, _unique_elements, False)
    else:
        outputs = _UniqueDim.apply(input, _unique_slices, _slices_axis(data, dim), False)
    return _unique_result(outputs, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    data = input._data
    if dim is None:
        outputs = _UniqueConsecutive.apply(input, _unique_elements, True)
    else:
        outputs = _UniqueDimConsecutive.apply(input, _unique_slices, _slices_axis(data, dim),
                                              True)
    return _unique_result(outputs, return_inverse, return_counts)


# ---------------------------------------------------------------- searchsorted, bucketize


def _shape_text(shape):
    return f"[{', '.join(str(s) for s in shape)}]"


def _search(boundaries, values, right, out_int32):
    """Insertion points of `values` in the last dim of `boundaries` (batched row by row)."""
    xp = B.get_array_module(boundaries)
    common = np.result_type(boundaries.dtype, values.dtype)
    boundaries = boundaries.astype(common, copy=False)
    values = values.astype(common, copy=False)
    side = "right" if right else "left"
    if boundaries.ndim == 1:
        result = xp.searchsorted(boundaries, values, side=side)
    else:
        rows = boundaries.reshape(-1, boundaries.shape[-1])
        queries = values.reshape(rows.shape[0], -1)
        result = xp.stack([xp.searchsorted(r, q, side=side) for r, q in zip(rows, queries)])
        result = result.reshape(values.shape)
    return Tensor._wrap(xp.asarray(result, np.int32 if out_int32 else np.int64))


def _as_values(input, like):
    if isinstance(input, Tensor):
        return input._data
    xp = B.get_array_module(like)
    return xp.asarray(input)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    boundaries = sorted_sequence._data
    if boundaries.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should have positive "
                           "dimension, but got 0 dimension")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError("torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if side == "left" and right:
            raise RuntimeError("torch.searchsorted(): side and right can't be set to "
                               "opposites, got side of left while right was True")
        right = side == "right"
    values = _as_values(input, boundaries)
    if sorter is not None:
        if sorter._data.shape != boundaries.shape:
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {_shape_text(boundaries.shape)}and got sorter tensor "
                f"{_shape_text(sorter._data.shape)}")
        xp = B.get_array_module(boundaries)
        boundaries = xp.take_along_axis(boundaries, sorter._data, -1)
    if boundaries.ndim > 1 and boundaries.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {_shape_text(boundaries.shape)} and input value tensor "
            f"{_shape_text(values.shape)}")
    return _search(boundaries, values, right, out_int32)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    edges = boundaries._data
    if edges.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({edges.ndim})")
    return _search(edges, _as_values(input, edges), right, out_int32)


# ---------------------------------------------------------------- histc, bincount


def histc(input, bins=100, min=0, max=0):
    data = input._data
    if data.dtype.kind not in "fV":
        kernel = "linspace_cpu" if data.dtype == np.bool_ else "histogram_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{legacy(data)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for "
                           "dimension 0")
    xp = B.get_array_module(data)
    low, high = data.dtype.type(min), data.dtype.type(max)
    if low == high and data.size:
        low, high = data.min(), data.max()
    if low == high:
        low, high = low - 1, high + 1
    if not (np.isfinite(low) and np.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{_c_float(low)}, {_c_float(high)}] is not "
                           "finite")
    if low > high:
        raise RuntimeError("torch.histc: max must be larger than min")
    inside = data[(data >= low) & (data <= high)]
    # the same arithmetic as torch, in the input's dtype: (x - min) * bins / (max - min)
    position = ((inside - low) * data.dtype.type(bins) / (high - low)).astype(np.int64)
    position = xp.minimum(position, bins - 1)
    return Tensor._wrap(xp.bincount(position, minlength=bins).astype(data.dtype))


def _c_float(value):
    """A float as C++ streams print it (torch's messages)."""
    return f"{float(value):g}".replace("nan", "-nan" if np.signbit(value) else "nan")


def bincount(input, weights=None, minlength=0):
    data = input._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{legacy(data)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        xp = B.get_array_module(data)
        return Tensor._wrap(xp.bincount(data, minlength=minlength).astype(np.int64))
    if weights._data.shape != data.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return _Bincount.apply(weights, _weighted_bincount, data, minlength)


def _weighted_bincount(weights, data, minlength):
    xp = B.get_array_module(data)
    out_dtype = weights.dtype if weights.dtype in (np.float32, np.float64) else np.float64
    if weights.dtype.kind == "V":
        weights = weights.astype(np.float64)
    return xp.bincount(data, weights=weights, minlength=minlength).astype(out_dtype)


register("unique", unique)
register("unique_consecutive", unique_consecutive)
register("histc", histc)
register("bincount", bincount)

"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian,
mode. Search and counting ops (unique, searchsorted, histc, bincount ...) live in
sorting_search and are re-exported here.

All sorts are stable with NaN ordered as the largest value, like torch's. The gradient of
the selected values goes back to their indices (or, for a full median, is split among ties).
"""

import numpy as np

from .. import _backend as B
from ._common import register
from ._reduce_util import (
    NO_DIM,
    check_reduce_dim,
    evenly_op,
    int_dim,
    one_axis,
    return_types,
    select_op,
)

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode"]


def stable_argsort(data, axis, descending=False):
    """Stable argsort along `axis` with NaN last (first when descending), on arrays."""
    if not descending:
        return data.argsort(axis=axis, kind="stable")
    # sorting the reversed array and reversing back keeps ties in their original order
    reverse = (slice(None),) * axis + (slice(None, None, -1),)
    n = data.shape[axis]
    return (n - 1) - data[reverse].argsort(axis=axis, kind="stable")[reverse]


def _take(index, axis, start, stop):
    where = [slice(None)] * index.ndim
    where[axis] = slice(start, stop)
    return index[tuple(where)]


Sort = select_op("SortBackward0")
Topk = select_op("TopkBackward0")
Kthvalue = select_op("KthvalueBackward0")
MedianDim = select_op("MedianBackward1")
NanmedianDim = select_op("NanmedianBackward1")
Mode = select_op("ModeBackward0")
MedianAll = evenly_op("MedianBackward0")
NanmedianAll = evenly_op("NanmedianBackward0")


def _sorter(descending):
    def select(data, axis):
        return stable_argsort(data, axis, descending)

    return select


_ASCENDING, _DESCENDING = _sorter(False), _sorter(True)


def sort(input, dim=-1, descending=False, *, stable=False):
    axis = one_axis("sort", dim, input._data.ndim)
    return return_types.sort(Sort.apply(input, axis, True, _DESCENDING if descending else
                                        _ASCENDING))


def argsort(input, dim=-1, descending=False, *, stable=False):
    data = input._data
    axis = one_axis("argsort", dim, data.ndim)
    from .._tensor import Tensor

    if data.ndim == 0:
        xp = B.get_array_module(data)
        return Tensor._wrap(xp.zeros((), np.int64))
    return Tensor._wrap(stable_argsort(data, axis, descending).astype(np.int64, copy=False))


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    data = input._data
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' (position 1) must be int, not "
                        f"{type(k).__name__}")
    axis = one_axis("topk", dim, data.ndim)
    size = data.shape[axis] if data.ndim else 1
    if k < 0 or k > size:
        raise RuntimeError("selected index k out of range")
    if data.dtype == np.bool_:
        raise RuntimeError("topk does not support bool dtypes on CPU")

    def select(array, axis):
        return _take(stable_argsort(array, axis, largest), axis, 0, k)

    return return_types.topk(Topk.apply(input, axis, True, select))


def _not_for_bool(data, kernel):
    if data.dtype == np.bool_:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def kthvalue(input, k, dim=-1, keepdim=False):
    data = input._data
    k = int_dim("kthvalue", k, "int")
    axis = one_axis("kthvalue", dim, data.ndim)
    check_reduce_dim("kthvalue", data, axis)
    size = data.shape[axis] if data.ndim else 1
    if k < 1 or k > size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if data.ndim:  # torch returns a 0-d bool tensor as it is
        _not_for_bool(data, "kthvalue_cpu")

    def select(array, axis):
        return _take(stable_argsort(array, axis), axis, k - 1, k)

    return return_types.kthvalue(Kthvalue.apply(input, axis, keepdim, select))


# ---------------------------------------------------------------- median, nanmedian


def _lower_median(data, skip_nan):
    """The lower median of all elements (NaN if any is NaN, unless skipped)."""
    xp = B.get_array_module(data)
    flat = data.reshape(-1)
    nan = xp.isnan(flat) if flat.dtype.kind in "fV" else None
    if nan is not None and nan.any():
        if not skip_nan:
            return xp.asarray(np.nan, data.dtype)
        flat = flat[~nan]
    if flat.size == 0:
        return xp.asarray(np.nan, data.dtype)
    return xp.sort(flat)[(flat.size - 1) // 2]


def _median_all(data):
    return _lower_median(data, False)


def _nanmedian_all(data):
    return _lower_median(data, True)


def _median_select(skip_nan):
    def select(data, axis):
        xp = B.get_array_module(data)
        order = stable_argsort(data, axis)
        n = data.shape[axis]
        if data.dtype.kind in "fV":
            nans = xp.isnan(data).sum(axis=axis, keepdims=True)
            # median: the first NaN when there is one; nanmedian: among the others
            position = xp.maximum(n - nans - 1, 0) // 2 if skip_nan else xp.where(
                nans > 0, n - nans, (n - 1) // 2)
        else:
            position = xp.full((1,) * data.ndim, (n - 1) // 2)
        position = xp.broadcast_to(position, _one_along(data.shape, axis))
        return xp.take_along_axis(order, position, axis)

    return select


def _one_along(shape, axis):
    return tuple(1 if i == axis else s for i, s in enumerate(shape))


def _median(name, all_op, dim_op, reduce_all, skip_nan, kernels):
    select = _median_select(skip_nan)

    def median(input, dim=NO_DIM, keepdim=NO_DIM):
        data = input._data
        if dim is NO_DIM:
            if keepdim is not NO_DIM:
                raise TypeError(f"{name}() missing 1 required positional arguments: \"dim\"")
            _not_for_bool(data, kernels[0])
            return all_op.apply(input, reduce_all)
        axis = one_axis(name, int_dim(name, dim), data.ndim)
        check_reduce_dim(name, data, axis)
        _not_for_bool(data, kernels[1])
        keep = keepdim is not NO_DIM and bool(keepdim)
        return getattr(return_types, name)(dim_op.apply(input, axis, keep, select))

    median.__name__ = name
    return median


median = _median("median", MedianAll, MedianDim, _median_all, False,
                 ("median_cpu", "median_out"))
nanmedian = _median("nanmedian", NanmedianAll, NanmedianDim, _nanmedian_all, True,
                    ("median_cpu", "median_out"))


# ---------------------------------------------------------------- mode


def _mode_select(data, axis):
    """Index of the last occurrence of the smallest most frequent value along `axis`."""
    xp = B.get_array_module(data)
    order = stable_argsort(data, axis)
    ordered = xp.take_along_axis(data, order, axis)
    n = data.shape[axis]
    position = xp.arange(n).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    starts = xp.ones(ordered.shape, dtype=bool)
    if n > 1:
        starts[_slice_from(ordered.ndim, axis, 1)] = (
            ordered[_slice_from(ordered.ndim, axis, 1)] !=
            ordered[_slice_to(ordered.ndim, axis, n - 1)])
    run_start = np.maximum.accumulate(xp.where(starts, position, 0), axis=axis)
    run_length = position - run_start + 1
    # the first position reaching the longest run ends the smallest most frequent value's
    # run; with a stable sort that is its last occurrence in the input
    best = run_length.argmax(axis=axis, keepdims=True)
    return xp.take_along_axis(order, best, axis)


def _slice_from(ndim, axis, start):
    where = [slice(None)] * ndim
    where[axis] = slice(start, None)
    return tuple(where)


def _slice_to(ndim, axis, stop):
    where = [slice(None)] * ndim
    where[axis] = slice(None, stop)
    return tuple(where)


def mode(input, dim=-1, keepdim=False):
    data = input._data
    axis = one_axis("mode", int_dim("mode", dim), data.ndim)
    check_reduce_dim("mode", data, axis)
    return return_types.mode(Mode.apply(input, axis, keepdim, _mode_select))


for _name in __all__:
    register(_name, globals()[_name])
del _name

# search and counting: imported last, they use this module's helpers
from . import sorting_search  # noqa: E402

__all__ += sorting_search.__all__
globals().update({name: getattr(sorting_search, name) for name in sorting_search.__all__})

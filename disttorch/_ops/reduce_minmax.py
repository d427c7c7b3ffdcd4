"""max / min (value, over a dim with indices, or elementwise), amax / amin, argmax / argmin,
aminmax and the running cummax / cummin.

A full max() splits its gradient evenly among ties, amax splits it per reduced slice, and the
dim forms (max(dim), cummax) send it to the returned index, as torch does.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register
from ._reduce_util import (
    NO_DIM,
    ScatterAlong,
    check_reduce_dim,
    evenly_op,
    expand_reduced,
    int_dim,
    keep,
    kept_shape,
    one_axis,
    reduce_axes,
    return_types,
    scale_by_count,
    select_op,
)

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin", "aminmax", "cummax", "cummin"]


def _nonempty(name, data):
    if data.size == 0:
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' "
                           "argument.")


def _max_all(data):
    _nonempty("max", data)
    return data.max()


def _min_all(data):
    _nonempty("min", data)
    return data.min()


def _argmax_keep(data, axis):
    return data.argmax(axis=axis, keepdims=True)


def _argmin_keep(data, axis):
    return data.argmin(axis=axis, keepdims=True)


MaxAll = evenly_op("MaxBackward1")
MinAll = evenly_op("MinBackward1")
MaxDim = select_op("MaxBackward0")
MinDim = select_op("MinBackward0")


def _extremum(name, all_op, dim_op, select, elementwise):
    def reduction(input, dim=NO_DIM, keepdim=False, *, other=NO_DIM):
        if isinstance(dim, Tensor) or other is not NO_DIM:
            return getattr(input, elementwise)(dim if other is NO_DIM else other)
        if dim is NO_DIM:
            return all_op.apply(input, _max_all if name == "max" else _min_all)
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(dim).__name__}), but expected one of:\n * ()\n"
                            " * (Tensor other)\n * (int dim, bool keepdim = False)")
        data = input._data
        axis = one_axis(name, dim, data.ndim)
        check_reduce_dim(name, data, axis)
        return getattr(return_types, name)(dim_op.apply(input, axis, keepdim, select))

    reduction.__name__ = name
    return reduction


max = _extremum("max", MaxAll, MaxDim, _argmax_keep, "maximum")
min = _extremum("min", MinAll, MinDim, _argmin_keep, "minimum")


# ---------------------------------------------------------------- amax, amin


class Amax(Op):
    node_name = "AmaxBackward0"
    op_name = "amax"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = x._data
        name = ctx.op_name
        if len(axes) == data.ndim and data.ndim:
            _nonempty(name, data)
        for axis in axes:
            check_reduce_dim(name, data, axis)
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        ctx.save_for_backward(x)
        ctx.save_output()
        if not axes:
            return data.copy()
        return getattr(data, ctx.op_name[1:])(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, axes, keepdim = ctx.shape, ctx.axes, ctx.keepdim
        value = keep(ctx.saved_output, shape, axes, keepdim)._data
        grad = expand_reduced(grad, shape, axes, keepdim)
        return scale_by_count(grad, x._data, value, axes), None, None


class Amin(Amax):
    node_name = "AminBackward0"
    op_name = "amin"


def _multi_dim(name, dim, ndim):
    if isinstance(dim, (float, str, bool)) or dim is None:
        raise TypeError(f"{name}(): argument 'dim' (position 1) must be tuple of ints, not "
                        f"{type(dim).__name__}")
    return reduce_axes(dim, ndim, name)


def amax(input, dim=(), keepdim=False):
    return Amax.apply(input, _multi_dim("amax", dim, input._data.ndim), keepdim)


def amin(input, dim=(), keepdim=False):
    return Amin.apply(input, _multi_dim("amin", dim, input._data.ndim), keepdim)


# ---------------------------------------------------------------- argmax, argmin


def _arg_extremum(name):
    def reduction(input, dim=None, keepdim=False):
        data = input._data
        if data.dtype == np.bool_:
            raise RuntimeError(f"{name}(): does not support bool input")
        if dim is None:
            if data.size == 0:
                raise IndexError(f"{name}(): Expected reduction dim to be specified for "
                                 "input.numel() == 0.")
            index = getattr(data, name)()
            shape = (1,) * data.ndim if keepdim else ()
            return Tensor._wrap(np.asarray(index, dtype=np.int64).reshape(shape))
        axis = one_axis(name, int_dim(name, dim), data.ndim)
        if data.ndim == 0:
            xp = B.get_array_module(data)
            return Tensor._wrap(xp.zeros((), np.int64))
        check_reduce_dim(name, data, axis)
        index = getattr(data, name)(axis=axis, keepdims=keepdim)
        return Tensor._wrap(index.astype(np.int64, copy=False))

    reduction.__name__ = name
    return reduction


argmax = _arg_extremum("argmax")
argmin = _arg_extremum("argmin")


# ---------------------------------------------------------------- aminmax


class Aminmax(Op):
    node_name = "AminmaxBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = x._data
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        ctx.save_for_backward(x)
        if axes:
            low = data.min(axis=axes, keepdims=keepdim)
            high = data.max(axis=axes, keepdims=keepdim)
        else:
            low, high = data.copy(), data.copy()
        ctx.low, ctx.high = low, high
        return low, high

    @staticmethod
    def backward(ctx, grad_low, grad_high):
        (x,) = ctx.saved_tensors
        shape, axes, keepdim = ctx.shape, ctx.axes, ctx.keepdim
        result = None
        for grad, value in ((grad_low, ctx.low), (grad_high, ctx.high)):
            if grad is None:
                continue
            value = value if keepdim or not axes else value.reshape(kept_shape(shape, axes))
            part = scale_by_count(expand_reduced(grad, shape, axes, keepdim), x._data, value,
                                  axes)
            result = part if result is None else result + part
        return result, None, None


def aminmax(input, *, dim=None, keepdim=False):
    data = input._data
    if dim is None:
        if data.size == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        axes = tuple(range(data.ndim))
    else:
        axis = one_axis("aminmax", int_dim("aminmax", dim), data.ndim)
        if data.ndim and data.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
        axes = (axis,) if data.ndim else ()
    return return_types.aminmax(Aminmax.apply(input, axes, keepdim))


# ---------------------------------------------------------------- cummax, cummin


class Cummax(Op):
    node_name = "CummaxBackward0"
    ufunc = np.maximum

    @staticmethod
    def forward(ctx, x, axis):
        data = x._data
        xp = B.get_array_module(data)
        ctx.axis, ctx.shape = axis, data.shape
        if data.ndim == 0:
            ctx.index = xp.zeros((), np.int64)
            return data.copy(), ctx.index
        values = ctx.ufunc.accumulate(data, axis=axis)
        # the index moves on ties (torch compares with >=) and on every NaN
        new = data == values
        if data.dtype.kind in "fV":
            new |= xp.isnan(data)
        position = xp.arange(data.shape[axis]).reshape(
            (-1,) + (1,) * (data.ndim - axis - 1))
        index = np.maximum.accumulate(xp.where(new, position, 0), axis=axis)
        ctx.index = index.astype(np.int64, copy=False)
        return values, ctx.index

    @staticmethod
    def backward(ctx, grad, _):
        if not ctx.shape:
            return grad, None
        return ScatterAlong.apply(grad, ctx.index, ctx.axis, ctx.shape, False), None


class Cummin(Cummax):
    node_name = "CumminBackward0"
    ufunc = np.minimum


def _cumulative(name, op):
    def scan(input, dim):
        if dim is None or isinstance(dim, (float, str, tuple, list)):
            raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
        axis = one_axis(name, dim, input._data.ndim)
        return getattr(return_types, name)(op.apply(input, axis))

    scan.__name__ = name
    return scan


cummax = _cumulative("cummax", Cummax)
cummin = _cumulative("cummin", Cummin)


for _name in __all__:
    register(_name, globals()[_name])
del _name

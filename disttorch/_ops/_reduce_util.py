"""What the reduction and sorting ops share: dim parsing, torch's named-tuple results,
reshaping a reduced gradient back, and the two index ops behind value-selecting backward.

TakeAlong / ScatterAlong are each other's adjoint, so a gradient built from them (sort,
topk, max over a dim, cummax ...) can be differentiated again to any order.
"""

import operator
import sys
import types

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import _legacy_name, wrap_dim, wrap_dims

NO_DIM = type("NoDim", (), {"__repr__": lambda self: "<no dim>"})()


# ---------------------------------------------------------------- torch.return_types

return_types = types.ModuleType("disttorch.return_types",
                                "Named tuples returned by reductions (torch.return_types).")
# importable (and so picklable) by name, as torch.return_types is
sys.modules.setdefault(return_types.__name__, return_types)


class _ReturnType(tuple):
    """A structseq like torch's: a tuple whose items also have names."""

    __slots__ = ()
    _names = ()
    n_unnamed_fields = 0

    def __new__(cls, sequence, fields=None):
        items = tuple(sequence)
        if len(items) != len(cls._names):
            raise TypeError(f"torch.return_types.{cls.__name__} takes a {len(cls._names)}-"
                            f"sequence ({len(items)}-sequence given)")
        return tuple.__new__(cls, items)

    def __repr__(self):
        body = ",\n".join(f"{name}={value!r}" for name, value in zip(self._names, self))
        return f"torch.return_types.{type(self).__name__}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self), {}))


def _return_type(name, fields=("values", "indices")):
    attrs = {field: property(operator.itemgetter(i)) for i, field in enumerate(fields)}
    attrs.update(__slots__=(), _names=fields, n_fields=len(fields),
                 n_sequence_fields=len(fields), __module__="disttorch.return_types")
    cls = type(name, (_ReturnType,), attrs)
    setattr(return_types, name, cls)
    return cls


for _name in ("max", "min", "median", "nanmedian", "mode", "kthvalue", "sort", "topk",
              "cummax", "cummin"):
    _return_type(_name)
_return_type("aminmax", ("min", "max"))
del _name


# ---------------------------------------------------------------- dims


def reduce_axes(dim, ndim, name="sum"):
    """Axes of a multi-dim reduction: None and an empty sequence mean every dim.

    A 0-d tensor accepts dim 0 / -1 and reduces over nothing (NumPy wants axis=())."""
    if dim is None:
        return tuple(range(ndim))
    if type(dim) is int:
        axis = wrap_dim(dim, ndim)
        return (axis,) if ndim else ()
    if isinstance(dim, (tuple, list)):
        if not dim:
            return tuple(range(ndim))
        axes = wrap_dims(dim, ndim)
        return axes if ndim else ()
    return (int_dim(name, dim, "tuple of ints"),) if ndim else ()


def int_dim(name, dim, expected="int"):
    """An int dim, with torch's TypeError for other types (before range checks)."""
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool):
        return int(dim)
    raise TypeError(f"{name}(): argument 'dim' must be {expected}, not {type(dim).__name__}")


def one_axis(name, dim, ndim):
    """A single wrapped axis for ops that take exactly one int dim."""
    if type(dim) is not int:
        dim = int_dim(name, dim)
    return wrap_dim(dim, ndim)


def kept_shape(shape, axes):
    """The shape of a keepdim=True result: reduced axes become 1."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def expand_reduced(grad, shape, axes, keepdim):
    """A reduced gradient reshaped (keepdim form) and expanded back to the input shape."""
    if not keepdim and axes:
        grad = grad.reshape(kept_shape(shape, axes))
    return grad.expand(shape)


def keep(grad, shape, axes, keepdim):
    """A reduced tensor in keepdim form, so that it broadcasts against the input."""
    if keepdim or not axes:
        return grad
    return grad.reshape(kept_shape(shape, axes))


def const(array, like=None):
    """A constant (no-grad) tensor, cast to the dtype of the array `like` if given."""
    if like is not None and array.dtype != like.dtype:
        array = array.astype(like.dtype)
    return Tensor._wrap(array)


def check_reduce_dim(name, data, axis):
    if data.ndim and data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")


def legacy(data):
    return _legacy_name(B._FROM_NP[data.dtype])


def require_float(data, message):
    if data.dtype.kind not in "fV":
        raise RuntimeError(message.format(legacy(data)))


# ---------------------------------------------------------------- index ops


def _scatter_add(values, index, axis, shape, unique):
    """zeros(shape) with `values` added at `index` along `axis`; with `unique`, no two
    indices of a slice are equal (sort, topk, max ...) and a plain write does."""
    xp = B.get_array_module(values)
    if unique:
        out = xp.zeros(shape, values.dtype)
        xp.put_along_axis(out, index, values, axis)
        return out
    last = axis == values.ndim - 1
    moved_v = values if last else xp.moveaxis(values, axis, -1)
    moved_i = index if last else xp.moveaxis(index, axis, -1)
    k = moved_v.shape[-1]
    n = shape[axis]
    rows = 1
    for size in moved_v.shape[:-1]:
        rows *= size
    flat = (moved_i.reshape(rows, k) + xp.arange(rows).reshape(rows, 1) * n).reshape(-1)
    weights = moved_v.reshape(-1)
    if weights.dtype.kind == "V":  # bincount wants a NumPy float
        weights = weights.astype(np.float32)
    summed = xp.bincount(flat, weights=weights, minlength=rows * n)
    out = summed.astype(values.dtype).reshape(moved_v.shape[:-1] + (n,))
    return out if last else xp.moveaxis(out, -1, axis)


class TakeAlong(Op):
    """x gathered at `index` along `axis` (torch.gather on an index array)."""

    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, index, axis, unique):
        ctx.index, ctx.axis, ctx.shape, ctx.unique = index, axis, x._data.shape, unique
        xp = B.get_array_module(x._data)
        return xp.take_along_axis(x._data, index, axis)

    @staticmethod
    def backward(ctx, grad):
        scattered = ScatterAlong.apply(grad, ctx.index, ctx.axis, ctx.shape, ctx.unique)
        return scattered, None, None, None


class ScatterAlong(Op):
    """zeros(shape) with g added at `index` along `axis` (torch.scatter_add)."""

    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, g, index, axis, shape, unique):
        ctx.index, ctx.axis, ctx.unique = index, axis, unique
        return _scatter_add(g._data, index, axis, shape, unique)

    @staticmethod
    def backward(ctx, grad):
        return TakeAlong.apply(grad, ctx.index, ctx.axis, ctx.unique), None, None, None, None


# ---------------------------------------------------------------- value-selecting reductions


class ValueSelect(Op):
    """values = x at the positions `select(data, axis)` picks along `axis`, and the indices.

    `select` returns an index array that keeps the axis (length 1 for max/median, k for
    topk, n for sort); the gradient goes back to exactly those positions. Subclasses only
    name the node (MaxBackward0, SortBackward0, ...)."""

    node_name = "ValueSelectBackward0"

    @staticmethod
    def forward(ctx, x, axis, keepdim, select):
        data = x._data
        scalar = data.ndim == 0
        if scalar:  # a 0-d tensor behaves as one element along dim 0
            data = data.reshape(1)
        xp = B.get_array_module(data)
        index = select(data, axis)
        if index.dtype != np.int64:
            index = index.astype(np.int64)
        values = xp.take_along_axis(data, index, axis)
        ctx.index, ctx.axis, ctx.shape, ctx.keepdim = index, axis, x._data.shape, keepdim
        if scalar:
            return values.reshape(()), index.reshape(())
        if not keepdim:
            return values.squeeze(axis), index.squeeze(axis)
        return values, index

    @staticmethod
    def backward(ctx, grad, _):
        if not ctx.shape:
            return grad, None, None, None
        if not ctx.keepdim:
            grad = grad.reshape(ctx.index.shape)
        return ScatterAlong.apply(grad, ctx.index, ctx.axis, ctx.shape, True), None, None, None


def select_op(node):
    """A ValueSelect subclass named like torch's node."""
    return type(node.replace("Backward", "", 1), (ValueSelect,), {"node_name": node})


class EvenlyReduce(Op):
    """A full reduction to one selected value (max(), median() ...): its gradient is split
    evenly among the elements equal to it (NaN counting as equal to a NaN result)."""

    node_name = "EvenlyReduceBackward0"

    @staticmethod
    def forward(ctx, x, reduce):
        ctx.save_for_backward(x)
        ctx.save_output()
        return reduce(x._data)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        data, value = x._data, ctx.saved_output._data
        xp = B.get_array_module(data)
        mask = xp.isnan(data) if value != value else data == value
        return grad * const(mask / mask.sum(), data), None


def evenly_op(node):
    return type(node.replace("Backward", "", 1), (EvenlyReduce,), {"node_name": node})


def scale_by_count(grad, data, value, axes):
    """grad / (number of ties) at the elements equal to `value` (amax/amin's gradient)."""
    mask = data == value
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = mask / mask.sum(axis=axes, keepdims=True)
    return grad * const(weights, data)

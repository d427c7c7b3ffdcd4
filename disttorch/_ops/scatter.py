"""gather, scatter, scatter_add, scatter_reduce and take_along_dim.

Each op turns its (dim, index) into a NumPy advanced index `key` and then is one of the
raw indexing ops: reading at `key` (Index) and adding at `key` (IndexScatter) are each
other's gradients, so gather's backward is a scatter-add and scatter_add's backward a
gather, and double backward works. Index tensors and masks are raw arrays.
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op
from ._common import make_unary_inplace, register
from .index import IndexPut
from .masked import masked_fill
from .shape import _fmt, expand, reshape
from .slicing import Index, IndexScatter

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce", "take_along_dim"]


def _along(xp, index, dim):
    """The key reading `index` along `dim` and position-wise along the other dims."""
    key = []
    for d, n in enumerate(index.shape):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


def _zero(grad):
    return Tensor._wrap(B.get_array_module(grad._data).zeros((), grad._data.dtype))


def _check_bounds(index, size, dim, prefix="", error=RuntimeError):
    if index.size and (index.min() < 0 or index.max() >= size):
        bad = (index < 0) | (index >= size)
        raise error(f"{prefix}index {int(index[bad].reshape(-1)[0])} is out of bounds for "
                    f"dimension {dim} with size {size}")


def _dim_index(input, dim, index, name):
    """(dim, key) for gather/scatter-style ops, with torch's checks."""
    shape, ishape = input._data.shape, index._data.shape
    d = _wrap_dim(dim, len(shape))
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if len(ishape) != len(shape) and (ishape or shape):
        raise RuntimeError("Index tensor must have the same number of dimensions as input "
                           "tensor")
    return d


def _src_region(index_shape, src_shape):
    return tuple(slice(0, n) for n in index_shape) if index_shape != src_shape else None


def _grad_at(grad, key, src_shape, region):
    """The gradient of a scattered `src`: grad read at key, placed in src's shape."""
    g = Index.apply(grad, key)
    if region is None:
        return g
    return IndexScatter.apply(g, src_shape, region, False)


def _prepare(input, dim, index, src, name):
    """Validate a scatter-family call; returns (dim, key, src region or None)."""
    d = _dim_index(input, dim, index, name)
    shape, ishape = input._data.shape, index._data.shape
    sshape = src._data.shape if isinstance(src, Tensor) else None
    for k in range(len(ishape)):
        if (k != d and ishape[k] > shape[k]) or (sshape is not None and ishape[k] > sshape[k]):
            raise RuntimeError(
                f"Expected index {_fmt(ishape)} to be no larger than self {_fmt(shape)} apart "
                f"from dimension {d}" + (f" and to be no larger size than src {_fmt(sshape)}"
                                         if sshape is not None else ""))
    if isinstance(src, Tensor) and src._data.dtype != input._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    size = shape[d] if shape else 1
    _check_bounds(index._data, size, d)
    xp = B.get_array_module(input._data)
    if not ishape:
        return d, (index._data.reshape(1),), None
    region = None if sshape is None else _src_region(ishape, sshape)
    return d, _along(xp, index._data, d), region


# ---------------------------------------------------------------- gather


class Gather(Op):
    node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, key):
        data = x._data
        ctx.args = (data.shape, key)
        if data.ndim == 0:
            return data.reshape(1)[key].reshape(())
        return data[key]

    @staticmethod
    def backward(ctx, grad):
        shape, key = ctx.args
        if not shape:
            return IndexScatter.apply(grad.reshape(1), (1,), key, True).reshape(()), None
        return IndexScatter.apply(grad, shape, key, True), None


def gather(input, dim, index, *, sparse_grad=False):
    d = _dim_index(input, dim, index, "gather")
    shape, ishape = input._data.shape, index._data.shape
    for k in range(len(ishape)):
        if k != d and ishape[k] > shape[k]:
            raise RuntimeError(f"Size does not match at dimension {k} expected index "
                               f"{_fmt(ishape)} to be no larger than self {_fmt(shape)} apart "
                               f"from dimension {d}")
    _check_bounds(index._data, shape[d] if shape else 1, d)
    xp = B.get_array_module(input._data)
    key = _along(xp, index._data, d) if ishape else (index._data.reshape(1),)
    return Gather.apply(input, key)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    shape, ishape = input._data.shape, indices._data.shape
    if len(shape) != len(ishape):
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {len(shape)} dimensions for input, "
                           f"and {len(ishape)} dimensions for indices")
    d = _wrap_dim(dim, len(shape))
    common = list(np.broadcast_shapes(
        tuple(1 if k == d else s for k, s in enumerate(shape)),
        tuple(1 if k == d else s for k, s in enumerate(ishape))))
    in_shape = tuple(common[:d]) + (shape[d],) + tuple(common[d + 1:])
    idx_shape = tuple(common[:d]) + (ishape[d],) + tuple(common[d + 1:])
    if in_shape != shape:
        input = expand(input, in_shape)
    if idx_shape != ishape:
        indices = expand(indices, idx_shape)
    return gather(input, d, indices)


register("gather", gather)
register("take_along_dim", take_along_dim)


# ---------------------------------------------------------------- scatter


class Scatter(Op):
    node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, key, src, region):
        out = x._data.copy()
        view = out.reshape(1) if out.ndim == 0 else out
        if isinstance(src, Tensor):
            s = src._data if region is None else src._data[region]
            view[key] = s.reshape(-1) if s.ndim == 0 else s
            ctx.src_shape = src._data.shape
        else:
            view[key] = src
        ctx.args = (key, region)
        return out

    @staticmethod
    def backward(ctx, grad):
        key, region = ctx.args
        flags = ctx.needs_input_grad
        g_x = IndexPut.apply(grad, key, _zero(grad), False) if flags[0] else None
        g_src = _grad_at(grad, key, ctx.src_shape, region) if flags[2] else None
        return g_x, None, g_src, None


class ScatterValue(Scatter):
    node_name = "ScatterBackward1"


class ScatterReduceLegacy(Op):
    """scatter(..., reduce='add'|'multiply'): torch has no derivative for it."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, x, key, src, region, reduce):
        out = x._data.copy()
        xp = B.get_array_module(out)
        ufunc = xp.add if reduce == "add" else xp.multiply
        s = src if not isinstance(src, Tensor) else (
            src._data if region is None else src._data[region])
        ufunc.at(out, key, s)
        return out

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::scatter is not implemented")


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    if src is None:
        src = value
    if not isinstance(src, Tensor) and src is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    d, key, region = _prepare(input, dim, index, src, "scatter")
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if isinstance(src, Tensor):
            warnings.warn("The reduce argument of torch.scatter with Tensor src is deprecated "
                          "and will be removed in a future PyTorch release. Use "
                          "torch.scatter_reduce instead for more reduction options.",
                          UserWarning, stacklevel=2)
        return ScatterReduceLegacy.apply(input, key, src, region, reduce)
    op = Scatter if isinstance(src, Tensor) else ScatterValue
    return op.apply(input, key, src, region)


class ScatterAdd(Op):
    node_name = "ScatterAddBackward0"

    @staticmethod
    def forward(ctx, x, key, src, region):
        out = x._data.copy()
        s = src._data if region is None else src._data[region]
        view = out.reshape(1) if out.ndim == 0 else out
        B.get_array_module(out).add.at(view, key, s.reshape(-1) if s.ndim == 0 else s)
        ctx.args = (key, region, src._data.shape)
        return out

    @staticmethod
    def backward(ctx, grad):
        key, region, src_shape = ctx.args
        flags = ctx.needs_input_grad
        g_src = _grad_at(grad, key, src_shape, region) if flags[2] else None
        return (grad if flags[0] else None), None, g_src, None


def scatter_add(input, dim, index, src):
    d, key, region = _prepare(input, dim, index, src, "scatter_add")
    return ScatterAdd.apply(input, key, src, region)


register("scatter", scatter, inplace=make_unary_inplace(scatter))
register("scatter_add", scatter_add, inplace=make_unary_inplace(scatter_add))


# ---------------------------------------------------------------- scatter_reduce


def _identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind == "f" or dtype.kind == "V":
        return -np.inf if reduce == "amax" else np.inf
    info = np.iinfo(dtype) if dtype.kind in "iu" else None
    if info is None:  # bool
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Op):
    node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, x, key, src, reduce, include_self):
        data = x._data
        xp = B.get_array_module(data)
        out = data.copy()
        s = src._data
        hit = xp.zeros(data.shape, dtype=bool)
        hit[key] = True
        if not include_self:
            out[hit] = _identity(reduce, data.dtype)
        ufunc = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum,
                 "amin": xp.minimum}[reduce]
        ufunc.at(out, key, s)
        counts = None
        if reduce == "mean":
            counts = xp.zeros(data.shape, dtype=np.int64)
            xp.add.at(counts, key, 1)
            if include_self:
                counts += 1
            counts = xp.maximum(counts, 1)
            if data.dtype.kind in "fV":
                out = (out / counts).astype(data.dtype)
            else:
                out = (out // counts).astype(data.dtype)
        ctx.args = (key, reduce, include_self, hit, counts)
        if reduce in ("prod", "amax", "amin"):
            ctx.save_for_backward(x, src)
            ctx.save_output()
        return out

    @staticmethod
    def backward(ctx, grad):
        key, reduce, include_self, hit, counts = ctx.args
        flags = ctx.needs_input_grad
        g_x = g_src = None
        if reduce in ("sum", "mean"):
            if reduce == "mean":
                grad = grad / Tensor._wrap(counts.astype(grad._data.dtype))
            if flags[0]:
                g_x = grad if include_self else masked_fill(grad, Tensor._wrap(hit), 0)
            if flags[2]:
                g_src = Index.apply(grad, key)
            return g_x, None, g_src, None, None
        x, src = ctx.saved_tensors
        result = ctx.saved_output
        if reduce == "prod":
            return _prod_backward(grad, x, src, result, key, include_self, hit, flags)
        # amax / amin: the gradient is shared evenly between the elements equal to the result
        xd, sd, rd = x._data, src._data, result._data
        at_src = sd == rd[key]
        at_self = xd == rd  # torch counts an equal self even when include_self=False
        count = at_self.astype(grad._data.dtype)
        B.get_array_module(count).add.at(count, key, at_src)
        if flags[0]:
            g_x = grad * Tensor._wrap((at_self & (~hit | include_self)) / count)
        if flags[2]:
            g_src = Index.apply(grad, key) * Tensor._wrap(at_src / count[key])
        return g_x, None, g_src, None, None


def _prod_backward(grad, x, src, result, key, include_self, hit, flags):
    """d prod: the product of the other factors, exact when factors are zero."""
    xd, sd = x._data, src._data
    self_zero = (xd == 0) & (~hit | include_self)
    src_zero = sd == 0
    zeros = self_zero.astype(np.int64)
    B.get_array_module(zeros).add.at(zeros, key, src_zero)
    lone_zero = Tensor._wrap((zeros == 1).astype(grad._data.dtype))
    x_safe = masked_fill(x, Tensor._wrap(self_zero), 1)
    src_safe = masked_fill(src, Tensor._wrap(src_zero), 1)
    nonzero_prod = ScatterReduce.apply(x_safe, key, src_safe, "prod", include_self)
    g_x = g_src = None
    if flags[0]:
        g_x = masked_fill(grad * result / x_safe, Tensor._wrap(self_zero), 0) + masked_fill(
            grad * nonzero_prod * lone_zero, Tensor._wrap(~self_zero), 0)
        if not include_self:
            g_x = masked_fill(g_x, Tensor._wrap(hit), 0)
    if flags[2]:
        by_division = Index.apply(grad * result, key) / src_safe
        by_product = Index.apply(grad * nonzero_prod * lone_zero, key)
        g_src = (masked_fill(by_division, Tensor._wrap(src_zero), 0)
                 + masked_fill(by_product, Tensor._wrap(~src_zero), 0))
    return g_x, None, g_src, None, None


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got "
                           f"{reduce}")
    d, key, region = _prepare(input, dim, index, src, "scatter_reduce")
    if region is not None:
        src = src[region]
    return ScatterReduce.apply(input, key, src, reduce, include_self)


register("scatter_reduce", scatter_reduce, inplace=make_unary_inplace(scatter_reduce))

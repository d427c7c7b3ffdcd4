"""Ops along one dim at a list of positions: index_select, index_add, index_copy,
index_fill (and the in-place forms).

Like scatter.py, each op reads or writes its input at a NumPy advanced index `key`; the
raw indexing ops (Index, IndexScatter, IndexPut) give the gradients, in Tensor ops.
"""

from .. import _backend as B
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op
from ._common import _legacy_name, make_unary_inplace, register
from .index import IndexPut
from .scatter import _check_bounds, _zero
from .shape import _fmt, reshape
from .slicing import Index, IndexScatter

__all__ = ["index_select", "index_add", "index_copy", "index_fill"]


def _vector_index(input, dim, index, name):
    d = _wrap_dim(dim, input._data.ndim)
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector")
    return d, idx.reshape(-1)


def _key(d, idx):
    return (slice(None),) * d + (idx,)


class IndexSelect(Op):
    node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, key):
        ctx.args = (x._data.shape, key)
        return x._data[key]

    @staticmethod
    def backward(ctx, grad):
        shape, key = ctx.args
        return IndexScatter.apply(grad, shape, key, True), None


def index_select(input, dim, index):
    d, idx = _vector_index(input, dim, index, "index_select")
    size = input._data.shape[d] if input._data.ndim else 1
    if ((idx < 0) | (idx >= size)).any():
        raise IndexError("index out of range in self")
    if not input._data.ndim:
        return IndexSelect.apply(reshape(input, (1,)), (idx,)).reshape(index._data.shape)
    return IndexSelect.apply(input, _key(d, idx))


class IndexAdd(Op):
    node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, key, source, alpha):
        out = x._data.copy()
        s = source._data if alpha == 1 else source._data * alpha
        B.get_array_module(out).add.at(out, key, s.astype(out.dtype, copy=False))
        ctx.args = (key, alpha)
        return out

    @staticmethod
    def backward(ctx, grad):
        key, alpha = ctx.args
        flags = ctx.needs_input_grad
        g_src = None
        if flags[2]:
            g_src = Index.apply(grad, key)
            if alpha != 1:
                g_src = g_src * alpha
        return (grad if flags[0] else None), None, g_src, None


class IndexCopy(Op):
    node_name = "IndexCopyBackward0"

    @staticmethod
    def forward(ctx, x, key, source):
        out = x._data.copy()
        out[key] = source._data
        ctx.key = key
        return out

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        g_x = IndexPut.apply(grad, ctx.key, _zero(grad), False) if flags[0] else None
        g_src = Index.apply(grad, ctx.key) if flags[2] else None
        return g_x, None, g_src


def _index_source(input, d, idx, source, name):
    shape, sshape = input._data.shape, source._data.shape
    if len(sshape) != len(shape) or any(a != b for k, (a, b) in enumerate(zip(shape, sshape))
                                        if k != d):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the "
                           f"specified dimension. Got self.shape = {_fmt(shape)} "
                           f"source.shape = {_fmt(sshape)}")
    if sshape and idx.size != sshape[d]:
        raise RuntimeError(f"{name}(): Number of indices ({idx.size}) should be equal to "
                           f"source.size(dim): ({sshape[d]}), for dim: {d}")


def index_add(input, dim, index, source, *, alpha=1):
    d, idx = _vector_index(input, dim, index, "index_add")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_add_(): self ({_legacy_name(input.dtype)}) and source "
                           f"({_legacy_name(source.dtype)}) must have the same scalar type")
    _index_source(input, d, idx, source, "index_add_")
    _check_bounds(idx, input._data.shape[d], d)
    return IndexAdd.apply(input, _key(d, idx), source, alpha)


def index_copy(input, dim, index, source):
    d, idx = _vector_index(input, dim, index, "index_copy")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, "
                           f"but got (self) {_legacy_name(input.dtype)} and (source) "
                           f"{_legacy_name(source.dtype)}")
    _index_source(input, d, idx, source, "index_copy_")
    _check_bounds(idx, input._data.shape[d], d, "index_copy_(): ", IndexError)
    return IndexCopy.apply(input, _key(d, idx), source)


class IndexFill(Op):
    node_name = "IndexFillBackward0"

    @staticmethod
    def forward(ctx, x, key, value):
        out = x._data.copy()
        out[key] = value._data if isinstance(value, Tensor) else value
        ctx.key = key
        return out

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        g_x = IndexPut.apply(grad, ctx.key, _zero(grad), False) if flags[0] else None
        g_value = Index.apply(grad, ctx.key).sum() if flags[2] else None
        return g_x, None, g_value


class IndexFillTensor(IndexFill):
    node_name = "IndexFillBackward1"


def index_fill(input, dim, index, value):
    d, idx = _vector_index(input, dim, index, "index_fill")
    size = input._data.shape[d] if input._data.ndim else 1
    bad = (idx < -size) | (idx >= size)
    if bad.any():
        raise IndexError(f"index {int(idx[bad][0])} is out of bounds for dimension {d} with "
                         f"size {size}")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        return IndexFillTensor.apply(input, _key(d, idx), value)
    return IndexFill.apply(input, _key(d, idx), value)


register("index_select", index_select)
register("index_add", index_add, inplace=make_unary_inplace(index_add))
register("index_copy", index_copy, inplace=make_unary_inplace(index_copy))
register("index_fill", index_fill, inplace=make_unary_inplace(index_fill))

"""Masked ops (masked_fill, masked_scatter, masked_select and in-place forms) and flat
position ops (take, put, put_, nonzero, argwhere).

Masks and positions never need gradients, so backward formulas use them as raw arrays;
the gradients themselves are Tensor ops, so they differentiate again.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import (
    _legacy_name,
    make_unary_inplace,
    needs_graph,
    raise_broadcast_error,
    register,
    sum_to,
)
from .slicing import Index, IndexScatter
from .views import alias_with_history, check_writable, commit_result

__all__ = ["masked_fill", "masked_scatter", "masked_select", "take", "put", "nonzero",
           "argwhere"]

_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
            "bfloat16": "c10::BFloat16", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char"}


def _broadcast(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        raise_broadcast_error(a, b)


class MaskedFill(Op):
    node_name = "MaskedFillBackward0"

    @staticmethod
    def forward(ctx, x, mask, value):
        data = x._data
        xp = B.get_array_module(data)
        fill = value._data if isinstance(value, Tensor) else value
        ctx.args = (data.shape, mask)
        return xp.where(mask._data, xp.asarray(fill).astype(data.dtype), data)

    @staticmethod
    def backward(ctx, grad):
        shape, mask = ctx.args
        flags = ctx.needs_input_grad
        g_x = sum_to(masked_fill(grad, mask, 0), shape) if flags[0] else None
        g_value = None
        if len(flags) > 2 and flags[2]:
            keep = Tensor._wrap(~mask._data)
            g_value = masked_fill(grad, keep, 0).sum()
        return g_x, None, g_value


class MaskedFillTensor(MaskedFill):
    node_name = "MaskedFillBackward1"


def _check_mask(mask, name):
    if mask._data.dtype != np.bool_:
        raise RuntimeError(f"{name} only supports boolean masks, but got mask with dtype "
                           f"{_C_NAMES.get(mask.dtype.name, mask.dtype.name)}")


def masked_fill(input, mask, value):
    _check_mask(mask, "masked_fill_")
    _broadcast(input._data.shape, mask._data.shape)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value._data.ndim} dimension(s).")
        return MaskedFillTensor.apply(input, mask, value)
    return MaskedFill.apply(input, mask, value)


register("masked_fill", masked_fill, inplace=make_unary_inplace(masked_fill))


class MaskedScatter(Op):
    node_name = "MaskedScatterBackward0"

    @staticmethod
    def forward(ctx, x, mask, source):
        shape = _broadcast(x._data.shape, mask._data.shape)
        xp = B.get_array_module(x._data)
        m = xp.broadcast_to(mask._data, shape)
        count = int(m.sum())
        if count > source._data.size:
            raise RuntimeError("Number of elements of source < number of ones in mask")
        out = xp.broadcast_to(x._data, shape).copy()
        out[m] = source._data.reshape(-1)[:count]
        ctx.args = (x._data.shape, Tensor._wrap(m), source._data.shape, count)
        return out

    @staticmethod
    def backward(ctx, grad):
        in_shape, mask, src_shape, count = ctx.args
        flags = ctx.needs_input_grad
        g_x = sum_to(masked_fill(grad, mask, 0), in_shape) if flags[0] else None
        g_src = None
        if flags[2]:
            g_src = masked_select(grad, mask)
            missing = int(np.prod(src_shape)) - count
            if missing:
                from .join import cat

                xp = B.get_array_module(grad._data)
                pad = Tensor._wrap(xp.zeros(missing, dtype=grad._data.dtype))
                g_src = cat([g_src, pad])
            g_src = g_src.reshape(src_shape)
        return g_x, None, g_src


def masked_scatter(input, mask, source):
    _check_mask(mask, "masked_scatter_")
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but "
                           f"got{_legacy_name(input.dtype)} and {_legacy_name(source.dtype)}")
    return MaskedScatter.apply(input, mask, source)


def _masked_scatter_inplace(self, mask, source):
    if not isinstance(source, Tensor):
        raise TypeError("masked_scatter_(): argument 'source' must be Tensor")
    return make_unary_inplace(masked_scatter)(self, mask, source)


register("masked_scatter", masked_scatter, inplace=_masked_scatter_inplace)


class MaskedSelect(Op):
    node_name = "MaskedSelectBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        shape = _broadcast(x._data.shape, mask._data.shape)
        xp = B.get_array_module(x._data)
        m = xp.broadcast_to(mask._data, shape)
        ctx.args = (x._data.shape, Tensor._wrap(m))
        return xp.broadcast_to(x._data, shape)[m]

    @staticmethod
    def backward(ctx, grad):
        in_shape, mask = ctx.args
        xp = B.get_array_module(grad._data)
        zeros = Tensor._wrap(xp.zeros(mask._data.shape, dtype=grad._data.dtype))
        return sum_to(masked_scatter(zeros, mask, grad), in_shape), None


def masked_select(input, mask):
    if mask._data.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    return MaskedSelect.apply(input, mask)


register("masked_select", masked_select)


# ---------------------------------------------------------------- flat indexing


def _flat_index(self, index, name):
    if index._data.dtype != np.int64:
        from ._common import _legacy_name

        raise RuntimeError(f"{name}(): Expected a long tensor for index, but got "
                           f"{_legacy_name(index.dtype)}")
    n = self._data.size
    idx = index._data
    bad = (idx >= n) | (idx < -n)
    if bad.any():
        raise IndexError(f"out of range: tried to access index {int(idx[bad].reshape(-1)[0])} "
                         f"on a tensor of {n} elements.")
    return idx % n if n else idx


class Take(Op):
    node_name = "TakeBackward0"

    @staticmethod
    def forward(ctx, x, idx):
        ctx.args = (x._data.shape, idx)
        return x._data.reshape(-1)[idx]

    @staticmethod
    def backward(ctx, grad):
        shape, idx = ctx.args
        n = int(np.prod(shape))
        return IndexScatter.apply(grad, (n,), (idx,), True).reshape(shape), None


def take(input, index):
    return Take.apply(input, _flat_index(input, index, "take"))


class Put(Op):
    node_name = "PutBackward0"

    @staticmethod
    def forward(ctx, x, idx, source, accumulate):
        out = x._data.copy()
        flat = out.reshape(-1)
        idx = idx.reshape(-1)
        if accumulate:
            B.get_array_module(out).add.at(flat, idx, source._data.reshape(-1))
        else:
            flat[idx] = source._data.reshape(-1)
        ctx.args = (idx, source._data.shape, accumulate)
        return out

    @staticmethod
    def backward(ctx, grad):
        idx, src_shape, accumulate = ctx.args
        flags = ctx.needs_input_grad
        g_x = g_src = None
        if flags[0]:
            if accumulate:
                g_x = grad
            else:
                zeros = Tensor._wrap(B.get_array_module(grad._data).zeros(
                    src_shape, grad._data.dtype))
                g_x = Put.apply(grad, idx, zeros, False)
        if flags[2]:
            g_src = Index.apply(grad.reshape(-1), (idx,)).reshape(src_shape)
        return g_x, None, g_src, None


def _put_args(self, index, source):
    from ._common import _legacy_name

    if source._data.size != index._data.size:
        raise IndexError(f"put_(): Expected source and index to have the same number of "
                         f"elements, but got source.numel() = {source._data.size}, "
                         f"index.numel() = {index._data.size}")
    if source._data.dtype != self._data.dtype:
        raise RuntimeError(f"put_(): self and source expected to have the same dtype, but got "
                           f"self.dtype = {_legacy_name(self.dtype)} and source.dtype = "
                           f"{_legacy_name(source.dtype)}")
    return _flat_index(self, index, "put_")


def put(input, index, source, accumulate=False):
    return Put.apply(input, _put_args(input, index, source), source, accumulate)


def put_(self, index, source, accumulate=False):
    idx = _put_args(self, index, source)
    if state.enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if needs_graph(self, source):
        commit_result(self, Put.apply(alias_with_history(self), idx, source, accumulate))
        return self
    check_writable(self)
    data = self._data
    flat = data.reshape(-1) if data.flags.c_contiguous else data.flatten()
    idx = idx.reshape(-1)
    if accumulate:
        B.get_array_module(flat).add.at(flat, idx, source._data.reshape(-1))
    else:
        flat[idx] = source._data.reshape(-1)
    if not data.flags.c_contiguous:
        data[...] = flat.reshape(data.shape)
    self._version[0] += 1
    return self


register("take", take)
register("put", put)
register("put_", put_)


# ---------------------------------------------------------------- nonzero


def nonzero(input, *, as_tuple=False):
    data = input._data
    xp = B.get_array_module(data)
    if as_tuple:
        if data.ndim == 0:
            return (Tensor._wrap(xp.zeros(int(bool(data)), dtype=np.int64)),)
        return tuple(Tensor._wrap(i.astype(np.int64)) for i in xp.nonzero(data))
    return Tensor._wrap(xp.argwhere(data).astype(np.int64))


def argwhere(input):
    return nonzero(input)


register("nonzero", nonzero)
register("argwhere", argwhere)

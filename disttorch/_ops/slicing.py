"""Views that pick part of a tensor (select, narrow, unfold, as_strided, basic indexing) and
the raw indexing ops that indexing, gather and scatter build their gradients on.

`BasicIndex` is one NumPy basic index (ints, slices, None, ending in Ellipsis so that a 0-d
result stays a view); its node is named after the last step torch would take
(SelectBackward0, SliceBackward0, UnsqueezeBackward0, AliasBackward0). `Index` is an
advanced (copying) index and `IndexScatter` its adjoint: each one's backward is the other.
"""


from .. import _backend as B
from .._tensor import Tensor, _root_array, _wrap_dim
from ..autograd.function import Op
from ._common import register
from .shape import _fmt, mark_view, metadata_inplace, shape_arg
from .views import strided_view

__all__ = ["select", "narrow", "as_strided"]


def _unsqueezed_strides(view, index):
    """torch gives a new size-1 dim the stride size * stride of the dim after it."""
    strides = list(view.strides)
    d = 0
    new_dims = []
    for item in index:
        if item is None:
            new_dims.append(d)
            d += 1
        elif type(item) is slice:
            d += 1
        elif item is Ellipsis:
            d += view.ndim - sum(1 for i in index if i is None or type(i) is slice)
    for d in reversed(new_dims):
        strides[d] = (view.shape[d + 1] * strides[d + 1] if d + 1 < view.ndim
                      else view.itemsize)
    return tuple(strides)


class IndexScatter(Op):
    """zeros(shape) with `grad` written (or, with `accumulate`, added) at `index`."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, grad, shape, index, accumulate):
        ctx.index = index
        data = grad._data
        out = B.get_array_module(data).zeros(shape, dtype=data.dtype)
        if accumulate:
            B.get_array_module(data).add.at(out, index, data)
        else:
            out[index] = data
        return out

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.index), None, None, None


class Index(Op):
    """x[index] for an advanced index (a copy); repeated positions accumulate in backward."""

    node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x._data.shape
        ctx.index = index
        return x._data[index]

    @staticmethod
    def backward(ctx, grad):
        return IndexScatter.apply(grad, ctx.in_shape, ctx.index, True), None


class BasicIndex(Op):
    """x[index] for a basic index: a view."""

    node_name = "SliceBackward0"

    @staticmethod
    def forward(ctx, x, index):
        ctx.in_shape = x._data.shape
        ctx.index = index
        view = x._data[index]
        if None in index:
            view = strided_view(view, view.shape, _unsqueezed_strides(view, index))
        return view

    @staticmethod
    def backward(ctx, grad):
        return IndexScatter.apply(grad, ctx.in_shape, ctx.index, False), None


class SelectIndex(BasicIndex):
    node_name = "SelectBackward0"


class UnsqueezeIndex(BasicIndex):
    node_name = "UnsqueezeBackward0"


class AliasIndex(BasicIndex):
    node_name = "AliasBackward0"


BASIC_OPS = {"Slice": BasicIndex, "Select": SelectIndex, "Unsqueeze": UnsqueezeIndex,
             "Alias": AliasIndex}


def select(input, dim, index):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    i = int(index)
    if not -shape[d] <= i < shape[d]:
        raise IndexError(f"select(): index {i} out of range for tensor of size {_fmt(shape)} at "
                         f"dimension {d}")
    key = (slice(None),) * d + (i, Ellipsis)
    return mark_view(SelectIndex.apply(input, key), input, "select", (d, i))


def narrow(input, dim, start, length):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    size = shape[d]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    if start < 0:
        start += size
    length = int(length)
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    key = (slice(None),) * d + (slice(start, start + length), Ellipsis)
    return mark_view(BasicIndex.apply(input, key), input, "narrow", (d, start, length))


register("select", select)
register("narrow", narrow)


# ---------------------------------------------------------------- unfold


def _window_index(xp, n_windows, size, step):
    return (xp.arange(n_windows)[:, None] * step + xp.arange(size)[None, :])


class Unfold(Op):
    node_name = "UnfoldBackward0"

    @staticmethod
    def forward(ctx, x, dim, size, step):
        data = x._data
        ctx.args = (data.shape, dim, size, step)
        if data.ndim == 0:  # torch reads a 0-d tensor as one window of one element
            return data.reshape(1)
        n = (data.shape[dim] - size) // step + 1
        shape = data.shape[:dim] + (n,) + data.shape[dim + 1:] + (size,)
        strides = data.strides[:dim] + (data.strides[dim] * step,) + data.strides[dim + 1:] + (
            data.strides[dim],)
        return strided_view(data, shape, strides)

    @staticmethod
    def backward(ctx, grad):
        return UnfoldBackward.apply(grad, *ctx.args), None, None, None


class UnfoldBackward(Op):
    """The adjoint of unfold: every window's gradient added back where it came from."""

    node_name = "UnfoldBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, in_shape, dim, size, step):
        ctx.args = (dim, size, step)
        data = grad._data
        xp = B.get_array_module(data)
        if not in_shape:
            return data.reshape(())
        n = data.shape[dim]
        moved = xp.moveaxis(data, (dim, data.ndim - 1), (0, 1))
        out = xp.zeros((in_shape[dim],) + moved.shape[2:], dtype=data.dtype)
        xp.add.at(out, _window_index(xp, n, size, step), moved)
        return xp.ascontiguousarray(xp.moveaxis(out, 0, dim))

    @staticmethod
    def backward(ctx, grad):
        return unfold(grad, *ctx.args), None, None, None, None


def unfold(self, dimension, size, step):
    shape = self._data.shape
    d = _wrap_dim(dimension, len(shape))
    n = shape[d] if shape else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is "
                           f"{size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    return mark_view(Unfold.apply(self, d, size, step), self, "unfold", (d, size, step))


register("unfold", unfold)


# ---------------------------------------------------------------- as_strided


def _storage_positions(xp, shape, strides, offset):
    pos = xp.full(shape, offset, dtype=xp.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        ax = [1] * len(shape)
        ax[d] = n
        pos = pos + (xp.arange(n) * s).reshape(ax)
    return pos


class AsStrided(Op):
    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, x, size, stride, offset):
        data = x._data
        root = _root_array(data).reshape(-1)
        item = data.itemsize
        own_offset = x.storage_offset()
        ctx.meta = (root.size, data.shape, tuple(s // item for s in data.strides), own_offset,
                    size, stride, offset)
        return strided_view(root[offset:], size, tuple(s * item for s in stride))

    @staticmethod
    def backward(ctx, grad):
        n, in_shape, in_strides, in_offset, size, stride, offset = ctx.meta
        xp = B.get_array_module(grad._data)
        out_pos = Tensor._wrap(_storage_positions(xp, size, stride, offset).reshape(-1))
        in_pos = Tensor._wrap(_storage_positions(xp, in_shape, in_strides, in_offset)
                              .reshape(-1))
        storage = Tensor._wrap(xp.zeros(n, dtype=grad._data.dtype))
        storage = storage.index_add(0, out_pos, grad.reshape(-1))
        return storage.index_select(0, in_pos).reshape(in_shape), None, None, None


def as_strided(input, size, stride, storage_offset=None):
    size, stride = shape_arg((size,)), shape_arg((stride,))
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    for s in stride:
        if s < 0:
            raise RuntimeError(f"as_strided: Negative strides are not supported at the moment, "
                               f"got strides: {_fmt(stride)}")
    item = input._data.itemsize
    available = _root_array(input._data).size
    needed = offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if 0 in size:
        needed = 0
    if needed > available:
        raise RuntimeError(
            f"setStorage: sizes {_fmt(size)}, strides {_fmt(stride)}, storage offset {offset}, "
            f"and itemsize {item} requiring a storage size of {needed * item} are out of bounds "
            f"for storage of size {available * item}")
    out = AsStrided.apply(input, size, stride, offset)
    return mark_view(out, input, "as_strided", (size, stride, offset))


register("as_strided", as_strided)
register("as_strided_", metadata_inplace(as_strided, "AsStridedBackward1"))

"""Shape ops that copy: flip, roll, rot90, repeat, tile, repeat_interleave, resize_; and the
broadcasting and atleast_nd helpers (which return views or the input itself, as torch does).
"""

import numpy as np

from .. import _backend as B
from .._tensor import Size, Tensor, _root_array, _wrap_dim
from ..autograd.function import Op
from ._common import raise_broadcast_error, register, wrap_dims
from .shape import _fmt, expand, reshape, shape_arg, unsqueeze

__all__ = ["flip", "fliplr", "flipud", "roll", "rot90", "tile", "repeat_interleave",
           "broadcast_tensors", "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d",
           "resize_as_"]


class Flip(Op):
    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return B.get_array_module(x._data).flip(x._data, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return flip(grad, ctx.axes), None


def flip(input, *dims):
    dims = shape_arg(dims) if dims else ()
    return Flip.apply(input, wrap_dims(dims, input._data.ndim) if dims else ())


def fliplr(input):
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input):
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


class Roll(Op):
    node_name = "RollBackward0"

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.args = (shifts, axes)
        data = x._data
        xp = B.get_array_module(data)
        if axes is None:
            return xp.roll(data.reshape(-1), shifts[0]).reshape(data.shape)
        return xp.roll(data, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        shifts, axes = ctx.args
        return Roll.apply(grad, tuple(-s for s in shifts), axes), None, None


def roll(input, shifts, dims=None):
    shifts = (int(shifts),) if isinstance(shifts, (int, np.integer)) else shape_arg((shifts,))
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                               "dims:0")
        return Roll.apply(input, shifts, None)
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:"
                           f"{len(dims)}")
    axes = tuple(_wrap_dim(d, input._data.ndim) for d in dims)
    return Roll.apply(input, shifts, axes)


class Rot90(Op):
    node_name = "Rot90Backward0"

    @staticmethod
    def forward(ctx, x, k, dims):
        ctx.args = (k, dims)
        return B.get_array_module(x._data).rot90(x._data, k, dims).copy()

    @staticmethod
    def backward(ctx, grad):
        k, dims = ctx.args
        return Rot90.apply(grad, -k, dims), None, None


def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = _wrap_dim(dims[0], ndim), _wrap_dim(dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {d0} and "
                           f"dim1 = {d1}")
    return Rot90.apply(input, int(k) % 4, (d0, d1))


register("flip", flip)
register("fliplr", fliplr)
register("flipud", flipud)
register("roll", roll)
register("rot90", rot90)


# ---------------------------------------------------------------- repetition


class Repeat(Op):
    node_name = "RepeatBackward0"

    @staticmethod
    def forward(ctx, x, repeats):
        data = x._data
        lead = len(repeats) - data.ndim
        shape = (1,) * lead + data.shape
        ctx.args = (x._data.shape, shape, repeats)
        return B.get_array_module(data).tile(data.reshape(shape), repeats)

    @staticmethod
    def backward(ctx, grad):
        in_shape, shape, repeats = ctx.args
        interleaved = []
        for r, s in zip(repeats, shape):
            interleaved += [r, s]
        axes = tuple(range(0, 2 * len(shape), 2))
        return grad.reshape(tuple(interleaved)).sum(axes).reshape(in_shape), None


def repeat(self, *sizes):
    sizes = shape_arg(sizes)
    shape = self._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number "
                           "of dimensions of tensor")
    padded = (1,) * (len(sizes) - len(shape)) + shape
    result = tuple(r * s for r, s in zip(sizes, padded))
    for n in result:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: "
                               f"{_fmt(result)}")
    return Repeat.apply(self, sizes)


def tile(input, dims):
    dims = shape_arg((dims,)) if not isinstance(dims, (int, np.integer)) else (int(dims),)
    missing = input._data.ndim - len(dims)
    return repeat(input, (1,) * missing + dims if missing > 0 else dims)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    if repeats is None:  # torch.repeat_interleave(repeats): the indices it would select
        counts = input._data
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        xp = B.get_array_module(counts)
        return Tensor._wrap(xp.repeat(xp.arange(counts.size, dtype=np.int64), counts))
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = _wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if isinstance(repeats, (Tensor, list, tuple)):
        counts = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
        if counts.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if counts.size == 1:
            counts = B.get_array_module(counts).full(n, counts.reshape(-1)[0])
        if counts.shape[0] != n:
            raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                               f"repeats.size(0) = {counts.shape[0]} and input.size({d}) = {n}")
        if (counts < 0).any():
            raise RuntimeError("repeats can not be negative")
        xp = B.get_array_module(counts)
        index = Tensor._wrap(xp.repeat(xp.arange(n, dtype=np.int64), counts))
        return input.index_select(d, index)
    r = int(repeats)
    if r < 0:
        raise RuntimeError("Repeats must be non-negative")
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    shape = input._data.shape
    grown = unsqueeze(input, d + 1)
    grown = expand(grown, shape[:d + 1] + (r,) + shape[d + 1:]).contiguous()
    return grown.flatten(d, d + 1)


register("repeat", repeat)
register("tile", tile)
register("repeat_interleave", repeat_interleave)


# ---------------------------------------------------------------- broadcasting helpers


def broadcast_shapes(*shapes):
    shapes = [(s,) if isinstance(s, (int, np.integer)) else tuple(s) for s in shapes]
    result = [1] * max((len(s) for s in shapes), default=0)
    for k, shape in enumerate(shapes):
        for i in range(-1, -1 - len(shape), -1):
            size = shape[i]
            if size < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension ({size}): "
                                   f"({size})")
            if size == 1 or size == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {size} at {i}! Mismatching "
                    f"argument at index {k} had {shape}; but expected shape should be "
                    f"broadcastable to {list(result)}")
            result[i] = size
    return Size(result)


def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = ()
    for t in tensors:
        try:
            shape = np.broadcast_shapes(shape, t._data.shape)
        except ValueError:
            raise_broadcast_error(shape, t._data.shape)
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


def _atleast(tensors, fn):
    if len(tensors) == 1:
        if isinstance(tensors[0], (list, tuple)):
            return tuple(fn(t) for t in tensors[0])
        return fn(tensors[0])
    return tuple(fn(t) for t in tensors)


def _at_least_1d(t):
    return reshape(t, (1,)) if t._data.ndim == 0 else t


def _at_least_2d(t):
    ndim = t._data.ndim
    return reshape(t, (1, 1)) if ndim == 0 else unsqueeze(t, 0) if ndim == 1 else t


def _at_least_3d(t):
    ndim = t._data.ndim
    if ndim == 0:
        return reshape(t, (1, 1, 1))
    if ndim == 1:
        return unsqueeze(unsqueeze(t, 0), -1)
    return unsqueeze(t, -1) if ndim == 2 else t


def atleast_1d(*tensors):
    return _atleast(tensors, _at_least_1d)


def atleast_2d(*tensors):
    return _atleast(tensors, _at_least_2d)


def atleast_3d(*tensors):
    return _atleast(tensors, _at_least_3d)


# ---------------------------------------------------------------- resize


def resize_(self, *sizes, memory_format=None):
    """Change shape and number of elements in place; the kept elements are the first ones."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = shape_arg(sizes)
    for s in shape:
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"{_fmt(shape)}")
    data = self._data
    n = Size(shape).numel()
    if shape != data.shape:
        # like torch, the storage is kept (and grown when too small): shrinking and growing
        # back gives the old elements again
        storage = _root_array(data).reshape(-1)
        offset = self.storage_offset() if data.flags.c_contiguous else 0
        if not data.flags.c_contiguous:
            storage = data.reshape(-1)
        if offset + n <= storage.size:
            self._data = storage[offset:offset + n].reshape(shape)
        else:
            new = B.get_array_module(data).zeros(offset + n, dtype=data.dtype)
            new[:storage.size] = storage
            self._data = new[offset:].reshape(shape)
    self._version[0] += 1
    return self


def resize_as_(input, the_template, *, memory_format=None):
    return resize_(input, the_template._data.shape)


register("resize_", resize_)
register("resize_as_", resize_as_)

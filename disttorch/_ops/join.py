"""Joining and splitting: cat, stack and their h/v/d/column forms, split, chunk, unbind,
tensor_split and h/v/dsplit, meshgrid, cartesian_prod.

split, chunk and unbind are multi-output ops whose outputs are views of the input (torch
forbids modifying those in place); tensor_split's pieces are independent narrow views.
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap_dim
from ..autograd.function import Op
from ._common import register, result_dtype
from .rearrange import atleast_1d, atleast_2d, atleast_3d
from .shape import _fmt, expand, flatten, mark_view, reshape
from .slicing import narrow

__all__ = ["cat", "concat", "concatenate", "stack", "hstack", "vstack", "row_stack", "dstack",
           "column_stack", "split", "tensor_split", "chunk", "unbind", "hsplit", "vsplit",
           "dsplit", "meshgrid", "cartesian_prod"]


def _tensor_list(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    return tuple(tensors)


class Cat(Op):
    node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, dim, dtype, *tensors):
        arrays = [t._data if t._data.dtype == dtype.np else t._data.astype(dtype.np)
                  for t in tensors]
        ctx.meta = [(t._data.shape, t.dtype) for t in tensors]
        ctx.dim = dim
        ndim = max(a.ndim for a in arrays)
        kept = [a for a in arrays if a.shape != (0,) or ndim == 1]  # torch's legacy skip
        return B.get_array_module(kept[0]).concatenate(kept, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        dim = ctx.dim
        grads = [None, None]
        start = 0
        flags = ctx.needs_input_grad
        legacy = grad._data.ndim != 1
        for i, (shape, dtype) in enumerate(ctx.meta):
            if legacy and shape == (0,):  # skipped in forward: an empty gradient
                grads.append(Tensor._wrap(B.get_array_module(grad._data).zeros(0, dtype.np))
                             if flags[i + 2] else None)
                continue
            n = shape[dim]
            if flags[i + 2]:
                g = narrow(grad, dim, start, n)
                grads.append(g if g.dtype is dtype else g.to(dtype))
            else:
                grads.append(None)
            start += n
        return tuple(grads)


def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    ref = None
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be "
                               "concatenated")
        if ref is None and shape != (0,):
            ref = shape
    if ref is None:  # only 1-d empty tensors
        ref = (0,)
    d = _wrap_dim(dim, len(ref))
    for i, t in enumerate(tensors):
        shape = t._data.shape
        if shape == (0,) and len(ref) != 1:
            continue  # torch's legacy rule: 1-d empty tensors are skipped
        if len(shape) != len(ref):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(ref)} "
                               f"and {len(shape)}")
        for k, (a, b) in enumerate(zip(ref, shape)):
            if k != d and a != b:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {a} but got size {b} for tensor number {i} "
                                   "in the list.")
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dtype:
            dtype = result_dtype(*tensors)
            break
    return Cat.apply(d, dtype, *tensors)


def concatenate(tensors, axis=0, out=None):
    return cat(tensors, axis)


concat = cat


class Stack(Op):
    node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, dim, dtype, *tensors):
        arrays = [t._data if t._data.dtype == dtype.np else t._data.astype(dtype.np)
                  for t in tensors]
        ctx.dim = dim
        ctx.dtypes = [t.dtype for t in tensors]
        return B.get_array_module(arrays[0]).stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        grads = [None, None]
        for i, dtype in enumerate(ctx.dtypes):
            if ctx.needs_input_grad[i + 2]:
                g = grad.select(ctx.dim, i)
                grads.append(g if g.dtype is dtype else g.to(dtype))
            else:
                grads.append(None)
        return tuple(grads)


def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors[1:], 1):
        if t._data.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{_fmt(shape)} at entry 0 and {_fmt(t._data.shape)} at entry "
                               f"{i}")
    d = _wrap_dim(dim, len(shape) + 1)
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        if t.dtype is not dtype:
            dtype = result_dtype(*tensors)
            break
    return Stack.apply(d, dtype, *tensors)


def hstack(tensors, *, out=None):
    tensors = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors, *, out=None):
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


def dstack(tensors, *, out=None):
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


def column_stack(tensors, *, out=None):
    tensors = _tensor_list(tensors, "column_stack")
    columns = [reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors]
    return cat(columns, 1)


row_stack = vstack


# ---------------------------------------------------------------- splitting


class Split(Op):
    """The pieces of `x` along `dim`, as views; backward concatenates their gradients."""

    node_name = "SplitBackward0"
    origin = "Split"

    @staticmethod
    def forward(ctx, x, dim, sizes):
        data = x._data
        ctx.dim = dim
        pieces = []
        start = 0
        lead = (slice(None),) * dim
        for n in sizes:
            pieces.append(data[lead + (slice(start, start + n), Ellipsis)])
            start += n
        return tuple(pieces)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim), None, None


class SplitWithSizes(Split):
    node_name = "SplitWithSizesBackward0"
    origin = "SplitWithSizes"


def _split_views(op, input, d, sizes):
    pieces = op.apply(input, d, tuple(sizes))
    start = 0
    for i, (piece, n) in enumerate(zip(pieces, sizes)):
        mark_view(piece, input, "narrow", (d, start, n), (op.origin, i))
        start += n
    return pieces


def _split_sizes(size, split_size):
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got "
                           f"split_size={split_size}")
    if split_size == 0:
        if size != 0:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {size}")
        return [0]
    chunks = max(1, -(-size // split_size))
    return [min(split_size, size - i * split_size) for i in range(chunks)]


def split(tensor, split_size_or_sections, dim=0):
    d = _wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise RuntimeError(f"split_with_sizes expects split_sizes have only non-negative "
                               f"entries, but got split_sizes={_fmt(sizes)}")
        if sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} "
                               f"(input tensor's size at dimension {d}), but got "
                               f"split_sizes={_fmt(sizes)}")
        return _split_views(SplitWithSizes, tensor, d, sizes)
    return _split_views(Split, tensor, d, _split_sizes(size, int(split_size_or_sections)))


def chunk(input, chunks, dim=0):
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = _wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    split_size = -(-size // chunks)
    if split_size == 0 and size == 0:
        return _split_views(Split, input, d, [0] * chunks)
    return _split_views(Split, input, d, _split_sizes(size, split_size))


class Unbind(Op):
    node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        data = x._data
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(data[lead + (i, Ellipsis)] for i in range(data.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(input, dim=0):
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = _wrap_dim(dim, input._data.ndim)
    pieces = Unbind.apply(input, d)
    for i, piece in enumerate(pieces):
        mark_view(piece, input, "select", (d, i), ("Unbind", i))
    return pieces


def _pieces_at(input, d, bounds):
    size = input._data.shape[d]
    pieces = []
    for start, stop in bounds:
        start = min(start, size)
        stop = min(max(stop, start), size)
        pieces.append(narrow(input, d, start, stop - start))
    return tuple(pieces)


def tensor_split(input, indices_or_sections, dim=0):
    d = _wrap_dim(dim, input._data.ndim)
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._data.dtype != np.int64:
            from ._common import _legacy_name

            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to have dtype "
                               f"of long, but got {_legacy_name(arg.dtype)}")
        if arg._data.ndim > 1:
            raise RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                               f"zero-dimensional or one-dimensional tensor, but got a tensor "
                               f"with {arg._data.ndim} dims")
        arg = int(arg._data) if arg._data.ndim == 0 else [int(i) for i in arg._data]
    if isinstance(arg, (int, np.integer)) and not isinstance(arg, bool):
        sections = int(arg)
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        size = input._data.shape[d]
        base, extra = divmod(size, sections)
        bounds, start = [], 0
        for i in range(sections):
            n = base + (1 if i < extra else 0)
            bounds.append((start, start + n))
            start += n
        return _pieces_at(input, d, bounds)
    if not isinstance(arg, (list, tuple)):
        raise TypeError(f"tensor_split() received an invalid combination of arguments - got "
                        f"({type(arg).__name__}), but expected one of:\n * (tuple of ints "
                        "indices, int dim = 0)\n * (Tensor tensor_indices_or_sections, int dim "
                        "= 0)\n * (int sections, int dim = 0)\n")
    edges = [0] + [int(i) for i in arg] + [input._data.shape[d]]
    return _pieces_at(input, d, list(zip(edges[:-1], edges[1:])))


def _directional_split(input, indices_or_sections, name, min_dims, dim):
    ndim = input._data.ndim
    if ndim < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, "
                           f"but got a tensor with {ndim} dimensions!")
    if isinstance(indices_or_sections, (int, np.integer)):
        size = input._data.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the "
                               f"size of the dimension {size} is not divisible by the "
                               f"split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    return _directional_split(input, indices_or_sections, "hsplit", 1,
                              1 if input._data.ndim > 1 else 0)


def vsplit(input, indices_or_sections):
    return _directional_split(input, indices_or_sections, "vsplit", 2, 0)


def dsplit(input, indices_or_sections):
    return _directional_split(input, indices_or_sections, "dsplit", 3, 2)


for _name, _fn in (("split", split), ("tensor_split", tensor_split), ("chunk", chunk),
                   ("unbind", unbind), ("hsplit", hsplit), ("vsplit", vsplit),
                   ("dsplit", dsplit)):
    register(_name, _fn)


# ---------------------------------------------------------------- grids


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but '
                           f"received: {indexing}")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t}")
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = [t._data.size for t in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for t, axis in zip(tensors, axes):
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(expand(reshape(t, tuple(shape)), tuple(sizes)))
    return tuple(grids)


def cartesian_prod(*tensors):
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {_fmt(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([flatten(g) for g in meshgrid(*tensors, indexing="ij")], 1)


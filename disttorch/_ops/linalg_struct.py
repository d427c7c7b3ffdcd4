"""Linear algebra, structure: trace, diag, diagonal (a view), diag_embed, diagonal_scatter,
triu/tril and cross. Each backward is another of these ops, so they differentiate again.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import make_unary_inplace, raise_broadcast_error, register, sum_to, wrap_dim
from .linalg import _legacy
from .shape import mark_view

__all__ = ["trace", "diag", "diagonal", "diag_embed", "diagonal_scatter", "triu", "tril",
           "cross"]


# ---------------------------------------------------------------- trace, triu, tril


class Trace(Op):
    node_name = "TraceBackward0"

    @staticmethod
    def forward(ctx, x):
        data = x._data
        if data.ndim != 2:
            raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {data.ndim}")
        if data.dtype.kind == "b":
            raise NotImplementedError("\"trace\" not implemented for 'Bool'")
        ctx.shape = data.shape
        return data.trace(dtype=np.int64 if data.dtype.kind in "iu" else None)

    @staticmethod
    def backward(ctx, grad):
        xp = B.get_array_module(grad._data)
        return grad * Tensor._wrap(xp.eye(*ctx.shape, dtype=grad._data.dtype))


def trace(input):
    return Trace.apply(input)


class Triu(Op):
    node_name = "TriuBackward0"
    upper = True

    @staticmethod
    def forward(ctx, x, k):
        data = x._data
        cls = type(ctx)
        if data.ndim < 2:
            name = "triu" if cls.upper else "tril"
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")
        ctx.k = k
        return np.triu(data, k) if cls.upper else np.tril(data, k)

    @staticmethod
    def backward(ctx, grad):
        return (grad.triu(ctx.k) if type(ctx).upper else grad.tril(ctx.k)), None


class Tril(Triu):
    node_name = "TrilBackward0"
    upper = False


def triu(input, diagonal=0):
    return Triu.apply(input, diagonal)


def tril(input, diagonal=0):
    return Tril.apply(input, diagonal)


register("trace", trace)
register("triu", triu, inplace=make_unary_inplace(triu))
register("tril", tril, inplace=make_unary_inplace(tril))


# ---------------------------------------------------------------- diagonals


def _diagonal_dims(ndim, dim1, dim2):
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _writable(view):
    flags = view.flags
    if not getattr(flags, "writeable", True):
        try:
            flags.writeable = True  # NumPy marks diagonals read-only; torch's are writable
        except ValueError:  # the base itself is read-only (a broadcast view)
            pass
    return view


class Diagonal(Op):
    node_name = "DiagonalBackward0"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x._data.shape, offset, d1, d2)
        return _writable(x._data.diagonal(offset, d1, d2))

    @staticmethod
    def backward(ctx, grad):
        shape, offset, d1, d2 = ctx.args
        xp = B.get_array_module(grad._data)
        zeros = Tensor._wrap(xp.zeros(shape, dtype=grad._data.dtype))
        return DiagonalScatter.apply(zeros, grad, offset, d1, d2), None, None, None


class DiagonalCopy(Diagonal):
    node_name = "DiagonalBackward0_copy"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        ctx.args = (x._data.shape, offset, d1, d2)
        return x._data.diagonal(offset, d1, d2).copy()


def diagonal(input, offset=0, dim1=0, dim2=1):
    d1, d2 = _diagonal_dims(input._data.ndim, dim1, dim2)
    out = Diagonal.apply(input, offset, d1, d2)
    return mark_view(out, input, "diagonal", (offset, d1, d2))


class DiagonalScatter(Op):
    node_name = "DiagonalScatterBackward0"

    @staticmethod
    def forward(ctx, x, src, offset, d1, d2):
        out = x._data.copy()
        region = out.diagonal(offset, d1, d2)
        if region.shape != src._data.shape:
            raise RuntimeError(f"expected src to have a size equal to the slice of self. src "
                               f"size = {list(src._data.shape)}, slice size = "
                               f"{list(region.shape)}")
        _writable(region)[...] = src._data
        ctx.args = (offset, d1, d2)
        return out

    @staticmethod
    def backward(ctx, grad):
        offset, d1, d2 = ctx.args
        flags = ctx.needs_input_grad
        g_src = grad.diagonal(offset, d1, d2) if flags[1] else None
        g_input = None
        if flags[0]:
            xp = B.get_array_module(grad._data)
            zeros = xp.zeros(grad._data.diagonal(offset, d1, d2).shape, grad._data.dtype)
            g_input = DiagonalScatter.apply(grad, Tensor._wrap(zeros), offset, d1, d2)
        return g_input, g_src, None, None, None


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    d1, d2 = _diagonal_dims(input._data.ndim, dim1, dim2)
    return DiagonalScatter.apply(input, src, offset, d1, d2)


class DiagEmbed(Op):
    node_name = "DiagEmbedBackward0"

    @staticmethod
    def forward(ctx, x, offset, d1, d2):
        data = x._data
        n = data.shape[-1] + abs(offset)
        shape = list(data.shape[:-1])
        for d in sorted((d1, d2)):
            shape.insert(d, n)
        xp = B.get_array_module(data)
        out = xp.zeros(shape, dtype=data.dtype)
        _writable(out.diagonal(offset, d1, d2))[...] = data
        ctx.args = (offset, d1, d2)
        return out

    @staticmethod
    def backward(ctx, grad):
        offset, d1, d2 = ctx.args
        return grad.diagonal(offset, d1, d2), None, None, None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    d1, d2 = _diagonal_dims(input._data.ndim + 1, dim1, dim2)
    return DiagEmbed.apply(input, offset, d1, d2)


def diag(input, diagonal=0):
    ndim = input._data.ndim
    if ndim == 1:
        return DiagEmbed.apply(input, diagonal, 0, 1)
    if ndim == 2:
        return DiagonalCopy.apply(input, diagonal, 0, 1)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")


register("diagonal", diagonal)
register("diagonal_scatter", diagonal_scatter)
register("diag_embed", diag_embed)
register("diag", diag)


# ---------------------------------------------------------------- cross


class Cross(Op):
    node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, a, b, dim, given):
        x, y = a._data, b._data
        if x.ndim != y.ndim:
            raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
        dim = wrap_dim(dim, x.ndim)
        if x.shape[dim] != 3 or y.shape[dim] != 3:
            raise RuntimeError(f"linalg.cross: inputs dimension {given} must have length 3. "
                               f"Got {x.shape[dim]} and {y.shape[dim]}")
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            raise_broadcast_error(x.shape, y.shape)
        if x.dtype != y.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
            ctx.shapes, ctx.dim = (x.shape, y.shape), dim
        return np.cross(x, y, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        sa, sb = ctx.shapes
        ga = sum_to(Cross.apply(b, grad, ctx.dim, ctx.dim), sa) if flags[0] else None
        gb = sum_to(Cross.apply(grad, a, ctx.dim, ctx.dim), sb) if flags[1] else None
        return ga, gb, None, None


def cross(input, other, dim=None):
    if dim is None:
        import warnings

        warnings.warn("Using torch.cross without specifying the dim arg is deprecated.\n"
                      "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
                      "The default value of dim will change to agree with that of linalg.cross "
                      "in a future release.", UserWarning, stacklevel=2)
        shape = np.broadcast_shapes(input._data.shape, other._data.shape)
        dim = next((d for d, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return Cross.apply(input, other, dim, dim)


def linalg_cross(input, other, *, dim=-1):
    return Cross.apply(input, other, dim, dim)


register("cross", cross)

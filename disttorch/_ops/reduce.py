"""Reductions over dims with keepdim: sum, mean, nansum, nanmean, prod, logsumexp, all, any,
count_nonzero, and the scans cumsum / cumprod.

Backward expands the gradient back over the reduced dims with `expand`, so it stays
differentiable for higher-order gradients. The rest of the family lives in reduce_minmax
(max, min, amax, argmax, aminmax, cummax ...) and reduce_stats (std, var, norm, dist);
this module re-exports them so that the family has one `__all__`.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import _legacy_name, make_unary_inplace, register, to_float
from ._reduce_util import (
    NO_DIM,
    const,
    expand_reduced,
    keep,
    kept_shape,
    legacy,
    one_axis,
    reduce_axes,
    require_float,
    return_types,
)

__all__ = ["sum", "mean", "nansum", "nanmean", "prod", "logsumexp", "all", "any",
           "count_nonzero", "cumsum", "cumprod", "return_types"]


def _accumulate(data, dtype):
    """(dtype to accumulate in, dtype of the result) for sum-like ops, as torch does:
    integers and bools sum to int64, float16 accumulates in float32."""
    key = (data.dtype, dtype)
    found = _ACCUMULATE.get(key)
    if found is None:
        if dtype is not None:
            out = np.dtype(dtype.np)
        elif data.dtype.kind in "biu":
            out = np.dtype(np.int64)
        else:
            out = data.dtype
        acc = np.dtype(np.float32) if out == np.float16 or out.kind == "V" else out
        found = _ACCUMULATE[key] = (acc, out)
    return found


_ACCUMULATE = {}


def _check_grad_dtype(input, dtype):
    if dtype is not None and not dtype.is_floating_point and input._requires_grad and \
            state.enabled:
        raise RuntimeError(f"Autograd not support dtype: {_legacy_name(dtype)}")


def _as_dtype_of(grad, data):
    """A gradient cast back to the input's dtype (after a reduction with dtype=)."""
    if grad._data.dtype != data.dtype:
        return grad.to(B._FROM_NP[data.dtype])
    return grad


# ---------------------------------------------------------------- sum, mean


class Sum(Op):
    node_name = "SumBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        data = x._data
        ctx.shape, ctx.axes, ctx.keepdim, ctx.dtype = data.shape, axes, keepdim, data.dtype
        acc, out = _accumulate(data, dtype)
        result = data.sum(axis=axes, keepdims=keepdim, dtype=acc)
        return result if acc == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        grad = expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdim)
        if grad._data.dtype != ctx.dtype:
            grad = grad.to(B._FROM_NP[ctx.dtype])
        return grad, None, None, None


class SumDim(Sum):
    node_name = "SumBackward1"


class Mean(Op):
    node_name = "MeanBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        data = x._data
        if dtype is None and data.dtype.kind not in "fV":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {legacy(data)}")
        if dtype is not None and not dtype.is_floating_point:
            raise RuntimeError(_optional_dtype_error("mean", dtype))
        ctx.shape, ctx.axes, ctx.keepdim, ctx.dtype = data.shape, axes, keepdim, data.dtype
        count = 1
        for ax in axes:
            count *= data.shape[ax]
        ctx.count = count
        acc, out = _accumulate(data, dtype)
        if count == 0:  # NumPy warns about the empty mean; torch quietly gives NaN
            xp = B.get_array_module(data)
            return xp.full(data.sum(axis=axes, keepdims=keepdim).shape, np.nan, out)
        result = data.mean(axis=axes, keepdims=keepdim, dtype=acc)
        return result if result.dtype == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        grad = expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count
        if grad._data.dtype != ctx.dtype:
            grad = grad.to(B._FROM_NP[ctx.dtype])
        return grad, None, None, None


class MeanDim(Mean):
    node_name = "MeanBackward1"


def sum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    axes = reduce_axes(dim, input._data.ndim)
    return (Sum if dim is None else SumDim).apply(input, axes, keepdim, dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    axes = reduce_axes(dim, input._data.ndim, "mean")
    return (Mean if dim is None else MeanDim).apply(input, axes, keepdim, dtype)


# ---------------------------------------------------------------- nansum, nanmean


class Nansum(Op):
    node_name = "NansumBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        data = x._data
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        if data.dtype.kind in "fV":
            xp = B.get_array_module(data)
            ctx.present = ~xp.isnan(data)
            data = xp.where(ctx.present, data, 0)
        acc, out = _accumulate(data, dtype)
        result = data.sum(axis=axes, keepdims=keepdim, dtype=acc)
        return result if acc == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        grad = expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return grad * const(ctx.present, grad._data), None, None, None


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    return Nansum.apply(input, reduce_axes(dim, input._data.ndim, "nansum"), keepdim, dtype)


def _optional_dtype_error(name, dtype):
    return (f"{name}(): could not infer output dtype. Optional dtype must be either a floating "
            f"point or complex dtype. Got: {_legacy_name(dtype)}")


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    data = input._data
    if dtype is not None and not dtype.is_floating_point:
        raise RuntimeError(_optional_dtype_error("nanmean", dtype))
    require_float(data, "nanmean(): expected input to have floating point or complex dtype "
                        "but got {}")
    axes = reduce_axes(dim, data.ndim, "nanmean")
    xp = B.get_array_module(data)
    count = (~xp.isnan(data)).sum(axis=axes, keepdims=keepdim)
    # torch composes it the same way, so the node is DivBackward0
    return Nansum.apply(input, axes, keepdim, dtype) / Tensor._wrap(count)


# ---------------------------------------------------------------- prod


class Prod(Op):
    node_name = "ProdBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        data = x._data
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        ctx.save_for_backward(x)
        ctx.save_output()
        acc, out = _accumulate(data, dtype)
        result = data.prod(axis=axes, keepdims=keepdim, dtype=acc)
        return result if acc == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, axes = ctx.shape, ctx.axes
        grad = expand_reduced(grad, shape, axes, ctx.keepdim)
        if not (x._data == 0).any():
            out = keep(ctx.saved_output, shape, axes, ctx.keepdim)
            return _as_dtype_of(grad * out / x, x._data), None, None, None
        if len(axes) == 1:
            others = _product_of_others(x, axes[0])
        else:  # the full product: the same over the flattened input
            others = _product_of_others(x.reshape(-1), 0).reshape(shape)
        return _as_dtype_of(grad * others, x._data), None, None, None


class ProdDim(Prod):
    node_name = "ProdBackward1"


def _product_of_others(x, axis):
    """For each element, the product of the others along `axis` (safe with zeros)."""
    data = x._data
    xp = B.get_array_module(data)
    if state.enabled:
        # differentiable again: a (k, j) matrix of x_j with ones on the diagonal, O(n^2)
        return _without_diagonal(x, axis).prod(axis + 1)
    moved = xp.moveaxis(data, axis, -1)
    ones = xp.ones(moved.shape[:-1] + (1,), data.dtype)
    left = xp.concatenate([ones, moved[..., :-1]], -1).cumprod(-1)
    right = xp.concatenate([ones, moved[..., :0:-1]], -1).cumprod(-1)[..., ::-1]
    return const(xp.moveaxis(left * right, -1, axis))


def _without_diagonal(x, axis):
    """Y[..., k, j, ...] = x[..., j, ...] for j != k and 1 for j == k (new axis k at `axis`)."""
    shape = x._data.shape
    n = shape[axis]
    xp = B.get_array_module(x._data)
    wide = x.reshape(shape[:axis] + (1,) + shape[axis:]).expand(
        shape[:axis] + (n,) + shape[axis:])
    eye = xp.eye(n, dtype=x._data.dtype).reshape((n, n) + (1,) * (len(shape) - axis - 1))
    return wide * const(1 - eye) + const(eye)


def prod(input, dim=NO_DIM, keepdim=False, *, dtype=None):
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    ndim = input._data.ndim
    if dim is NO_DIM:
        return Prod.apply(input, tuple(range(ndim)), keepdim, dtype)
    axis = one_axis("prod", dim, ndim)
    return ProdDim.apply(input, (axis,) if ndim else (), keepdim, dtype)


# ---------------------------------------------------------------- logsumexp


class Logsumexp(Op):
    node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        data = to_float(x)
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        ctx.save_for_backward(x)
        ctx.save_output()
        xp = B.get_array_module(data)
        if 0 in [data.shape[a] for a in axes]:
            result = xp.full(kept_shape(data.shape, axes), -np.inf, data.dtype)
        else:
            # shift by the max so that exp cannot overflow; infinite maxes shift by 0.
            # Each step rounds to the input dtype (float16 too), as torch's do.
            shift = data.max(axis=axes, keepdims=True)
            shift = xp.where(xp.isfinite(shift), shift, 0).astype(data.dtype, copy=False)
            acc, out = _accumulate(data, None)
            with np.errstate(divide="ignore", invalid="ignore"):
                total = np.exp(data - shift).sum(axis=axes, keepdims=True, dtype=acc)
                result = np.log(total.astype(out, copy=False)) + shift
        if not keepdim:
            result = result.reshape(tuple(s for i, s in enumerate(data.shape) if i not in axes))
        return result

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        out = keep(ctx.saved_output, ctx.shape, ctx.axes, ctx.keepdim)
        grad = keep(grad, ctx.shape, ctx.axes, ctx.keepdim)
        return grad * (x - out).exp(), None, None


def logsumexp(input, dim, keepdim=False):
    ndim = input._data.ndim
    if dim is None or isinstance(dim, (float, str, bool)):
        raise TypeError("logsumexp(): argument 'dim' (position 1) must be tuple of ints, not "
                        f"{type(dim).__name__}")
    if isinstance(dim, (tuple, list)) and not dim and ndim:
        # torch reduces over nothing into a full-reduction shape and fails on the out shape
        raise RuntimeError("output with shape [] doesn't match the broadcast shape "
                           f"[{', '.join('1' * ndim)}]")
    return Logsumexp.apply(input, reduce_axes(dim, ndim, "logsumexp"), keepdim)


# ---------------------------------------------------------------- all, any, count_nonzero


def _logical_axes(dim, ndim, name):
    """all/any: None reduces everything, but an empty sequence reduces nothing."""
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)) and not dim:
        return ()
    return reduce_axes(dim, ndim, name)


def all(input, dim=None, keepdim=False):
    data = input._data
    axes = _logical_axes(dim, data.ndim, "all")
    out = data.all(axis=axes, keepdims=keepdim)
    return Tensor._wrap(out.astype(np.uint8) if data.dtype == np.uint8 else out)


def any(input, dim=None, keepdim=False):
    data = input._data
    axes = _logical_axes(dim, data.ndim, "any")
    out = data.any(axis=axes, keepdims=keepdim)
    return Tensor._wrap(out.astype(np.uint8) if data.dtype == np.uint8 else out)


def count_nonzero(input, dim=None):
    data = input._data
    axes = reduce_axes(dim, data.ndim, "count_nonzero")
    return Tensor._wrap((data != 0).sum(axis=axes, dtype=np.int64))


# ---------------------------------------------------------------- cumsum, cumprod


def _reverse_cumsum(data, axis):
    xp = B.get_array_module(data)
    return xp.flip(xp.flip(data, axis).cumsum(axis), axis)


class Cumsum(Op):
    node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, axis, dtype):
        data = x._data
        ctx.axis, ctx.dtype = axis, data.dtype
        acc, out = _accumulate(data, dtype)
        if data.ndim == 0:
            return data.astype(out)
        result = data.cumsum(axis, dtype=acc)
        return result if acc == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axis is not None:
            grad = ReverseCumsum.apply(grad, ctx.axis)
        if grad._data.dtype != ctx.dtype:
            grad = grad.to(B._FROM_NP[ctx.dtype])
        return grad, None, None


class ReverseCumsum(Op):
    """Sums from each position to the end: cumsum's adjoint (torch flips, cumsums, flips)."""

    node_name = "FlipBackward0"

    @staticmethod
    def forward(ctx, g, axis):
        ctx.axis = axis
        return _reverse_cumsum(g._data, axis)

    @staticmethod
    def backward(ctx, grad):
        return Cumsum.apply(grad, ctx.axis, None), None


class Cumprod(Op):
    node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, axis, dtype):
        data = x._data
        ctx.axis = axis
        ctx.save_for_backward(x)
        ctx.save_output()
        acc, out = _accumulate(data, dtype)
        if data.ndim == 0:
            return data.astype(out)
        result = data.cumprod(axis, dtype=acc)
        return result if acc == out else result.astype(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        axis = ctx.axis
        if axis is None:
            return _as_dtype_of(grad, x._data), None, None
        if not (x._data == 0).any():
            out = ctx.saved_output
            return _as_dtype_of(ReverseCumsum.apply(grad * out, axis) / x, x._data), None, None
        if state.enabled:
            result = _cumprod_grad_graph(x, grad, axis)
        else:
            result = const(_cumprod_grad_zeros(x._data, grad._data,
                                               ctx.saved_output._data, axis))
        return _as_dtype_of(result, x._data), None, None


def _cumprod_grad_graph(x, grad, axis):
    """sum_{i >= k} grad_i * prod_{j <= i, j != k} x_j in Tensor ops (O(n^2), zeros allowed)."""
    shape = x._data.shape
    n = shape[axis]
    xp = B.get_array_module(x._data)
    partial = _without_diagonal(x, axis).cumprod(axis + 1)
    upper = xp.triu(xp.ones((n, n), x._data.dtype)).reshape((n, n) + (1,) * (len(shape) - axis
                                                                              - 1))
    wide_grad = grad.reshape(shape[:axis] + (1,) + shape[axis:])
    return (wide_grad * const(upper) * partial).sum(axis + 1)


def _cumprod_grad_zeros(data, grad, out, axis):
    """cumprod's input gradient on arrays when the input has zeros, in O(n) per row.

    Before the first zero z the usual reversed-cumsum / x formula holds; after it every
    gradient is 0; at z it is out[z-1] * sum_{i >= z} grad_i * prod_{z < j <= i} x_j."""
    xp = B.get_array_module(data)
    d, g, o = (xp.moveaxis(a, axis, -1) for a in (data, grad, out))
    n = d.shape[-1]
    pos = xp.arange(n)
    is_zero = d == 0
    first = xp.where(is_zero.any(-1), is_zero.argmax(-1), n)[..., None]
    before = pos < first
    with np.errstate(divide="ignore", invalid="ignore"):
        result = xp.where(before, _reverse_cumsum(g * o, -1) / xp.where(before, d, 1), 0)
    after_first = xp.where(pos > first, d, 1).cumprod(-1)
    tail = xp.where(pos >= first, g * after_first, 0).sum(-1, keepdims=True)
    prior = xp.take_along_axis(o, xp.clip(first - 1, 0, n - 1), -1)
    at_zero = xp.where(first == 0, 1, prior) * tail
    result = xp.where(pos == first, at_zero, result)
    return xp.moveaxis(result.astype(grad.dtype, copy=False), -1, axis)


def _scan_axis(name, dim, ndim):
    if dim is None or isinstance(dim, (float, str, tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__}")
    axis = one_axis(name, dim, ndim)
    return axis if ndim else None


def cumsum(input, dim, *, dtype=None):
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    return Cumsum.apply(input, _scan_axis("cumsum", dim, input._data.ndim), dtype)


def cumprod(input, dim, *, dtype=None):
    if dtype is not None:
        _check_grad_dtype(input, dtype)
    return Cumprod.apply(input, _scan_axis("cumprod", dim, input._data.ndim), dtype)


register("sum", sum)
register("mean", mean)
register("nansum", nansum)
register("nanmean", nanmean)
register("prod", prod)
register("logsumexp", logsumexp)
register("all", all)
register("any", any)
register("count_nonzero", count_nonzero)
register("cumsum", cumsum, inplace=make_unary_inplace(cumsum))
register("cumprod", cumprod, inplace=make_unary_inplace(cumprod))

# the rest of the family; imported last because they build on the helpers above
from . import reduce_minmax, reduce_stats  # noqa: E402

__all__ += reduce_minmax.__all__ + reduce_stats.__all__
globals().update({name: getattr(reduce_minmax, name) for name in reduce_minmax.__all__})
globals().update({name: getattr(reduce_stats, name) for name in reduce_stats.__all__})

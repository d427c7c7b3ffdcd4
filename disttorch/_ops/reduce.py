"""Reductions over dims with keepdim: sum, mean (and the family built on them).

Backward expands the gradient back over the reduced dims with `expand`, so it stays
differentiable for higher-order gradients.
"""

import numpy as np

from .. import _backend as B
from ..autograd.function import Op
from ._common import register, wrap_dims

__all__ = ["sum", "mean"]


def _restore_dims(grad, shape, axes, keepdim):
    """Reshape a reduced gradient so that it broadcasts against the input shape."""
    if not keepdim and axes:
        kept = list(grad._data.shape)
        for ax in axes:
            kept.insert(ax, 1)
        grad = grad.reshape(tuple(kept))
    return grad.expand(shape)


def _sum_dtype(data, dtype):
    if dtype is not None:
        return dtype.np
    if data.dtype.kind in "biu":  # torch sums bools and integers as int64
        return np.int64
    return None


class Sum(Op):
    node_name = "SumBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype):
        data = x._data
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        out = data.sum(axis=axes, keepdims=keepdim, dtype=_sum_dtype(data, dtype))
        return out

    @staticmethod
    def backward(ctx, grad):
        return _restore_dims(grad, ctx.shape, ctx.axes, ctx.keepdim), None, None, None


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
                f"point or complex dtype. Got: {_legacy(data)}")
        ctx.shape, ctx.axes, ctx.keepdim = data.shape, axes, keepdim
        count = 1
        for ax in axes:
            count *= data.shape[ax]
        ctx.count = count
        with np.errstate(invalid="ignore", divide="ignore"):
            out = data.mean(axis=axes, keepdims=keepdim,
                            dtype=None if dtype is None else dtype.np)
        if out.dtype != data.dtype and dtype is None:
            out = out.astype(data.dtype)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (_restore_dims(grad, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count,
                None, None, None)


class MeanDim(Mean):
    node_name = "MeanBackward1"


def _legacy(data):
    from ._common import _legacy_name

    return _legacy_name(B._FROM_NP[data.dtype])


def sum(input, dim=None, keepdim=False, *, dtype=None):
    axes = wrap_dims(dim, input._data.ndim)
    op = Sum if dim is None else SumDim
    return op.apply(input, axes, keepdim, dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    axes = wrap_dims(dim, input._data.ndim)
    op = Mean if dim is None else MeanDim
    return op.apply(input, axes, keepdim, dtype)


register("sum", sum)
register("mean", mean)

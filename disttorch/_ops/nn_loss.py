"""Loss functions: regression losses and binary cross entropy as fused ops, the rest as
compositions of Tensor ops (torch composes them too, so node names agree); nll_loss and
cross_entropy come from nn_nll.py.

A fused loss op takes both operands (broadcast together as torch's broadcast_tensors would),
computes the elementwise loss and its reduction on arrays, and writes the derivative once in
Tensor ops; `compute` runs that formula on arrays when the backward records no graph.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad, state
from ._common import _legacy_name, quiet, raise_broadcast_error, result_dtype
from ._elementwise_base import compute, fit_grad, where
from ._nn_util import (
    array_sigmoid,
    array_softplus,
    check_reduction,
    legacy_reduction,
    not_implemented,
    reduce_loss,
    size_warning,
)
from .nn_nll import cross_entropy, nll_loss  # noqa: F401 - part of the family

# the torch.<name> forms of these losses (reduction as an enum) are in _nn_enum_losses.py
__all__ = []
FUNCTIONAL = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
              "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
              "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
              "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
              "triplet_margin_loss", "nll_loss", "cross_entropy"]


# ---------------------------------------------------------------- fused pointwise losses


def _pointwise_loss(node, kernel, loss, derivative, target_grad=True, promote=True):
    """A loss op of (input, target, reduction, *params): loss(x, t, *params) on arrays and
    derivative(grad, x, t, *params), d(loss)/dx, as an arithmetic formula (arrays or Tensors).
    The target's gradient is minus the input's. The result has the promoted dtype of both, or
    (promote=False) the input's, as torch's kernels do."""

    def forward(ctx, x, t, reduction, *params):
        dt = result_dtype(x, t) if promote else x.dtype
        if not dt.is_floating_point:
            not_implemented(kernel, dt)
        xd, td = x._data.astype(dt.np, copy=False), t._data.astype(dt.np, copy=False)
        quiet()
        try:
            values = loss(xd, td, *params)
        except ValueError:
            raise_broadcast_error(xd.shape, td.shape)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, t)
            ctx.reduction, ctx.params, ctx.count = reduction, params, values.size
        return _reduce_values(values, reduction, dt.np)

    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        if ctx.reduction == "mean":
            grad = grad / ctx.count
        d = compute(lambda g, u, v: derivative(g, u, v, *ctx.params), grad, x, t)
        flags = ctx.needs_input_grad
        return (fit_grad(ctx, 0, d) if flags[0] else None,
                fit_grad(ctx, 1, -d) if flags[1] else None, None) + (None,) * len(ctx.params)

    def forbid_target_grad(ctx_forward):
        def checked(ctx, x, t, reduction, *params):
            if t._requires_grad and state.enabled:
                raise RuntimeError(f"The function '{kernel[:-4]}' is not differentiable with "
                                   "respect to argument 'target'. This input cannot have "
                                   "requires_grad True.")
            return ctx_forward(ctx, x, t, reduction, *params)
        return checked

    return type(Op)(node[:-len("Backward0")], (Op,), {
        "node_name": node,
        "forward": staticmethod(forward if target_grad else forbid_target_grad(forward)),
        "backward": staticmethod(backward), "__module__": __name__})


def _smooth_l1(x, t, beta):
    z = np.abs(x - t)
    return np.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta).astype(x.dtype, copy=False)


def _huber(x, t, delta):
    z = np.abs(x - t)
    return np.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)).astype(x.dtype,
                                                                              copy=False)


def _soft_margin_grad(g, x, t):
    return -g * t / (1 + (t * x).exp()) if isinstance(x, Tensor) else \
        -g * t / (1 + np.exp(t * x))


MseLoss = _pointwise_loss("MseLossBackward0", "mse_cpu", lambda x, t: (x - t) * (x - t),
                          lambda g, x, t: (x - t) * (g * 2))
SmoothL1Loss = _pointwise_loss(
    "SmoothL1LossBackward0", "smooth_l1_cpu", _smooth_l1,
    lambda g, x, t, beta: g * _clip(x - t, -beta, beta) / beta)
HuberLoss = _pointwise_loss(
    "HuberLossBackward0", "huber_cpu", _huber,
    lambda g, x, t, delta: g * _clip(x - t, -delta, delta), promote=False)
SoftMarginLoss = _pointwise_loss(
    "SoftMarginLossBackward0", "soft_margin_loss_cpu",
    lambda x, t: array_softplus(-t * x), _soft_margin_grad, target_grad=False, promote=False)


def _clip(v, low, high):
    return v.clamp(low, high) if isinstance(v, Tensor) else np.clip(v, low, high)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if weight is None:
        return MseLoss.apply(input, target, reduction)
    return _weighted((input - target).pow(2), input, weight, reduction)


def _weighted(errors, input, weight, reduction):
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = errors * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weight.sum()


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    errors = (input - target).abs()
    if weight is None:
        return reduce_loss(errors, reduction)
    return _weighted(errors, input, weight, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean",
                   beta=1.0):
    size_warning(input, target)
    reduction = legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0.0:
        return reduce_loss((input - target).abs(), reduction)
    return SmoothL1Loss.apply(input, target, reduction, beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    size_warning(input, target)
    check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        return HuberLoss.apply(input, target, reduction, delta)
    if weight.shape != input.shape:
        raise ValueError("Weights and input must have the same size.")
    weighted = HuberLoss.apply(input, target, "none", delta) * weight
    return reduce_loss(weighted, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    return SoftMarginLoss.apply(input, target, reduction)


# ---------------------------------------------------------------- binary cross entropy


def _not_differentiable(function, argument, tensor):
    if tensor is not None and tensor._requires_grad and state.enabled:
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to "
                           f"argument '{argument}'. This input cannot have requires_grad True.")


def _reduce_values(values, reduction, dtype):
    xp = B.get_array_module(values)
    if reduction == "mean":
        return xp.asarray(values.mean(dtype=dtype) if values.size else np.nan, dtype=dtype)
    if reduction == "sum":
        return xp.asarray(values.sum(dtype=dtype))
    return values


class BinaryCrossEntropy(Op):
    node_name = "BinaryCrossEntropyBackward0"

    @staticmethod
    def forward(ctx, x, t, weight, reduction):
        xd, td = x._data, t._data.astype(x._data.dtype, copy=False)
        if xd.size and ((xd < 0) | (xd > 1)).any() or np.isnan(xd).any():
            raise RuntimeError("all elements of input should be between 0 and 1")
        quiet()
        values = -(td * np.maximum(np.log(xd), -100) +
                   (1 - td) * np.maximum(np.log1p(-xd), -100))
        if weight is not None:
            values = values * weight
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, t)
            ctx.weight, ctx.reduction, ctx.count = weight, reduction, values.size
        return _reduce_values(values.astype(xd.dtype, copy=False), reduction, xd.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        if ctx.reduction == "mean":
            grad = grad / ctx.count
        if ctx.weight is not None:
            grad = grad * Tensor._wrap(ctx.weight.astype(grad._data.dtype, copy=False))
        flags = ctx.needs_input_grad
        grad_x = grad_t = None
        if flags[0]:
            grad_x = compute(lambda g, u, v: g * (u - v) / _clamp_min((1 - u) * u, 1e-12),
                             grad, x, t)
        if flags[1]:
            grad_t = compute(lambda g, u: g * (_log_clamped(1 - u) - _log_clamped(u)), grad, x)
        return grad_x, grad_t, None, None


def _clamp_min(v, low):
    return v.clamp_min(low) if isinstance(v, Tensor) else np.maximum(v, low)


def _log_clamped(v):
    return v.log().clamp_min(-100) if isinstance(v, Tensor) else np.maximum(np.log(v), -100)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the same "
                         "size.")
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_legacy_name(target.dtype)} but expected "
                           f"{_legacy_name(input.dtype)}")
    _not_differentiable("binary_cross_entropy", "weight", weight)
    w = None
    if weight is not None:
        xp = B.get_array_module(weight._data)
        w = xp.broadcast_to(weight._data, np.broadcast_shapes(target._data.shape,
                                                              weight._data.shape))
    return BinaryCrossEntropy.apply(input, target, w, reduction)


class BinaryCrossEntropyWithLogits(Op):
    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        # torch computes in the target's dtype
        td = t._data
        xd = x._data.astype(td.dtype, copy=False) if td.dtype.kind in "fV" else x._data
        td = td.astype(xd.dtype, copy=False)
        quiet()
        # -[pw * t * log(sigmoid(x)) + (1 - t) * log(1 - sigmoid(x))], kept finite
        if pos_weight is None:
            values = (1 - td) * xd + array_softplus(-xd)
        else:
            values = (1 - td) * xd + (1 + (pos_weight - 1) * td) * array_softplus(-xd)
        if weight is not None:
            values = values * weight
        values = values.astype(xd.dtype, copy=False)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, t)
            ctx.arrays = (weight, pos_weight)
            ctx.reduction, ctx.count, ctx.shape = reduction, values.size, values.shape
        return _reduce_values(values, reduction, xd.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        weight, pos_weight = (None if a is None else Tensor._wrap(a.astype(x._data.dtype))
                              for a in ctx.arrays)
        if ctx.reduction == "mean":
            grad = grad / ctx.count
        if weight is not None:
            grad = grad * weight
        flags = ctx.needs_input_grad
        grad_x = grad_t = None
        if pos_weight is None:
            if flags[0]:
                grad_x = compute(lambda g, u, v: g * (_sigmoid(u) - v), grad, x, t)
            if flags[1]:
                grad_t = compute(lambda g, u: -g * u, grad, x)
        else:
            if flags[0]:
                grad_x = compute(lambda g, u, v, w: g * ((w * v + 1 - v) * _sigmoid(u) - w * v),
                                 grad, x, t, pos_weight)
            if flags[1]:
                grad_t = compute(lambda g, u, w: g * (w * _softplus(-u) - _softplus(u)),
                                 grad, x, pos_weight)
        shape = ctx.shape
        if grad_x is not None:
            grad_x = _expand_to(grad_x, shape)
            grad_x = grad_x if grad_x.dtype == x.dtype else grad_x.to(x.dtype)
        if grad_t is not None:
            grad_t = _expand_to(grad_t, shape)
            grad_t = grad_t if grad_t.dtype == t.dtype else grad_t.to(t.dtype)
        return grad_x, grad_t, None, None, None


def _expand_to(grad, shape):
    return grad if grad.shape == shape else grad.expand(shape).contiguous()


def _sigmoid(v):
    return v.sigmoid() if isinstance(v, Tensor) else array_sigmoid(v)


def _softplus(v):
    if isinstance(v, Tensor):
        from .nn_activation import softplus

        return softplus(v)
    return array_softplus(v)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None,
                                     reduce=None, reduction="mean", pos_weight=None):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    _not_differentiable("binary_cross_entropy_with_logits", "weight", weight)
    _not_differentiable("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    arrays = []
    for extra in (weight, pos_weight):
        arrays.append(None if extra is None else B.get_array_module(extra._data).broadcast_to(
            extra._data, np.broadcast_shapes(input._data.shape, extra._data.shape)))
    return BinaryCrossEntropyWithLogits.apply(input, target, *arrays, reduction)


# ---------------------------------------------------------------- composite losses


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    import warnings

    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce, "mean")
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    elif reduction != "batchmean":
        check_reduction(reduction)
    return kl_div_unwarned(input, target, reduction, log_target)


def kl_div_unwarned(input, target, reduction, log_target):
    if log_target:
        losses = target.exp() * (target - input)
    else:
        losses = target.xlogy(target) - target * input
    if reduction == "batchmean":
        total = losses.sum()
        return total / input.shape[0] if input.dim() else total
    return reduce_loss(losses, reduction)


def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.dim() != input2.dim() or input1.dim() != target.dim():
        raise RuntimeError(f"margin_ranking_loss : All input tensors should have same dimension "
                           f"but got sizes: input1: {input1.shape}, input2: {input2.shape}, "
                           f"target: {target.shape} ")
    return reduce_loss((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    zeros = input.new_zeros(())
    margin_clamp = (margin - input).clamp_min(0)
    output_margin = where(target != 1, margin_clamp, zeros)
    output_self = where(target != -1, input, zeros)
    return reduce_loss(output_margin + output_self, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    tdim = target.dim()
    if tdim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if tdim == 1 and (input1.dim() != 2 or input2.dim() != 2):
        raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    if tdim == 0 and (input1.dim() != 1 or input2.dim() != 1):
        raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with "
                           f"sizes {list(input1.shape)} and {list(input2.shape)}.")
    eps = 1e-12
    dim = tdim
    products = (input1 * input2).sum(dim)
    squares1 = (input1 * input1).sum(dim) + eps
    squares2 = (input2 * input2).sum(dim) + eps
    cos = products / (squares1 * squares2).sqrt()
    zeros = cos.new_zeros(())
    positive = where(target == 1, 1 - cos, zeros)
    negative = where(target == -1, (cos - margin).clamp_min(0), zeros)
    return reduce_loss(positive + negative, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    return triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps, swap,
                                         reduction)


def triplet_margin_loss_unchecked(anchor, positive, negative, margin, p, eps, swap, reduction):
    from .nn_layers import pairwise_distance

    dims = (anchor.dim(), positive.dim(), negative.dim())
    if len(set(dims)) != 1:
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the "
                           f"same number of dimensions, but got: anchor {dims[0]}D, positive "
                           f"{dims[1]}D, and negative {dims[2]}D inputs")
    positive_distance = pairwise_distance(anchor, positive, p, eps)
    negative_distance = pairwise_distance(anchor, negative, p, eps)
    if swap:
        negative_distance = negative_distance.minimum(pairwise_distance(positive, negative, p,
                                                                        eps))
    return reduce_loss((margin + positive_distance - negative_distance).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    from .nn_activation import logsigmoid

    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return reduce_loss(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + " is not valid")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


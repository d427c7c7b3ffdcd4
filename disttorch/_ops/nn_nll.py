"""nll_loss and cross_entropy: one fused primitive for class-index targets.

cross_entropy with class indices is log_softmax and nll_loss in one op (weights, ignore_index
and label smoothing included): the forward computes the log-probabilities once, the backward
is softmax * sum(a) - a for the per-class coefficients a of the loss. With create_graph the
backward is written in Tensor ops (softmax of the saved input), so it differentiates again.
Probability targets are a composition of log_softmax and Tensor ops, as in torch.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import _legacy_name, quiet
from ._nn_util import legacy_reduction
from .elementwise import Div
from .nn_softmax import _log_softmax, _run, log_softmax

__all__ = []
FUNCTIONAL = ["nll_loss", "cross_entropy"]


def _check_targets(input, target, weight):
    """torch's checks of nll_loss_nd; returns the number of classes."""
    ndim = input._data.ndim
    if ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {ndim})")
    shape, tshape = input._data.shape, target._data.shape
    if ndim != 1 and (not tshape or shape[0] != tshape[0]):
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({tshape[0] if tshape else 1}).")
    if ndim <= 2:
        if len(tshape) > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    elif tshape != shape[:1] + shape[2:]:
        raise RuntimeError(f"Expected target size {list(shape[:1] + shape[2:])}, got "
                           f"{list(tshape)}")
    tdtype = target._data.dtype
    if tdtype != np.int64 and tdtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got "
                           f"{_legacy_name(target.dtype)}")
    classes = shape[0] if ndim == 1 else shape[1]
    if weight is not None:
        if weight._data.size != classes:
            raise RuntimeError(f"weight tensor should be defined either for all {classes} "
                               f"classes or no classes but got weight tensor of shape: "
                               f"{list(weight._data.shape)}")
        if weight._requires_grad and state.enabled:
            raise RuntimeError("The function 'nll_loss_forward' is not differentiable with "
                               "respect to argument 'weight'. This input cannot have "
                               "requires_grad True.")
    return classes


def _safe_targets(t, classes, ignore_index):
    """Targets with ignored entries replaced by 0, and the mask of kept entries (None when
    every entry is kept); raises torch's error for a target outside [0, classes)."""
    xp = B.get_array_module(t)
    valid = t != ignore_index
    if valid.all():
        safe, valid = t, None
    else:
        safe = xp.where(valid, t, 0)
    if safe.size and (safe.min() < 0 or safe.max() >= classes):
        bad = safe[(safe < 0) | (safe >= classes)].reshape(-1)[0]
        raise IndexError(f"Target {int(bad)} is out of bounds.")
    return safe.astype(np.int64, copy=False), valid


def _pick(values, t):
    """values[n, t[n], ...]: the entry of each target along the class dim."""
    if values.ndim == 2:
        return values[B.get_array_module(t).arange(t.shape[0]), t]
    return B.get_array_module(t).take_along_axis(values, t[:, None], axis=1)[:, 0]


def _class_weights(w, ndim):
    """The class weights shaped to broadcast along dim 1 of an ndim-D input."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


class NllLoss(Op):
    """-sum_c a[n, c] * logp[n, c], reduced: a is the (weighted, smoothed) one-hot target.
    fused=True takes logits and applies log_softmax first (cross_entropy)."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index, smoothing, fused):
        d = x._data
        if fused and d.dtype.kind not in "fV":
            from ._nn_util import not_implemented

            not_implemented("log_softmax_lastdim_kernel_impl" if d.ndim <= 2 else
                            "log_softmax_kernel_impl", x.dtype)
        unbatched = d.ndim == 1
        if unbatched:
            d, target = d[None], target.reshape(1)
        classes = d.shape[1]
        t, valid = _safe_targets(target, classes, ignore_index)
        logp = _run(_log_softmax, d, 1) if fused else d
        quiet()
        dtype = d.dtype
        w = None if weight is None else weight.reshape(-1).astype(dtype, copy=False)
        target_weight = None if w is None else w[t]
        if valid is not None:
            target_weight = valid.astype(dtype) if w is None else target_weight * valid
        picked = _pick(logp, t)
        losses = -picked if target_weight is None else -(picked * target_weight)
        if smoothing:
            losses *= dtype.type(1 - smoothing)
            spread = logp.sum(axis=1) if w is None else \
                (logp * _class_weights(w, d.ndim)).sum(axis=1)
            if valid is not None:
                spread *= valid
            losses -= dtype.type(smoothing / classes) * spread
        scale = None
        if reduction == "none":
            out = losses
        elif reduction == "sum":
            out = losses.sum()
        else:
            scale = t.size if target_weight is None else target_weight.sum()
            out = losses.sum() / dtype.type(scale) if scale else losses.sum() * np.nan
        if ctx.needs_input_grad:
            ctx.targets = (t, valid, w, target_weight, classes, smoothing)
            ctx.scale, ctx.reduction = scale, reduction
            ctx.unbatched, ctx.fused = unbatched, fused
            if fused:
                ctx.save_for_backward(x)
                ctx.logp = logp
        if unbatched and reduction == "none":
            out = out.reshape(())
        return B.get_array_module(d).asarray(out, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        reduction = ctx.reduction
        if state.enabled:
            return _graph_backward(ctx, grad), None, None, None, None, None, None
        g = grad._data
        if reduction == "none":
            g = g.reshape((-1, 1) + g.shape[1:] if not ctx.unbatched else (1, 1))
        elif reduction == "mean":
            g = g / ctx.scale if ctx.scale else g * 0
        t, valid, w, target_weight, classes, smoothing = ctx.targets
        if ctx.fused and not smoothing and t.ndim == 1:  # the common case, without a's array
            out = np.exp(ctx.logp)
            if target_weight is not None:
                out *= target_weight[:, None]
            rows = B.get_array_module(t).arange(t.shape[0])
            out[rows, t] -= 1 if target_weight is None else target_weight
            out *= g
        else:
            coef = _coefficients(ctx.targets, g.dtype)
            if ctx.fused:
                out = np.exp(ctx.logp) * coef.sum(axis=1, keepdims=True)
                out -= coef
                out *= g
            else:
                out = coef * -g
        if ctx.unbatched:
            out = out.reshape(-1)
        return Tensor._wrap(out.astype(grad._data.dtype, copy=False)), *(None,) * 6


def _coefficients(targets, dtype):
    """a[n, c], the coefficient of logp[n, c] in the loss (class dim 1)."""
    t, valid, w, target_weight, classes, smoothing = targets
    xp = B.get_array_module(t)
    coef = xp.zeros((t.shape[0], classes) + t.shape[1:], dtype=dtype)
    hit = xp.ones(t.shape, dtype=dtype) if target_weight is None else target_weight
    xp.put_along_axis(coef, t[:, None], ((1 - smoothing) * hit)[:, None], axis=1)
    if smoothing:
        spread = (smoothing / classes) * (xp.ones(classes, dtype=dtype) if w is None else w)
        spread = _class_weights(spread, coef.ndim)
        coef += spread if valid is None else spread * valid[:, None]
    return coef


def _graph_backward(ctx, grad):
    """The same gradient in Tensor ops (create_graph=True)."""
    coef = Tensor._wrap(_coefficients(ctx.targets, grad._data.dtype))
    if ctx.reduction == "none":
        g = grad.reshape((1, 1)) if ctx.unbatched else grad.unsqueeze(1)
    elif ctx.reduction == "mean" and ctx.scale:
        xp = B.get_array_module(grad._data)
        g = grad / Tensor._wrap(xp.asarray(ctx.scale, dtype=grad._data.dtype))
    elif ctx.reduction == "mean":
        g = grad * 0
    else:
        g = grad
    if ctx.fused:
        (x,) = ctx.saved_tensors
        logits = x.reshape(1, -1) if ctx.unbatched else x
        out = (logits.softmax(1) * coef.sum(1, keepdim=True) - coef) * g
    else:
        out = -coef * g
    return out.reshape(-1) if ctx.unbatched else out


def _node(fused, smoothing, ndim):
    if fused and smoothing:
        return _NODES["AddBackward0"]
    return _NODES["NllLoss2DBackward0" if ndim > 2 else "NllLossBackward0"]


_NODES = {name: type(NllLoss)(name[:-len("Backward0")], (NllLoss,), {"node_name": name})
          for name in ("NllLoss2DBackward0", "AddBackward0")}
_NODES["NllLossBackward0"] = NllLoss


def _class_loss(input, target, weight, reduction, ignore_index, smoothing, fused):
    _check_targets(input, target, weight)
    ndim = input._data.ndim
    op = _node(fused, smoothing, ndim)
    out = op.apply(input, target._data, None if weight is None else weight._data, reduction,
                   ignore_index, smoothing, fused)
    if reduction == "none" and (ndim == 3 or ndim > 4) and not smoothing:
        out = out.view(out.shape)  # torch runs these through a 4-D view: ViewBackward0
    return out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    reduction = legacy_reduction(size_average, reduce, reduction)
    return _class_loss(input, target, weight, reduction, ignore_index, 0.0, False)


def _probability_loss(input, target, weight, reduction, ignore_index, smoothing):
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    if not target.dtype.is_floating_point:
        raise RuntimeError(f"Expected floating point type for target with class probabilities, "
                           f"got {_legacy_name(target.dtype)}")
    class_dim = 0 if input.dim() == 1 else 1
    classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / classes
    products = logp * target
    if weight is not None:
        shape = [1] * input.dim()
        shape[class_dim] = classes
        products = products * weight.view(shape)
    if reduction == "none":
        return -products.sum(class_dim)
    total = -products.sum()
    if reduction == "sum":
        return total
    if input.numel() == 0:
        return total * math.nan
    return _DivScalar.apply(total, input.numel() // classes)


class _DivScalar(Div):
    """Division by a Python number, under torch's node name for that overload."""

    node_name = "DivBackward1"


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    reduction = legacy_reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: "
                           f"{label_smoothing:g}")
    if input._data.shape == target._data.shape and input._data.ndim:
        return _probability_loss(input, target, weight, reduction, ignore_index,
                                 label_smoothing)
    return _class_loss(input, target, weight, reduction, ignore_index, label_smoothing, True)

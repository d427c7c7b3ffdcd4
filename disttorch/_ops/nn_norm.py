"""batch_norm and instance_norm, and the nn family's exports of every normalization and
attention function (layer/group/rms/local-response norms live in nn_layer_norm.py, attention
in nn_attention.py).

Batch norm views an (N, C, *) input as (N, C, L) and is one primitive,
NativeBatchNormBackward0, built from pieces that SyncBatchNorm reuses unchanged:

    forward   channel_sums(x) -> (sum, sum of squares, count) per channel     [all-reduced]
              stats_from_sums(...) -> mean, biased variance, invstd
              normalize_channels(x, mean, invstd, weight, bias)
              update_running_stats(running_mean, running_var, mean, var, count, momentum)
    backward  backward_channel_sums(dy, x, mean) -> (sum_dy, sum_dy_xmu)     [all-reduced]
              backward_elementwise(dy, x, mean, invstd, weight, sum_dy, sum_dy_xmu, count)

`BatchNorm.apply(..., all_reduce)` takes the hook that sums a float64 vector over processes
(None in one process): it is applied to the packed forward sums and to the packed backward
sums, while the weight and bias gradients stay local (DDP averages those). Per-channel
statistics are float64 vectors, so combining them loses nothing to cancellation.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Size, Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from . import nn_attention, nn_layer_norm
from ._common import wrap_dim
from ._nn_util import not_implemented
from .nn_attention import (  # noqa: F401 - nn.functional's, listed in FUNCTIONAL
    _canonical_mask,
    _in_projection,
    _in_projection_packed,
    _mha_shape_check,
    _none_or_dtype,
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
from .nn_layer_norm import group_norm, layer_norm, local_response_norm, rms_norm  # noqa: F401

__all__ = ["layer_norm", "group_norm", "rms_norm"]
FUNCTIONAL = ["batch_norm", "instance_norm", *nn_layer_norm.FUNCTIONAL,
              *nn_attention.FUNCTIONAL]


# ---------------------------------------------------------------- per-channel pieces


def _ncl(d):
    """An (N, C, *) array as (N, C, L): a view when the layout allows."""
    return d.reshape(d.shape[0], d.shape[1], math.prod(d.shape[2:]))


def _channel_sum(a):
    """Per-channel sum of an (N, C, L) array over N and L."""
    if a.shape[2] == 1:
        return a[:, :, 0].sum(0)
    ones = B.get_array_module(a).ones(a.shape[2], dtype=a.dtype)
    return (a @ ones).sum(0)


def _channel_dot(a, b):
    """Per-channel sum of a * b over N and L of (N, C, L) arrays: N*C dot products in BLAS."""
    if a.shape[2] == 1:
        return (a[:, :, 0] * b[:, :, 0]).sum(0)
    return (a[:, :, None, :] @ b[:, :, :, None]).sum(0).reshape(a.shape[1])


def _per_channel(values, like):
    """A per-channel float64 vector as a (C, 1) array of the data's dtype."""
    return values.astype(like.dtype, copy=False)[:, None]


def channel_sums(x):
    """(sum, sum of squares, count) of an (N, C, *) array per channel, as float64 vectors
    and an int. The squares are summed about the batch's own mean (no cancellation)."""
    a = _ncl(x)
    count = a.shape[0] * a.shape[2]
    total = _channel_sum(a)
    shift = (total / count).astype(a.dtype)
    centered = a - shift[:, None]
    squares = _channel_dot(centered, centered).astype(np.float64)
    total = total.astype(np.float64)
    shift = shift.astype(np.float64)
    # sum(x^2) = sum((x - s)^2) + s * (2 * sum(x) - count * s), exactly
    return total, squares + shift * (2 * total - count * shift), count


def stats_from_sums(total, total_sq, count, eps):
    """(mean, biased variance, 1 / sqrt(variance + eps)) from channel_sums' totals."""
    mean = total / count
    var = np.maximum(total_sq / count - mean * mean, 0.0)
    return mean, var, 1.0 / np.sqrt(var + eps)


def normalize_channels(x, mean, invstd, weight=None, bias=None):
    """(x - mean) * invstd * weight + bias per channel of an (N, C, *) array."""
    a = _ncl(x)
    scale = invstd if weight is None else invstd * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    out = a * _per_channel(scale, a)
    out += _per_channel(shift, a)
    return out.reshape(x.shape)


def update_running_stats(running_mean, running_var, mean, var, count, momentum):
    """Blend the batch statistics into the running arrays in place (unbiased variance)."""
    if running_mean is not None:
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean
    if running_var is not None:
        unbiased = var * (count / (count - 1)) if count > 1 else var
        running_var[...] = (1 - momentum) * running_var + momentum * unbiased


def backward_channel_sums(dy, x, mean):
    """(sum of dy, sum of dy * (x - mean)) per channel, as float64 vectors."""
    g, a = _ncl(dy), _ncl(x)
    centered = a - _per_channel(mean, a)
    return (_channel_sum(g).astype(np.float64),
            _channel_dot(g, centered).astype(np.float64))


def backward_elementwise(dy, x, mean, invstd, weight, sum_dy, sum_dy_xmu, count):
    """The input gradient of training-mode batch norm from the (global) channel sums."""
    g, a = _ncl(dy), _ncl(x)
    scale = invstd if weight is None else invstd * weight
    x_coef = -scale * invstd * invstd * sum_dy_xmu / count
    constant = -scale * sum_dy / count - mean * x_coef
    out = g * _per_channel(scale, g)
    out += a * _per_channel(x_coef, a)
    out += _per_channel(constant, g)
    return out.reshape(dy.shape)


def _pack_sums(*vectors):
    """Per-channel vectors (and counts) as one float64 vector, for one all-reduce."""
    xp = B.get_array_module(vectors[0])
    return xp.concatenate([xp.asarray(v, dtype=np.float64).reshape(-1) for v in vectors])


# ---------------------------------------------------------------- the primitive


def _compute_array(d):
    # half-precision inputs are normalised in float32, as torch's kernels do
    return d.astype(np.float32) if d.dtype.itemsize == 2 else d


def _vector(t):
    return None if t is None else t._data.astype(np.float64)


class BatchNorm(Op):
    """Batch norm of an (N, C, *) input; training mode normalises with the batch statistics
    and updates the running arrays in place, eval mode uses the running statistics."""

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps,
                all_reduce):
        d = x._data
        a = _compute_array(d)
        w, b = _vector(weight), _vector(bias)
        if training:
            if a.size:
                total, total_sq, count = channel_sums(a)
            else:
                total = total_sq = B.get_array_module(a).zeros(a.shape[1])
                count = 0
            if all_reduce is not None:
                reduced = all_reduce(_pack_sums(total, total_sq, count))
                channels = total.shape[0]
                total, total_sq = reduced[:channels], reduced[channels:2 * channels]
                count = int(round(float(reduced[-1])))
            if count == 0:
                mean = invstd = None
            else:
                mean, var, invstd = stats_from_sums(total, total_sq, count, eps)
                update_running_stats(None if running_mean is None else running_mean._data,
                                     None if running_var is None else running_var._data,
                                     mean, var, count, momentum)
        else:
            mean = running_mean._data.astype(np.float64)
            invstd = 1.0 / np.sqrt(running_var._data.astype(np.float64) + eps)
            count = 0
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.stats = (mean, invstd, count, eps, training, all_reduce)
            ctx.bias_dtype = None if bias is None else bias._data.dtype
        if mean is None:
            return d.copy()
        out = normalize_channels(a, mean, invstd, w, b)
        return out if out.dtype == d.dtype else out.astype(d.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        mean, invstd, count, eps, training, all_reduce = ctx.stats
        flags = ctx.needs_input_grad
        if count == 0 and training:
            return _empty_batch_grads(grad, weight, ctx.bias_dtype, flags)
        if state.enabled:
            if all_reduce is not None:
                raise RuntimeError("double backward through SyncBatchNorm is not supported")
            return _tensor_backward(grad, x, weight, ctx.bias_dtype, flags, mean, invstd, eps,
                                    training)
        g = _compute_array(grad._data)
        a = _compute_array(x._data)
        w = _vector(weight)
        grad_w = grad_b = grad_x = None
        if training or flags[1] or flags[2]:
            sum_dy, sum_dy_xmu = backward_channel_sums(g, a, mean)
            if flags[1]:
                grad_w = Tensor._wrap((sum_dy_xmu * invstd).astype(weight._data.dtype))
            if flags[2]:
                grad_b = Tensor._wrap(sum_dy.astype(ctx.bias_dtype))
        if training:
            if all_reduce is not None:
                channels = sum_dy.shape[0]
                reduced = all_reduce(_pack_sums(sum_dy, sum_dy_xmu))
                sum_dy, sum_dy_xmu = reduced[:channels], reduced[channels:]
            if flags[0]:
                grad_x = backward_elementwise(g, a, mean, invstd, w, sum_dy, sum_dy_xmu, count)
        elif flags[0]:
            scale = invstd if w is None else invstd * w
            grad_x = (_ncl(g) * _per_channel(scale, g)).reshape(g.shape)
        if grad_x is not None:
            grad_x = Tensor._wrap(grad_x.astype(x._data.dtype, copy=False))
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def _empty_batch_grads(grad, weight, bias_dtype, flags):
    channels = grad.shape[1]
    grad_w = weight.new_zeros(weight.shape) if flags[1] else None
    grad_b = Tensor._wrap(B.get_array_module(grad._data).zeros(channels, dtype=bias_dtype)) if (
        flags[2]) else None
    return (grad.new_zeros(grad.shape) if flags[0] else None, grad_w, grad_b,
            None, None, None, None, None, None)


def _tensor_backward(grad, x, weight, bias_dtype, flags, mean, invstd, eps, training):
    """The same gradients in Tensor ops, so that create_graph differentiates them again."""
    shape = (1, x.shape[1]) + (1,) * (x.dim() - 2)
    axes = [0] + list(range(2, x.dim()))
    if training:
        centered = x - x.mean(axes, keepdim=True)
        inv = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    else:
        centered = x - Tensor._wrap(mean.astype(x._data.dtype).reshape(shape))
        inv = Tensor._wrap(invstd.astype(x._data.dtype).reshape(shape))
    normalized = centered * inv
    grad_x = grad_w = grad_b = None
    if flags[0]:
        g = grad if weight is None else grad * weight.reshape(shape)
        if training:
            g = g - g.mean(axes, keepdim=True) - normalized * (g * normalized).mean(
                axes, keepdim=True)
        grad_x = (g * inv).to(x.dtype)
    if flags[1]:
        grad_w = (grad * normalized).sum(axes).to(weight.dtype)
    if flags[2]:
        grad_b = grad.sum(axes).to(B._FROM_NP[bias_dtype])
    return grad_x, grad_w, grad_b, None, None, None, None, None, None


# ---------------------------------------------------------------- functional


def _verify_batch_size(size):
    count = size[0]
    for extent in size[2:]:
        count *= extent
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")


def _check_channels(name, t, channels):
    if t is not None and t._data.size != channels:
        raise RuntimeError(f"{name} should contain {channels} elements not {t._data.size}")


def _check_dtypes(x, tensors):
    dtype = x._data.dtype
    others = [t._data.dtype for t in tensors if t is not None]
    if dtype.itemsize == 2:
        if all(o == dtype for o in others) or all(o == np.float32 for o in others):
            return
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
    if any(o != dtype for o in others):
        if dtype == np.float32:
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of "
                               "Float")
        raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def check_batch_norm_args(input, running_mean, running_var, weight, bias, training, eps):
    """torch's argument checks of batch norm, in torch's order (SyncBatchNorm shares them)."""
    if training:
        _verify_batch_size(input.size())
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    d = input._data
    channels = d.shape[wrap_dim(1, d.ndim)]
    if not training:
        if running_mean is None:
            raise RuntimeError("running_mean must be defined in evaluation mode")
        if running_var is None:
            raise RuntimeError("running_var must be defined in evaluation mode")
    elif (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither "
                         "be None")
    _check_channels("running_mean", running_mean, channels)
    _check_channels("running_var", running_var, channels)
    _check_channels("weight", weight, channels)
    _check_channels("bias", bias, channels)
    if d.dtype.kind not in "fV":
        not_implemented("batch_norm", input.dtype)
    _check_dtypes(input, (weight, bias, running_mean, running_var))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    check_batch_norm_args(input, running_mean, running_var, weight, bias, training, eps)
    return BatchNorm.apply(input, weight, bias, running_mean, running_var, bool(training),
                           momentum, eps, None)


def _verify_spatial_size(size):
    count = 1
    for extent in size[2:]:
        count *= extent
    if count == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {size}")


def _repeat(t, times):
    return None if t is None else t.repeat(times)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Batch norm of the (1, N*C, *) view: each sample's channels are normalised alone;
    running statistics (when given) take the mean of the per-sample updates."""
    if use_input_stats:
        _verify_spatial_size(input.size())
    shape = input._data.shape
    n, c = shape[0], shape[1]
    folded = input.reshape((1, n * c) + shape[2:])
    stats_mean, stats_var = _repeat(running_mean, n), _repeat(running_var, n)
    out = batch_norm(folded, stats_mean, stats_var, _repeat(weight, n), _repeat(bias, n),
                     use_input_stats, momentum, eps)
    for running, stats in ((running_mean, stats_mean), (running_var, stats_var)):
        if running is not None and use_input_stats:
            running._data[...] = stats._data.reshape(n, c).mean(0)
    return out.view(Size(shape))

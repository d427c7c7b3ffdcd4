"""scaled_dot_product_attention and multi_head_attention_forward.

Attention over 4-D (batch, heads, length, dim) inputs of one head size with no dropout is one
primitive, as torch's CPU flash kernel is (ScaledDotProductFlashAttentionForCpuBackward0): the
forward keeps the attention probabilities, the backward runs on arrays unless it records a
graph. Every other case (3-D inputs, dropout, broadcast batch dims, a mask that requires grad)
is the composition torch's math path uses. Rows whose keys are all masked give zeros.
multi_head_attention_forward follows torch's function step by step (projections, masks,
bias_k/bias_v, add_zero_attn, per-head attention, output projection).
"""

import math
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import _legacy_name, raise_broadcast_error
from ._elementwise_base import C_TYPE_NAMES, CPP_TYPE_NAMES

# the private helpers are in torch.nn.functional too, and code copied from torch's
# Transformer layers calls them
FUNCTIONAL = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask",
              "_none_or_dtype", "_mha_shape_check", "_in_projection_packed", "_in_projection"]


# ---------------------------------------------------------------- scaled dot product


def _causal_mask(xp, length, source_length):
    """Query i attends keys 0..i (top-left aligned, as torch's is_causal)."""
    return xp.tril(xp.ones((length, source_length), dtype=bool))


def _scores_array(q, k, mask, causal, scale):
    scores = q @ k.swapaxes(-1, -2)
    scores *= scale
    xp = B.get_array_module(scores)
    try:
        if mask is not None:
            if mask.dtype == np.bool_:
                scores = xp.where(mask, scores, -np.inf)
            else:
                scores = scores + mask.astype(scores.dtype, copy=False)
    except ValueError:
        raise_broadcast_error(scores.shape, mask.shape)
    if causal:
        scores = xp.where(_causal_mask(xp, *scores.shape[-2:]), scores, -np.inf)
    return scores


def _safe_softmax_array(scores, masked):
    """Softmax along the last axis, in place; with a mask, rows with every score -inf give
    zeros."""
    xp = B.get_array_module(scores)
    peak = scores.max(-1, keepdims=True)
    if masked:
        peak = xp.where(xp.isneginf(peak), 0, peak)
    scores -= peak
    np.exp(scores, out=scores)
    total = scores.sum(-1, keepdims=True)
    if masked:
        total = xp.where(total == 0, 1, total)
    scores /= total
    return scores


def _repeat_heads_array(a, groups):
    return a if groups == 1 else a.repeat(groups, axis=-3)


def _sum_head_groups(a, groups):
    if groups == 1:
        return a
    shape = a.shape
    return a.reshape(shape[:-3] + (shape[-3] // groups, groups) + shape[-2:]).sum(-3)


def _compute(d):
    return d.astype(np.float32) if d.dtype.itemsize == 2 else d


class FlashAttention(Op):
    """softmax(q @ k^T * scale + mask) @ v for 4-D inputs of one head size."""

    node_name = "ScaledDotProductFlashAttentionForCpuBackward0"

    @staticmethod
    def forward(ctx, q, k, v, mask, causal, scale, groups):
        qd = _compute(q._data)
        kd = _repeat_heads_array(_compute(k._data), groups)
        vd = _repeat_heads_array(_compute(v._data), groups)
        scores = _scores_array(qd, kd, mask, causal, scale)
        probs = _safe_softmax_array(scores, mask is not None or causal)
        if ctx.needs_input_grad:
            ctx.save_for_backward(q, k, v)
            ctx.attention = (probs, mask, causal, scale, groups)
        out = probs @ vd
        return out if out.dtype == q._data.dtype else out.astype(q._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        q, k, v = ctx.saved_tensors
        probs, mask, causal, scale, groups = ctx.attention
        if state.enabled:
            mask_t = None if mask is None else Tensor._wrap(mask)
            return _tensor_backward(grad, q, k, v, mask_t, causal, scale, groups)
        flags = ctx.needs_input_grad
        g = _compute(grad._data)
        vd = _repeat_heads_array(_compute(v._data), groups)
        grad_q = grad_k = grad_v = None
        if flags[2]:
            grad_v = _sum_head_groups(probs.swapaxes(-1, -2) @ g, groups)
        if flags[0] or flags[1]:
            dprobs = g @ vd.swapaxes(-1, -2)
            dscores = dprobs - (dprobs * probs).sum(-1, keepdims=True)
            dscores *= probs
            dscores *= scale
            if flags[0]:
                grad_q = dscores @ _repeat_heads_array(_compute(k._data), groups)
            if flags[1]:
                grad_k = _sum_head_groups(dscores.swapaxes(-1, -2) @ _compute(q._data), groups)
        return (_wrap_like(grad_q, q), _wrap_like(grad_k, k), _wrap_like(grad_v, v),
                None, None, None, None)


def _wrap_like(a, like):
    if a is None:
        return None
    return Tensor._wrap(a.astype(like._data.dtype, copy=False))


def _repeat_heads(t, groups):
    if groups == 1:
        return t
    shape = tuple(t.shape)
    expanded = t.unsqueeze(-3).expand(shape[:-2] + (groups,) + shape[-2:])
    return expanded.reshape(shape[:-3] + (shape[-3] * groups,) + shape[-2:])


def _probabilities(q, k, mask, causal, scale, groups):
    """The attention probabilities in Tensor ops (torch's math path, with safe softmax)."""
    from .compare import where

    scores = q.matmul(_repeat_heads(k, groups).transpose(-2, -1)) * scale
    if mask is not None:
        if mask.dtype is B.bool_:
            scores = scores.masked_fill(mask.logical_not(), -math.inf)
        else:
            scores = scores + mask
    if causal:
        xp = B.get_array_module(q._data)
        allowed = Tensor._wrap(_causal_mask(xp, *scores.shape[-2:]))
        scores = scores.masked_fill(allowed.logical_not(), -math.inf)
    probs = scores.softmax(-1)
    fully_masked = (scores == -math.inf).all(-1, keepdim=True)
    return where(fully_masked, 0.0, probs)


def _tensor_backward(grad, q, k, v, mask, causal, scale, groups):
    flags = (q.requires_grad, k.requires_grad, v.requires_grad)
    probs = _probabilities(q, k, mask, causal, scale, groups)
    grad_q = grad_k = grad_v = None
    if flags[2]:
        grad_v = _sum_groups(probs.transpose(-2, -1).matmul(grad), groups)
    dprobs = grad.matmul(_repeat_heads(v, groups).transpose(-2, -1))
    dscores = probs * (dprobs - (dprobs * probs).sum(-1, keepdim=True)) * scale
    if flags[0]:
        grad_q = dscores.matmul(_repeat_heads(k, groups))
    if flags[1]:
        grad_k = _sum_groups(dscores.transpose(-2, -1).matmul(q), groups)
    return grad_q, grad_k, grad_v, None, None, None, None


def _sum_groups(t, groups):
    if groups == 1:
        return t
    shape = tuple(t.shape)
    return t.reshape(shape[:-3] + (shape[-3] // groups, groups) + shape[-2:]).sum(-3)


def _check_attention_args(query, key, value, attn_mask, enable_gqa):
    """torch's argument checks; returns how many query heads share one key/value head."""
    qd, kd, vd = query._data, key._data, value._data
    if min(qd.ndim, kd.ndim, vd.ndim) < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, "
                           f"but got query.dim: {qd.ndim} key.dim: {kd.ndim} and value.dim: "
                           f"{vd.ndim} instead.")
    if not qd.dtype == kd.dtype == vd.dtype:
        names = [C_TYPE_NAMES[t.dtype.name] for t in (query, key, value)]
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {names[0]} key.dtype: {names[1]} and value.dtype: "
                           f"{names[2]} instead.")
    if attn_mask is not None and attn_mask._data.dtype != np.bool_ and (
            attn_mask._data.dtype != qd.dtype):
        raise RuntimeError(
            f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {CPP_TYPE_NAMES.get(attn_mask.dtype.name)} and  query.dtype: "
            f"{C_TYPE_NAMES.get(query.dtype.name)} instead.")
    if qd.dtype.kind not in "fV":
        raise RuntimeError(f"expected scalar type Float but found {_legacy_name(query.dtype)}")
    if not enable_gqa or qd.ndim < 3:
        return 1
    heads, kv_heads = qd.shape[-3], kd.shape[-3]
    if kv_heads == 0 or heads % kv_heads or heads % vd.shape[-3]:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    return heads // kv_heads


def _flash_eligible(query, key, value, attn_mask, dropout_p, groups):
    """Whether torch's CPU flash kernel takes these inputs (otherwise its math path does)."""
    qs, ks, vs = query._data.shape, key._data.shape, value._data.shape
    if len(qs) != 4 or dropout_p > 0.0 or not query._data.size or not key._data.size:
        return False
    if attn_mask is not None and attn_mask._requires_grad:
        return False
    if not (qs[-1] == ks[-1] == vs[-1] and ks == vs and qs[0] == ks[0]):
        return False
    return qs[1] == ks[1] * groups


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    groups = _check_attention_args(query, key, value, attn_mask, enable_gqa)
    if scale is None:
        size = query._data.shape[-1]
        scale = 1.0 / math.sqrt(size) if size else math.inf
    if _flash_eligible(query, key, value, attn_mask, dropout_p, groups):
        mask = None if attn_mask is None else attn_mask._data
        return FlashAttention.apply(query, key, value, mask, bool(is_causal), scale, groups)
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    upcast = query._data.dtype.itemsize == 2
    q, k, v = (t.float() for t in (query, key, value)) if upcast else (query, key, value)
    if attn_mask is not None and upcast and attn_mask.dtype is not B.bool_:
        attn_mask = attn_mask.float()
    probs = _probabilities(q, k, attn_mask, is_causal, scale, groups)
    if dropout_p > 0.0:
        from .nn_layers import dropout

        probs = dropout(probs, dropout_p, True)
    out = probs.matmul(_repeat_heads(v, groups))
    return out.to(query.dtype) if upcast else out


# ---------------------------------------------------------------- multi-head attention


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched; torch's AssertionErrors for inconsistent dims."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.dim()}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as an additive float mask (-inf where True); float masks pass through."""
    if mask is None:
        return None
    is_float = mask.is_floating_point()
    if mask.dtype is not B.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      "same type for both instead.", stacklevel=2)
    if is_float:
        return mask
    from .creation import zeros_like

    return zeros_like(mask, dtype=target_type).masked_fill_(mask, -math.inf)


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _in_projection_packed(q, k, v, w, b=None):
    """The q, k, v projections with one packed (3E, E) weight."""
    from .nn_layers import linear

    embed = q.shape[-1]
    if k is v:
        if q is k:
            proj = linear(q, w, b).unflatten(-1, (3, embed)).unsqueeze(0).transpose(
                0, -2).squeeze(-2).contiguous()
            return proj[0], proj[1], proj[2]
        w_q, w_kv = w.split([embed, embed * 2])
        b_q, b_kv = (None, None) if b is None else b.split([embed, embed * 2])
        kv = linear(k, w_kv, b_kv).unflatten(-1, (2, embed)).unsqueeze(0).transpose(
            0, -2).squeeze(-2).contiguous()
        return linear(q, w_q, b_q), kv[0], kv[1]
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    """The q, k, v projections with separate weights (kdim/vdim differ from embed_dim)."""
    from .nn_layers import linear

    eq, ek, ev = q.shape[-1], k.shape[-1], v.shape[-1]
    for name, t, expected in (("query weights", w_q, (eq, eq)), ("key weights", w_k, (eq, ek)),
                              ("value weights", w_v, (eq, ev)), ("query bias", b_q, (eq,)),
                              ("key bias", b_k, (eq,)), ("value bias", b_v, (eq,))):
        if t is not None and tuple(t.shape) != expected:
            raise AssertionError(f"expecting {name} shape of {expected}, but got {t.shape}")
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def _check_mask_shape(attn_mask, tgt_len, src_len, batch_heads):
    """A canonical attn_mask as (1 or batch*heads, tgt_len, src_len)."""
    if attn_mask.dim() == 2:
        if tuple(attn_mask.shape) != (tgt_len, src_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should "
                               f"be {(tgt_len, src_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if tuple(attn_mask.shape) != (batch_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(batch_heads, tgt_len, src_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _heads(t, length, batch_heads, head_dim, static, name):
    """(length, batch, embed) as (batch*heads, length, head_dim), or the static keys/values."""
    if static is None:
        return t.view(length, batch_heads, head_dim).transpose(0, 1)
    if static.size(0) != batch_heads:
        raise AssertionError(f"expecting {name}.size(0) of {batch_heads}, but got "
                             f"{static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got "
                             f"{static.size(2)}")
    return static


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    from .creation import zeros
    from .join import cat
    from .nn_layers import dropout, linear
    from .nn_pad import pad

    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the causal hint replaces the mask in scaled_dot_product_attention
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     "is None")
        biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight,
                                 v_proj_weight, *biases)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    batch_heads = bsz * num_heads
    if attn_mask is not None:
        attn_mask = _check_mask_shape(attn_mask, tgt_len, src_len, batch_heads)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.view(tgt_len, batch_heads, head_dim).transpose(0, 1)
    k = _heads(k, k.shape[0], batch_heads, head_dim, static_k, "static_k")
    v = _heads(v, v.shape[0], batch_heads, head_dim, static_v, "static_v")
    if add_zero_attn:
        k = cat([k, zeros((batch_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros((batch_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        if attn_mask is not None:
            attn_mask = pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = key_padding_mask.view(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(batch_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        q_scaled = q * math.sqrt(1.0 / float(q.shape[-1]))
        weights = q_scaled.bmm(k.transpose(-2, -1))
        if attn_mask is not None:
            weights = attn_mask + weights
        weights = weights.softmax(-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = weights.bmm(v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).view(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None

"""layer_norm and group_norm (fused primitives), rms_norm and local_response_norm.

Layer and group norm both normalise the rows of a (rows, K) view of the input: layer norm's
rows are the leading dims, group norm's are (sample, group) pairs. Their affine weight
applies along a second view: (rows, K) with a (K,) weight for layer norm, (N, C, L) with a
per-channel weight for group norm. A backward that records no graph runs on the arrays;
with create_graph it is written in Tensor ops and differentiable again. rms_norm and
local_response_norm are compositions of Tensor ops, as in torch.
"""

import math

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._nn_util import not_implemented

FUNCTIONAL = ["layer_norm", "group_norm", "rms_norm", "local_response_norm"]


def _compute_array(d):
    # half-precision inputs are normalised in float32, as torch's kernels do
    return d.astype(np.float32) if d.dtype.itemsize == 2 else d


def _row_sum(a):
    """Sum of each row of a (rows, K) array, as a (rows, 1) array (BLAS gemv)."""
    return (a @ B.get_array_module(a).ones(a.shape[1], dtype=a.dtype))[:, None]


def _row_dot(a, b):
    """Sum of a * b along each row of (rows, K) arrays, as a (rows, 1) array."""
    return (a[:, None, :] @ b[:, :, None]).reshape(a.shape[0], 1)


def _weight_sums(g, normalized, weight_shape):
    """(sum of g * normalized, sum of g) over the axes the weight broadcasts along."""
    xp = B.get_array_module(g)
    if len(weight_shape) == 1:  # a (rows, K) view with a (K,) weight: column sums (gemv)
        ones = xp.ones(g.shape[0], dtype=g.dtype)
        return ones @ (g * normalized), ones @ g
    ones = xp.ones(g.shape[2], dtype=g.dtype)
    products = (g[:, :, None, :] @ normalized[:, :, :, None]).sum(0).reshape(g.shape[1])
    return products, (g @ ones).sum(0)


class _RowNorm(Op):
    """Normalise the rows of `rows_shape`; weight (shaped `weight_shape`) and bias scale and
    shift the `affine_shape` view of the result."""

    @staticmethod
    def forward(ctx, x, weight, bias, rows_shape, affine_shape, weight_shape, eps):
        d = x._data
        a = _compute_array(d).reshape(rows_shape)
        size = rows_shape[1]
        if a.size == 0:
            mean = invstd = a[:, :1]
            out = a.copy()
        else:
            mean = _row_sum(a) / size
            out = a - mean
            invstd = 1 / np.sqrt(_row_dot(out, out) / size + eps)
            out *= invstd
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.layout = (mean, invstd, rows_shape, affine_shape, weight_shape, eps)
            ctx.bias_meta = None if bias is None else (bias._data.shape, bias._data.dtype)
        if weight is not None or bias is not None:
            view = out.reshape(affine_shape)
            if weight is not None:
                view *= weight._data.reshape(weight_shape)
            if bias is not None:
                view += bias._data.reshape(weight_shape)
        out = out.reshape(d.shape)
        return out if out.dtype == d.dtype else out.astype(d.dtype)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        mean, invstd, rows_shape, affine_shape, weight_shape, eps = ctx.layout
        flags = ctx.needs_input_grad
        if state.enabled:
            return _tensor_backward(grad, x, weight, flags, ctx.layout, ctx.bias_meta)
        a = _compute_array(x._data).reshape(rows_shape)
        g = _compute_array(grad._data).reshape(affine_shape)
        grad_x = grad_w = grad_b = None
        if flags[1] or flags[2]:
            normalized = ((a - mean) * invstd).reshape(affine_shape)
            sum_w, sum_b = _weight_sums(g, normalized, weight_shape)
            if flags[1]:
                grad_w = Tensor._wrap(sum_w.reshape(weight._data.shape).astype(
                    weight._data.dtype))
            if flags[2]:
                shape, dtype = ctx.bias_meta
                grad_b = Tensor._wrap(sum_b.reshape(shape).astype(dtype))
        if flags[0]:
            if weight is not None:
                g = g * _compute_array(weight._data).reshape(weight_shape)
            g = g.reshape(rows_shape)
            # dx = g * invstd + x * x_coef + constant, per row (torch's CPU formula)
            size = rows_shape[1]
            sum_g = _row_sum(g)
            x_coef = (sum_g * mean - _row_dot(g, a)) * (invstd * invstd * invstd / size)
            constant = -x_coef * mean - sum_g * (invstd / size)
            out = g * invstd
            out += a * x_coef
            out += constant
            grad_x = Tensor._wrap(out.reshape(x._data.shape).astype(x._data.dtype, copy=False))
        return grad_x, grad_w, grad_b, None, None, None, None


def _tensor_backward(grad, x, weight, flags, layout, bias_meta):
    """The gradients in Tensor ops, so that create_graph differentiates them again."""
    _, _, rows_shape, affine_shape, weight_shape, eps = layout
    rows = x.reshape(rows_shape)
    centered = rows - rows.mean(1, keepdim=True)
    inv = ((centered * centered).mean(1, keepdim=True) + eps).rsqrt()
    normalized = centered * inv
    g = grad.reshape(affine_shape)
    axes = [0] if len(weight_shape) == 1 else [0, 2]
    grad_x = grad_w = grad_b = None
    if flags[0]:
        scaled = g if weight is None else g * weight.reshape(weight_shape)
        scaled = scaled.reshape(rows_shape)
        scaled = scaled - scaled.mean(1, keepdim=True) - normalized * (
            scaled * normalized).mean(1, keepdim=True)
        grad_x = (scaled * inv).reshape(x.shape).to(x.dtype)
    if flags[1]:
        grad_w = (g * normalized.reshape(affine_shape)).sum(axes).reshape(weight.shape)
        if grad_w.dtype != weight.dtype:
            grad_w = grad_w.to(weight.dtype)
    if flags[2]:
        grad_b = g.sum(axes).reshape(bias_meta[0])
        if grad_b._data.dtype != bias_meta[1]:
            grad_b = grad_b.to(B._FROM_NP[bias_meta[1]])
    return grad_x, grad_w, grad_b, None, None, None, None


class LayerNorm(_RowNorm):
    node_name = "NativeLayerNormBackward0"


class GroupNorm(_RowNorm):
    node_name = "NativeGroupNormBackward0"


# ---------------------------------------------------------------- argument checks


def _normalized_shape(name, normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of "
                        f"ints, not {type(normalized_shape).__name__}")
    return tuple(int(s) for s in normalized_shape)


def _check_mixed(x, tensors):
    dtype = x._data.dtype
    for t in tensors:
        if t is None or t._data.dtype == dtype:
            continue
        if dtype.itemsize == 2 and t._data.dtype == np.float32:
            continue
        if dtype == np.float64:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
        raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")


def _check_normalized(input, shape, weight, bias, separator):
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., "
                           "containing at least one element, but got normalized_shape = []")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t._data.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but "
                               f"got {name} of shape {list(t._data.shape)} and "
                               f"normalized_shape = {list(shape)}")
    dims = input._data.shape
    if len(dims) < len(shape) or dims[len(dims) - len(shape):] != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{separator}{', '.join(str(s) for s in shape)}], but got input "
                           f"of size{list(dims)}")


# ---------------------------------------------------------------- functional


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    shape = _normalized_shape("layer_norm", normalized_shape)
    _check_normalized(input, shape, weight, bias, ", ")
    if input._data.dtype.kind not in "fV":
        not_implemented("LayerNormKernelImpl", input.dtype)
    _check_mixed(input, (weight, bias))
    size = math.prod(shape)
    rows = input._data.size // size if size else 0
    return LayerNorm.apply(input, weight, bias, (rows, size), (rows, size), (size,), eps)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    d = input._data
    if d.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{d.ndim}")
    n, c = d.shape[0], d.shape[1]
    _verify_rows([n * c // num_groups, num_groups] + list(d.shape[2:]))
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(d.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.size != c):
            # torch reports the weight's shape in both messages
            shown = list(weight._data.shape) if weight is not None else [0]
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number "
                               f"of channels in input, but got {name} of shape {shown} and "
                               f"input of shape {list(d.shape)}")
    if d.dtype.kind not in "fV":
        not_implemented("GroupNormKernelImpl", input.dtype)
    _check_mixed(input, (weight, bias))
    length = math.prod(d.shape[2:])
    rows = (n * num_groups, c // num_groups * length)
    return GroupNorm.apply(input, weight, bias, rows, (n, c, length), (c, 1), eps)


def _verify_rows(size):
    count = size[0]
    for extent in size[2:]:
        count *= extent
    if count == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input "
                         f"size {size}")


def rms_norm(input, normalized_shape, weight=None, eps=None):
    shape = _normalized_shape("rms_norm", normalized_shape)
    _check_normalized(input, shape, weight, None, "")
    if input._data.dtype.kind not in "fV":
        not_implemented("rms_norm", input.dtype)
    if eps is None:
        eps = float(np.finfo(input._data.dtype).eps) if input._data.dtype.kind == "f" else (
            2.0 ** -7)
    dims = list(range(input.dim() - len(shape), input.dim()))
    upcast = input.float() if input._data.dtype.itemsize == 2 else input
    out = upcast * (upcast.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if out.dtype != input.dtype:
        out = out.to(input.dtype)
    if weight is not None:
        out = out.mul_(weight)
    return out


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input "
                         f"(got {dim} dimensions)")
    if input.numel() == 0:
        return input
    from .join import cat

    squares = input.mul(input)
    channels = input.shape[1]
    before, after = size // 2, (size - 1) // 2
    padded = cat([squares.new_zeros((input.shape[0], before) + tuple(input.shape[2:])),
                  squares,
                  squares.new_zeros((input.shape[0], after) + tuple(input.shape[2:]))], 1)
    window = padded.narrow(1, 0, channels)
    for offset in range(1, size):
        window = window + padded.narrow(1, offset, channels)
    div = (window / size).mul(alpha).add(k).pow(beta)
    return input / div

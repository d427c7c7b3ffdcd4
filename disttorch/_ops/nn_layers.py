"""The functions behind nn's parameter layers and friends: linear, bilinear, dropout (plain,
feature-wise and alpha), embedding, one_hot, normalize, cosine_similarity, pairwise_distance.

linear is one fused op (x @ w.T + b, torch's AddmmBackward0) whose backward runs on arrays
unless it records a graph; embedding is one op whose backward adds rows into a zero gradient.
The others are compositions of Tensor ops, so their graphs carry torch's node names.
"""

import math
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import no_grad, state
from ._common import _legacy_name, result_dtype, sum_to
from ._elementwise_base import C_TYPE_NAMES, type_error
from .random import rng_of

__all__ = ["bilinear", "dropout", "dropout_", "feature_dropout", "feature_dropout_",
           "alpha_dropout", "alpha_dropout_", "feature_alpha_dropout", "feature_alpha_dropout_",
           "cosine_similarity", "pairwise_distance"]
FUNCTIONAL = ["linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d",
              "alpha_dropout", "feature_alpha_dropout", "embedding", "one_hot", "normalize",
              "cosine_similarity", "pairwise_distance"]


# ---------------------------------------------------------------- linear, bilinear


class Linear(Op):
    """input @ weight.T + bias for a 2-D input."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias):
        xd, wd = x._data, weight._data
        if xd.dtype != wd.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{C_TYPE_NAMES[x.dtype.name]} != "
                               f"{C_TYPE_NAMES[weight.dtype.name]}")
        if xd.shape[-1] != wd.shape[-1]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({xd.shape[0]}x"
                               f"{xd.shape[1]} and {wd.shape[1]}x{wd.shape[0]})")
        out = xd @ wd.T
        if bias is not None:
            bd = bias._data
            try:
                out += bd
            except ValueError:
                raise RuntimeError(
                    f"The expanded size of the tensor ({out.shape[-1]}) must match the existing "
                    f"size ({bd.shape[-1]}) at non-singleton dimension {out.ndim - 1}.  Target "
                    f"sizes: {list(out.shape)}.  Tensor sizes: {list(bd.shape)}") from None
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.bias_shape = None if bias is None else bias._data.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        flags = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if state.enabled:
            if flags[0]:
                grad_x = grad.mm(weight)
            if flags[1]:
                grad_w = grad.t().mm(x)
            if flags[2]:
                grad_b = sum_to(grad, ctx.bias_shape)
            return grad_x, grad_w, grad_b
        g = grad._data
        if flags[0]:
            grad_x = Tensor._wrap(g @ weight._data)
        if flags[1]:
            grad_w = Tensor._wrap(g.T @ x._data)
        if flags[2]:
            shape = ctx.bias_shape
            if shape == g.shape[1:]:
                grad_b = Tensor._wrap(g.sum(0))
            else:
                grad_b = sum_to(Tensor._wrap(g), shape)
        return grad_x, grad_w, grad_b


class _LinearNoBias(Linear):
    node_name = "MmBackward0"


def linear(input, weight, bias=None):
    if not isinstance(input, Tensor):
        type_error("linear", input, "input", 1)
    if not isinstance(weight, Tensor):
        type_error("linear", weight, "weight", 2)
    if weight._data.ndim != 2:
        if bias is None and weight._data.ndim == 1:
            return input.matmul(weight)
        raise RuntimeError(f"mat2 must be a matrix, got {weight._data.ndim}-D tensor")
    op = Linear if bias is not None else _LinearNoBias
    ndim = input._data.ndim
    if ndim == 2:
        return op.apply(input, weight, bias)
    if ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D "
                           "and 2D")
    shape = input._data.shape
    out_features, in_features = weight._data.shape
    if shape[-1] != in_features:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied "
                           f"({math.prod(shape[:-1])}x{shape[-1]} and "
                           f"{in_features}x{out_features})")
    out = op.apply(input.reshape(-1, in_features), weight, bias)
    return out.view(*shape[:-1], out_features)


def bilinear(input1, input2, weight, bias=None):
    s1, s2, sw = input1.shape, input2.shape, weight.shape
    if len(s1) != len(s2):
        raise RuntimeError(f"bilinear(): input dimensions do not match: got {len(s1)} and "
                           f"{len(s2)}")
    for i in range(len(s1) - 1):
        if s1[i] != s2[i]:
            raise RuntimeError(f"bilinear(): input batch dimensions do not match at dim {i}: "
                               f"got {s1[i]} and {s2[i]}")
    if len(sw) != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D, got {len(sw)}-D tensor")
    for name, size, expected in (("input1", s1[-1], sw[1]), ("input2", s2[-1], sw[2])):
        if size != expected:
            raise RuntimeError(f"bilinear(): {name} size does not match weight size: got "
                               f"{size} but expected {expected}")
    if bias is not None and bias.shape[0] != sw[0]:
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got "
                           f"{bias.shape[0]} but expected {sw[0]}")
    out_features, in1, in2 = sw
    left = input1.reshape(-1, in1).mm(weight.permute(1, 0, 2).reshape(in1, out_features * in2))
    pairs = left.view(-1, out_features, in2) * input2.reshape(-1, 1, in2)
    out = pairs.sum(-1).view(*s1[:-1], out_features)
    return out if bias is None else out + bias


# ---------------------------------------------------------------- dropout

_ALPHA = 1.7580993408473766  # -SELU's negative saturation value


class _Dropout(Op):
    """input * noise for a noise array (the kept entries scaled by 1 / (1 - p))."""

    node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        if ctx.needs_input_grad:
            ctx.noise = noise
        return x._data * noise

    @staticmethod
    def backward(ctx, grad):
        from ._nn_util import scale_by

        return scale_by(grad, ctx.noise), None


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep(input, shape):
    """A 0/1 float array of `shape` (1 with probability 1 - p) on the input's device."""
    rng = rng_of(None, "dropout")
    d = input._data
    work = np.float64 if d.dtype == np.float64 else np.float32
    values = rng.random(shape, dtype=work)
    if type(d) is not np.ndarray:
        values = B.move_array(values, input.device)
    return values


def _noise(input, p, train, inplace, feature, alpha):
    """torch's dropout kernels: input * noise (+ b for alpha dropout)."""
    if not train or p == 0 or input._data.size == 0:
        return input
    d = input._data
    if d.dtype.kind not in "fV":
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_legacy_name(input.dtype)}")
    if p == 1:
        zero = Tensor._wrap(B.get_array_module(d).zeros((), dtype=d.dtype))
        return input.mul_(zero) if inplace else input * zero
    shape = d.shape
    if feature:
        shape = shape[:2] + (1,) * (d.ndim - 2)
    keep = (_keep(input, shape) >= p).astype(d.dtype)
    if not alpha:
        keep *= d.dtype.type(1 / (1 - p))
        return input.mul_(Tensor._wrap(keep)) if inplace else _Dropout.apply(input, keep)
    a = 1 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
    shift = Tensor._wrap(((keep - 1) * (_ALPHA * a) + _ALPHA * a * p).astype(d.dtype))
    noise = Tensor._wrap((keep * a).astype(d.dtype))
    if inplace:
        return input.mul_(noise).add_(shift)
    return input * noise + shift


def dropout(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    return _noise(input, p, training, inplace, False, False)


def dropout_(input, p=0.5, training=True):
    return dropout(input, p, training, True)


def feature_dropout(input, p, train):
    return _noise(input, p, train, False, True, False)


def feature_dropout_(input, p, train):
    return _noise(input, p, train, True, True, False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _noise(input, p, training, inplace, False, True)


def alpha_dropout_(input, p=0.5, training=False):
    return alpha_dropout(input, p, training, True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    _check_p(p)
    return _noise(input, p, training, inplace, True, True)


def feature_alpha_dropout_(input, p=0.5, training=False):
    return feature_alpha_dropout(input, p, training, True)


def _unbatched_feature_dropout(input, p, training, inplace):
    """Channel-wise dropout of an input without a batch dimension."""
    input = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    result = _noise(input, p, training, inplace, True, False)
    return result.squeeze_(0) if inplace else result.squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    ndim = input.dim()
    if ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. "
                           "Note that dropout1d exists to provide channel-wise dropout on inputs "
                           "with 1 spatial dimension, a channel dimension, and an optional batch "
                           "dimension (i.e. 2D or 3D inputs).")
    if ndim == 2:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _noise(input, p, training, inplace, True, False)


def _deprecated_rank(name, ndim, expected, spatial):
    warnings.warn(f"{name}: Received a {ndim}-D input to {name}, which is deprecated and will "
                  "result in an error in a future release. To retain the behavior and silence "
                  f"this warning, please use dropout instead. Note that {name} exists to "
                  f"provide channel-wise dropout on inputs with {spatial} spatial dimensions, a "
                  "channel dimension, and an optional batch dimension (i.e. "
                  f"{expected[0]}D or {expected[1]}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    ndim = input.dim()
    if ndim not in (3, 4):
        _deprecated_rank("dropout2d", ndim, (3, 4), 2)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. This behavior will change in a future release "
                      "to interpret the input as one without a batch dimension, i.e. shape "
                      "(C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _noise(input, p, training, inplace, True, False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    _check_p(p)
    ndim = input.dim()
    if ndim not in (4, 5):
        _deprecated_rank("dropout3d", ndim, (4, 5), 3)
    if ndim != 5:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _noise(input, p, training, inplace, True, False)


# ---------------------------------------------------------------- embedding


class Embedding(Op):
    node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        w, idx = _embedding_arrays(weight, indices)
        if ctx.needs_input_grad:
            ctx.indices = idx
            ctx.weight_shape = w.shape
            ctx.padding_idx = padding_idx
            ctx.scale = scale_grad_by_freq
        return w[idx]

    @staticmethod
    def backward(ctx, grad):
        rows, width = ctx.weight_shape
        flat = ctx.indices.reshape(-1)
        g = grad.reshape(-1, width)
        xp = B.get_array_module(grad._data)
        factor = None
        if ctx.padding_idx is not None and ctx.padding_idx >= 0:
            factor = (flat != ctx.padding_idx).astype(grad._data.dtype)
        if ctx.scale:
            counts = xp.bincount(flat, minlength=rows)[flat].astype(grad._data.dtype)
            factor = 1 / counts if factor is None else factor / counts
        if state.enabled:
            if factor is not None:
                g = g * Tensor._wrap(factor[:, None])
            zeros = Tensor._wrap(xp.zeros((rows, width), dtype=grad._data.dtype))
            return zeros.index_add(0, Tensor._wrap(flat), g), None, None, None
        values = g._data if factor is None else g._data * factor[:, None]
        out = xp.zeros((rows, width), dtype=grad._data.dtype)
        xp.add.at(out, flat, values)
        return Tensor._wrap(out), None, None, None


def _embedding_arrays(weight, indices):
    from .._tensor_str import type_name

    idx = indices._data
    if idx.dtype != np.int64 and idx.dtype != np.int32:
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {type_name(indices)} "
                           "instead (while checking arguments for embedding)")
    w = weight._data
    if w.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError("index out of range in self")
    return w, idx


def _renorm_rows(weight, indices, max_norm, norm_type):
    """torch.embedding_renorm_: rows of weight used by indices scaled to norm <= max_norm."""
    w, idx = _embedding_arrays(weight, indices)
    xp = B.get_array_module(w)
    rows = xp.unique(idx.reshape(-1))
    selected = w[rows]
    norms = xp.linalg.norm(selected.astype(np.float64), ord=norm_type, axis=1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (selected * scale[:, None]).astype(w.dtype)
    weight._version[0] += 1


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    if padding_idx is not None:
        rows = weight.shape[0]
        if padding_idx > 0 and padding_idx >= rows or padding_idx < -rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        if padding_idx < 0:
            padding_idx += rows
    else:
        padding_idx = -1
    if max_norm is not None:
        with no_grad():
            _renorm_rows(weight, input, max_norm, norm_type)
    return Embedding.apply(weight, input, padding_idx, scale_grad_by_freq)


def one_hot(tensor, num_classes=-1):
    d = tensor._data
    if d.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if num_classes == -1:
        if d.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(d.max()) + 1
    if d.size:
        if d.min() < 0:
            raise RuntimeError("Class values must be non-negative.")
        if d.max() >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = B.get_array_module(d)
    out = xp.zeros(d.shape + (num_classes,), dtype=np.int64)
    xp.put_along_axis(out, d[..., None], 1, axis=-1)
    return Tensor._wrap(out)


# ---------------------------------------------------------------- norms and distances


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_legacy_name(input.dtype)}")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
    result = input / denom
    if out is None:
        return result
    with no_grad():
        out.copy_(result)
    return out


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    dt = result_dtype(x1, x2)
    if not dt.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_legacy_name(dt)}")
    from .rearrange import broadcast_tensors

    x1, x2 = broadcast_tensors(x1.to(dt), x2.to(dt))
    norm1 = x1.norm(2, dim, keepdim=True).clone()
    norm2 = x2.norm(2, dim, keepdim=True).clone()
    with no_grad():  # the clamp guards the division; torch's gradient ignores it
        norm1.clamp_min_(eps)
        norm2.clamp_min_(eps)
    return ((x1 / norm1) * (x2 / norm2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    innermost = max(x1.dim(), x2.dim()) - 1
    return (x1 - x2 + eps).norm(p, innermost, keepdim)

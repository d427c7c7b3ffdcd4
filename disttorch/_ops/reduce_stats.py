"""Statistics and norms: var, std (with unbiased= / correction=), var_mean, std_mean,
norm (torch.norm and Tensor.norm: vector p-norms and Frobenius), dist.

Backward follows torch's formulas, with the zero cases (a zero std, a zero norm) masked by
constants so that the result stays finite and differentiable again.
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import _legacy_name, operands, raise_broadcast_error, register, sum_to
from ._reduce_util import const, keep, legacy, reduce_axes

__all__ = ["var", "std", "var_mean", "std_mean", "norm", "dist"]

_UNSET = type("Unset", (), {"__repr__": lambda self: "<unset>"})()


# ---------------------------------------------------------------- var, std


def _variance(data, axes, correction, keepdim, name):
    """(variance, degrees of freedom) on arrays, computed (and returned) in float32 at least:
    std takes the root before rounding to float16, as torch does."""
    if data.dtype.kind not in "fV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    count = 1
    for a in axes:
        count *= data.shape[a]
    dof = count - correction
    if dof <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly "
                      "less than the reduction factor (input numel divided by output numel).",
                      UserWarning, stacklevel=4)
        dof = 0
    work = data.astype(np.float32) if data.dtype.itemsize < 4 else data
    with np.errstate(divide="ignore", invalid="ignore"):
        centered = work - work.mean(axis=axes, keepdims=True)
        var = (centered * centered).sum(axis=axes, keepdims=keepdim) / dof
    return var, dof


def _var_backward(grad, x, axes, dof, factor=2.0):
    """d var / d x = 2 (x - mean) / dof, in Tensor ops (the mean is differentiated too)."""
    scale = factor / dof if dof else float("inf")
    return grad * (x - x.mean(axes, keepdim=True)) * scale


def _std_backward(grad, std, x, axes, dof):
    """var's backward of grad / (2 std), with 0 where std == 0 (torch's mask)."""
    zero = std._data == 0
    if not zero.any():
        return _var_backward(grad / std, x, axes, dof, 1.0)
    zero = const(zero, std._data)
    return _var_backward(grad * (1 - zero) / (std + zero), x, axes, dof, 1.0)


class Var(Op):
    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim = axes, keepdim
        var, ctx.dof = _variance(x._data, axes, correction, keepdim, "var")
        return var.astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        grad = keep(grad, x._data.shape, ctx.axes, ctx.keepdim)
        return _var_backward(grad, x, ctx.axes, ctx.dof), None, None, None


class Std(Op):
    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.save_output()
        ctx.axes, ctx.keepdim = axes, keepdim
        var, ctx.dof = _variance(x._data, axes, correction, keepdim, "std")
        return np.sqrt(var).astype(x._data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, axes = x._data.shape, ctx.axes
        grad = keep(grad, shape, axes, ctx.keepdim)
        std = keep(ctx.saved_output, shape, axes, ctx.keepdim)
        return _std_backward(grad, std, x, axes, ctx.dof), None, None, None


class VarMean(Op):
    node_name = "VarMeanBackward0"
    takes_root = False
    stat = "var_mean"

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        data = x._data
        ctx.save_for_backward(x)
        ctx.axes, ctx.keepdim, ctx.correction = axes, keepdim, correction
        var, ctx.dof = _variance(data, axes, correction, keepdim, ctx.stat)
        count = 1
        for a in axes:
            count *= data.shape[a]
        ctx.count = count
        mean = data.mean(axis=axes, keepdims=keepdim).astype(data.dtype, copy=False)
        stat = np.sqrt(var) if ctx.takes_root else var
        return stat.astype(data.dtype, copy=False), mean

    @staticmethod
    def backward(ctx, grad_stat, grad_mean):
        (x,) = ctx.saved_tensors
        shape, axes, keepdim = x._data.shape, ctx.axes, ctx.keepdim
        grad = keep(grad_stat, shape, axes, keepdim)
        if ctx.takes_root:  # recomputed in Tensor ops so that double backward sees it
            std = x.std(axes, correction=ctx.correction, keepdim=True)
            result = _std_backward(grad, std, x, axes, ctx.dof)
        else:
            result = _var_backward(grad, x, axes, ctx.dof)
        mean_grad = keep(grad_mean, shape, axes, keepdim).expand(shape) / ctx.count
        return result + mean_grad, None, None, None


class StdMean(VarMean):
    node_name = "StdMeanBackward0"
    takes_root = True
    stat = "std_mean"


def _invalid_std_args(name, given):
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({given}), but expected "
        "one of:\n * (tuple of ints dim, bool unbiased = True, bool keepdim = False)\n"
        " * (tuple of ints dim = None, *, Number correction = None, bool keepdim = False)\n"
        " * (bool unbiased = True)\n")


def _parse_var_args(name, input, dim, unbiased, correction):
    """torch's three overloads: (dim, unbiased, keepdim), (dim, *, correction, keepdim) and
    (unbiased). Returns (axes, correction)."""
    if isinstance(dim, bool) and unbiased is _UNSET:
        dim, unbiased = None, dim
    if unbiased is not _UNSET and correction is not _UNSET:
        raise _invalid_std_args(name, f"correction={type(correction).__name__}, unbiased="
                                      f"{type(unbiased).__name__}, ")
    if unbiased is not _UNSET and not isinstance(unbiased, bool):
        given = ", ".join(type(a).__name__ for a in (dim, unbiased))
        raise _invalid_std_args(name, given)
    if correction is _UNSET or correction is None:
        correction = 1 if unbiased is _UNSET or unbiased else 0
    return reduce_axes(dim, input._data.ndim, name), correction


def var(input, dim=None, unbiased=_UNSET, keepdim=False, *, correction=_UNSET):
    axes, correction = _parse_var_args("var", input, dim, unbiased, correction)
    return Var.apply(input, axes, correction, keepdim)


def std(input, dim=None, unbiased=_UNSET, keepdim=False, *, correction=_UNSET):
    axes, correction = _parse_var_args("std", input, dim, unbiased, correction)
    return Std.apply(input, axes, correction, keepdim)


def var_mean(input, dim=None, unbiased=_UNSET, keepdim=False, *, correction=_UNSET):
    axes, correction = _parse_var_args("var_mean", input, dim, unbiased, correction)
    return VarMean.apply(input, axes, correction, keepdim)


def std_mean(input, dim=None, unbiased=_UNSET, keepdim=False, *, correction=_UNSET):
    axes, correction = _parse_var_args("std_mean", input, dim, unbiased, correction)
    return StdMean.apply(input, axes, correction, keepdim)


# ---------------------------------------------------------------- vector norms


def _vector_norm(data, order, axes, keepdim):
    """sum(|x|^p)^(1/p) over `axes` on arrays, with the special orders 0, 1, 2 and +-inf."""
    xp = B.get_array_module(data)
    out_dtype = data.dtype
    if data.dtype.itemsize < 4:  # float16 / bfloat16 accumulate in float32
        data = data.astype(np.float32)
    magnitude = xp.abs(data)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if order == 2:
            result = np.sqrt((data * data).sum(axis=axes, keepdims=keepdim))
        elif order == 1:
            result = magnitude.sum(axis=axes, keepdims=keepdim)
        elif order == np.inf:
            result = magnitude.max(axis=axes, keepdims=keepdim)
        elif order == -np.inf:
            result = magnitude.min(axis=axes, keepdims=keepdim)
        elif order == 0:
            result = (data != 0).sum(axis=axes, keepdims=keepdim).astype(data.dtype)
        else:
            result = (magnitude ** order).sum(axis=axes, keepdims=keepdim) ** (1.0 / order)
    return result.astype(out_dtype, copy=False)


def _check_identity(data, order, axes, whole):
    """The +-inf norms have no value over an empty dim (torch says which one)."""
    if not np.isinf(order):
        return
    sign = "" if order > 0 else "-"
    for a in axes:
        if data.shape[a] == 0:
            if whole:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {sign}inf norm on an "
                                   "empty tensor because the operation does not have an "
                                   "identity")
            raise RuntimeError(f"linalg.vector_norm cannot compute the {sign}inf norm on the "
                               f"dimension {a}because this dimension is empty and the "
                               "operation does not have an identity")


def _norm_backward(grad, x, norm, order, axes):
    """torch's linalg_vector_norm_backward in Tensor ops; grad and norm are in keepdim form.

    Returns None for the 0-"norm" (a count), which has no gradient in torch either."""
    data = x._data
    if order == 0:
        return None
    xp = B.get_array_module(data)
    sign = const(xp.sign(data))
    if order == 1:
        return sign * grad
    if np.isinf(order):
        magnitude = xp.abs(data)
        mask = (magnitude == norm._data) | xp.isnan(magnitude)
        with np.errstate(divide="ignore", invalid="ignore"):
            weights = sign._data * mask / mask.sum(axis=axes, keepdims=True)
        return grad * const(weights, data)
    norm_zero = const(norm._data == 0, data)
    if order == 2:
        return grad * x / (norm + norm_zero) * (1 - norm_zero)
    magnitude = x * sign
    if order < 1:
        x_zero = const(data == 0, data)
        return sign * (magnitude + x_zero) ** (order - 1) * grad * norm ** (1 - order)
    scale = grad * (1 - norm_zero) / (norm + norm_zero) ** (order - 1)
    if order < 2:
        return sign * magnitude ** (order - 1) * scale
    return x * magnitude ** (order - 2) * scale


class VectorNorm(Op):
    node_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, order, axes, keepdim, dtype):
        data = x._data
        if data.dtype.kind not in "fV":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex "
                               f"tensor as input. Got {legacy(data)}")
        if dtype is not None:
            if not dtype.is_floating_point:
                raise RuntimeError("linalg.vector_norm: dtype should be floating point or "
                                   f"complex, but got {_legacy_name(dtype)}")
            data = data.astype(dtype.np, copy=False)
        ctx.save_for_backward(x)
        ctx.save_output()
        ctx.order, ctx.axes, ctx.keepdim, ctx.dtype = order, axes, keepdim, dtype
        return _vector_norm(data, order, axes, keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        shape, axes, keepdim = x._data.shape, ctx.axes, ctx.keepdim
        source = x if ctx.dtype is None else x.to(ctx.dtype)
        result = _norm_backward(keep(grad, shape, axes, keepdim), source,
                                keep(ctx.saved_output, shape, axes, keepdim), ctx.order, axes)
        if result is not None and result._data.dtype != x._data.dtype:
            result = result.to(B._FROM_NP[x._data.dtype])
        return result, None, None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    ndim = input._data.ndim
    if isinstance(p, Tensor):
        p = p.item()
    if isinstance(p, str):
        if p != "fro" or not (dim is None or isinstance(dim, int) or len(dim) <= 2):
            # torch sends the other string orders to linalg.matrix_norm; the namespace is
            # imported at call time because it is built on top of the op families
            from ..linalg import matrix_norm

            dims = list(range(ndim)) if dim is None else [dim] if isinstance(dim, int) else dim
            return matrix_norm(input, p, dims, keepdim, dtype=dtype)
        order = 2.0
    else:
        order = 2.0 if p is None else float(p)
    axes = reduce_axes(dim, ndim, "norm")
    _check_identity(input._data, order, axes, dim is None or not isinstance(dim, int) and
                    not dim)
    return VectorNorm.apply(input, order, axes, keepdim, dtype)


def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype)


# ---------------------------------------------------------------- dist


class Dist(Op):
    node_name = "DistBackward0"

    @staticmethod
    def forward(ctx, a, b, order):
        if a._data.dtype == np.bool_ or b._data.dtype == np.bool_:
            raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not "
                               "supported. If you are trying to invert a mask, use the `~` or "
                               "`logical_not()` operator instead.")
        x, y, dt = operands(a, b)
        if not dt.is_floating_point:
            raise RuntimeError("norm(): input dtype should be either floating point or "
                               f"complex. Got {_legacy_name(dt)} instead.")
        try:
            diff = x - y
        except ValueError:
            raise_broadcast_error(a._data.shape, b._data.shape)
        ctx.save_for_backward(a, b)
        ctx.save_output()
        ctx.order = order
        axes = tuple(range(diff.ndim))
        _check_identity(diff, order, axes, True)
        return _vector_norm(diff, order, axes, False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        diff = a - b
        ndim = diff._data.ndim
        out = ctx.saved_output.reshape((1,) * ndim)
        g = _norm_backward(grad.reshape((1,) * ndim), diff, out, ctx.order,
                           tuple(range(ndim)))
        if g is None:
            return None, None, None
        flags = ctx.needs_input_grad
        return (sum_to(g, a._data.shape) if flags[0] else None,
                sum_to(-g, b._data.shape) if flags[1] else None, None)


def dist(input, other, p=2):
    if not isinstance(other, Tensor):
        raise TypeError("dist(): argument 'other' (position 2) must be Tensor, not "
                        f"{type(other).__name__}")
    return Dist.apply(input, other, float(p))


register("var", var)
register("std", std)
register("norm", _norm_method)
register("dist", dist)

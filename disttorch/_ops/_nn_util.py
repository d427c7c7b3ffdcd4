"""What the nn op families share: reduction arguments, dtype refusals, and derivative helpers.

Activation derivatives are written once, as functions of a value and a math namespace: `ARRAY`
evaluates them on ndarrays (the fast path of a backward that records no graph) and `TENSOR`
on Tensors (create_graph=True, so the result can be differentiated again).
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ._common import _legacy_name
from ._elementwise_base import in_float32

REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def legacy_reduction(size_average, reduce, reduction, emit_warning=True):
    """The reduction string of the deprecated size_average/reduce pair (when either is given)."""
    if size_average is None and reduce is None:
        return check_reduction(reduction)
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if size_average and reduce:
        result = "mean"
    elif reduce:
        result = "sum"
    else:
        result = "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{result}' instead.", stacklevel=3)
    return result


def reduce_loss(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def reduce_array(values, reduction):
    """Reduce an elementwise loss array; returns (result, the scale its gradient takes)."""
    if reduction == "mean":
        return values.mean(dtype=values.dtype), 1.0 / values.size if values.size else np.nan
    if reduction == "sum":
        return values.sum(dtype=values.dtype), 1.0
    return values, 1.0


def not_implemented(kernel, dtype):
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy_name(dtype)}\'')


def require_float(data, kernel):
    """torch's refusal of integer and bool inputs to a float-only kernel."""
    if data.dtype.kind not in "fV":
        not_implemented(kernel, B._FROM_NP[data.dtype])


def size_warning(input, target):
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def array_sigmoid(x):
    return np.reciprocal(np.exp(np.negative(x)) + 1)


def array_softplus(x):
    return np.logaddexp(x, x.dtype.type(0)) if x.dtype.kind == "f" else np.logaddexp(x, 0)


class ARRAY:
    """Math on ndarrays, spelled like TENSOR."""

    exp = np.exp
    tanh = np.tanh
    log1p = np.log1p
    abs = np.abs
    sign = np.sign
    where = staticmethod(np.where)

    @staticmethod
    def negative_part(x):
        return np.minimum(x, 0)

    sigmoid = staticmethod(array_sigmoid)
    softplus = staticmethod(array_softplus)

    @staticmethod
    def erf(x):
        from .math import _erf

        return _erf(x)


class TENSOR:
    """Math on Tensors (differentiable), spelled like ARRAY."""

    @staticmethod
    def exp(x):
        return x.exp()

    @staticmethod
    def tanh(x):
        return x.tanh()

    @staticmethod
    def log1p(x):
        return x.log1p()

    @staticmethod
    def abs(x):
        return x.abs()

    @staticmethod
    def sign(x):
        return x.sign()

    @staticmethod
    def where(condition, a, b):
        from .compare import where

        return where(condition, a, b)

    @staticmethod
    def negative_part(x):
        return x.clamp(max=0)

    @staticmethod
    def sigmoid(x):
        return x.sigmoid()

    @staticmethod
    def erf(x):
        return x.erf()

    @staticmethod
    def softplus(x):
        from .nn_activation import softplus

        return softplus(x)


def chain(grad, value, derivative, params):
    """grad * derivative(value, *params): on arrays unless the backward records a graph."""
    if state.enabled:
        out = grad * derivative(value, TENSOR, *params)
        return out if out._data.dtype == grad._data.dtype else out.to(grad.dtype)
    return scale_by(grad, in_float32(derivative, value._data, ARRAY, *params))


def scale_by(grad, factor):
    """grad * factor for a factor array that is not differentiated (a mask, a constant)."""
    g = grad._data
    if type(factor) is not np.ndarray or factor.dtype != g.dtype:
        factor = B.get_array_module(g).asarray(factor, dtype=g.dtype)
    if state.enabled:
        return grad * Tensor._wrap(factor)
    return Tensor._wrap(g * factor)




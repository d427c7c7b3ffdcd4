"""softmax, log_softmax and softmin (fused, numerically stable primitives), prelu and glu.

softmax and log_softmax are one op each: the forward subtracts the maximum along `dim` before
exponentiating, the backward reads the saved output. A backward that records no graph runs on
the arrays; with create_graph it is written in Tensor ops and differentiable again.
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import quiet, register, wrap_dim
from ._elementwise_base import in_float32
from ._nn_util import not_implemented

__all__ = ["softmax", "log_softmax", "prelu"]
FUNCTIONAL = ["softmax", "log_softmax", "softmin", "prelu", "glu"]


def _check_softmax_input(d, kernel):
    if d.dtype.kind not in "fV":
        not_implemented(kernel, B._FROM_NP[d.dtype])


def _softmax(d, axis):
    shifted = d - d.max(axis=axis, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=axis, keepdims=True)
    return shifted


def _log_softmax(d, axis):
    shifted = d - d.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return shifted


def _run(fn, d, axis):
    """fn on the array, for 0-d and empty inputs too (NumPy cannot reduce over those)."""
    if d.ndim == 0:
        return fn(d.reshape(1), 0).reshape(())
    if d.size == 0:
        return d.copy()
    quiet()
    return in_float32(fn, d, axis)


class Softmax(Op):
    node_name = "SoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        d = x._data
        axis = wrap_dim(dim, d.ndim)
        _check_softmax_input(d, "softmax_lastdim_kernel_impl" if axis == d.ndim - 1 or
                             d.ndim == 0 else "softmax_kernel_impl")
        if ctx.needs_input_grad:
            ctx.axis = axis
            ctx.save_output()
        return _run(_softmax, d, axis)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        axis = ctx.axis
        if state.enabled:
            return y * (grad - (grad * y).sum(axis, keepdim=True)), None
        g, yd = grad._data, y._data
        product = g * yd
        if yd.ndim == 0:
            return Tensor._wrap(product - product * yd), None
        product -= yd * product.sum(axis=axis, keepdims=True)
        return Tensor._wrap(product), None


class LogSoftmax(Op):
    node_name = "LogSoftmaxBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        d = x._data
        axis = wrap_dim(dim, d.ndim)
        _check_softmax_input(d, "log_softmax_lastdim_kernel_impl" if axis == d.ndim - 1 or
                             d.ndim == 0 else "log_softmax_kernel_impl")
        if ctx.needs_input_grad:
            ctx.axis = axis
            ctx.save_output()
        return _run(_log_softmax, d, axis)

    @staticmethod
    def backward(ctx, grad):
        y = ctx.saved_output
        axis = ctx.axis
        if state.enabled:
            return grad - y.exp() * grad.sum(axis, keepdim=True), None
        g, yd = grad._data, y._data
        total = g if g.ndim == 0 else g.sum(axis=axis, keepdims=True)
        return Tensor._wrap(g - np.exp(yd) * total), None


def _implicit_dim(name, ndim):
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _cast(input, dtype, stacklevel=None):
    # torch.softmax(input, dim, dtype) shares this function: its third argument is the dtype
    if isinstance(stacklevel, B.dtype):
        dtype = stacklevel
    return input if dtype is None else input.to(dtype)


def _torch_softmax(input, dim, dtype=None):
    """torch.softmax / Tensor.softmax: dim is required."""
    return Softmax.apply(_cast(input, dtype), dim)


def _torch_log_softmax(input, dim, dtype=None):
    return LogSoftmax.apply(_cast(input, dtype), dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmax", input.dim())
    return Softmax.apply(_cast(input, dtype, _stacklevel), dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("log_softmax", input.dim())
    return LogSoftmax.apply(_cast(input, dtype, _stacklevel), dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        dim = _implicit_dim("softmin", input.dim())
    return Softmax.apply(-_cast(input, dtype, _stacklevel), dim)


# ---------------------------------------------------------------- prelu, glu


def _channel_shape(x, weight):
    """The shape that broadcasts prelu's weight over the channel dim (dim 1) of x."""
    count = weight._data.size
    channels = x._data.shape[1] if x._data.ndim >= 2 else 1
    if count != 1 and count != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found "
                           f"parameter numbers = {count} and channel size = {channels}.")
    if count == 1 or x._data.ndim < 2:
        return ()
    return (count,) + (1,) * (x._data.ndim - 2)


class Prelu(Op):
    node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, weight):
        d = x._data
        if d.dtype.kind not in "fV":
            not_implemented("prelu_cpu", x.dtype)
        if weight._data.dtype != d.dtype:
            from ._common import _legacy_name

            raise RuntimeError(f"prelu: Type promoting not supported. Got "
                               f"{_legacy_name(x.dtype)} and {_legacy_name(weight.dtype)}")
        shape = _channel_shape(x, weight)
        w = weight._data.reshape(shape)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
            ctx.shape = shape
        return np.where(d > 0, d, w * d).astype(d.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        from .compare import where

        x, weight = ctx.saved_tensors
        positive = x > 0
        flags = ctx.needs_input_grad
        grad_x = grad_w = None
        if flags[0]:
            grad_x = where(positive, grad, grad * weight.reshape(ctx.shape))
        if flags[1]:
            contribution = where(positive, 0.0, x * grad)
            if ctx.shape:
                axes = [i for i in range(x.dim()) if i != 1]
                grad_w = contribution.sum(axes).reshape(weight.shape)
            else:
                grad_w = contribution.sum().reshape(weight.shape)
        return grad_x, grad_w


def prelu(input, weight):
    return Prelu.apply(input, weight)


class Glu(Op):
    node_name = "GluBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        d = x._data
        if d.ndim == 0:
            raise RuntimeError("glu does not support scalars because halving size must be even")
        axis = wrap_dim(dim, d.ndim)
        if d.dtype.kind not in "fV":
            not_implemented("glu_cpu", x.dtype)
        size = d.shape[axis]
        if size % 2:
            raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size "
                               f"{size}")
        if ctx.needs_input_grad:
            ctx.save_for_backward(x)
            ctx.axis = axis
        first, second = np.split(d, 2, axis=axis)
        quiet()
        return in_float32(lambda a, b: a / (1 + np.exp(-b)), first, second)

    @staticmethod
    def backward(ctx, grad):
        from .join import cat

        (x,) = ctx.saved_tensors
        axis = ctx.axis
        half = x.shape[axis] // 2
        first, second = x.narrow(axis, 0, half), x.narrow(axis, half, half)
        gate = second.sigmoid()
        grad_first = grad * gate
        grad_second = grad_first * first * (1 - gate)
        return cat([grad_first, grad_second], axis), None


def glu(input, dim=-1):
    return Glu.apply(input, dim)


register("softmax", _torch_softmax)
register("log_softmax", _torch_log_softmax)
register("prelu", prelu)

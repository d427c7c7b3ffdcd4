"""Gradient clipping: by total norm (clip_grad_norm_) or by value (clip_grad_value_).

`foreach` is accepted for compatibility; every path computes the same result.
"""

import types
import warnings

import numpy as np

from ... import _backend as B
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad

__all__ = ["clip_grad_norm", "clip_grad_norm_", "clip_grad_value_"]


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def _vector_norm(data, norm_type):
    """torch.linalg.vector_norm of an array, in its dtype (floats only)."""
    magnitude = np.abs(data.reshape(-1))
    if norm_type == float("inf"):
        return magnitude.max() if magnitude.size else data.dtype.type(0)
    if norm_type == float("-inf"):
        return magnitude.min()
    if norm_type == 0:
        return data.dtype.type((magnitude != 0).sum())
    if norm_type == 1:
        return magnitude.sum(dtype=data.dtype)
    if norm_type == 2:
        return np.sqrt(np.dot(magnitude, magnitude))
    return (magnitude ** norm_type).sum(dtype=data.dtype) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm of the norms of `tensors` (as if all were one vector)."""
    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    with no_grad():
        if not tensors:
            from ... import tensor

            return tensor(0.0)
        dtype = tensors[0].dtype
        for t in tensors[1:]:
            dtype = B.promote_types(dtype, t.dtype)
        xp = B.get_array_module(tensors[0]._data)
        norms = xp.stack([xp.asarray(_vector_norm(t._data, norm_type), dtype=dtype.np)
                          for t in tensors])
        total = Tensor._wrap(xp.asarray(_vector_norm(norms, norm_type), dtype=dtype.np))
    if error_if_nonfinite and not bool(np.isfinite(total._data)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from "
                           "`parameters` is non-finite, so it cannot be clipped. To disable "
                           "this error and scale the gradients by the non-finite norm anyway, "
                           "set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients by min(1, max_norm / (total_norm + 1e-6))."""
    parameters = _as_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    with no_grad():
        coefficient = (max_norm / (total_norm + 1e-6)).clamp(max=1.0)
        for grad in grads:
            grad.mul_(coefficient)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Clip the gradients of `parameters` to a total norm of at most `max_norm`; returns the
    total norm before clipping."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        is_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if is_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=3)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total_norm, foreach)
    return total_norm


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient into [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)

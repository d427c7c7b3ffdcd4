"""Array-level pieces of the update rules, shared by the optimizers.

Each helper writes one of torch's tensor operations (`lerp_`, `addcmul_`, `addcdiv_`, ...)
as NumPy ufuncs with `out=` on raw arrays (CuPy arrays dispatch through the same calls), in
torch's order of operations so that results round the same way.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor


def scalar_np_dtype(fused=False):
    """The dtype torch gives `state['step']`: float32, or float64 under a float64 default."""
    if fused:
        return np.float32
    return np.float64 if B.get_default_dtype() is B.float64 else np.float32


def new_step(param, on_device=False, fused=False):
    """A 0-d step counter: on the host, or on the parameter's device (capturable/fused)."""
    xp = B.get_array_module(param._data) if on_device else np
    return Tensor._wrap(xp.zeros((), dtype=scalar_np_dtype(fused)))


def increment_step(step_t):
    """step_t += 1 in place; returns the new count as a Python float (torch's .item())."""
    data = step_t._data
    data += 1
    step_t._version[0] += 1
    return float(data)


def zeros_state(param):
    """A zero state tensor shaped and typed like the parameter, on its device."""
    xp = B.get_array_module(param._data)
    return Tensor._wrap(xp.zeros_like(param._data))


def check_capturable_device(param, what="params and state_steps", xla=True):
    # CUDA graphs are what capturable is for; torch refuses it for parameters off-accelerator.
    if B.device_of(param._data).type != "cuda":
        devices = "['cuda', 'xpu', 'hpu', 'privateuseone'" + (", 'xla']" if xla else "]")
        raise AssertionError(f"If capturable=True, {what} must be on supported devices: "
                             f"{devices}.")


def grad_array(param, maximize):
    """The parameter's gradient array, negated (a new array) when maximizing."""
    g = param._grad._data
    return np.negative(g) if maximize else g


def add_weight_decay(g, param_data, weight_decay):
    """g + weight_decay * param as a new array (torch's grad.add(param, alpha=wd))."""
    out = np.multiply(param_data, weight_decay)
    np.add(g, out, out=out)
    return out


def lerp_(avg, target, weight):
    """avg.lerp_(target, weight) with torch's two formulas (exact at both ends)."""
    diff = np.subtract(target, avg)
    if abs(weight) < 0.5:
        np.multiply(diff, weight, out=diff)
        np.add(avg, diff, out=avg)
    else:
        np.multiply(diff, 1 - weight, out=diff)
        np.subtract(target, diff, out=avg)


def addcmul_(out, t1, t2, value):
    """out += value * t1 * t2 (torch's addcmul_, multiplied in that order)."""
    tmp = np.multiply(t1, value)
    np.multiply(tmp, t2, out=tmp)
    np.add(out, tmp, out=out)


def addcdiv_(out, t1, t2, value):
    """out += value * t1 / t2 (torch's addcdiv_, evaluated in that order)."""
    tmp = np.multiply(t1, value)
    np.divide(tmp, t2, out=tmp)
    np.add(out, tmp, out=out)


def bump_version(param):
    param._version[0] += 1

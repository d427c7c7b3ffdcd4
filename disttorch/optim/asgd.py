"""ASGD: averaged stochastic gradient descent."""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ._update import (
    add_weight_decay,
    bump_version,
    check_capturable_device,
    grad_array,
    increment_step,
    scalar_np_dtype,
    zeros_state,
)
from .optimizer import (
    Optimizer,
    call_closure,
    check_differentiable,
    check_tensor_lr,
    no_grad_step,
    scalar_value,
    set_step_defaults,
)

__all__ = ["ASGD"]


def _device_scalar(param, value):
    """A 0-d tensor of the step dtype on the parameter's device (torch keeps eta, mu there)."""
    xp = B.get_array_module(param._data)
    return Tensor._wrap(xp.full((), value, dtype=scalar_np_dtype()))


class ASGD(Optimizer):
    """Implements averaged stochastic gradient descent, like torch.optim.ASGD."""

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_tensor_lr(lr)
        if not 0.0 <= scalar_value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0,
                    "weight_decay": weight_decay, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, ("step", "eta", "mu"), foreach=None, maximize=False,
                          differentiable=False, capturable=False)

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _device_scalar(p, 0.0)
                    state["eta"] = _device_scalar(p, lr)
                    state["mu"] = _device_scalar(p, 1.0)
                    state["ax"] = zeros_state(p)
                if group["capturable"]:
                    check_capturable_device(p, "params, mus, etas, and state_steps")
                g = grad_array(p, group["maximize"])
                param = p._data
                step = increment_step(state["step"])
                if weight_decay != 0:
                    g = add_weight_decay(g, param, weight_decay)

                # eta and mu are kept in the step dtype (float32): read them back rounded
                eta = float(state["eta"]._data)
                np.multiply(param, 1 - lambd * eta, out=param)
                np.subtract(param, np.multiply(g, eta), out=param)

                ax = state["ax"]._data
                mu = state["mu"]._data
                if float(mu) != 1:
                    np.add(ax, np.multiply(np.subtract(param, ax), mu), out=ax)
                else:
                    ax[...] = param

                # torch goes through a default-dtype tensor: the values are rounded to it
                # even when loading a state_dict made eta and mu float64
                default = B.get_default_dtype().np
                state["eta"]._data[...] = default.type(lr / ((1 + lambd * lr * step) ** alpha))
                state["mu"]._data[...] = default.type(1 / max(1, step - t0))
                bump_version(p)
        return loss

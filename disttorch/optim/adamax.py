"""Adamax: Adam with the infinity norm in place of the second moment."""

import numpy as np

from ._update import (
    add_weight_decay,
    addcdiv_,
    bump_version,
    check_capturable_device,
    grad_array,
    increment_step,
    lerp_,
    new_step,
    zeros_state,
)
from .optimizer import (
    Optimizer,
    call_closure,
    check_betas,
    check_differentiable,
    check_tensor_lr,
    no_grad_step,
    scalar_value,
    set_step_defaults,
)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Implements the Adamax algorithm, like torch.optim.Adamax."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_tensor_lr(lr)
        check_betas(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, foreach=None, maximize=False, differentiable=False,
                          capturable=False)

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step(p, group["capturable"])
                    state["exp_avg"] = zeros_state(p)
                    state["exp_inf"] = zeros_state(p)
                if group["capturable"]:
                    check_capturable_device(p)
                g = grad_array(p, group["maximize"])
                step = increment_step(state["step"])
                if weight_decay != 0:
                    g = add_weight_decay(g, p._data, weight_decay)

                exp_avg = state["exp_avg"]._data
                exp_inf = state["exp_inf"]._data
                lerp_(exp_avg, g, 1 - beta1)
                np.multiply(exp_inf, beta2, out=exp_inf)
                np.maximum(exp_inf, np.add(np.abs(g), eps), out=exp_inf)
                clr = lr / (1 - beta1 ** step)
                addcdiv_(p._data, exp_avg, exp_inf, -clr)
                bump_version(p)
        return loss

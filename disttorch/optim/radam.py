"""RAdam: Adam with the variance of the adaptive learning rate rectified early on."""

import numpy as np

from ._update import (
    add_weight_decay,
    addcmul_,
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

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Implements the RAdam algorithm, like torch.optim.RAdam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_tensor_lr(lr)
        check_betas(lr, betas, eps, weight_decay)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, foreach=None, maximize=False, differentiable=False,
                          decoupled_weight_decay=False, capturable=False)

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
                    state["exp_avg_sq"] = zeros_state(p)
                if group["capturable"]:
                    check_capturable_device(p)
                g = grad_array(p, group["maximize"])
                param = p._data
                step = increment_step(state["step"])
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        np.multiply(param, 1 - lr * weight_decay, out=param)
                    else:
                        g = add_weight_decay(g, param, weight_decay)

                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                lerp_(exp_avg, g, 1 - beta1)
                np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
                addcmul_(exp_avg_sq, g, g, 1 - beta2)

                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                update = np.divide(exp_avg, bias_correction1)
                np.multiply(update, lr, out=update)

                # the variance of the adaptive lr is tractable only once rho_t exceeds 5
                rho_inf = 2 / (1 - beta2) - 1
                rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
                if rho_t > 5.0:
                    adaptive_lr = np.add(np.sqrt(exp_avg_sq), eps)
                    np.divide(bias_correction2 ** 0.5, adaptive_lr, out=adaptive_lr)
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    np.multiply(update, adaptive_lr, out=update)
                    np.multiply(update, rect, out=update)
                np.subtract(param, update, out=param)
                bump_version(p)
        return loss

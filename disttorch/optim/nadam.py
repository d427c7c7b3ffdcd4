"""NAdam: Adam with Nesterov momentum (and the momentum-decay schedule of Dozat)."""

import numpy as np

from ._update import (
    add_weight_decay,
    addcdiv_,
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

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """Implements the NAdam algorithm, like torch.optim.NAdam."""

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_tensor_lr(lr)
        check_betas(lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False)

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            momentum_decay = group["momentum_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step(p, group["capturable"])
                    # the running product of the momentum coefficients, a float32 scalar
                    state["mu_product"] = new_step(p, group["capturable"])
                    state["mu_product"]._data[...] = 1.0
                    state["exp_avg"] = zeros_state(p)
                    state["exp_avg_sq"] = zeros_state(p)
                if group["capturable"]:
                    check_capturable_device(p, "params, mu_products and state_steps")
                g = grad_array(p, group["maximize"])
                param = p._data
                step = increment_step(state["step"])
                bias_correction2 = 1 - beta2 ** step
                if weight_decay != 0:
                    if group["decoupled_weight_decay"]:
                        np.multiply(param, 1 - lr * weight_decay, out=param)
                    else:
                        g = add_weight_decay(g, param, weight_decay)

                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                mu_product = state["mu_product"]._data
                mu_product *= mu
                mu_product = float(mu_product)

                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                lerp_(exp_avg, g, 1 - beta1)
                np.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
                addcmul_(exp_avg_sq, g, g, 1 - beta2)
                denom = np.divide(exp_avg_sq, bias_correction2)
                np.sqrt(denom, out=denom)

                mu_product_next = mu_product * mu_next
                np.add(denom, eps, out=denom)
                addcdiv_(param, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
                addcdiv_(param, exp_avg, denom, (-lr * mu_next) / (1.0 - mu_product_next))
                bump_version(p)
        return loss

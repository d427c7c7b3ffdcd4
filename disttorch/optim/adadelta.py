"""Adadelta: per-coordinate learning rates from running averages of squared steps."""

import numpy as np

from ._update import (
    add_weight_decay,
    addcmul_,
    bump_version,
    check_capturable_device,
    grad_array,
    increment_step,
    new_step,
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

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Implements the Adadelta algorithm, like torch.optim.Adadelta."""

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_tensor_lr(lr)
        if not 0.0 <= scalar_value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
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
            rho, eps, weight_decay = group["rho"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step(p, group["capturable"])
                    state["square_avg"] = zeros_state(p)
                    state["acc_delta"] = zeros_state(p)
                if group["capturable"]:
                    check_capturable_device(p, xla=False)
                increment_step(state["step"])
                g = grad_array(p, group["maximize"])
                if weight_decay != 0:
                    g = add_weight_decay(g, p._data, weight_decay)

                square_avg = state["square_avg"]._data
                acc_delta = state["acc_delta"]._data
                np.multiply(square_avg, rho, out=square_avg)
                addcmul_(square_avg, g, g, 1 - rho)
                std = np.sqrt(np.add(square_avg, eps))
                delta = np.sqrt(np.add(acc_delta, eps))
                np.divide(delta, std, out=delta)
                np.multiply(delta, g, out=delta)
                np.multiply(acc_delta, rho, out=acc_delta)
                addcmul_(acc_delta, delta, delta, 1 - rho)
                np.subtract(p._data, np.multiply(delta, lr), out=p._data)
                bump_version(p)
        return loss

"""RMSprop (optionally centered, with momentum)."""

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
    check_differentiable,
    check_tensor_lr,
    no_grad_step,
    scalar_value,
    set_step_defaults,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm, like torch.optim.RMSprop."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_tensor_lr(lr)
        if not 0.0 <= scalar_value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay,
                    "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, momentum=0, centered=False, foreach=None, maximize=False,
                          differentiable=False, capturable=False)

    def _state_of(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step(p, group["capturable"])
            state["square_avg"] = zeros_state(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros_state(p)
            if group["centered"]:
                state["grad_avg"] = zeros_state(p)
        return state

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self._state_of(p, group)
                if group["capturable"]:
                    check_capturable_device(p)
                g = grad_array(p, group["maximize"])
                param = p._data
                increment_step(state["step"])
                if weight_decay != 0:
                    g = add_weight_decay(g, param, weight_decay)

                square_avg = state["square_avg"]._data
                np.multiply(square_avg, alpha, out=square_avg)
                addcmul_(square_avg, g, g, 1 - alpha)
                if group["centered"]:
                    grad_avg = state["grad_avg"]._data
                    lerp_(grad_avg, g, 1 - alpha)
                    avg = square_avg.copy()
                    addcmul_(avg, grad_avg, grad_avg, -1)
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                np.add(avg, eps, out=avg)

                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    np.multiply(buf, momentum, out=buf)
                    addcdiv_(buf, g, avg, 1)
                    np.subtract(param, np.multiply(buf, lr), out=param)
                else:
                    addcdiv_(param, g, avg, -lr)
                bump_version(p)
        return loss

"""Rprop: resilient backpropagation (steps follow gradient signs, not magnitudes)."""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ._update import (
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

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Implements the resilient backpropagation algorithm, like torch.optim.Rprop."""

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_tensor_lr(lr)
        if not 0.0 <= scalar_value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
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
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step(p, group["capturable"])
                    state["prev"] = zeros_state(p)
                    xp = B.get_array_module(p._data)
                    state["step_size"] = Tensor._wrap(
                        xp.full_like(p._grad._data, scalar_value(group["lr"])))
                if group["capturable"]:
                    check_capturable_device(p)
                g = grad_array(p, group["maximize"])
                increment_step(state["step"])

                prev = state["prev"]._data
                step_size = state["step_size"]._data
                sign = np.sign(np.multiply(g, prev))
                grew, shrank, same = sign > 0, sign < 0, sign == 0
                sign[grew] = etaplus
                sign[shrank] = etaminus
                sign[same] = 1
                np.multiply(step_size, sign, out=step_size)
                np.clip(step_size, step_size_min, step_size_max, out=step_size)

                # after a sign change the step is skipped (and remembered as a zero gradient)
                g = g.copy()
                g[sign == etaminus] = 0
                addcmul_(p._data, np.sign(g), step_size, -1)
                prev[...] = g
                bump_version(p)
        return loss

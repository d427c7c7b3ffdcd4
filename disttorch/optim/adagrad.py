"""Adagrad (with learning-rate decay and an initial accumulator value)."""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ._update import (
    add_weight_decay,
    addcdiv_,
    addcmul_,
    bump_version,
    grad_array,
    increment_step,
    new_step,
)
from .adam import check_fused
from .optimizer import (
    Optimizer,
    call_closure,
    check_differentiable,
    check_tensor_lr,
    no_grad_step,
    scalar_value,
    set_step_defaults,
)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Implements the Adagrad algorithm, like torch.optim.Adagrad."""

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, foreach=None, *, maximize=False,
                 differentiable=False, fused=None):
        check_tensor_lr(lr)
        if not 0.0 <= scalar_value(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: "
                             f"{initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value,
                    "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_differentiable(differentiable)
        # unlike the other optimizers, Adagrad's state exists before the first step
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group, initial_accumulator_value)

    def _init_state(self, p, group, initial_value):
        state = self.state[p]
        state["step"] = new_step(p, group["fused"], group["fused"])
        xp = B.get_array_module(p._data)
        state["sum"] = Tensor._wrap(xp.full_like(p._data, initial_value))
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, foreach=None, maximize=False, differentiable=False,
                          fused=None)

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            weight_decay = group["weight_decay"]
            lr_decay = group["lr_decay"]
            eps = group["eps"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state = self._init_state(p, group,
                                             self.defaults["initial_accumulator_value"])
                step = increment_step(state["step"])
                g = grad_array(p, group["maximize"])
                param = p._data
                if weight_decay != 0:
                    g = add_weight_decay(g, param, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                state_sum = state["sum"]._data
                addcmul_(state_sum, g, g, 1)
                std = np.sqrt(state_sum)
                np.add(std, eps, out=std)
                addcdiv_(param, g, std, -clr)
                bump_version(p)
        return loss

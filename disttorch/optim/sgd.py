"""SGD: stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

import numpy as np

from .._tensor import Tensor
from ._update import add_weight_decay, bump_version, grad_array
from .optimizer import (
    Optimizer,
    call_closure,
    check_differentiable,
    check_tensor_lr,
    no_grad_step,
    scalar_value,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum), like torch.optim.SGD."""

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_tensor_lr(lr)
        if scalar_value(lr) < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if scalar_value(weight_decay) < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")

        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            weight_decay = scalar_value(group["weight_decay"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                g = grad_array(p, maximize)
                if weight_decay != 0:
                    g = add_weight_decay(g, p._data, weight_decay)
                if momentum != 0:
                    g = self._momentum(p, g, momentum, dampening, nesterov)
                # param - lr * g rounds the same as torch's param + (-lr) * g
                np.subtract(p._data, np.multiply(g, lr), out=p._data)
                bump_version(p)
        return loss

    def _momentum(self, p, g, momentum, dampening, nesterov):
        """Update the momentum buffer (the gradient itself on the first step); the step."""
        state = self.state[p]
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = Tensor._wrap(g.copy())
            state["momentum_buffer"] = buf
        else:
            b = buf._data
            np.multiply(b, momentum, out=b)
            if dampening == 0:
                np.add(b, g, out=b)
            else:
                np.add(b, np.multiply(g, 1 - dampening), out=b)
        if nesterov:
            return np.add(g, np.multiply(buf._data, momentum))
        return buf._data

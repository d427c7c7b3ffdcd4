"""Adam (with AMSGrad and optionally decoupled weight decay); AdamW derives from it."""

import numpy as np

from .._tensor import Tensor
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

__all__ = ["Adam"]


def check_adam_args(lr, betas, eps, weight_decay, foreach, capturable):
    """torch's argument checks for Adam-family optimizers (with its messages)."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        check_tensor_lr(lr)
    check_betas(lr, betas, eps, weight_decay)
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if not capturable and foreach:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                 "capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")


def check_fused(fused, foreach, differentiable):
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


class Adam(Optimizer):
    """Implements the Adam algorithm, like torch.optim.Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        check_adam_args(lr, betas, eps, weight_decay, foreach, capturable)
        betas = tuple(betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable,
                    "fused": fused, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_differentiable(differentiable)

    def __setstate__(self, state):
        super().__setstate__(state)
        set_step_defaults(self, amsgrad=False, maximize=False, foreach=None, capturable=False,
                          differentiable=False, decoupled_weight_decay=False, fused=None)

    def _state_of(self, p, group):
        state = self.state[p]
        if len(state) == 0:
            # the step counter stays on the host unless capturable or fused
            state["step"] = new_step(p, group["capturable"] or group["fused"], group["fused"])
            state["exp_avg"] = zeros_state(p)
            state["exp_avg_sq"] = zeros_state(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_state(p)
        return state

    @no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step; returns the closure's loss (if given)."""
        loss = call_closure(closure)
        for group in self.param_groups:
            lr = scalar_value(group["lr"])
            beta1, beta2 = (scalar_value(b) for b in group["betas"])
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            amsgrad = group["amsgrad"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self._state_of(p, group)
                if group["capturable"]:
                    check_capturable_device(p)
                g = grad_array(p, group["maximize"])
                param = p._data
                step_t = state["step"]
                step = increment_step(step_t)

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
                second = exp_avg_sq
                if amsgrad:
                    second = state["max_exp_avg_sq"]._data
                    np.maximum(second, exp_avg_sq, out=second)

                if group["capturable"]:
                    _capturable_update(param, exp_avg, second, step_t._data, lr, beta1,
                                       beta2, eps)
                else:
                    bias_correction1 = 1 - beta1 ** step
                    bias_correction2 = 1 - beta2 ** step
                    step_size = lr / bias_correction1
                    denom = np.sqrt(second)
                    np.divide(denom, bias_correction2 ** 0.5, out=denom)
                    np.add(denom, eps, out=denom)
                    addcdiv_(param, exp_avg, denom, -step_size)
                bump_version(p)
        return loss


def _capturable_update(param, exp_avg, second, step, lr, beta1, beta2, eps):
    """torch's capturable form: the bias corrections are computed from the device step
    tensor (in its float dtype) and folded into the denominator."""
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size_neg = -(lr / bias_correction1)
    denom = np.sqrt(second)
    np.divide(denom, np.sqrt(bias_correction2) * step_size_neg, out=denom)
    np.add(denom, eps / step_size_neg, out=denom)
    np.add(param, np.divide(exp_avg, denom), out=param)

"""torch.autograd: Function, backward, grad, grad modes, gradcheck, Variable."""

from .engine import backward, grad, queue_callback
from .function import Function
from .variable import Variable
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled, no_grad, set_grad_enabled)

__all__ = ["Function", "Variable", "gradcheck", "gradgradcheck", "GradcheckError",
           "backward", "grad", "queue_callback", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

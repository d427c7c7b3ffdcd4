"""The legacy torch.autograd.Variable: calling it returns a Tensor, and every Tensor is one."""

from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """Variable(tensor, requires_grad=False) -> a Tensor sharing the data (as torch does)."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if data is None:
            from .. import _backend as B

            data = Tensor._wrap(B.np.empty((0,), dtype=B.get_default_dtype().np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out

"""nn.Parameter and nn.Buffer: tensors that Modules register by assignment."""

from .._tensor import Tensor, _new


class Parameter(Tensor):
    """A leaf Tensor that a Module registers as a parameter (requires_grad by default)."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from .. import _backend as B

            data = Tensor._wrap(B.np.empty((0,), dtype=B.get_default_dtype().np))
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter data must be a Tensor, got {type(data).__name__}")
        p = _new(cls)
        p._data = data._data
        p._version = data._version
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self._data, self._requires_grad))


def _rebuild_parameter(data, requires_grad):
    return Parameter(Tensor._wrap(data), requires_grad)


class _BufferMeta(type):
    def __instancecheck__(cls, instance):
        return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)


class Buffer(metaclass=_BufferMeta):
    """nn.Buffer(tensor, persistent=True): marks a tensor to be registered as a buffer."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            from .. import _backend as B

            data = Tensor._wrap(B.np.empty((0,), dtype=B.get_default_dtype().np))
        out = data.detach()
        out._is_buffer = True
        out._persistent = persistent
        return out

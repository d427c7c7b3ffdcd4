"""parameters_to_vector and vector_to_parameters: all parameters as one flat vector."""

from ..._tensor import Tensor

__all__ = []


def _check_param_device(param, old_device):
    """The device index of the parameters so far (-1 for CPU); all must share one device."""
    index = param.get_device() if param.device.type != "cpu" else -1
    if old_device is not None and index != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return index


def parameters_to_vector(parameters):
    from ... import cat

    device = None
    pieces = []
    for param in parameters:
        device = _check_param_device(param, device)
        pieces.append(param.view(-1))
    return cat(pieces)


def _typename(value):
    if isinstance(value, Tensor):
        return value.type()
    kind = type(value)
    module = kind.__module__ or ""
    return kind.__qualname__ if module in ("", "builtins") else f"{module}.{kind.__qualname__}"


def vector_to_parameters(vec, parameters):
    """Copy slices of `vec` into the parameters (each then shares vec's memory)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_param_device(param, device)
        count = param.numel()
        param.data = vec[pointer:pointer + count].view_as(param).data
        pointer += count

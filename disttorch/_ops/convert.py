"""Conversions between dtypes and devices: to, type, float/double/..., cpu, cuda.

A conversion that changes nothing returns the tensor itself (as torch does); otherwise it
is one differentiable op whose backward converts the gradient back.
"""

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register

__all__ = []

_LEGACY_TYPES = {
    "torch.FloatTensor": B.float32, "torch.DoubleTensor": B.float64,
    "torch.HalfTensor": B.float16, "torch.ByteTensor": B.uint8, "torch.CharTensor": B.int8,
    "torch.ShortTensor": B.int16, "torch.IntTensor": B.int32, "torch.LongTensor": B.int64,
    "torch.BoolTensor": B.bool_,
}
if hasattr(B, "bfloat16"):
    _LEGACY_TYPES["torch.BFloat16Tensor"] = B.bfloat16

class ToCopy(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype, device, copy):
        data = x._data
        ctx.src = (B._FROM_NP[data.dtype], B.device_of(data))
        if dtype is not None and data.dtype != dtype.np:
            data = data.astype(dtype.np)
            copy = False
        if device is not None and B.device_of(data) != device:
            data = B.move_array(data, device)
            copy = False
        return data.copy() if copy else data

    @staticmethod
    def backward(ctx, grad):
        dtype, device = ctx.src
        return grad.to(dtype=dtype, device=device), None, None, None

def _parse_to(args, kwargs):
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    for a in args:
        if isinstance(a, B.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, B.device, int)):
            device = a
        elif a is not None:
            raise TypeError(f"to() received an invalid combination of arguments - got "
                            f"({type(a).__name__})")
    return dtype, B.as_device(device)

def to(self, *args, non_blocking=False, copy=False, memory_format=None, **kwargs):
    dtype, device = _parse_to(args, kwargs)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if device is not None and device.type == "cuda":
        B.array_module_for(device)  # raises torch's error when CUDA is unavailable
    same_dtype = dtype is None or self._data.dtype == dtype.np
    same_device = device is None or _same_device(self, device)
    if same_dtype and same_device and not copy:
        return self
    return ToCopy.apply(self, dtype, device, copy)

def _same_device(t, device):
    here = B.device_of(t._data)
    if device.type != here.type:
        return False
    return device.index is None or device.index == (here.index or 0)

def type_(self, dtype=None, non_blocking=False, **kwargs):
    if dtype is None:
        from .._tensor_str import type_name

        return type_name(self)
    if isinstance(dtype, str):
        name = dtype.replace("torch.cuda.", "torch.")
        if name not in _LEGACY_TYPES:
            raise ValueError(f"invalid type: '{dtype}'")
        target = _LEGACY_TYPES[name]
        out = to(self, target)
        return out.cuda() if "cuda" in dtype else out
    if isinstance(dtype, type) and isinstance(getattr(dtype, "dtype", None), B.dtype):
        return to(self, dtype.dtype)
    return to(self, dtype)

def _caster(dt):
    def cast(self, memory_format=None):
        return to(self, dt)

    cast.__name__ = dt.name
    return cast

def cpu(self, memory_format=None):
    return to(self, device=B.CPU)

def cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None:
        device = B.device("cuda", 0)
    elif isinstance(device, int):
        device = B.device("cuda", device)
    return to(self, device=B.as_device(device))

def type_as(self, other):
    return to(self, other.dtype)

def view_as_dtype(self, dtype):
    """Tensor.view(dtype): reinterpret the same memory as another dtype."""
    if self._data.itemsize != dtype.itemsize and self._data.ndim == 0:
        raise RuntimeError("self.dim() cannot be 0 to view with a different element size")
    out = Tensor._wrap(self._data.view(dtype.np))
    out._version = self._version
    out._base = self if self._base is None else self._base
    return out

register("to", to)
register("type", type_)
register("type_as", type_as)
register("cpu", cpu)
register("cuda", cuda)
for _name, _dt in (("float", B.float32), ("double", B.float64), ("half", B.float16),
                   ("long", B.int64), ("int", B.int32), ("short", B.int16),
                   ("char", B.int8), ("byte", B.uint8), ("bool", B.bool_)):
    register(_name, _caster(_dt))
if hasattr(B, "bfloat16"):
    register("bfloat16", _caster(B.bfloat16))

"""torch's legacy tensor types and dtype information.

`FloatTensor`, `LongTensor`, ... are constructors (`torch.FloatTensor([1, 2])`,
`torch.LongTensor(3)`) whose instances are plain Tensors; `isinstance(t, torch.FloatTensor)`
asks whether t is a CPU float32 tensor. `torch.Tensor(...)` and `Tensor.new(...)` are the
same legacy constructor with the default dtype or the tensor's own. `finfo`/`iinfo` describe
the numeric limits of a dtype as torch reports them.
"""

import sys
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Size, Tensor, bind, set_legacy_constructor
from ._python_data import from_array, from_python, is_array, is_sequence
from .creation import finish

__all__ = ["FloatTensor", "DoubleTensor", "HalfTensor", "ByteTensor", "CharTensor",
           "ShortTensor", "IntTensor", "LongTensor", "BoolTensor", "set_default_tensor_type",
           "finfo", "iinfo"]

# the C++ scalar names torch prints in its TensorOptions mismatch error
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half",
              "bfloat16": "c10::BFloat16", "uint8": "unsigned char", "int8": "signed char",
              "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _options(dtype, device):
    return (f"TensorOptions(dtype={_CPP_NAMES[dtype.name]}, device={device}, layout=Strided, "
            "requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def _type_name(value):
    if isinstance(value, B.dtype):
        return "torch.dtype"
    if isinstance(value, B.device):
        return "torch.device"
    return type(value).__name__


def _bad_arguments(args, kwargs):
    got = [_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()]
    bad = [k for k in kwargs if k != "device"]
    note = (f"      didn't match because some of the keywords were incorrect: {', '.join(bad)}\n"
            if bad else "")
    return TypeError(f"new() received an invalid combination of arguments - got "
                     f"({', '.join(got)}), but expected one of:\n"
                     " * (*, torch.device device = None)\n * (torch.Storage storage)\n"
                     f" * (Tensor other)\n * (tuple of ints size, *, torch.device device = None)"
                     f"\n{note} * (object data, *, torch.device device = None)\n{note}")


def legacy_new(dtype, device, args, kwargs, typed=True):
    """torch's legacy constructor: empty, alias of a tensor, uninitialised of a size, or data.
    A typed constructor (FloatTensor, Tensor.new) refuses to alias a tensor of another dtype;
    torch.Tensor(other) aliases any."""
    if kwargs.keys() - {"device"}:
        raise _bad_arguments(args, kwargs)
    device = B.as_device(kwargs.get("device", device))
    if not args:
        return finish(np.empty(0, dtype=dtype.np), device)
    first = args[0]
    if len(args) == 1 and isinstance(first, Tensor):
        if typed and first._data.dtype != dtype.np:
            raise TypeError(f"expected {_options(dtype, device or B.CPU)} (got "
                            f"{_options(first.dtype, first.device)})")
        return first.detach()
    if len(args) == 1 and not isinstance(first, Size) and (
            is_sequence(first) or is_array(first)):
        array = from_array(first, dtype, True) if is_array(first) else from_python(
            first, dtype)
        return finish(array, device)
    sizes = tuple(first) if len(args) == 1 and isinstance(first, Size) else args
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        for s in sizes:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                                   f"[{', '.join(map(str, sizes))}]")
        return finish(np.empty(tuple(int(s) for s in sizes), dtype=dtype.np), device)
    if len(args) == 1 and isinstance(first, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(first).__name__}'")
    if len(args) == 1 and isinstance(first, (float, bool, np.generic)):
        raise TypeError(f"new(): data must be a sequence (got {type(first).__name__})")
    raise _bad_arguments(args, kwargs)


def _tensor_constructor(cls, *args, **kwargs):
    """`torch.Tensor(...)` (and subclasses): the legacy constructor with the default dtype."""
    out = legacy_new(B.get_default_dtype(), None, args, kwargs, typed=False)
    return out if cls is Tensor else out.as_subclass(cls)


set_legacy_constructor(_tensor_constructor)


def new(self, *args, **kwargs):
    """Tensor.new: the legacy constructor with this tensor's dtype and device."""
    return legacy_new(self.dtype, self.device, args, kwargs)


bind("new", new)


class tensortype(type):
    """The metaclass of the legacy types: calling one constructs, isinstance checks dtype."""

    def __call__(cls, *args, **kwargs):
        return legacy_new(cls.dtype, None, args, kwargs)

    def __instancecheck__(cls, obj):
        return (isinstance(obj, Tensor) and obj._data.dtype == cls.dtype.np
                and B.device_of(obj._data).type == "cpu")


tensortype.__module__ = "disttorch"

_LEGACY_TYPES = {}


def _legacy_type(name, dtype):
    cls = tensortype(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                "__module__": "disttorch"})
    _LEGACY_TYPES["torch." + name] = cls
    return cls


FloatTensor = _legacy_type("FloatTensor", B.float32)
DoubleTensor = _legacy_type("DoubleTensor", B.float64)
HalfTensor = _legacy_type("HalfTensor", B.float16)
ByteTensor = _legacy_type("ByteTensor", B.uint8)
CharTensor = _legacy_type("CharTensor", B.int8)
ShortTensor = _legacy_type("ShortTensor", B.int16)
IntTensor = _legacy_type("IntTensor", B.int32)
LongTensor = _legacy_type("LongTensor", B.int64)
BoolTensor = _legacy_type("BoolTensor", B.bool_)
if hasattr(B, "bfloat16"):
    BFloat16Tensor = _legacy_type("BFloat16Tensor", B.bfloat16)
    __all__.append("BFloat16Tensor")


def set_default_tensor_type(t):
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
                  UserWarning, stacklevel=2)
    if isinstance(t, str):
        if t.startswith("torch.cuda."):
            raise TypeError(f"type {t} not available. Torch not compiled with CUDA enabled.")
        if t not in _LEGACY_TYPES:
            module, _, attr = t.rpartition(".")
            package = sys.modules[__name__.split(".")[0]]
            if module != "torch" or not hasattr(package, attr):
                raise AttributeError(f"module '{module}' has no attribute '{attr}'")
            t = getattr(package, attr)
        else:
            t = _LEGACY_TYPES[t]
    if not isinstance(t, tensortype):
        raise TypeError("invalid type object: only floating-point types are supported as the "
                        "default type")
    if not t.dtype.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    B.set_default_dtype(t.dtype)


# ---------------------------------------------------------------- finfo / iinfo


def _dtype_argument(fn, value):
    if not isinstance(value, B.dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not "
                        f"{type(value).__name__}")
    return value


class _Info:
    """Shared by finfo and iinfo: compare by value, unhashable, repr with %g numbers."""

    __hash__ = None
    _fields = ()

    def __eq__(self, other):
        return type(other) is type(self) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields)

    def __repr__(self):
        parts = [f"{f}={getattr(self, f):g}" for f in self._fields if f != "dtype"]
        return f"{type(self).__name__}({', '.join(parts)}, dtype={self.dtype})"


class finfo(_Info):
    """Machine limits of a floating-point dtype (torch.finfo)."""

    _fields = ("resolution", "min", "max", "eps", "smallest_normal", "tiny", "dtype")

    def __init__(self, type=None):
        dt = B.get_default_dtype() if type is None else _dtype_argument("finfo", type)
        if not dt.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use "
                            "torch.iinfo to handle 'torch.finfo'")
        if dt.np.kind == "f":
            info = np.finfo(dt.np)
        else:  # bfloat16 is an ml_dtypes extension type that np.finfo does not know
            import ml_dtypes

            info = ml_dtypes.finfo(dt.np)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)
        self.dtype = dt.name


class iinfo(_Info):
    """Limits of an integer dtype (torch.iinfo)."""

    _fields = ("min", "max", "dtype")

    def __init__(self, type=None):
        if type is None:
            raise TypeError('iinfo() missing 1 required positional arguments: "type"')
        dt = _dtype_argument("iinfo", type)
        if dt is B.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dt.category != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo "
                            "to handle 'torch.iinfo'")
        info = np.iinfo(dt.np)
        self.bits = int(info.bits)
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = dt.name


finfo.__module__ = iinfo.__module__ = "disttorch"

"""Tensor creation: tensor, as_tensor, asarray, from_numpy, zeros/ones/empty/full, *_like, new_*.

Python data follows torch's inference (promote_types over every leaf: floats take the default
dtype, ints int64, bools bool, NumPy scalars and arrays and Tensors their own dtype); NumPy
arrays keep their dtype, and from_numpy/as_tensor/asarray share their memory. The ranges
(arange, linspace, ...), the in-place fills (fill_, zero_, copy_) and the legacy types live
in sibling modules that this one re-exports, so the op family stays one entry in FAMILIES.
"""

import operator
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, bind
from ._python_data import checked_scalar, from_array, from_python, is_array, is_sequence

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "scalar_tensor", "zeros", "ones",
           "full", "empty", "zeros_like", "ones_like", "full_like", "empty_like"]

_PYTHON_DTYPES = {float: B.float64, int: B.int64, bool: B.bool_}
_COPY_WARNING = ("To copy construct from a tensor, it is recommended to use "
                 "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                 "requires_grad_(True), rather than torch.tensor(sourceTensor).")


def dtype_arg(dtype, fn):
    """A dtype argument: a torch dtype, or Python's float/int/bool as torch accepts them."""
    if dtype is None or type(dtype) is B.dtype:
        return dtype
    if dtype in _PYTHON_DTYPES:
        return _PYTHON_DTYPES[dtype]
    raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not {type(dtype).__name__}")


def finish(array, device=None, requires_grad=False):
    """Wrap a freshly made host array as a tensor on `device`, optionally requiring grad."""
    if device is not None:
        array = B.move_array(array, B.as_device(device))
    t = Tensor._wrap(array)
    if requires_grad:
        if array.dtype.kind not in "fV":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        t._requires_grad = True
    return t


def write_out(out, array):
    """Store a factory's result in `out=` (resizing it as torch does) and return it."""
    shape = array.shape
    if out._data.shape != shape:
        if out._data.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(shape)}. This behavior is deprecated, and in a future PyTorch release "
                "outputs will not be resized unless they have zero elements. You can explicitly "
                "reuse an out tensor t by resizing it, inplace, to zero elements with "
                "t.resize_(0).", UserWarning, stacklevel=3)
        out._data = B.move_array(array.astype(out._data.dtype, copy=False), out.device)
    else:
        out._data[...] = B.move_array(array, out.device)
    out._version[0] += 1
    return out


def out_dtype(out, dtype):
    """The dtype a factory computes in when given `out=` (out's, which dtype= must match)."""
    if dtype is not None and dtype is not out.dtype:
        from ._common import _legacy_name

        raise RuntimeError(f"dtype {_legacy_name(dtype)} does not match dtype of out parameter "
                           f"({_legacy_name(out.dtype)})")
    return out.dtype


# ---------------------------------------------------------------- scalars


def scalar_fill_dtype(value):
    """The dtype torch.full infers from its fill value (NumPy scalars count as Python's)."""
    if isinstance(value, (bool, np.bool_)):
        return B.bool_
    if isinstance(value, (int, np.integer)):
        return B.int64
    return B.get_default_dtype()


def _fill_value(value, fn, name="fill_value", position=2):
    """A Number argument: a Python or NumPy scalar, or a 0-d Tensor's value."""
    if isinstance(value, Tensor) and not value._data.ndim:
        return value.item()
    if not isinstance(value, (int, float, np.generic)) or isinstance(value, np.str_):
        raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Number, not "
                        f"{type(value).__name__}")
    return value


# ---------------------------------------------------------------- from data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    dtype = dtype_arg(dtype, "tensor")
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING, UserWarning, stacklevel=2)
        array = data._data
        array = array.copy() if dtype is None or array.dtype == dtype.np else array.astype(
            dtype.np)
    elif is_array(data):
        array = from_array(data, dtype, True)
    else:
        array = from_python(data, dtype)
    return finish(array, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    dtype = dtype_arg(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if is_array(data):
        return finish(from_array(data, dtype, False), device)
    return finish(from_python(data, dtype), device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    dtype = dtype_arg(dtype, "asarray")
    if isinstance(obj, Tensor):
        if requires_grad is None and obj._requires_grad:
            warnings.warn("torch.asarray: unspecified requires_grad now defaults to "
                          "obj.requires_grad instead of False. Pass requires_grad=False "
                          "explicitly to get the old behavior and silence this warning.",
                          UserWarning, stacklevel=2)
        if copy is False and dtype is not None and dtype is not obj.dtype:
            raise ValueError(f"can't alias tensor with dtype '{_legacy(obj.dtype)}' into dtype "
                             f"'{_legacy(dtype)}'.")
        out = obj.to(dtype=dtype, device=device)
        if copy and out is obj:
            out = obj.clone()
        if requires_grad is not None and requires_grad != out._requires_grad:
            out = out.detach().requires_grad_(requires_grad)
        return out
    if is_array(obj):
        if copy is False and dtype is not None and obj.dtype != dtype.np:
            raise ValueError(f"can't alias tensor with dtype "
                             f"'{_legacy(B.from_numpy_dtype(obj.dtype))}' into dtype "
                             f"'{_legacy(dtype)}'.")
        array = from_array(obj, dtype, bool(copy))
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        array = from_python(obj, dtype)
    return finish(array, device, bool(requires_grad))


def _legacy(dt):
    from ._common import _legacy_name

    return _legacy_name(dt)


_warned_readonly = []


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        name = type(ndarray).__name__
        if isinstance(ndarray, np.generic):
            name = "numpy." + name
        raise TypeError(f"expected np.ndarray (got {name})")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte "
                         "order. Conversion between byte orders is currently not supported.")
    if not ndarray.flags.writeable and not _warned_readonly:
        _warned_readonly.append(True)
        warnings.warn("The given NumPy array is not writable, and PyTorch does not support "
                      "non-writable tensors. This means writing to this tensor will result in "
                      "undefined behavior. You may want to copy the array to protect its data "
                      "or make it writable before converting it to a tensor. This type of "
                      "warning will be suppressed for the rest of this program.",
                      UserWarning, stacklevel=2)
    return Tensor._wrap(from_array(ndarray, None, False))


# ---------------------------------------------------------------- sizes and factories


def parse_size(args, fn, size=None, negative=None):
    """The size of `zeros(2, 3)`, `zeros((2, 3))` or `zeros(size=...)`, with torch's errors."""
    if size is not None:
        args = (size,)
    if not args:
        raise TypeError(f'{fn}() missing 1 required positional arguments: "size"')
    packed = len(args) == 1 and is_sequence(args[0])
    items = args[0] if packed else args
    if not packed and len(args) > 1 and is_sequence(args[0]):
        raise TypeError(f"{fn}() takes 1 positional argument but {len(args)} were given")
    shape = []
    for i, s in enumerate(items):
        if type(s) is not int:
            if isinstance(s, bool) or not isinstance(s, (int, np.integer, Tensor)):
                name = type(s).__name__
                if not packed and len(items) == 1:
                    raise TypeError(f"{fn}(): argument 'size' (position 1) must be tuple of "
                                    f"ints, not {name}")
                raise TypeError(f"{fn}(): argument 'size' failed to unpack the object at pos "
                                f"{i + 1} with error \"type must be tuple of ints,but got "
                                f"{name}\"")
            s = operator.index(s)
        shape.append(s)
    for s in shape:
        if s < 0:
            raise RuntimeError(negative or "Trying to create tensor with negative dimension "
                               f"{s}: [{', '.join(map(str, shape))}]")
    return tuple(shape)


def _factory(shape, fill, dtype, out, device, requires_grad):
    """zeros/ones/empty (`fill` is np.zeros, np.ones or np.empty) and full (a checked scalar)."""
    if out is not None:
        dtype = out_dtype(out, dtype)
    dt = dtype or B.get_default_dtype()
    if fill is np.zeros or fill is np.ones or fill is np.empty:
        array = fill(shape, dtype=dt.np)
    else:
        array = np.full(shape, fill, dtype=dt.np)
    if out is not None:
        return write_out(out, array)
    return finish(array, device, requires_grad)


def zeros(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    shape = parse_size(args, "zeros", size, "zeros: Dimension size must be non-negative.")
    return _factory(shape, np.zeros, dtype_arg(dtype, "zeros"), out, device, requires_grad)


def ones(*args, size=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    shape = parse_size(args, "ones", size)
    return _factory(shape, np.ones, dtype_arg(dtype, "ones"), out, device, requires_grad)


def empty(*args, size=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, memory_format=None):
    shape = parse_size(args, "empty", size)
    return _factory(shape, np.empty, dtype_arg(dtype, "empty"), out, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if not is_sequence(size):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    shape = parse_size((size,), "full")
    fill_value = _fill_value(fill_value, "full")
    dtype = dtype_arg(dtype, "full")
    if out is not None:
        dtype = out_dtype(out, dtype)
    dt = dtype or scalar_fill_dtype(fill_value)
    return _factory(shape, checked_scalar(fill_value, dt), dt, out, device, requires_grad)


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=False,
                  requires_grad=False):
    dt = dtype_arg(dtype, "scalar_tensor") or B.get_default_dtype()
    value = checked_scalar(_fill_value(s, "scalar_tensor", "s", 1), dt)
    return finish(np.array(value, dtype=dt.np), device, requires_grad)


def _like_args(input, fn, dtype, device):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    dtype = dtype_arg(dtype, fn) or B._FROM_NP[input._data.dtype]
    return dtype, input.device if device is None else device


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like_args(input, "zeros_like", dtype, device)
    return _factory(input._data.shape, np.zeros, dtype, None, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like_args(input, "ones_like", dtype, device)
    return _factory(input._data.shape, np.ones, dtype, None, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like_args(input, "empty_like", dtype, device)
    return _factory(input._data.shape, np.empty, dtype, None, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like_args(input, "full_like", dtype, device)
    value = checked_scalar(_fill_value(fill_value, "full_like"), dtype)
    return _factory(input._data.shape, value, dtype, None, device, requires_grad)


# ---------------------------------------------------------------- Tensor.new_*


def _new_args(self, fn, dtype, device):
    dtype = dtype_arg(dtype, fn) or B._FROM_NP[self._data.dtype]
    return dtype, self.device if device is None else device


def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    dtype, device = _new_args(self, "new_zeros", dtype, device)
    shape = parse_size(args, "new_zeros", size)
    return _factory(shape, np.zeros, dtype, None, device, requires_grad)


def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    dtype, device = _new_args(self, "new_ones", dtype, device)
    shape = parse_size(args, "new_ones", size)
    return _factory(shape, np.ones, dtype, None, device, requires_grad)


def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False,
              layout=None, pin_memory=False):
    dtype, device = _new_args(self, "new_empty", dtype, device)
    shape = parse_size(args, "new_empty", size)
    return _factory(shape, np.empty, dtype, None, device, requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    dtype, device = _new_args(self, "new_full", dtype, device)
    if not is_sequence(size):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    value = checked_scalar(_fill_value(fill_value, "new_full"), dtype)
    return _factory(parse_size((size,), "new_full"), value, dtype, None, device, requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    dtype, device = _new_args(self, "new_tensor", dtype, device)
    if isinstance(data, Tensor):
        warnings.warn(_COPY_WARNING.replace("torch.tensor(sourceTensor)",
                                            "tensor.new_tensor(sourceTensor)"),
                      UserWarning, stacklevel=2)
    return tensor(data._data if isinstance(data, Tensor) else data, dtype=dtype, device=device,
                  requires_grad=requires_grad)


for _fn in (new_zeros, new_ones, new_empty, new_full, new_tensor):
    bind(_fn.__name__, _fn)

# the sibling modules of this family; importing them binds their Tensor methods
from . import fill as _fill  # noqa: E402
from . import legacy as _legacy_types  # noqa: E402
from . import ranges as _ranges  # noqa: E402

__all__ += _ranges.__all__ + _fill.__all__ + _legacy_types.__all__
_SIBLINGS = {name: module for module in (_ranges, _fill, _legacy_types) for name in module.__all__}
del _fn


def __getattr__(name):
    """The siblings' names as attributes of this module (not globals: `range` is one)."""
    if name in _SIBLINGS:
        return getattr(_SIBLINGS[name], name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Tensor creation: tensor, as_tensor, from_numpy, zeros/ones/full/empty and their *_like.

Python data follows torch's inference: floats take the default dtype, ints int64, bools
bool; NumPy arrays keep their dtype (from_numpy and as_tensor share their memory).
"""

import numbers

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, set_legacy_constructor

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "full", "empty",
           "zeros_like", "ones_like", "full_like", "empty_like"]


def _infer_dtype(data):
    """torch's dtype for nested Python data: float beats int beats bool."""
    kind = 0
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            d = item.dtype
            if d.is_floating_point:
                return None  # the tensors' own dtype wins; resolved by numpy below
            kind = max(kind, d.category)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, numbers.Integral):
            kind = max(kind, 1)
        elif isinstance(item, numbers.Real):
            return B.get_default_dtype()
        elif isinstance(item, np.ndarray):
            return None
        else:
            raise TypeError(f"Could not infer dtype of {type(item).__name__}")
    return (B.bool_, B.int64)[kind] if kind < 2 else B.get_default_dtype()


def _to_array(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        if any(isinstance(x, (Tensor, list, tuple)) for x in data):
            items = [_to_array(x) for x in data]
            if items and not all(np.shape(i) == np.shape(items[0]) for i in items):
                raise ValueError(f"expected sequence of length {len(items[0]) if np.ndim(items[0]) else 0} "
                                 f"at dim 1 (got {len(items[-1]) if np.ndim(items[-1]) else 0})")
            return np.array([np.asarray(i) for i in items]) if items else np.array([])
    try:
        return np.asarray(data)
    except ValueError as error:
        raise ValueError(str(error)) from None


def _finish(array, dtype, device, requires_grad):
    device = B.as_device(device)
    if dtype is not None:
        np_dtype = dtype.np
        if array.dtype != np_dtype:
            array = array.astype(np_dtype)
    elif array.dtype not in B._FROM_NP:
        array = array.astype(B.from_numpy_dtype(array.dtype).np)
    if device is not None:
        array = B.move_array(array, device)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    if isinstance(data, Tensor):
        array = data._data.copy()
    elif isinstance(data, np.ndarray):
        array = data.copy()
        if array.dtype == np.float64 and dtype is None:
            dtype = B.float64
    else:
        inferred = _infer_dtype(data)
        array = np.array(_to_array(data), copy=True)
        if dtype is None:
            dtype = inferred
        if array.dtype.kind == "O":
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
    return _finish(array, dtype, device, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        out = data
        if dtype is not None and out.dtype is not dtype:
            out = out.to(dtype)
        if device is not None and out.device != B.as_device(device):
            out = out.to(device)
        return out
    xp = B.get_array_module(data)
    if isinstance(data, xp.ndarray):
        return _finish(data, dtype, device, False)
    return tensor(data, dtype=dtype, device=device)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    out = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype, device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray):
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    B.from_numpy_dtype(ndarray.dtype)
    return Tensor._wrap(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"expected a sequence of integers or a single integer, got "
                            f"'{size}'")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: "
                               f"[{', '.join(map(str, size))}]")
    return tuple(int(s) for s in size)


def _factory(fill, size, dtype, device, requires_grad):
    dtype = dtype or B.get_default_dtype()
    xp = B.array_module_for(B.as_device(device))
    if fill is None:
        array = xp.empty(size, dtype=dtype.np)
    elif fill == 0:
        array = xp.zeros(size, dtype=dtype.np)
    else:
        array = xp.full(size, fill, dtype=dtype.np)
    return _finish(array, None, device, requires_grad)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _factory(0, _size(size), dtype, device, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _factory(1, _size(size), dtype, device, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    return _factory(None, _size(size), dtype, device, requires_grad)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if dtype is None:
        dtype = B.scalar_dtype(fill_value)
    return _factory(fill_value, _size((size,)), dtype, device, requires_grad)


def _like(input, dtype, device):
    return dtype or input.dtype, device if device is not None else input.device


def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _factory(0, input._data.shape, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _factory(1, input._data.shape, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _factory(None, input._data.shape, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return _factory(fill_value, input._data.shape, dtype, device, requires_grad)


def _legacy_tensor(cls, *args, device=None):
    """torch.Tensor(...): float data from a sequence, or uninitialised of a given size."""
    dtype = B.get_default_dtype()
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
        out = tensor(args[0], dtype=dtype, device=device)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        out = args[0]
        return out if cls is Tensor else out.as_subclass(cls)
    else:
        out = empty(*args, dtype=dtype, device=device)
    if cls is not Tensor:
        out = out.as_subclass(cls)
    return out


set_legacy_constructor(_legacy_tensor)

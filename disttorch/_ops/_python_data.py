"""Python data and NumPy arrays to arrays of torch's dtypes, as torch converts them.

torch infers the dtype of nested Python data by promote_types over every leaf (Python floats
take the default dtype, ints int64, bools bool; NumPy scalars and arrays and Tensors their own
dtype), reports ragged nesting with its own messages, and checks that values fit an integer
dtype. NumPy's conversions differ on each of these, so they are spelled out here.
"""

import math
from collections.abc import Sequence

import numpy as np

from .. import _backend as B
from .._tensor import Tensor

# the C++ type names torch uses in "value cannot be converted to type X without overflow"
C_NAMES = {"bool": "bool", "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t",
           "int32": "int", "int64": "int64_t", "float16": "c10::Half",
           "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}
_NEGATIVE_STRIDES = (
    "At least one stride in the given numpy array is negative, and tensors with negative "
    "strides are not currently supported. (You can probably work around this by making a copy "
    "of your array  with array.copy().) ")


_LIMITS = {}  # dtype name -> (lowest, highest) finite value


def _limits(dt):
    limits = _LIMITS.get(dt.name)
    if limits is None:
        if dt.category == 1:
            info = np.iinfo(dt.np)
        elif dt.np.kind == "f":
            info = np.finfo(dt.np)
        else:  # bfloat16 is an ml_dtypes type that np.finfo does not know
            import ml_dtypes

            info = ml_dtypes.finfo(dt.np)
        kind = int if dt.category == 1 else float
        limits = _LIMITS[dt.name] = (kind(info.min), kind(info.max))
    return limits


def checked_scalar(value, dt):
    """A fill value as a Python scalar that dtype `dt` holds, refusing values that overflow
    it (torch's check; unsigned types let negatives down to -max wrap around)."""
    if isinstance(value, (Tensor, np.generic)):
        value = value.item()
    category = dt.category
    if category == 2:
        number = float(value)
        if abs(number) > _limits(dt)[1] and math.isfinite(number):
            raise RuntimeError(f"value cannot be converted to type {C_NAMES[dt.name]} without "
                               "overflow")
        return number
    if category == 0:
        return bool(value)
    lowest, highest = _limits(dt)
    if isinstance(value, float):
        ok = math.isfinite(value) and lowest <= value <= highest
        value = int(value) if ok else 0
    elif lowest == 0:
        ok = -highest <= value <= highest
    else:
        ok = lowest <= value <= highest
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {C_NAMES[dt.name]} without "
                           "overflow")
    return int(value) % (highest + 1) if lowest == 0 else int(value)


# ---------------------------------------------------------------- Python data


_SEQUENCES = (list, tuple, range)


def is_sequence(x):
    return isinstance(x, _SEQUENCES) or (
        isinstance(x, Sequence) and not isinstance(x, (str, bytes)))


_LEAF_DTYPES = {float: None, int: B.int64, bool: B.bool_}


def _leaf_dtype(x):
    if isinstance(x, bool):
        return B.bool_
    if isinstance(x, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
    if isinstance(x, np.generic):
        return B.from_numpy_dtype(x.dtype)
    if isinstance(x, int):
        return B.int64
    if isinstance(x, float):
        return B.get_default_dtype()
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _infer(seq, found_tensor):
    """torch's dtype for a sequence: promote_types over all leaves (None when empty)."""
    result = None
    kinds = set(map(type, seq))
    for kind in kinds & _LEAF_DTYPES.keys():
        d = _LEAF_DTYPES[kind] or B.get_default_dtype()
        result = d if result is None else B.promote_types(result, d)
    if kinds - _LEAF_DTYPES.keys():
        for item in seq:
            kind = type(item)
            if kind in _LEAF_DTYPES:
                continue
            if isinstance(item, Tensor):
                found_tensor.append(True)
                d = B._FROM_NP[item._data.dtype]
            elif isinstance(item, np.ndarray):
                d = B.from_numpy_dtype(item.dtype)
            elif is_sequence(item):
                d = _infer(item, found_tensor)
                if d is None:
                    d = B.get_default_dtype()
            else:
                d = _leaf_dtype(item)
            result = d if result is None else B.promote_types(result, d)
    return result


def _unwrap(data):
    """Nested data with every Tensor replaced by its host array."""
    if isinstance(data, Tensor):
        return data._data if isinstance(data._data, np.ndarray) else data._data.get()
    if is_sequence(data):
        return [_unwrap(x) for x in data]
    return data


def _raise_ragged(data, dt):
    """Re-walk data that NumPy refused, raising torch's error for the first bad element."""
    sizes = []
    seq = data
    while is_sequence(seq) or isinstance(seq, np.ndarray):
        if isinstance(seq, np.ndarray):
            sizes.extend(seq.shape)
            break
        sizes.append(len(seq))
        if not len(seq):
            break
        seq = seq[0]

    def walk(obj, dim):
        if dim == len(sizes):
            if is_sequence(obj):
                if dt.category == 2:
                    raise TypeError(f"must be real number, not {type(obj).__name__}")
                raise TypeError(f"'{type(obj).__name__}' object cannot be interpreted as an "
                                "integer")
            return
        if not (is_sequence(obj) or isinstance(obj, np.ndarray) and obj.ndim):
            raise TypeError("not a sequence")
        if len(obj) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} "
                             f"(got {len(obj)})")
        for item in obj:
            walk(item, dim + 1)

    walk(data, 0)


def _build(data, dt):
    """An array of dtype `dt` from nested Python data, with torch's overflow checks."""
    try:
        if dt.category != 1:
            with np.errstate(over="ignore"):  # float16 overflow gives inf, as in torch
                return np.array(data, dtype=dt.np)
        raw = np.array(data)
    except (ValueError, TypeError):
        _raise_ragged(data, dt)
        raise
    kind = raw.dtype.kind
    if kind in "uO":
        raise ValueError("Overflow when unpacking long long")
    if raw.dtype == dt.np:
        return raw
    if kind in "fi" and raw.size:
        info = np.iinfo(dt.np)
        low = -info.max if info.min == 0 and kind == "i" else info.min
        with np.errstate(invalid="ignore"):
            bad = not (raw.min() >= low and raw.max() <= info.max)  # NaN compares False
        if bad:
            raise RuntimeError(f"value cannot be converted to type {dt.name} without overflow")
    return raw.astype(dt.np)


def from_python(data, dtype):
    kind = type(data)
    if kind is float or kind is int or kind is bool:
        dt = dtype or (_LEAF_DTYPES[kind] or B.get_default_dtype())
        if dt.category == 1 or kind is int:
            return _build(data, dt)
        return np.array(data, dtype=dt.np)
    if is_sequence(data):
        found = []
        inferred = _infer(data, found)
        if found:
            data = _unwrap(data)
    else:
        inferred = _leaf_dtype(data)
    return _build(data, dtype or inferred or B.get_default_dtype())


def from_array(array, dtype, copy):
    """A NumPy (or CuPy) array converted to `dtype` (or a supported dtype); copied if asked."""
    if array.ndim and min(array.strides) < 0:
        raise ValueError(_NEGATIVE_STRIDES)
    if dtype is None:
        dtype = B.from_numpy_dtype(array.dtype)
    if array.dtype != dtype.np:
        with np.errstate(invalid="ignore", over="ignore"):
            return array.astype(dtype.np)
    return array.copy() if copy else array


def is_array(data):
    return isinstance(data, B.get_array_module(data).ndarray)

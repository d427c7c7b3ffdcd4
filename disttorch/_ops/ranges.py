"""Ranges and structured factories: arange, range, linspace, logspace, eye, tril/triu_indices.

Sizes and values follow torch's CPU kernels (not NumPy's), because they differ at the edges:
arange's size is `ceil((end - start) / step)` in double precision (integer arithmetic for
int64), integer dtypes truncate start and step first, and linspace/logspace fill the second
half backwards from `end` so that the last element is exactly `end`.
"""

import math
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from .creation import dtype_arg, finish, out_dtype, write_out

__all__ = ["arange", "range", "linspace", "logspace", "eye", "tril_indices", "triu_indices"]

_LEGACY = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int",
           "int64": "Long", "float16": "Half", "bfloat16": "BFloat16", "float32": "Float",
           "float64": "Double"}


def _number(value, fn, name, position):
    """A Number argument (Python, NumPy or 0-d Tensor) as a Python int or float."""
    if type(value) is int or type(value) is float:
        return value
    if isinstance(value, Tensor) and value._data.ndim == 0 or isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return value
    raise TypeError(f"{fn}(): argument '{name}' (position {position}) must be Number, not "
                    f"{type(value).__name__}")


def _not_implemented(kernel, dt):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_LEGACY[dt.name]}\'')


def _fmt(x):
    """A double as C++'s ostream prints it in torch's messages."""
    return f"{x:g}"


def _emit(array, dt, out, device, requires_grad):
    array = array.astype(dt.np, copy=False)
    if out is not None:
        return write_out(out, array)
    return finish(array, device, requires_grad)


def _acc_dtype(dt):
    """The dtype torch's CPU kernels accumulate in: int64 for integers, float32 for
    half precision, double otherwise."""
    if dt.category == 1:
        return np.int64
    return np.float32 if dt.itemsize == 2 else np.float64


def _check_range(start, end, step):
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {_fmt(start)} -> {_fmt(end)}")
    if not (step > 0 and end >= start or step < 0 and end <= start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    if end is None:
        start, end = 0, _number(start, "arange", "end", 1)
    else:
        start, end = _number(start, "arange", "start", 1), _number(end, "arange", "end", 2)
    step = _number(step, "arange", "step", 3)
    dtype = dtype_arg(dtype, "arange")
    if out is not None:
        dtype = out_dtype(out, dtype)
    if dtype is None:
        floating = any(type(v) is float for v in (start, end, step))
        dtype = B.get_default_dtype() if floating else B.int64
    if dtype is B.bool_:
        raise _not_implemented("arange_cpu", dtype)
    _check_range(start, end, step)
    if dtype is B.int64:
        xstart, xend, xstep = int(start), int(end), int(step)
        if xstep == 0:
            raise ValueError("step must be nonzero")
        sign = 1 if xstep > 0 else -1
        size = (xend - xstart + xstep - sign) // xstep
    else:
        size = math.ceil((float(end) - float(start)) / float(step))
        xstart, xstep = (int(start), int(step)) if dtype.category == 1 else (start, step)
    if not 0 <= size <= np.iinfo(np.int64).max:
        raise RuntimeError("invalid size, possible overflow?")
    return _emit(_affine(size, xstart, xstep, dtype), dtype, out, device, requires_grad)


def _affine(size, start, step, dt):
    """start + step * i for i < size, computed in the dtype torch's kernel accumulates in."""
    acc = _acc_dtype(dt)
    values = np.arange(size, dtype=acc)
    if step != 1:
        values *= acc(step)
    if start != 0:
        values += acc(start)
    return values


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warnings.warn("torch.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "torch.arange, which produces values in [start, end).", UserWarning,
                  stacklevel=2)
    start, end = _number(start, "range", "start", 1), _number(end, "range", "end", 2)
    step = _number(step, "range", "step", 3)
    dtype = dtype_arg(dtype, "range")
    if out is not None:
        dtype = out_dtype(out, dtype)
    dtype = dtype or B.get_default_dtype()
    _check_range(start, end, step)
    if dtype.category == 1:
        start, end, step = int(start), int(end), int(step)
        if step == 0:  # torch itself crashes here (integer division by zero)
            raise RuntimeError("step must be nonzero")
        size = abs(end - start) // abs(step) + 1  # C++ division truncates toward zero
    else:
        size = int((end - start) / step + 1)
    return _emit(_affine(size, start, step, dtype), dtype, out, device, requires_grad)


def _space_args(fn, start, end, steps, dtype, out):
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool):
        got = ", ".join(type(x).__name__ for x in (start, end, steps))
        extra = ", float base = 10.0" if fn == "logspace" else ""
        options = "".join(
            f" * ({a} start, {b} end, int steps{extra}, *, Tensor out = None, torch.dtype dtype "
            "= None, torch.layout layout = None, torch.device device = None, bool pin_memory = "
            "False, bool requires_grad = False)\n"
            for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
                         ("Number", "Number")))
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({got}), "
                        f"but expected one of:\n{options}")
    if isinstance(start, Tensor) and start._data.ndim or isinstance(end, Tensor) and (
            end._data.ndim):
        dims = [x._data.ndim if isinstance(x, Tensor) else 0 for x in (start, end)]
        raise RuntimeError(f"{fn} only supports 0-dimensional start and end tensors, but got "
                           f"start with {dims[0]} dimension(s) and end with {dims[1]} "
                           "dimension(s).")
    start, end = _number(start, fn, "start", 1), _number(end, fn, "end", 2)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtype_arg(dtype, fn)
    if out is not None:
        dtype = out_dtype(out, dtype)
    dtype = dtype or B.get_default_dtype()
    if dtype is B.bool_:
        raise _not_implemented(f"{fn}_cpu", dtype)
    return start, end, int(steps), dtype


def _halves(first, last, step, steps, work):
    """torch's symmetric fill: first + step*i in the first half, last - step*(n-1-i) after."""
    index = np.arange(steps).astype(work)
    halfway = steps // 2
    low = first + step * index[:halfway]
    high = last - step * (work(steps - 1) - index[halfway:])
    return np.concatenate([low, high])


def _as_scalar(value, dt):
    """`Scalar.to<scalar_t>()`: integers truncate (and wrap), floats round to the dtype."""
    if dt.category == 1:
        return np.array(int(value)).astype(dt.np)
    return dt.np.type(value)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    start, end, steps, dt = _space_args("linspace", start, end, steps, dtype, out)
    first, last = _as_scalar(start, dt), _as_scalar(end, dt)
    if steps <= 1:
        values = np.full(steps, first, dtype=dt.np)
    elif dt.category == 1:  # integers step in double precision and truncate
        step = (float(last) - float(first)) / (steps - 1)
        values = _halves(float(first), float(last), step, steps, np.float64)
    else:
        work = dt.np.type
        step = (last - first) / work(steps - 1)
        values = _halves(first, last, step, steps, work)
    return _emit(values, dt, out, device, requires_grad)


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None,
             device=None, requires_grad=False, pin_memory=False):
    start, end, steps, dt = _space_args("logspace", start, end, steps, dtype, out)
    if steps == 1:
        values = np.array([float(base) ** float(start)])
    else:
        first, last = _as_scalar(start, dt), _as_scalar(end, dt)
        step = float(last - first) / (steps - 1) if steps else 0.0
        exponents = _halves(float(first), float(last), step, steps, np.float64)
        if dt.category == 1:  # torch computes integer logspace with a float32 base
            base = float(np.float32(base))
        with np.errstate(invalid="ignore", over="ignore"):
            values = np.power(float(base), exponents)
    with np.errstate(invalid="ignore", over="ignore"):
        return _emit(values, dt, out, device, requires_grad)


def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    for name, value in (("n", n), ("m", m)):
        if value is None and name == "m":
            continue
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
            raise TypeError(f"eye(): argument '{name}' (position {1 + (name == 'm')}) must be "
                            f"int, not {type(value).__name__}")
        if value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    dtype = dtype_arg(dtype, "eye")
    if out is not None:
        dtype = out_dtype(out, dtype)
    dt = dtype or B.get_default_dtype()
    return _emit(np.eye(n, n if m is None else m, dtype=dt.np), dt, out, device, requires_grad)


def _tri_indices(fn, row, col, offset, dtype, device, lower):
    for name, value in (("row", row), ("col", col)):
        if value < 0:
            raise RuntimeError(f"{name} must be non-negative, got{value}")
    dtype = dtype_arg(dtype, fn) or B.int64
    if dtype.category != 1:
        raise _not_implemented(fn, dtype)
    rows, cols = np.indices((row, col)).reshape(2, -1)
    keep = cols - rows <= offset if lower else cols - rows >= offset
    indices = np.stack([rows[keep], cols[keep]]).astype(dtype.np)
    return finish(indices, device)


def tril_indices(row, col, offset=0, *, dtype=B.int64, device=None, layout=None):
    return _tri_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=B.int64, device=None, layout=None):
    return _tri_indices("triu_indices", row, col, offset, dtype, device, False)

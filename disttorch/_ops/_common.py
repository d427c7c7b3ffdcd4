"""What every op family shares: operand promotion, torch's error messages, sum_to, in-place.

Ops compute on raw arrays; these helpers turn Tensor/scalar arguments into arrays of
torch's result dtype, write torch's messages for broadcasting and dim errors, and give
in-place variants one implementation on top of the out-of-place op.
"""

import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _wrap_dim, bind
from ..autograd.grad_mode import state

_SCALARS = (int, float, bool)

# torch never warns about inf or nan results; NumPy does, attributing the warning to the op
# module that called the ufunc, or to numpy's own _methods for array methods such as .sum()
_QUIET_FILTER = dict(action="ignore", category=RuntimeWarning,
                     module=r"(disttorch\._ops\..*|numpy\._core\._methods)$")
_quiet_filters = None


def quiet():
    """Keep NumPy's floating-point RuntimeWarnings out of sight for disttorch's ops.

    The filter is added again whenever a `catch_warnings` block (pytest runs every test in
    one) has put a new filter list in place; otherwise it costs one identity check.
    """
    global _quiet_filters
    if warnings.filters is not _quiet_filters:
        warnings.filterwarnings(**_QUIET_FILTER)
        _quiet_filters = warnings.filters




def dtype_of(x):
    """The disttorch dtype of a Tensor or a Python scalar (weak)."""
    if isinstance(x, Tensor):
        return B._FROM_NP[x._data.dtype]
    return B.scalar_dtype(x)


def result_dtype(*operands):
    """torch.result_type over Tensors and Python scalars."""
    dims, zeros, wrapped = [], [], []
    for x in operands:
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zeros).append(B._FROM_NP[x._data.dtype])
        elif x is not None:
            wrapped.append(B.scalar_dtype(x))
    return B.result_type_of(dims, zeros, wrapped)


_INT_LIMITS = (-2 ** 63, 2 ** 64)


def scalar_array(value, dt, like=None):
    """A Python scalar as a 0-d array of dtype `dt` (on the device of `like`).

    Like torch (a C cast), integers out of the dtype's range wrap modulo 2**bits; only
    integers beyond 64 bits are refused.
    """
    xp = B.get_array_module(like) if like is not None else np
    if type(value) is int and not _INT_LIMITS[0] <= value < _INT_LIMITS[1]:
        raise OverflowError("int too big to convert" if value > 0 else
                            "can't convert negative int to unsigned")
    try:
        return xp.asarray(value, dtype=dt.np)
    except OverflowError:
        return xp.asarray(value % 2 ** 64, dtype=np.uint64).astype(dt.np)


def operands(a, b):
    """Arrays for a binary op: both of torch's result dtype. Returns (x, y, dtype)."""
    if type(b) is Tensor and type(a) is Tensor or isinstance(a, Tensor) and isinstance(
            b, Tensor):
        x, y = a._data, b._data
        if x.dtype is y.dtype or x.dtype == y.dtype:
            return x, y, B._FROM_NP[x.dtype]
        dt = result_dtype(a, b)
        return _cast(x, dt), _cast(y, dt), dt
    if isinstance(a, Tensor):
        dt = result_dtype(a, b)
        return _cast(a._data, dt), _scalar(b, dt, a._data), dt
    if isinstance(b, Tensor):
        dt = result_dtype(a, b)
        return _scalar(a, dt, b._data), _cast(b._data, dt), dt
    raise TypeError(f"expected at least one Tensor operand, got {type(a).__name__} and "
                    f"{type(b).__name__}")


def _scalar(value, dt, like):
    if isinstance(value, Tensor):
        return _cast(value._data, dt)
    if not isinstance(value, (*_SCALARS, np.generic)):
        raise TypeError(f"unsupported operand type: {type(value).__name__}")
    return scalar_array(value, dt, like)


def _cast(x, dt):
    return x if x.dtype == dt.np else x.astype(dt.np)


def to_float(x):
    """Array of a Tensor for float-only ops: integers and bools go to the default dtype."""
    d = x._data
    if d.dtype.kind in "fV":
        return d
    return d.astype(B.get_default_dtype().np)


def broadcast_shapes(*shapes):
    """torch.broadcast_shapes, raising torch's message (dims counted in the result)."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = [1] * ndim
    for i in range(ndim - 1, -1, -1):
        for shape in padded:
            size = shape[i]
            if out[i] == 1:
                out[i] = size
            elif size != 1 and size != out[i]:
                raise RuntimeError(
                    f"The size of tensor a ({out[i]}) must match the size of tensor b ({size}) "
                    f"at non-singleton dimension {i}")
    return tuple(out)


def raise_broadcast_error(*shapes):
    """Called when NumPy refused to broadcast: raise torch's RuntimeError instead."""
    broadcast_shapes(*shapes)
    raise RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast")


def shape_of(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def sum_to(grad, shape):
    """Reduce a broadcast gradient back to `shape` (differentiable: uses Tensor ops)."""
    gshape = grad._data.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if axes:
        grad = grad.sum(axes, keepdim=True)
    if lead or grad._data.shape != shape:
        grad = grad.reshape(shape)
    return grad


def wrap_dim(dim, ndim):
    return _wrap_dim(dim, ndim)


def wrap_dims(dims, ndim):
    """A dim argument (None, int, or sequence) as a sorted tuple of non-negative axes."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, (int, np.integer)):
        return (_wrap_dim(dims, ndim),)
    wrapped = [_wrap_dim(d, ndim) for d in dims]
    seen = set()
    for d in wrapped:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return tuple(sorted(wrapped))


# ---------------------------------------------------------------- in-place variants


def check_inplace(self):
    """torch's refusal to modify a leaf that requires grad in place while grad is on."""
    if self._requires_grad and self._grad_fn is None and state.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def needs_graph(*args):
    if not state.enabled:
        return False
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    return False


def commit_inplace(self, result):
    """Write an out-of-place result into `self` and give `self` its history (in-place op)."""
    check_inplace(self)
    if result._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the "
                           f"broadcast shape {list(result._data.shape)}")
    rd, sd = B._FROM_NP[result._data.dtype], B._FROM_NP[self._data.dtype]
    if rd is not sd and not B.can_cast(rd, sd):
        raise RuntimeError(f"result type {_legacy_name(rd)} can't be cast to the desired output "
                           f"type {_legacy_name(sd)}")
    if self._base is not None and result._requires_grad:
        from .shape import rebase_view_history

        rebase_view_history(self, result)
        return self
    self._data[...] = result._data
    self._version[0] += 1
    if result._requires_grad:
        self._grad_fn = result._grad_fn
        self._output_nr = result._output_nr
        self._requires_grad = True
        if "_views" in self.__dict__:  # views taken before must not keep the old history
            from .views import refresh_views

            refresh_views(self)
    return self


def snapshot(t):
    """For in-place ops with autograd: the input as it is now, safe to save for backward."""
    s = Tensor._wrap(t._data.copy())
    if t._requires_grad:
        s._requires_grad = True
        s._grad_fn = t._grad_fn
        s._output_nr = t._output_nr
        if t._grad_fn is None:
            from ..autograd.function import accumulator_of

            s._acc_ref = t.__dict__.get("_acc_ref")
            if s._acc_ref is None or s._acc_ref() is None:
                accumulator_of(t)
                s._acc_ref = t._acc_ref
    return s


_LEGACY = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
           "int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
           "bool": "Bool"}


def _legacy_name(dt):
    return _LEGACY[dt.name]


def make_inplace(fn, ufunc=None):
    """The in-place variant of a binary op `fn(self, other)`.

    Without autograd it computes straight into self's memory (the ufunc's `out=`); with
    autograd it runs the differentiable op on a snapshot of self and commits the result.
    """

    def inplace(self, other, *args, **kwargs):
        if needs_graph(self, other):
            return commit_inplace(self, fn(snapshot(self), other, *args, **kwargs))
        if ufunc is not None and not args and not kwargs:
            if not self._data.flags.writeable:
                from .views import check_writable

                check_writable(self)
            x, y, dt = operands(self, other)
            sd = B._FROM_NP[self._data.dtype]
            out_shape = broadcast_shapes(self._data.shape, shape_of(other))
            if out_shape != self._data.shape:
                raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match "
                                   f"the broadcast shape {list(out_shape)}")
            if dt is not sd and not B.can_cast(dt, sd):
                raise RuntimeError(f"result type {_legacy_name(dt)} can't be cast to the "
                                   f"desired output type {_legacy_name(sd)}")
            try:
                ufunc(x, y, out=self._data, casting="unsafe")
            except ValueError:
                broadcast_shapes(self._data.shape, shape_of(other))
                raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match "
                                   f"the broadcast shape "
                                   f"{list(broadcast_shapes(self._data.shape, shape_of(other)))}"
                                   ) from None
            self._version[0] += 1
            return self
        return commit_inplace(self, fn(self, other, *args, **kwargs))

    inplace.__name__ = fn.__name__ + "_"
    return inplace


def make_unary_inplace(fn):
    """The in-place variant of a unary op `fn(self, *args)`."""

    def inplace(self, *args, **kwargs):
        source = snapshot(self) if needs_graph(self) else self
        return commit_inplace(self, fn(source, *args, **kwargs))

    inplace.__name__ = fn.__name__ + "_"
    return inplace


def register(name, fn, *, method=True, inplace=None, dunders=()):
    """Expose an op as `disttorch.<name>` (via the ops' __all__), a Tensor method,
    its in-place method `<name>_` and any operator names."""
    if method:
        bind(name, fn)
    if inplace is not None:
        bind(name + "_", inplace)
    for dunder in dunders:
        bind(dunder, fn)
    return fn


quiet()

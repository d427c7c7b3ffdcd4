"""What the elementwise families share: operator wrappers, torch's messages, grad fitting.

elementwise.py (arithmetic), math.py and binary_math.py (math functions) and compare.py
(comparisons, logic, where, clamp) build their ops on these helpers.
"""


import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import AccumulateGrad, Op
from ..autograd.grad_mode import state
from ._common import (
    _legacy_name,
    check_inplace,
    commit_inplace,
    needs_graph,
    operands,
    quiet,
    raise_broadcast_error,
    result_dtype,
    scalar_array,
    snapshot,
    sum_to,
)

OPERAND_TYPES = (Tensor, int, float, bool, np.generic)

# C++ names torch uses in its messages: c10's for scalar overflow, the demangled type names
# (typeid) for dtype mismatches
C_TYPE_NAMES = {"bool": "bool", "uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t",
                "int32": "int", "int64": "int64_t", "float16": "c10::Half",
                "bfloat16": "c10::BFloat16", "float32": "float", "float64": "double"}
CPP_TYPE_NAMES = dict(C_TYPE_NAMES, uint8="unsigned char", int8="signed char",
                      int16="short int", int64="long int")


def binary(ufunc, x, y, a, b, *extra):
    """ufunc(x, y, *extra), with torch's message when a and b don't broadcast."""
    quiet()
    try:
        return ufunc(x, y, *extra)
    except ValueError:
        raise_broadcast_error(a._data.shape if isinstance(a, Tensor) else (),
                              b._data.shape if isinstance(b, Tensor) else ())


def float_operands(a, b):
    """Arrays of a binary op that computes in floating point: like `operands`, but integer
    and bool inputs go straight to the default float dtype (not via their common integer
    type, which would wrap -1 to 255 for int8 with uint8)."""
    if result_dtype(a, b).category == 2:
        return operands(a, b)[:2]
    fdt = B.get_default_dtype()
    return _as_float(a, b, fdt), _as_float(b, a, fdt)


def _as_float(value, other, fdt):
    if isinstance(value, Tensor):
        return value._data.astype(fdt.np)
    return scalar_array(value, fdt, other._data)


def not_implemented(kernel, dtype):
    """torch's error for a dtype a kernel has no implementation for."""
    raise NotImplementedError(f'"{kernel}" not implemented for \'{_legacy_name(dtype)}\'')


def check_int_divisor(y):
    """Integer division by zero is an error in torch (floats give inf/nan)."""
    if not y.all():
        raise RuntimeError("ZeroDivisionError")


def type_error(fname, value, name="other", position=2):
    raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, not "
                    f"{type(value).__name__}")


def invalid_arguments(fname, *args):
    """torch's message for an argument combination no overload accepts."""
    got = ", ".join("Tensor" if isinstance(a, Tensor) else type(a).__name__ for a in args)
    raise TypeError(f"{fname}() received an invalid combination of arguments - got ({got}), "
                    "but expected one of:")


def check_operands(fname, input, other):
    """Called when an op raised TypeError: name the argument that is not a Tensor/number."""
    if not isinstance(input, OPERAND_TYPES):
        type_error(fname, input, "input", 1)
    if not isinstance(other, OPERAND_TYPES):
        type_error(fname, other)


def operator(fn, swap=False):
    """A binary operator method from an Op class or a function of (input, other).

    It returns NotImplemented for operands that are not numbers or Tensors, so Python raises
    its own `unsupported operand type(s)` TypeError.
    """
    if isinstance(fn, type):
        fn = fn.apply

    if swap:
        def method(self, other):
            try:
                return fn(other, self)
            except TypeError:
                if isinstance(other, OPERAND_TYPES):
                    raise
                return NotImplemented
    else:
        def method(self, other):
            try:
                return fn(self, other)
            except TypeError:
                if isinstance(other, OPERAND_TYPES):
                    raise
                return NotImplemented
    return method


def fit_grad(ctx, index, grad):
    """A gradient for input `index`, summed over broadcast dims and cast to its dtype."""
    node, nr = ctx._next[index]
    if type(node) is AccumulateGrad:
        data = node.variable._data
        shape, dtype = data.shape, data.dtype
    else:
        meta = node._out_meta
        if nr >= len(meta) or meta[nr] is None:
            return grad
        shape, dtype = meta[nr]
    if grad._data.shape != shape:
        grad = sum_to(grad, shape)
    if grad._data.dtype != dtype:
        grad = grad.to(B._FROM_NP[dtype])
    return grad


def compute(formula, *operands):
    """formula(*operands), an arithmetic expression of Tensors and numbers.

    In a backward that records no graph (no create_graph) it runs on the arrays, which gives
    the same numbers without the per-op cost of Tensor ops; operands of different dtypes keep
    the Tensor path so torch's promotion applies.
    """
    if state.enabled:
        return formula(*operands)
    quiet()
    arrays = []
    dtype = None
    for t in operands:
        if isinstance(t, Tensor):
            t = t._data
            if dtype is None:
                dtype = t.dtype
            elif t.dtype != dtype:
                return formula(*operands)
        arrays.append(t)
    out = formula(*arrays)
    if out.dtype != dtype:  # NumPy takes bfloat16 with a Python float to float32
        out = out.astype(dtype)
    return Tensor._wrap(out)


def zero_grads(ctx, grad):
    """Zero gradients for every input that needs one (ops with a zero derivative)."""
    d = grad._data
    zero = Tensor._wrap(B.get_array_module(d).zeros(d.shape, dtype=d.dtype))
    return tuple(fit_grad(ctx, i, zero) if need else None
                 for i, need in enumerate(ctx.needs_input_grad))


def saved_pair(ctx, a, b):
    """Save the Tensor operands of a binary op for backward (scalars go on ctx)."""
    if ctx.needs_input_grad:
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            ctx.save_for_backward(a, b)
            return
        ctx.save_for_backward(a if isinstance(a, Tensor) else None,
                              b if isinstance(b, Tensor) else None)
        ctx.scalars = (a, b)


def load_pair(ctx):
    a, b = ctx.saved_tensors
    return (ctx.scalars[0] if a is None else a), (ctx.scalars[1] if b is None else b)


class NoDerivative(Op):
    """An op whose result requires grad but whose derivative torch does not implement."""

    node_name = "torch::autograd::NotImplemented"
    aten = ""

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(f"derivative for aten::{ctx.aten} is not implemented")


def inplace_op(fn):
    """The in-place form `name_` of `fn(self, *args)`: torch's leaf check first, then the
    out-of-place op (on a snapshot of self when autograd records it) written into self."""

    def inplace(self, *args, **kwargs):
        check_inplace(self)
        source = snapshot(self) if needs_graph(self, *args, *kwargs.values()) else self
        return commit_inplace(self, fn(source, *args, **kwargs))

    inplace.__name__ = inplace.__qualname__ = fn.__name__ + "_"
    return inplace


def inplace_operator(method_name):
    """`+=`-style operator from an in-place method; NotImplemented for non-operands so that
    Python raises its `unsupported operand type(s)` TypeError."""

    def inplace(self, other):
        if not isinstance(other, OPERAND_TYPES):
            return NotImplemented
        return getattr(self, method_name)(other)  # looked up late: pow_ is bound later

    return inplace


def require_tensors(fname, input, other):
    """torch's TypeError for ops whose two operands must both be Tensors."""
    if not isinstance(input, Tensor):
        type_error(fname, input, "input", 1)
    if not isinstance(other, Tensor):
        type_error(fname, other)


def in_float32(fn, data, *args):
    """fn(data, *args), run in float32 for half-precision arrays as torch's kernels do."""
    quiet()
    dtype = data.dtype
    if dtype.itemsize == 2 and dtype.kind in "fV":
        args = tuple(a.astype(np.float32) if hasattr(a, "astype") else a for a in args)
        return fn(data.astype(np.float32), *args).astype(dtype)
    return fn(data, *args)


def where(condition, input, other):
    """torch.where, for backward formulas (compare.py is imported after this module)."""
    from .compare import where as where_op

    return where_op(condition, input, other)

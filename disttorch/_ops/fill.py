"""Writing whole tensors: fill/fill_, zero_, copy_ (with autograd through the copied source).

Without a graph these write straight into the tensor's memory and bump its version. When
autograd is recording, each is one Op on the tensor's previous history: the overwritten
values get a zero gradient, a tensor fill value gets the summed gradient, and copy_'s source
gets the gradient converted back to its dtype and un-broadcast to its shape.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import broadcast_shapes, check_inplace, commit_inplace, needs_graph, register, sum_to
from ._python_data import checked_scalar

__all__ = ["fill", "fill_", "zero_"]

_NUMBERS = (int, float, np.generic)
_OVERLAP = ("unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation.")


def _zeros(grad):
    xp = B.get_array_module(grad._data)
    return Tensor._wrap(xp.zeros_like(grad._data))


def _write(self, value):
    """Assign an array or scalar into self's memory (broadcasting), bumping its version."""
    try:
        self._data[...] = value
    except ValueError:
        if not self._data.flags.writeable:
            raise RuntimeError(_OVERLAP) from None
        raise
    self._version[0] += 1
    return self


def _bad_fill(fn, value):
    name = type(value).__name__
    return TypeError(f"{fn}() received an invalid combination of arguments - got ({name}), but "
                     f"expected one of:\n * (Tensor value)\n      didn't match because some of "
                     f"the arguments have invalid types: (!{name}!)\n * (Number value)\n      "
                     f"didn't match because some of the arguments have invalid types: "
                     f"(!{name}!)\n")


class Fill(Op):
    node_name = "FillBackward0"

    @staticmethod
    def forward(ctx, x, value):
        xp = B.get_array_module(x._data)
        return xp.full(x._data.shape, value, dtype=x._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (_zeros(grad) if ctx.needs_input_grad[0] else None), None


class FillTensor(Op):
    node_name = "FillBackward1"

    @staticmethod
    def forward(ctx, x, value):
        data = value._data.astype(x._data.dtype)
        ctx.value_dtype = B._FROM_NP[value._data.dtype]
        return B.move_array(np.broadcast_to(data, x._data.shape).copy(), x.device)

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        return (_zeros(grad) if flags[0] else None,
                grad.sum().to(ctx.value_dtype) if flags[1] else None)


class FillInplace(Fill):
    node_name = "FillBackward2"


class FillTensorInplace(FillTensor):
    node_name = "FillBackward3"


def _fill_arg(self, value, fn):
    """(scalar array, None) for a Number, (None, tensor) for a value tensor."""
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"{fn} only supports 0-dimension value tensor but got tensor "
                               f"with {value._data.ndim} dimensions.")
        return None, value
    if not isinstance(value, _NUMBERS) or isinstance(value, np.str_):
        raise _bad_fill(fn, value)
    return checked_scalar(value, B._FROM_NP[self._data.dtype]), None


def fill(input, value):
    scalar, tensor = _fill_arg(input, value, "fill")
    if tensor is not None:
        return FillTensor.apply(input, tensor)
    return Fill.apply(input, scalar)


def fill_(self, value):
    scalar, tensor = _fill_arg(self, value, "fill_")
    if needs_graph(self, tensor):
        check_inplace(self)
        if tensor is not None:
            return commit_inplace(self, FillTensorInplace.apply(self, tensor))
        return commit_inplace(self, FillInplace.apply(self, scalar))
    if tensor is not None:  # a tensor value converts without torch's overflow check
        scalar = B.move_array(tensor._data, self.device).astype(self._data.dtype)
    return _write(self, scalar)


class Zero(Op):
    node_name = "ZeroBackward0"

    @staticmethod
    def forward(ctx, x):
        return B.get_array_module(x._data).zeros_like(x._data)

    @staticmethod
    def backward(ctx, grad):
        return _zeros(grad)


def zero_(self):
    if needs_graph(self):
        check_inplace(self)
        return commit_inplace(self, Zero.apply(self))
    return _write(self, 0)


class Copy(Op):
    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        data = src._data
        ctx.src = (data.shape, B._FROM_NP[data.dtype], src.device)
        out = B.get_array_module(x._data).empty_like(x._data)
        out[...] = B.move_array(data, x.device)
        return out

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        shape, dtype, device = ctx.src
        g_src = None
        if flags[1]:
            g_src = sum_to(grad, shape).to(dtype=dtype, device=device)
        return (_zeros(grad) if flags[0] else None), g_src


def _check_copy_shapes(dst, src):
    shape = broadcast_shapes(dst, src)
    if shape != tuple(dst):
        raise RuntimeError(f"output with shape {list(dst)} doesn't match the broadcast shape "
                           f"{list(shape)}")


def copy_(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        if not isinstance(src, _NUMBERS) or isinstance(src, np.str_):
            raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(src).__name__}")
        return _write(self, np.array(src).astype(self._data.dtype))
    if src._data.shape != self._data.shape:
        _check_copy_shapes(self._data.shape, src._data.shape)
    if needs_graph(self, src):
        check_inplace(self)
        return commit_inplace(self, Copy.apply(self, src))
    data = src._data
    if type(data) is not np.ndarray or type(self._data) is not np.ndarray:
        data = B.move_array(data, self.device)
    return _write(self, data)


register("fill", fill, method=False)
register("fill_", fill_)
register("zero_", zero_)
register("copy_", copy_)

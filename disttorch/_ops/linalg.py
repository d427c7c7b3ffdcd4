"""Linear algebra: matmul and its 2-D / batched forms (mm, bmm, mv, dot, ...).

matmul is a primitive (NumPy does not fuse): one BLAS call forward, two in backward.
"""

from ..autograd.function import Op
from ._common import register

__all__ = ["mm", "matmul"]


def _dims(shape):
    return "x".join(str(s) for s in shape)


class Mm(Op):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.ndim != 2 or y.ndim != 2:
            which, t = ("self", a) if x.ndim != 2 else ("mat2", b)
            raise RuntimeError(f"{which} must be a matrix")
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(x.shape)} "
                               f"and {_dims(y.shape)})")
        if x.dtype != y.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                               f"{_name(x)} != {_name(y)}")
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
        return x @ y

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (grad.mm(b.t()) if flags[0] else None,
                a.t().mm(grad) if flags[1] else None)


def _name(x):
    from .. import _backend as B

    return str(B._FROM_NP[x.dtype])


def mm(input, mat2):
    return Mm.apply(input, mat2)


def matmul(input, other):
    if input._data.ndim == 2 and other._data.ndim == 2:
        x, y = input._data, other._data
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(x.shape)} "
                               f"and {_dims(y.shape)})")
        return Mm.apply(input, other)
    from .linalg_more import matmul_nd

    return matmul_nd(input, other)


def _rmatmul(self, other):
    return matmul(other, self)


register("mm", mm)
register("matmul", matmul, dunders=("__matmul__",))
register("__rmatmul__", _rmatmul)

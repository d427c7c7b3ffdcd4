"""Linear algebra, matrix products: mm, bmm, mv, dot, vdot and matmul of every rank.

matmul is a primitive (NumPy does not fuse): one BLAS call forward, two in backward, and
batched operands with a 2-D partner are folded into one large GEMM. Backward formulas are
products again, so higher-order gradients work. Half-precision floats are multiplied in
float32 (torch accumulates them in float32 too) and rounded back.
"""

import numpy as np

from .. import _backend as B
from ..autograd.function import Op
from ._common import _legacy_name, raise_broadcast_error, register, sum_to

__all__ = ["mm", "matmul", "bmm", "mv", "dot", "vdot"]

# c10's C++ type names, which some of torch's messages print
_CTYPE = {"float16": "c10::Half", "bfloat16": "c10::BFloat16", "float32": "float",
          "float64": "double", "int64": "long int", "int32": "int", "int16": "short int",
          "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _dims(shape):
    return "x".join(str(s) for s in shape)


def _legacy(x):
    """torch's scalar type name of an array ('Float', 'Long', ...)."""
    return _legacy_name(B._FROM_NP[x.dtype])


def _ctype(x):
    return _CTYPE[B._FROM_NP[x.dtype].name]


def _no_bool(x, kernel):
    if x.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


# dtypes whose product is a plain `x @ y` (not half precision, not bool)
_PLAIN = frozenset("fdlqihbBHIL")


def product(x, y):
    """x @ y on arrays: one BLAS call; half precision goes through float32."""
    if x.dtype.itemsize == 2 and x.dtype.kind in "fV":
        return (x.astype(np.float32) @ y.astype(np.float32)).astype(x.dtype)
    if x.ndim > 2 and y.ndim <= 2 and x.flags.c_contiguous:
        # (..., m, k) @ (k, n) as one (prod, k) @ (k, n) GEMM instead of a loop over batches
        return (x.reshape(-1, x.shape[-1]) @ y).reshape(x.shape[:-1] + y.shape[1:])
    return x @ y


def _scale(t, factor):
    return t if factor == 1 else t * factor


# ---------------------------------------------------------------- mm, bmm, mv, dot


class Mm(Op):
    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[0] or x.dtype != y.dtype:
            _mm_errors(x, y)
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
        if x.dtype.char in _PLAIN:  # the hot path: one BLAS call, nothing else
            return x @ y
        _no_bool(x, "addmm_impl_cpu_")
        return product(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (grad.mm(b.t()) if flags[0] else None,
                a.t().mm(grad) if flags[1] else None)


def _mm_errors(x, y):
    if x.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if y.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if x.shape[1] != y.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(x.shape)} "
                           f"and {_dims(y.shape)})")
    raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {_ctype(x)} != "
                       f"{_ctype(y)}")


class Bmm(Op):
    node_name = "BmmBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        if x.ndim != 3:
            raise RuntimeError("batch1 must be a 3D tensor")
        if y.ndim != 3:
            raise RuntimeError("batch2 must be a 3D tensor")
        _check_batch2(x.shape[0], x.shape[2], y.shape[0], y.shape[1])
        if x.dtype != y.dtype:
            raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
        _no_bool(x, "bmm")
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
        return product(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (grad.bmm(b.mT) if flags[0] else None,
                a.mT.bmm(grad) if flags[1] else None)


def _check_batch2(batch, k, batch2, k2):
    if batch2 != batch or k2 != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{batch}, {k}] but got: [{batch2}, {k2}].")


def _check_mv(x, y, n_input=1):
    if n_input != 1 or x.ndim != 2 or y.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {n_input}, {x.ndim}, "
                           f"{y.ndim}")


class Mv(Op):
    node_name = "MvBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        _check_mv(x, y)
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"size mismatch, got input ({x.shape[0]}), mat "
                               f"({_dims(x.shape)}), vec ({y.shape[0]})")
        if x.dtype != y.dtype:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{_legacy(y)}, {_legacy(x)}, and {_legacy(y)}")
        _no_bool(x, "addmv_impl_cpu")
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
        return product(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return (grad.reshape(-1, 1) * b if flags[0] else None,
                a.t().mv(grad) if flags[1] else None)


def _check_dot(x, y):
    if x.ndim != 1 or y.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors")
    if x.dtype != y.dtype:
        raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                           f"{_legacy(x)} and {_legacy(y)}")
    if x.shape[0] != y.shape[0]:
        n, m = x.shape[0], y.shape[0]
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to "
                           f"have the same number of elements, but got {n} and {m} elements "
                           "respectively")
    _no_bool(x, "dot")


class Dot(Op):
    node_name = "DotBackward0"

    @staticmethod
    def forward(ctx, a, b):
        x, y = a._data, b._data
        _check_dot(x, y)
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
        return product(x, y)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        return grad * b if flags[0] else None, grad * a if flags[1] else None


class Vdot(Dot):
    node_name = "VdotBackward0"


def mm(input, mat2):
    return Mm.apply(input, mat2)


def bmm(input, mat2):
    return Bmm.apply(input, mat2)


def mv(input, vec):
    return Mv.apply(input, vec)


def dot(input, tensor):
    return Dot.apply(input, tensor)


def vdot(input, other):
    return Vdot.apply(input, other)


# ---------------------------------------------------------------- matmul


class Matmul(Op):
    """matmul of every rank combination not covered by mm, mv and dot."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
            ctx.shapes = (a._data.shape, b._data.shape)
        return product(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        flags = ctx.needs_input_grad
        # promote 1-D operands to matrices so both gradients are batched products
        if len(sa) == 1:
            grad = grad.reshape(grad._data.shape[:-1] + (1,) + grad._data.shape[-1:])
        if len(sb) == 1:
            grad = grad.reshape(grad._data.shape + (1,))
        ga = gb = None
        if flags[0]:
            b2 = b.reshape(sb + (1,)) if len(sb) == 1 else b
            ga = sum_to(matmul(grad, b2.mT), (1,) + sa if len(sa) == 1 else sa).reshape(sa)
        if flags[1]:
            a2 = a.reshape((1,) + sa) if len(sa) == 1 else a
            if len(sb) <= 2 and len(sa) > 2:
                # fold the batch into one GEMM: sum_b a_b^T g_b = A^T G over stacked rows
                k = sa[-1]
                gb = a2.reshape(-1, k).t().mm(grad.reshape(-1, grad._data.shape[-1]))
            else:
                gb = sum_to(matmul(a2.mT, grad), sb + (1,) if len(sb) == 1 else sb)
            gb = gb.reshape(sb)
        return ga, gb


class MatmulVecMat(Matmul):
    node_name = "SqueezeBackward4"


class MatmulMatBatch(Matmul):
    node_name = "CloneBackward0"


def matmul(input, other):
    x, y = input._data, other._data
    da, db = x.ndim, y.ndim
    if da == 2 and db == 2:
        return Mm.apply(input, other)
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are "
                           f"{da}D and {db}D")
    if da == 1 and db == 1:
        return Dot.apply(input, other)
    if da == 2 and db == 1:
        return Mv.apply(input, other)
    k = x.shape[-1]
    if db <= 2 and (da == 1 or da > 2):
        rows = x.size // k if k else int(np.prod(x.shape[:-1]))
        if db == 1:
            if y.shape[0] != k:
                raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{k}), "
                                   f"vec ({y.shape[0]})")
            if x.dtype != y.dtype:
                raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                                   f"{_legacy(y)}, {_legacy(x)}, and {_legacy(y)}")
            _no_bool(x, "addmv_impl_cpu")
        else:
            if y.shape[0] != k:
                raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{k} and "
                                   f"{_dims(y.shape)})")
            if x.dtype != y.dtype:
                raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: "
                                   f"{_ctype(x)} != {_ctype(y)}")
            _no_bool(x, "addmm_impl_cpu_")
        op = MatmulVecMat if da == 1 else Matmul
        return op.apply(input, other)
    # batched: broadcast the batch dims, then every batch is one bmm
    batch_a, batch_b = x.shape[:-2], y.shape[:-2] if db > 1 else ()
    try:
        batch = np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        raise_broadcast_error(batch_a, batch_b)
    count = int(np.prod(batch))
    k2 = y.shape[-2] if db > 1 else y.shape[0]
    _check_batch2(count, k, count, k2)
    if x.dtype != y.dtype:
        raise RuntimeError(f"expected scalar type {_legacy(x)} but found {_legacy(y)}")
    _no_bool(x, "bmm")
    return (MatmulMatBatch if _ends_transposed(input, x, y) else Matmul).apply(input, other)


def _ends_transposed(input, x, y):
    """Whether torch's matmul ends with CloneBackward0 here: it folds other's batch into one
    matrix and transposes the product back when input is a matrix that requires grad (a
    [1, m, k] input counts as a matrix against a real batch)."""
    da, db = x.ndim, y.ndim
    if da == 3 and x.shape[0] == 1 and (db > 3 or db == 3 and y.shape[0] != 1):
        da = 2
    return da == 2 and input._requires_grad


def _rmatmul(self, other):
    return matmul(other, self)


register("mm", mm)
register("bmm", bmm)
register("mv", mv)
register("dot", dot)
register("vdot", vdot)
register("matmul", matmul, dunders=("__matmul__",))
register("__rmatmul__", _rmatmul)

"""Linear algebra, Cholesky: cholesky (torch.linalg and the deprecated torch form),
cholesky_ex, cholesky_solve and cholesky_inverse, with Tensor-op backwards.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import raise_broadcast_error, register, sum_to
from .linalg import _legacy
from .linalg_solve import (
    LinAlgError,
    _first_failure,
    batched_solve,
    check_float,
    check_matrix,
    inverse,
    no_errors,
    return_type,
)
from .linalg_struct import diag_embed, diagonal, tril

__all__ = ["cholesky", "cholesky_solve", "cholesky_inverse"]

linalg_cholesky_ex = return_type("linalg_cholesky_ex", ("L", "info"))


def _cholesky_arrays(x, upper, name, check_errors):
    """(factor, info); the upper factor reads A's upper triangle, as LAPACK's 'U' does."""
    source = x.swapaxes(-1, -2) if upper else x
    try:
        low = np.linalg.cholesky(source)
        info = no_errors(x)
    except np.linalg.LinAlgError:
        flat = source.reshape((-1,) + source.shape[-2:])
        info = np.zeros(flat.shape[0], np.int32)
        for i, m in enumerate(flat):
            for order in range(1, m.shape[-1] + 1):
                try:
                    np.linalg.cholesky(m[:order, :order])
                except np.linalg.LinAlgError:
                    info[i] = order
                    break
        info = B.get_array_module(x).asarray(info.reshape(x.shape[:-2]))
        if check_errors:
            prefix, order = _first_failure(info, x.ndim)
            raise LinAlgError(f"{name}: {prefix}The factorization could not be completed "
                              "because the input is not positive-definite (the leading minor "
                              f"of order {order} is not positive-definite).") from None
        bad = (info != 0)[..., None, None]
        eye = B.get_array_module(x).eye(x.shape[-1], dtype=x.dtype)
        low = np.linalg.cholesky(np.where(bad, eye, source))
        low = np.where(bad, np.nan, low)
    low = low.astype(x.dtype, copy=False)
    return (low.swapaxes(-1, -2) if upper else low), info


class Cholesky(Op):
    node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a, upper, name, check_errors):
        x = a._data
        check_matrix(x, name)
        check_float(x, name, "cholesky_cpu")
        factor, info = _cholesky_arrays(x, upper, name, check_errors)
        ctx.upper = upper
        ctx.save_output()
        return factor if check_errors else (factor, info)

    @staticmethod
    def backward(ctx, grad, *unused):
        factor = ctx.saved_output
        low, g = (factor.mT, grad.mT) if ctx.upper else (factor, grad)
        # Murray (2016): gA = L^-T phi(L^T gL) L^-1, symmetrised; phi halves the diagonal
        product_ = low.mT @ g
        phi = tril(product_) - 0.5 * diag_embed(diagonal(product_, 0, -2, -1))
        low_inv = inverse(low)
        grad_a = low_inv.mT @ phi @ low_inv
        return 0.5 * (grad_a + grad_a.mT), None, None, None


class CholeskyLegacy(Cholesky):
    node_name = "CholeskyBackward0"


def cholesky(input, upper=False):
    import warnings

    warnings.warn(
        "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in "
        "a future PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\n"
        "L = torch.linalg.cholesky(A)\nand\nU = torch.cholesky(A, upper=True)\nshould be "
        "replaced with\nU = torch.linalg.cholesky(A).mH\nThis transform will produce "
        "equivalent results for all valid (symmetric positive definite) inputs.",
        UserWarning, stacklevel=2)
    return CholeskyLegacy.apply(input, upper, "cholesky", True)


def linalg_cholesky(A, *, upper=False):
    return Cholesky.apply(A, upper, "linalg.cholesky", True)


def cholesky_ex(A, *, upper=False, check_errors=False):
    if check_errors:
        factor = Cholesky.apply(A, upper, "linalg.cholesky_ex", True)
        return linalg_cholesky_ex((factor, Tensor._wrap(no_errors(A._data))))
    return linalg_cholesky_ex(Cholesky.apply(A, upper, "linalg.cholesky_ex", False))


def _tri_solve(factor, rhs, upper):
    """(F F^T)^-1 rhs for a lower factor F (F^T F for an upper one)."""
    first, second = (factor.swapaxes(-1, -2), factor) if upper else \
        (factor, factor.swapaxes(-1, -2))
    return batched_solve(second, batched_solve(first, rhs))


class CholeskySolve(Op):
    node_name = "CholeskySolveBackward0"

    @staticmethod
    def forward(ctx, b, factor, upper):
        y, f = b._data, factor._data
        if y.ndim < 2:
            raise RuntimeError(f"b should have at least 2 dimensions, but has {y.ndim} "
                               "dimensions instead")
        if f.ndim < 2:
            raise RuntimeError(f"u should have at least 2 dimensions, but has {f.ndim} "
                               "dimensions instead")
        if y.dtype != f.dtype:
            raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type "
                               f"{_legacy(y)} and A of type {_legacy(f)} instead.")
        if f.shape[-1] != f.shape[-2] or f.shape[-1] != y.shape[-2]:
            raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is "
                               f"{f.shape[-2]} by {f.shape[-1]} but each b matrix is "
                               f"{y.shape[-2]} by {y.shape[-1]}")
        check_float(f, "cholesky_solve", "cholesky_solve_cpu")
        try:
            np.broadcast_shapes(y.shape[:-2], f.shape[:-2])
        except ValueError:
            raise_broadcast_error(y.shape[:-2], f.shape[:-2])
        ctx.upper = upper
        ctx.shapes = (y.shape, f.shape)
        ctx.save_for_backward(factor)
        ctx.save_output()
        return _tri_solve(f, y, upper)

    @staticmethod
    def backward(ctx, grad):
        (factor,) = ctx.saved_tensors
        out = ctx.saved_output
        upper = ctx.upper
        g_b = CholeskySolve.apply(grad, factor, upper)
        g_f = None
        if ctx.needs_input_grad[1]:
            common = g_b @ out.mT
            common = common + common.mT
            g_f = sum_to(-(factor @ common) if upper else -(common @ factor), ctx.shapes[1])
        g_b = sum_to(g_b, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        return g_b, g_f, None


def cholesky_solve(input, input2, upper=False):
    return CholeskySolve.apply(input, input2, upper)


class CholeskyInverse(Op):
    node_name = "CholeskyInverseBackward0"

    @staticmethod
    def forward(ctx, factor, upper):
        f = factor._data
        check_matrix(f, "cholesky_inverse")
        check_float(f, "cholesky_inverse", "cholesky_inverse_cpu")
        xp = B.get_array_module(f)
        eye = xp.broadcast_to(xp.eye(f.shape[-1], dtype=f.dtype), f.shape)
        ctx.upper = upper
        ctx.save_for_backward(factor)
        ctx.save_output()
        return _tri_solve(f, eye, upper)

    @staticmethod
    def backward(ctx, grad):
        (factor,) = ctx.saved_tensors
        inv = ctx.saved_output
        common = inv @ (grad + grad.mT) @ inv
        return (-(factor @ common) if ctx.upper else -(common @ factor)), None


def cholesky_inverse(input, upper=False):
    return CholeskyInverse.apply(input, upper)


register("cholesky", cholesky)
register("cholesky_solve", cholesky_solve)
register("cholesky_inverse", cholesky_inverse)

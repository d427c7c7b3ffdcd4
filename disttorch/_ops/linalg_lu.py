"""Linear algebra, LU: lu_factor, lu_factor_ex, lu (P, L, U) and the deprecated torch.lu,
with the gradient of A = P L U for square, wide and tall matrices in Tensor ops.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register
from .join import cat
from .linalg_factor import _cols, _const, _outputs, _rows, _zeros
from .linalg_solve import (
    LinAlgError,
    _first_failure,
    check_float,
    check_matrix,
    lu_factor_array,
    return_type,
    solve,
)
from .linalg_struct import tril, triu

__all__ = ["lu"]

linalg_lu = return_type("linalg_lu", ("P", "L", "U"))
linalg_lu_factor = return_type("linalg_lu_factor", ("LU", "pivots"))
linalg_lu_factor_ex = return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))


def _lu_checks(x, name):
    check_matrix(x, name, square=False)
    check_float(x, name, "lu_cpu")


class LuFactor(Op):
    node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, a):
        x = a._data
        lu_data, pivots, info = lu_factor_array(x)
        lu_data = lu_data.astype(x.dtype, copy=False)
        ctx.outputs = (lu_data,)
        ctx.pivots = pivots
        return lu_data, pivots, info

    @staticmethod
    def backward(ctx, grad, *unused):
        (packed,) = _outputs(ctx)
        m, n = packed._data.shape[-2:]
        k = min(m, n)
        # LU = L - I + U packed: split it back and reuse lu's formula
        xp = B.get_array_module(packed._data)
        low = _cols(tril(packed, -1), 0, k) + _const(xp.eye(m, k, dtype=packed._data.dtype))
        up = _rows(triu(packed), 0, k)
        g_low = _cols(tril(grad, -1), 0, k)
        g_up = _rows(triu(grad), 0, k)
        perm = _const(_permutation(ctx.pivots, m, packed._data.dtype))
        return lu_backward(g_low, g_up, perm, low, up)


def _lu_arrays(x):
    """(P, L, U) arrays of A = P L U."""
    lu_data, pivots, _ = lu_factor_array(x)
    lu_data = lu_data.astype(x.dtype, copy=False)
    m, n = x.shape[-2:]
    k = min(m, n)
    xp = B.get_array_module(x)
    low = np.tril(lu_data[..., :, :k], -1) + xp.eye(m, k, dtype=x.dtype)
    up = np.triu(lu_data[..., :k, :])
    return _permutation(pivots, m, x.dtype), low, up


class Lu(Op):
    """L and U of a factorization computed by the caller (P carries no gradient)."""

    node_name = "LinalgLuBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, perm, low, up):
        ctx.outputs = (low, up)
        ctx.perm = perm
        return low, up

    @staticmethod
    def backward(ctx, g_low, g_up):
        low, up = _outputs(ctx)
        return lu_backward(g_low, g_up, _const(ctx.perm), low, up), None, None, None


def _permutation(pivots, m, dtype):
    """P with A = P L U from LAPACK's 1-based row interchanges."""
    xp = B.get_array_module(pivots)
    batch = pivots.shape[:-1]
    order = xp.broadcast_to(xp.arange(m), batch + (m,)).copy()
    flat_order, flat_piv = order.reshape(-1, m), pivots.reshape(-1, pivots.shape[-1]) - 1
    rows = xp.arange(flat_order.shape[0])
    for j in range(flat_piv.shape[-1]):
        p = flat_piv[:, j]
        a, b = flat_order[rows, j].copy(), flat_order[rows, p].copy()
        flat_order[rows, j], flat_order[rows, p] = b, a
    # row i of P^T A is row order[i] of A, so P[order[i], i] = 1
    perm = xp.zeros(batch + (m, m), dtype=dtype)
    xp.put_along_axis(perm, order[..., None, :], 1, axis=-2)
    return perm


def lu_backward(g_low, g_up, perm, low, up):
    """Gradient of A = P L U for square, wide and tall A (in Tensor ops)."""
    if g_low is None and g_up is None:
        return None
    m, k, n = low._data.shape[-2], low._data.shape[-1], up._data.shape[-1]
    g_low = _zeros(low) if g_low is None else g_low
    g_up = _zeros(up) if g_up is None else g_up
    if m == n:
        phi = tril(low.mT @ g_low, -1) + triu(g_up @ up.mT)
        return perm @ solve(low.mT, solve(up, phi.mT).mT)
    if m < n:  # wide: U = [U1 U2], L square
        u1, u2 = _cols(up, 0, k), _cols(up, k, n - k)
        g_u1, g_u2 = _cols(g_up, 0, k), _cols(g_up, k, n - k)
        phi = tril(low.mT @ g_low - g_u2 @ u2.mT, -1) + triu(g_u1 @ u1.mT)
        g_a1 = solve(low.mT, solve(u1, phi.mT).mT)
        return perm @ cat([g_a1, solve(low.mT, g_u2)], -1)
    # tall: L = [L1; L2], U square
    l1, l2 = _rows(low, 0, k), _rows(low, k, m - k)
    g_l1, g_l2 = _rows(g_low, 0, k), _rows(g_low, k, m - k)
    phi = tril(l1.mT @ g_l1, -1) + triu(g_up @ up.mT - l2.mT @ g_l2)
    top = solve(l1.mT, solve(up, phi.mT).mT)
    bottom = solve(up, g_l2.mT).mT
    return perm @ cat([top, bottom], -2)




def lu_factor(A, *, pivot=True):
    _lu_checks(A._data, "linalg.lu_factor")
    _check_pivot(pivot)
    lu_t, pivots, info = LuFactor.apply(A)
    failure = _first_failure(info._data, A._data.ndim)
    if failure is not None:
        prefix, k = failure
        raise RuntimeError(f"torch.linalg.lu_factor: {prefix}U[{k},{k}] is zero and using it on "
                           "lu_solve would result in a division by zero. If you still want to "
                           "perform the factorization, consider calling linalg.lu(A, pivot) or "
                           "linalg.lu_factor_ex(A, pivot)")
    return linalg_lu_factor((lu_t, pivots))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    _lu_checks(A._data, "linalg.lu_factor_ex")
    _check_pivot(pivot)
    out = LuFactor.apply(A)
    failure = _first_failure(out[2]._data, A._data.ndim) if check_errors else None
    if failure is not None:
        raise LinAlgError(f"linalg.lu_factor_ex: {failure[0]}The factorization could not be "
                          f"completed because the input is not invertible (U[{failure[1]},"
                          f"{failure[1]}] is zero).")
    return linalg_lu_factor_ex(out)


def _check_pivot(pivot):
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the "
                           "CPU")


def linalg_lu_fn(A, *, pivot=True):
    _lu_checks(A._data, "linalg.lu")
    if not pivot:
        raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
    perm, low, up = _lu_arrays(A._data)
    return linalg_lu((Tensor._wrap(perm),) + Lu.apply(A, perm, low, up))


def lu(A, pivot=True, get_infos=False):
    import warnings

    warnings.warn(
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
        "and will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, "
        "compute_pivots)\nshould be replaced with\nLU, pivots = torch.linalg.lu_factor(A, "
        "compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)"
        "\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, "
        "compute_pivots)", UserWarning, stacklevel=2)
    _lu_checks(A._data, "linalg.lu_factor")
    _check_pivot(pivot)
    out = LuFactor.apply(A)
    return out if get_infos else out[:2]


register("lu", lu)

"""torch.linalg: the linear algebra namespace.

Everything here is implemented in disttorch._ops.linalg*; this module only gives the
functions their torch.linalg names and signatures.
"""

from .._ops.linalg import matmul
from .._ops.linalg_cholesky import cholesky_ex
from .._ops.linalg_cholesky import linalg_cholesky as cholesky
from .._ops.linalg_factor import eigh, eigvalsh, lstsq, matrix_rank, pinv, svdvals
from .._ops.linalg_factor import linalg_qr_fn as qr
from .._ops.linalg_factor import linalg_svd_fn as svd
from .._ops.linalg_functions import (
    cond,
    matrix_exp,
    matrix_norm,
    matrix_power,
    multi_dot,
    norm,
    vecdot,
    vector_norm,
)
from .._ops.linalg_lu import linalg_lu_fn as lu
from .._ops.linalg_lu import lu_factor, lu_factor_ex
from .._ops.linalg_solve import LinAlgError, inv_ex, solve, solve_ex, solve_triangular
from .._ops.linalg_solve import det as _det
from .._ops.linalg_solve import inverse as _inverse
from .._ops.linalg_solve import linalg_slogdet_fn as slogdet
from .._ops.linalg_struct import linalg_cross as cross

__all__ = ["LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
           "eigvalsh", "inv", "inv_ex", "lstsq", "lu", "lu_factor", "lu_factor_ex", "matmul",
           "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm",
           "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
           "vecdot", "vector_norm"]


def inv(A):
    return _inverse(A)


def det(A):
    return _det(A)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    from .._ops.linalg_struct import diagonal as diagonal_view

    return diagonal_view(A, offset, dim1, dim2)

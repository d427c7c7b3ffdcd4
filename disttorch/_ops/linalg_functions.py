"""Linear algebra, matrix functions: vector/matrix norms, matrix_power, matrix_exp,
multi_dot, vecdot and cond.

Most of these are compositions, as in torch (so their node names are torch's too): the
vector norm is reduce_stats' LinalgVectorNorm op, the spectral and nuclear norms reduce
svdvals, matrix_power is a product chain. matrix_exp is a primitive (scaling and squaring of
a Taylor series) whose backward is matrix_exp of a block matrix, built with kron.
"""

import numbers

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register, wrap_dim
from ._reduce_util import reduce_axes
from .linalg import _CTYPE, matmul, mm, vdot
from .linalg_factor import svdvals
from .linalg_products import kron
from .linalg_solve import check_float, check_matrix, inv_ex, inverse
from .reduce_stats import VectorNorm, _check_identity

__all__ = ["matrix_power", "matrix_exp"]


# ---------------------------------------------------------------- norms


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    if isinstance(ord, str) or not isinstance(ord, numbers.Number):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, "
                        f"not {type(ord).__name__}")
    axes = reduce_axes(dim, x._data.ndim, "linalg.vector_norm")
    order = float(ord)
    _check_identity(x._data, order, axes, dim is None)
    return VectorNorm.apply(x, order, axes, keepdim, dtype)


def _matrix_dims(A, dim, ord):
    x = A._data
    if isinstance(dim, int) or len(dim) != 2:
        dims = [dim] if isinstance(dim, int) else list(dim)
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got "
                           f"{' '.join(str(d) for d in dims)}")
    check_matrix(x, "linalg.matrix_norm", square=False)
    if x.dtype.kind not in "fV":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor "
                           f"as input. Got {_legacy(x)}")
    d0, d1 = wrap_dim(dim[0], x.ndim), wrap_dim(dim[1], x.ndim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, "
                           f"{dim[1]})")
    if ord not in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    return d0, d1


def _legacy(x):
    from .linalg import _legacy as name

    return name(x)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    d0, d1 = _matrix_dims(A, dim, ord)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if dtype is not None:
        A = A.to(dtype)
    if ord in ("nuc", 2, -2):
        ndim = A._data.ndim
        order = [d for d in range(ndim) if d not in (d0, d1)] + [d0, d1]
        values = svdvals(A.permute(order))
        if ord == "nuc":
            result = values.sum(-1)
        else:
            result = values.amax(-1) if ord == 2 else values.amin(-1)
        if keepdim:
            result = result.unsqueeze(-1).unsqueeze(-1).permute(list(np.argsort(order)))
        return result
    # 1 / inf: the largest column / row sum of |A| (the smallest for -1 / -inf)
    first, second = (d0, d1) if abs(ord) == 1 else (d1, d0)
    if not keepdim and first < second:
        second -= 1
    sums = vector_norm(A, 1, first, keepdim)
    return sums.amax(second, keepdim) if ord > 0 else sums.amin(second, keepdim)


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    x = A._data
    if isinstance(dim, int):
        dim = (dim,)
    if ord is not None:
        if dim is not None:
            if len(dim) == 1:
                return vector_norm(A, ord, dim, keepdim, dtype=dtype)
            if len(dim) == 2:
                return matrix_norm(A, ord, dim, keepdim, dtype=dtype)
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or "
                               f"2. Got {list(dim)}")
        if x.ndim == 1 and not isinstance(ord, str):
            return vector_norm(A, ord, None, keepdim, dtype=dtype)
        if x.ndim == 2 or isinstance(ord, str) and x.ndim < 2:
            return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                           f"be 1D or 2D. Got {x.ndim}D.")
    if dim is not None and len(dim) not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dim)}")
    return vector_norm(A, 2, dim, keepdim, dtype=dtype)


def cond(A, p=None):
    x = A._data
    if p in (None, 2, -2):
        check_matrix(x, "linalg.cond", square=False)
        values = svdvals(A)
        big, small = values.amax(-1, True), values.amin(-1, True)
        return (small / big if p == -2 else big / small).squeeze(-1)
    check_matrix(x, "linalg.cond")
    check_float(x, "linalg.cond")
    inv, info = inv_ex(A)
    # a singular matrix has an infinite condition number
    singular = Tensor._wrap((info._data != 0)[..., None, None])
    inv = inv.masked_fill(singular, float("inf"))
    return (matrix_norm(A, p) * matrix_norm(inv, p)).nan_to_num(float("inf"))


# ---------------------------------------------------------------- products


def vecdot(x, y, *, dim=-1):
    a, b = x._data, y._data
    for t in (a, b):
        if t.dtype.kind not in "fV":
            raise RuntimeError(f"linalg.vecdot: Expected a floating point or complex tensor as "
                               f"input. Got {_legacy(t)}")
    if a.dtype != b.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found "
                           f"x of type {_legacy(a)} and y of type {_legacy(b)} instead")
    if a.ndim == 1 and b.ndim == 1:
        return vdot(x, y)
    return (x * y).sum(dim)


def multi_dot(tensors):
    tensors = list(tensors)
    count = len(tensors)
    if count < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {count}")
    ndims = [t._data.ndim for t in tensors]
    if ndims[0] not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got "
                           f"{ndims[0]}D")
    if ndims[-1] not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got "
                           f"{ndims[-1]}D")
    for i in range(1, count - 1):
        if ndims[i] != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ndims[i]}D")
    first = tensors[0]._data.dtype
    for i, t in enumerate(tensors[1:], 1):
        if t._data.dtype != first:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but "
                               f"tensor 0 is {_CTYPE[B._FROM_NP[first].name]} and tensor {i} "
                               f"{_CTYPE[B._FROM_NP[t._data.dtype].name]}")
    shapes = [t._data.shape for t in tensors]
    mats = list(tensors)
    if ndims[0] == 1:
        mats[0] = mats[0].reshape(1, -1)
    if ndims[-1] == 1:
        mats[-1] = mats[-1].reshape(-1, 1)
    for i in range(count - 1):
        if mats[i]._data.shape[1] != mats[i + 1]._data.shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes "
                               f"{list(shapes[i])} and {list(shapes[i + 1])} cannot be "
                               "multiplied")
    result = _chain(mats, _chain_order(mats), 0, count - 1)
    out_shape = (() if ndims[0] == 1 else (shapes[0][0],)) + \
        (() if ndims[-1] == 1 else (shapes[-1][1],))
    return result.view(out_shape)


def _chain_order(mats):
    """The split points of the cheapest parenthesisation (the textbook O(n^3) DP)."""
    dims = [m._data.shape[0] for m in mats] + [mats[-1]._data.shape[1]]
    n = len(mats)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = None
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain(mats, split, i, j):
    if i == j:
        return mats[i]
    k = split[i][j]
    return mm(_chain(mats, split, i, k), _chain(mats, split, k + 1, j))


# ---------------------------------------------------------------- matrix_power, matrix_exp


class PowerZero(Op):
    """A^0: the identity, whose gradient with respect to A is zero."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, a):
        x = a._data
        xp = B.get_array_module(x)
        return xp.broadcast_to(xp.eye(x.shape[-1], dtype=x.dtype), x.shape).copy()

    @staticmethod
    def backward(ctx, grad):
        return grad * 0


def matrix_power(input, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"matrix_power(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    check_matrix(input._data, "linalg.matrix_power")
    if n == 0:
        return PowerZero.apply(input)
    if n < 0:
        input, n = inverse(input), -n
        if n == 1:
            return input
    if n == 1:
        return input.clone()
    if n == 2:
        return matmul(input, input)
    if n == 3:
        return matmul(matmul(input, input), input)
    square = result = None
    while n:
        square = input if square is None else matmul(square, square)
        if n & 1:
            result = square if result is None else matmul(result, square)
        n >>= 1
    return result


def _expm(x):
    """exp(A) on arrays: scale A to norm <= 1/2, Taylor degree 18, square back (float64)."""
    a = x.astype(np.float64)
    xp = B.get_array_module(a)
    norm1 = xp.abs(a).sum(-2).max(-1) if a.size else xp.zeros(a.shape[:-2])
    with np.errstate(divide="ignore"):
        squarings = xp.maximum(0, xp.ceil(xp.log2(norm1)) + 1).astype(np.int64)
    a = a / (2.0 ** squarings)[..., None, None]
    eye = xp.eye(a.shape[-1])
    result = eye + 0 * a
    for k in range(18, 0, -1):
        result = eye + (a @ result) / k
    for i in range(int(squarings.max()) if squarings.size else 0):
        result = xp.where((squarings > i)[..., None, None], result @ result, result)
    return result.astype(x.dtype)


class MatrixExp(Op):
    node_name = "LinalgMatrixExpBackward0"

    @staticmethod
    def forward(ctx, a):
        x = a._data
        check_matrix(x, "linalg.matrix_exp")
        if x.dtype.kind not in "fV":
            raise RuntimeError(f"linalg.matrix_exp: Expected a floating point or complex tensor "
                               f"as input. Got {_legacy(x)}")
        ctx.save_for_backward(a)
        return _expm(x)

    @staticmethod
    def backward(ctx, grad):
        # d exp(A)^T[G] is the top-right block of exp([[A^T, G], [0, A^T]]) (Mathias, 1996)
        (a,) = ctx.saved_tensors
        n = a._data.shape[-1]
        xp = B.get_array_module(grad._data)
        dtype = grad._data.dtype
        corner = Tensor._wrap(xp.asarray([[0, 1], [0, 0]], dtype=dtype))
        block = kron(Tensor._wrap(xp.eye(2, dtype=dtype)), a.mT) + kron(corner, grad)
        return matrix_exp(block).narrow(-2, 0, n).narrow(-1, n, n)


def matrix_exp(input):
    return MatrixExp.apply(input)


register("matrix_power", matrix_power)
register("matrix_exp", matrix_exp)

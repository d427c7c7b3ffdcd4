"""Linear algebra, solvers: inverse, det, slogdet, logdet, solve, solve_triangular.

Forward passes call NumPy's batched LAPACK wrappers; backward formulas are written with
these same ops (inverse, solve, cholesky_solve ...), so they differentiate again. Errors
follow torch: `LinAlgError` (a RuntimeError) names the batch element and LAPACK's `info`
(the zero pivot, the leading minor that is not positive-definite), which NumPy does not
report, so the error path recomputes it with a small LU / Cholesky probe.
"""

import operator

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import raise_broadcast_error, register, sum_to
from .linalg import _legacy
from .linalg_struct import tril, triu

__all__ = ["inverse", "det", "logdet", "slogdet"]


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a matrix that is singular, not positive-definite, ..."""


_RETURN_TYPES = {}


def return_type(name, fields):
    """A torch.return_types-style named tuple: fields by name and index, torch's repr."""

    def __new__(cls, values):
        return tuple.__new__(cls, values)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"torch.return_types.{name}(\n{body})"

    def __reduce__(self):
        return _rebuild_return_type, (name, tuple(self))

    attrs = {"__slots__": (), "__new__": __new__, "__repr__": __repr__,
             "__reduce__": __reduce__, "n_fields": len(fields),
             "n_sequence_fields": len(fields), "n_unnamed_fields": 0,
             "__module__": "disttorch.return_types"}
    for i, f in enumerate(fields):
        attrs[f] = property(operator.itemgetter(i))
    cls = _RETURN_TYPES[name] = type(name, (tuple,), attrs)
    return cls


def _rebuild_return_type(name, values):
    """Unpickling: the named tuple type is found by its torch name."""
    return _RETURN_TYPES[name](values)


slogdet_type = return_type("slogdet", ("sign", "logabsdet"))
linalg_slogdet = return_type("linalg_slogdet", ("sign", "logabsdet"))
linalg_inv_ex = return_type("linalg_inv_ex", ("inverse", "info"))
linalg_solve_ex = return_type("linalg_solve_ex", ("result", "info"))


# ---------------------------------------------------------------- checks


def check_matrix(x, name, square=True, arg="A"):
    if x.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: A must be batches of square matrices, but they are "
                           f"{x.shape[-2]} by {x.shape[-1]} matrices")


def check_float(x, name, kernel=None):
    """Floating inputs only; half precision has no LAPACK kernel (torch's error for it)."""
    if x.dtype.kind not in "fV":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. "
                           f"Got {_legacy(x)}")
    if x.dtype.itemsize == 2:
        if kernel is None:
            raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {_legacy(x)}")
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_legacy(x)}'")


def no_errors(x):
    """LAPACK's info for a batch that had no errors: zeros, one per matrix."""
    return B.get_array_module(x).zeros(x.shape[:-2], dtype=np.int32)


def _first_failure(info, ndim):
    """(prefix naming the batch element, info) of the first failed matrix, or None."""
    flat = info.reshape(-1)
    bad = np.flatnonzero(flat)
    if not bad.size:
        return None
    k = int(bad[0])
    prefix = "" if ndim == 2 else f"(Batch element {k}): "
    return prefix, int(flat[k])


# ---------------------------------------------------------------- LU (errors, lu_factor)


def lu_factor_array(a):
    """LAPACK getrf on arrays: (LU, 1-based pivots, info) with partial pivoting."""
    xp = B.get_array_module(a)
    lu = a.astype(np.result_type(a.dtype, np.float32), copy=True)
    m, n = lu.shape[-2:]
    k = min(m, n)
    batch = lu.shape[:-2]
    pivots = xp.zeros(batch + (k,), dtype=np.int32)
    info = xp.zeros(batch, dtype=np.int32)
    for j in range(k):
        p = xp.abs(lu[..., j:, j]).argmax(-1) + j
        pivots[..., j] = p + 1
        index = xp.broadcast_to(p[..., None, None], batch + (1, n))
        row_p = xp.take_along_axis(lu, index, axis=-2)
        row_j = lu[..., j:j + 1, :].copy()
        xp.put_along_axis(lu, index, row_j, axis=-2)
        lu[..., j:j + 1, :] = row_p
        pivot = lu[..., j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
        safe = xp.where(zero, 1, pivot)
        lu[..., j + 1:, j] /= safe[..., None]
        lu[..., j + 1:, j + 1:] -= lu[..., j + 1:, j:j + 1] * lu[..., j:j + 1, j + 1:]
    return lu, pivots, info


def singular_info(a):
    """LAPACK's info for a batch of square matrices: 0, or the first zero pivot (1-based)."""
    info = lu_factor_array(a)[2]
    flat, out = a.reshape((-1,) + a.shape[-2:]), info.reshape(-1).copy()
    for i, m in enumerate(flat):
        if out[i] == 0:  # NumPy's LAPACK met a zero pivot that rounding hid from ours
            try:
                np.linalg.inv(m)
            except np.linalg.LinAlgError:
                out[i] = m.shape[-1]
    return out.reshape(info.shape)


def _batched_inverse(x, name, check_errors):
    """(inverse, info): singular matrices raise, or give NaN with check_errors off."""
    try:
        return np.linalg.inv(x), no_errors(x)
    except np.linalg.LinAlgError:
        pass
    info = singular_info(x)
    failure = _first_failure(info, x.ndim)
    if check_errors:
        prefix, k = failure or ("", x.shape[-1])
        raise LinAlgError(f"{name}: {prefix}The diagonal element {k} is zero, the inversion "
                          "could not be completed because the input matrix is singular.")
    xp = B.get_array_module(x)
    eye = xp.eye(x.shape[-1], dtype=x.dtype)
    singular = (info != 0)[..., None, None]
    out = np.linalg.inv(xp.where(singular, eye, x))
    return xp.where(singular, np.nan, out).astype(x.dtype), info


# ---------------------------------------------------------------- inverse, det


class Inverse(Op):
    node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a, name, check_errors):
        x = a._data
        check_matrix(x, name)
        check_float(x, name)
        out, info = _batched_inverse(x, name, check_errors)
        ctx.save_output()
        return out if check_errors else (out, info)

    @staticmethod
    def backward(ctx, grad, *unused):
        inv = ctx.saved_output
        return -(inv.mT @ grad @ inv.mT), None, None


def inverse(input):
    return Inverse.apply(input, "linalg.inv", True)


def inv_ex(A, *, check_errors=False):
    if check_errors:
        out = Inverse.apply(A, "linalg.inv_ex", True)
        return linalg_inv_ex((out, Tensor._wrap(no_errors(A._data))))
    return linalg_inv_ex(Inverse.apply(A, "linalg.inv_ex", False))


class _FirstOrderOnly(Op):
    """A gradient computed on arrays: right for backward, not differentiable again."""

    node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, value, what, *inputs):
        ctx.what = what
        return value

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"the derivative of {ctx.what} is computed on arrays and cannot be "
                           "differentiated again (double backward is not supported there)")


def first_order(value, what, *inputs):
    """Wrap an array gradient; with create_graph it raises if differentiated again."""
    if state.enabled and any(t._requires_grad for t in inputs):
        return _FirstOrderOnly.apply(value, what, *inputs)
    return Tensor._wrap(value)


def _adjugate_t(x):
    """adj(A)^T for any square A (singular too) from the SVD: sign * U diag(prod_{j!=i} s_j) V^T."""
    u, s, vh = np.linalg.svd(x)
    n = s.shape[-1]
    ones = B.get_array_module(s).ones(s.shape[:-1] + (1,), dtype=s.dtype)
    left = np.cumprod(np.concatenate([ones, s[..., :-1]], -1), -1)
    right = np.cumprod(np.concatenate([ones, s[..., :0:-1]], -1), -1)[..., ::-1]
    others = left * right if n else s
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * (u * others[..., None, :]) @ vh


def _unsqueeze2(t):
    return t.reshape(t._data.shape + (1, 1))


class Det(Op):
    node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, a):
        x = a._data
        check_matrix(x, "linalg.det")
        check_float(x, "linalg.det", "lu_cpu")
        ctx.save_for_backward(a)
        ctx.save_output()
        return np.linalg.det(x)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        det_out = ctx.saved_output
        if np.all(det_out._data != 0):
            try:
                return _unsqueeze2(grad * det_out) * inverse(a).mT
            except LinAlgError:
                pass
        # singular: the adjugate is still defined (torch's LU formula gives 0 there instead)
        adj_t = first_order(_adjugate_t(a._data), "linalg.det at a singular matrix", a)
        return _unsqueeze2(grad) * adj_t


def det(input):
    return Det.apply(input)


class Slogdet(Op):
    node_name = "LinalgSlogdetBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, name):
        x = a._data
        check_matrix(x, name)
        check_float(x, name, "lu_cpu")
        ctx.save_for_backward(a)
        sign, logabs = np.linalg.slogdet(x)
        return sign.astype(x.dtype), logabs.astype(x.dtype)

    @staticmethod
    def backward(ctx, grad_sign, grad_logabs):
        (a,) = ctx.saved_tensors
        if grad_logabs is None:
            return None, None
        return _unsqueeze2(grad_logabs) * inverse(a).mT, None


def slogdet(input):
    return slogdet_type(Slogdet.apply(input, "linalg.slogdet"))


def linalg_slogdet_fn(A):
    return linalg_slogdet(Slogdet.apply(A, "linalg.slogdet"))


class Logdet(Op):
    node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, a):
        x = a._data
        check_matrix(x, "logdet")
        check_float(x, "logdet", "lu_cpu")
        sign, logabs = np.linalg.slogdet(x)
        ctx.save_for_backward(a)
        ctx.positive = sign > 0
        return np.where(sign < 0, np.nan, logabs).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        mask = Tensor._wrap(ctx.positive.astype(grad._data.dtype))
        return _unsqueeze2(grad * mask) * inverse(a).mT


def logdet(input):
    return Logdet.apply(input)


register("inverse", inverse)
register("det", det)
register("slogdet", slogdet)
register("logdet", logdet)


# ---------------------------------------------------------------- solve


class Solve(Op):
    node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, a, b, left, vector, check_errors):
        x, y = a._data, b._data
        ym = y[..., None] if vector else y
        if left:
            out = _solve_arrays(x, ym, check_errors)
        else:
            out = _solve_arrays(x.swapaxes(-1, -2), ym.swapaxes(-1, -2),
                                check_errors).swapaxes(-1, -2)
        if not check_errors:
            out, info = out
        if vector:
            out = out[..., 0]
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a)
            ctx.save_output()
            ctx.args = (left, vector, x.shape, y.shape)
        return out if check_errors else (out, info)

    @staticmethod
    def backward(ctx, grad, *unused):
        (a,) = ctx.saved_tensors
        left, vector, sa, sb = ctx.args
        flags = ctx.needs_input_grad
        x_out = ctx.saved_output
        # d(A^-1 B) = A^-1 dB - A^-1 dA X: gB = A^-T g, gA = -gB X^T
        g_b = Solve.apply(a.mT, grad, left, vector, True)
        g_a = None
        if flags[0]:
            gm = _col(g_b) if vector else g_b
            xm = _col(x_out) if vector else x_out
            g_a = sum_to(-(gm @ xm.mT) if left else -(xm.mT @ gm), sa)
        return g_a, sum_to(g_b, sb) if flags[1] else None, None, None, None


def _col(t):
    return t.reshape(t._data.shape + (1,))


def batched_solve(a, b):
    """np.linalg.solve with batch dims broadcast first (CuPy's solve does not broadcast)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    if a.shape[:-2] != batch:
        a = np.broadcast_to(a, batch + a.shape[-2:])
    if b.shape[:-2] != batch:
        b = np.broadcast_to(b, batch + b.shape[-2:])
    return np.linalg.solve(a, b)


def _solve_arrays(x, y, check_errors):
    try:
        out = batched_solve(x, y)
        return out if check_errors else (out, no_errors(x))
    except np.linalg.LinAlgError:
        pass
    info = singular_info(x)
    if check_errors:
        prefix, _ = _first_failure(info, x.ndim) or ("", 0)
        raise LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input "
                          "matrix is singular.")
    xp = B.get_array_module(x)
    singular = (info != 0)[..., None, None]
    out = batched_solve(xp.where(singular, xp.eye(x.shape[-1], dtype=x.dtype), x), y)
    return xp.where(singular, np.nan, out).astype(out.dtype), info


def _solve_args(A, B_, left):
    x, y = A._data, B_._data
    name = "linalg.solve"
    check_float(x, name, "lu_cpu")
    check_matrix(x, name)
    if y.ndim < 1:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if x.dtype != y.dtype:
        raise RuntimeError(f"{name}: Expected A and B to have the same dtype, but found A of "
                           f"type {_legacy(x)} and B of type {_legacy(y)} instead")
    n = x.shape[-1]
    vector = y.ndim == 1 or (y.ndim == x.ndim - 1 and y.shape == x.shape[:-1])
    ym_shape = y.shape + (1,) if vector else y.shape
    if ym_shape[-2 if left else -1] != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {ym_shape[-2]}x{ym_shape[-1]})")
    try:
        np.broadcast_shapes(ym_shape[:-2], x.shape[:-2])
    except ValueError:
        raise_broadcast_error(ym_shape[:-2], x.shape[:-2])
    return vector


def solve(A, B, *, left=True):
    return Solve.apply(A, B, left, _solve_args(A, B, left), True)


def solve_ex(A, B, *, left=True, check_errors=False):
    vector = _solve_args(A, B, left)
    if check_errors:
        return linalg_solve_ex((Solve.apply(A, B, left, vector, True),
                                Tensor._wrap(no_errors(A._data))))
    return linalg_solve_ex(Solve.apply(A, B, left, vector, False))



# ---------------------------------------------------------------- solve_triangular


def _triangular_arrays(x, upper, unitriangular):
    """The triangle of A that solve_triangular reads (unit diagonal if asked)."""
    tri = np.triu(x) if upper else np.tril(x)
    if unitriangular:
        xp = B.get_array_module(x)
        n = x.shape[-1]
        tri = tri * (1 - xp.eye(n, dtype=x.dtype)) + xp.eye(n, dtype=x.dtype)
    return tri


def _substitute(tri, rhs, upper):
    """Back / forward substitution: no error for a zero diagonal (inf and nan, as LAPACK)."""
    xp = B.get_array_module(tri)
    n = tri.shape[-1]
    out = xp.zeros(np.broadcast_shapes(tri.shape[:-2], rhs.shape[:-2]) + rhs.shape[-2:],
                   dtype=rhs.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in (range(n - 1, -1, -1) if upper else range(n)):
            done = tri[..., i:i + 1, :] @ out  # rows not solved yet are still zero
            out[..., i, :] = (rhs[..., i, :] - done[..., 0, :]) / tri[..., i, i:i + 1]
    return out


class SolveTriangular(Op):
    node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        x, y = a._data, b._data.astype(a._data.dtype, copy=False)
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a)
            ctx.save_output()
            ctx.args, ctx.b_shape = (upper, left, unitriangular), b._data.shape
        if not left:  # X A = B is A^T X^T = B^T, with the other triangle
            x, y, upper = x.swapaxes(-1, -2), y.swapaxes(-1, -2), not upper
        tri = _triangular_arrays(x, upper, unitriangular)
        try:
            out = batched_solve(tri, y)
        except np.linalg.LinAlgError:
            out = _substitute(tri, y, upper)
        return out if left else out.swapaxes(-1, -2)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        upper, left, unit = ctx.args
        flags = ctx.needs_input_grad
        # gB = A^-T g (a solve with the transposed triangle); gA = -gB X^T on the triangle
        g_b = SolveTriangular.apply(a.mT, grad, not upper, left, unit)
        g_a = None
        if flags[0]:
            x_out = ctx.saved_output
            g_a = -(g_b @ x_out.mT) if left else -(x_out.mT @ g_b)
            g_a = triu(g_a, int(unit)) if upper else tril(g_a, -int(unit))
            g_a = sum_to(g_a, a._data.shape)
        return g_a, sum_to(g_b, ctx.b_shape) if flags[1] else None, None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    x, y = A._data, B._data
    name = "linalg.solve_triangular"
    check_matrix(x, name)
    if y.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor B must have at least 2 dimensions.")
    if x.dtype.kind not in "fV" or x.dtype.itemsize == 2:
        raise NotImplementedError(f"\"triangular_solve_cpu\" not implemented for "
                                  f"'{_legacy(x)}'")
    n = x.shape[-1]
    if y.shape[-2 if left else -1] != n:
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({n}x{n} and {y.shape[-2]}x{y.shape[-1]})")
    try:
        np.broadcast_shapes(y.shape[:-2], x.shape[:-2])
    except ValueError:
        raise_broadcast_error(y.shape[:-2], x.shape[:-2])
    return SolveTriangular.apply(A, B, upper, left, unitriangular)

"""Linear algebra, spectral factorizations: svd, eigh, qr, and what is built on the SVD
(pinv, matrix_rank, lstsq).

The multi-output ops keep their outputs as arrays and rebuild them as tensors of their own
node in backward (what `ctx.saved_output` does for one output), so the standard formulas
(torch's svd_backward, eigh and qr backward) are written in Tensor ops and differentiate
again.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import register, sum_to
from .join import cat
from .linalg_solve import check_float, check_matrix, return_type, solve
from .linalg_struct import diag_embed, diagonal, triu

__all__ = ["svd", "pinverse", "qr"]

linalg_svd = return_type("linalg_svd", ("U", "S", "Vh"))
svd_type = return_type("svd", ("U", "S", "V"))
linalg_eigh = return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
linalg_qr = return_type("linalg_qr", ("Q", "R"))
qr_type = return_type("qr", ("Q", "R"))
linalg_lstsq = return_type("linalg_lstsq", ("solution", "residuals", "rank",
                                            "singular_values"))


def _outputs(ctx):
    """The op's outputs as tensors of this node, for backward formulas to differentiate."""
    outs = []
    for nr, data in enumerate(ctx.outputs):
        t = Tensor._wrap(data)
        t._requires_grad = True
        t._grad_fn = ctx
        t._output_nr = nr
        outs.append(t)
    return outs


def _const(array):
    return Tensor._wrap(array)


def _cols(t, start, length):
    return t.narrow(-1, start, length)


def _rows(t, start, length):
    return t.narrow(-2, start, length)


def _zeros(t):
    xp = B.get_array_module(t._data)
    return _const(xp.zeros(t._data.shape, dtype=t._data.dtype))


def _row(v):
    return v.reshape(v._data.shape[:-1] + (1,) + v._data.shape[-1:])


def _col(v):
    return v.reshape(v._data.shape + (1,))


def _spread(v):
    """v_j - v_i at (i, j), with ones on the diagonal (the denominators of svd/eigh grads)."""
    xp = B.get_array_module(v._data)
    n = v._data.shape[-1]
    return _row(v) - _col(v) + _const(xp.eye(n, dtype=v._data.dtype))


# ---------------------------------------------------------------- svd


class Svd(Op):
    node_name = "LinalgSvdBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, full_matrices):
        x = a._data
        u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
        ctx.outputs = (u, s, vh)
        ctx.full = full_matrices
        return u, s, vh

    @staticmethod
    def backward(ctx, g_u, g_s, g_vh):
        u, s, vh = _outputs(ctx)
        m, n = u._data.shape[-2], vh._data.shape[-1]
        k = s._data.shape[-1]
        if ctx.full:  # only the first k singular vectors are determined by A
            if m != k:
                u = _cols(u, 0, k)
                g_u = _cols(g_u, 0, k) if g_u is not None else None
            if n != k:
                vh = _rows(vh, 0, k)
                g_vh = _rows(g_vh, 0, k) if g_vh is not None else None
        return svd_backward(g_u, g_s, g_vh, u, s, vh), None


def svd_backward(g_u, g_s, g_vh, u, s, vh):
    """torch's svd_backward (distinct singular values) in Tensor ops."""
    m, n = u._data.shape[-2], vh._data.shape[-1]
    if g_u is None and g_vh is None:
        if g_s is None:
            return None
        return u @ (_col(g_s) * vh) if m >= n else (u * _row(g_s)) @ vh
    spread = _spread(s * s)
    if g_u is not None:
        uhgu = u.mT @ g_u
        uhgu = uhgu - uhgu.mT
    if g_vh is not None:
        vhgv = vh @ g_vh.mT
        vhgv = vhgv - vhgv.mT
    if g_u is not None and g_vh is not None:
        g_a = (uhgu * _row(s) + _col(s) * vhgv) / spread
    elif g_u is not None:
        g_a = uhgu / spread * _row(s)
    else:
        g_a = _col(s) * (vhgv / spread)
    if g_s is not None:
        g_a = g_a + diag_embed(g_s)
    if m > n and g_u is not None:
        g_a = u @ g_a
        gu_sinv = g_u / _row(s)
        g_a = (g_a + gu_sinv - u @ (u.mT @ gu_sinv)) @ vh
    elif m < n and g_vh is not None:
        g_a = g_a @ vh
        sinv_gvh = g_vh / _col(s)
        g_a = u @ (g_a + sinv_gvh - (sinv_gvh @ vh.mT) @ vh)
    else:
        g_a = u @ (g_a @ vh) if m >= n else (u @ g_a) @ vh
    return g_a


def _svd_checks(x, name="linalg.svd"):
    check_matrix(x, name, square=False)
    check_float(x, name, "linalg_svd_cpu")


def linalg_svd_fn(A, full_matrices=True, *, driver=None):
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    _svd_checks(A._data)
    return linalg_svd(Svd.apply(A, full_matrices))


def svdvals(A, *, driver=None):
    x = A._data
    _svd_checks(x)
    if A._requires_grad:
        return Svd.apply(A, False)[1]
    return Tensor._wrap(np.linalg.svd(x, compute_uv=False))


def svd(input, some=True, compute_uv=True):
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"linalg.svd: input should have at least 2 dimensions, but has "
                           f"{x.ndim} dimensions instead")
    _svd_checks(x)
    if not compute_uv:
        xp = B.get_array_module(x)
        m, n = x.shape[-2:]
        u = Tensor._wrap(xp.zeros(x.shape[:-2] + (m, m), dtype=x.dtype))
        v = Tensor._wrap(xp.zeros(x.shape[:-2] + (n, n), dtype=x.dtype))
        return svd_type((u, svdvals(input), v))
    u, s, vh = Svd.apply(input, not some)
    return svd_type((u, s, vh.mT))


register("svd", svd)


# ---------------------------------------------------------------- eigh


class Eigh(Op):
    node_name = "LinalgEighBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, uplo):
        x = a._data
        if uplo not in ("L", "U"):
            raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {uplo}")
        check_matrix(x, "linalg.eigh")
        if x.dtype.kind not in "fV" or x.dtype.itemsize == 2:
            raise NotImplementedError(f"\"linalg_eigh_cpu\" not implemented for "
                                      f"'{_legacy_of(x)}'")
        w, v = np.linalg.eigh(x, UPLO=uplo)
        ctx.outputs = (w, v)
        return w.astype(x.dtype, copy=False), v

    @staticmethod
    def backward(ctx, g_w, g_v):
        w, v = _outputs(ctx)
        if g_v is None:
            if g_w is None:
                return None, None
            return (v * _row(g_w)) @ v.mT, None
        # project V^T gV on the skew-symmetric matrices, divide by the eigenvalue gaps
        vhgv = v.mT @ g_v
        g_a = 0.5 * (vhgv - vhgv.mT) / _spread(w)
        if g_w is not None:
            g_a = g_a + diag_embed(g_w)
        return v @ (g_a @ v.mT), None


def _legacy_of(x):
    from .linalg import _legacy

    return _legacy(x)


def eigh(A, UPLO="L"):
    return linalg_eigh(Eigh.apply(A, UPLO))


def eigvalsh(A, UPLO="L"):
    return Eigh.apply(A, UPLO)[0]


# ---------------------------------------------------------------- qr


class Qr(Op):
    node_name = "LinalgQrBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, mode):
        x = a._data
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                               "'reduced' (default), 'r', or 'complete'")
        check_matrix(x, "linalg.qr", square=False)
        check_float(x, "linalg.qr", "geqrf_cpu")
        if mode == "r":
            r = np.linalg.qr(x, mode="r")
            q = B.get_array_module(x).zeros((0,), dtype=x.dtype)
        else:
            q, r = np.linalg.qr(x, mode=mode)
        ctx.outputs, ctx.mode = (q, r), mode
        return q, r

    @staticmethod
    def backward(ctx, g_q, g_r):
        if ctx.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed "
                               "when mode='r'. Please use linalg.qr(A, mode='reduced') if you "
                               "are going to differentiate through linalg.qr.")
        q, r = _outputs(ctx)
        m, n = q._data.shape[-2], r._data.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when "
                               "mode='complete' and nrows > ncols.")
        return qr_backward(g_q, g_r, q, r, m, n), None


def qr_backward(g_q, g_r, q, r, m, n):
    """torch's linalg_qr_backward in Tensor ops."""
    if g_q is None and g_r is None:
        return None
    if m < n:
        # A = Q [U V] is X = Q U (square) and Y = Q V: V's gradient reaches Q through Y
        u, v = _cols(r, 0, m), _cols(r, m, n - m)
        g_u = _cols(g_r, 0, m) if g_r is not None else None
        g_v = _cols(g_r, m, n - m) if g_r is not None else None
        if g_v is not None:
            through = (q @ v) @ g_v.mT
            g_q = through if g_q is None else g_q + through
        g_x = qr_backward(g_q, g_u, q, u, m, m)
        g_y = q @ g_v if g_v is not None else _zeros(v)
        return cat([g_x if g_x is not None else _zeros(u), g_y], -1)
    if g_q is not None:
        g_a = -(q.mT @ g_q) if g_r is None else g_r @ r.mT - q.mT @ g_q
    else:
        g_a = g_r @ r.mT
    upper = triu(g_a)
    sym = upper + upper.mT
    sym = sym - 0.5 * diag_embed(diagonal(sym, 0, -2, -1))
    g_a = q @ sym
    if g_q is not None:
        g_a = g_a + g_q
    return solve(r, g_a.mT).mT  # g_a R^-T


def linalg_qr_fn(A, mode="reduced"):
    return linalg_qr(Qr.apply(A, mode))


def qr(input, some=True):
    import warnings

    warnings.warn(
        "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future "
        "PyTorch release.\nThe boolean parameter 'some' has been replaced with a string "
        "parameter 'mode'.\nQ, R = torch.qr(A, some)\nshould be replaced with\n"
        "Q, R = torch.linalg.qr(A, 'reduced' if some else 'complete')", UserWarning,
        stacklevel=2)
    return qr_type(Qr.apply(input, "reduced" if some else "complete"))


register("qr", qr)


# ---------------------------------------------------------------- pinv, matrix_rank, lstsq


def _tolerance(s, shape, atol, rtol, dtype):
    """max(atol, rtol * largest singular value), torch's default rtol = eps * max(m, n)."""
    if rtol is None:
        rtol = np.finfo(dtype).eps * max(shape[-2:]) if atol is None or atol <= 0 else 0.0
    atol = 0.0 if atol is None else atol
    atol = atol._data[..., None] if isinstance(atol, Tensor) else atol
    rtol = rtol._data[..., None] if isinstance(rtol, Tensor) else rtol
    xp = B.get_array_module(s)
    largest = xp.abs(s).max(-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    return np.maximum(atol, rtol * largest)


class Pinv(Op):
    node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, a, atol, rtol, hermitian):
        x = a._data
        if x.ndim < 2 or x.dtype.kind != "f" or x.dtype.itemsize == 2:
            raise RuntimeError(f"linalg.pinv({_legacy_of(x)}{{{list(x.shape)}}}): expected a "
                               "tensor with 2 or more dimensions of float, double, cfloat or "
                               "cdouble types")
        if hermitian:
            w, v = np.linalg.eigh(x)
            keep = np.abs(w) > _tolerance(w, x.shape, atol, rtol, x.dtype)
            inv_w = np.where(keep, 1 / np.where(keep, w, 1), 0)
            out = (v * inv_w[..., None, :]) @ v.swapaxes(-1, -2)
        else:
            u, s, vh = np.linalg.svd(x, full_matrices=False)
            keep = s > _tolerance(s, x.shape, atol, rtol, x.dtype)
            inv_s = np.where(keep, 1 / np.where(keep, s, 1), 0)
            out = (vh.swapaxes(-1, -2) * inv_s[..., None, :]) @ u.swapaxes(-1, -2)
        ctx.save_for_backward(a)
        ctx.save_output()
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return pinv_backward(grad, ctx.saved_output, a), None, None, None


def pinv_backward(grad, pinv_a, a):
    """torch's pinv_backward in Tensor ops (products of the smallest sizes)."""
    m, n = a._data.shape[-2:]
    pinv_t, grad_t = pinv_a.mT, grad.mT
    if m <= n:
        k = grad_t @ pinv_a
        k_pinv_t = k @ pinv_t
        return (-(pinv_a @ k).mT + k_pinv_t - (a @ pinv_a) @ k_pinv_t
                + (pinv_t @ pinv_a) @ (grad_t - k @ a))
    k = pinv_a @ grad_t
    pinv_t_k = pinv_t @ k
    return (-(k @ pinv_a).mT + (grad_t - a @ k) @ pinv_a @ pinv_t + pinv_t_k
            - pinv_t_k @ pinv_a @ a)


def pinv(A, rcond=None, hermitian=False, *, atol=None, rtol=None):
    if rcond is not None:
        rtol = rcond
    return Pinv.apply(A, atol, rtol, hermitian)


def pinverse(input, rcond=1e-15):
    return Pinv.apply(input, None, rcond, False)


register("pinverse", pinverse)


def matrix_rank(A, tol=None, hermitian=False, *, atol=None, rtol=None):
    x = A._data
    if x.dtype.kind != "f" or x.dtype.itemsize == 2:
        raise RuntimeError("This function doesn't handle types other than float and double")
    check_matrix(x, "linalg.matrix_rank", square=False)
    if tol is not None:
        atol, rtol = tol, 0.0
    if hermitian:
        s = np.abs(np.linalg.eigvalsh(x))
    else:
        s = np.linalg.svd(x, compute_uv=False)
    count = (s > _tolerance(s, x.shape, atol, rtol, x.dtype)).sum(-1)
    return Tensor._wrap(B.get_array_module(s).asarray(count, dtype=np.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


class Lstsq(Op):
    node_name = "LinalgLstsqBackward0"
    materialize_grads = False

    @staticmethod
    def forward(ctx, a, b, rcond, driver, vector):
        x, y = a._data, b._data
        ym = y[..., None] if vector else y
        u, s, vh = np.linalg.svd(x, full_matrices=False)
        m, n = x.shape[-2:]
        if rcond is None or rcond < 0:
            rcond = np.finfo(x.dtype).eps * max(m, n)
        keep = s > rcond * (s[..., :1] if s.shape[-1] else 0)
        inv_s = np.where(keep, 1 / np.where(keep, s, 1), 0)
        sol = (vh.swapaxes(-1, -2) * inv_s[..., None, :]) @ (u.swapaxes(-1, -2) @ ym)
        rank = keep.sum(-1).astype(np.int64)
        xp = B.get_array_module(x)
        empty = xp.zeros((0,), dtype=x.dtype)
        residuals = empty
        if m > n and driver != "gelsy" and bool((rank == n).all()):
            residuals = ((x @ sol - ym) ** 2).sum(-2)
            if vector:
                residuals = residuals[..., 0]
        if driver == "gels":
            rank = xp.zeros((0,), dtype=np.int64)
        ctx.save_for_backward(a, b)
        ctx.vector = vector
        ctx.outputs = (sol[..., 0] if vector else sol, residuals)
        return (ctx.outputs[0].astype(x.dtype, copy=False), residuals.astype(x.dtype), rank)

    @staticmethod
    def backward(ctx, g_sol, g_res, *unused):
        a, b = ctx.saved_tensors
        flags = ctx.needs_input_grad
        sol, residuals = _outputs(ctx)
        vector = ctx.vector
        bm, solm = (_col(b), _col(sol)) if vector else (b, sol)
        pinv_a = pinv(a)
        g_a = g_b = None
        if g_sol is not None:
            g_solm = _col(g_sol) if vector else g_sol
            if flags[0]:
                g_a = pinv_backward(g_solm @ bm.mT, pinv_a, a)
            if flags[1]:
                g_b = pinv_a.mT @ g_solm
        if g_res is not None and residuals._data.size:
            # at the least-squares optimum only the explicit dependence counts
            resid = a @ solm - bm
            g_resm = _row(g_res) if not vector else g_res.reshape(g_res._data.shape + (1, 1))
            extra_a = 2 * (resid * g_resm) @ solm.mT
            extra_b = -2 * resid * g_resm
            g_a = extra_a if g_a is None else g_a + extra_a
            g_b = extra_b if g_b is None else g_b + extra_b
        if g_b is not None:
            g_b = sum_to(g_b.reshape(g_b._data.shape[:-1]) if vector else g_b, b._data.shape)
        if g_a is not None:
            g_a = sum_to(g_a, a._data.shape)
        return g_a, g_b, None, None, None


def lstsq(A, B_, rcond=None, *, driver=None):
    x, y = A._data, B_._data
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    check_float(x, "torch.linalg.lstsq", "linalg_lstsq")
    if x.dtype != y.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_legacy_of(x)} and other's dtype "
                           f"{_legacy_of(y)}")
    vector = y.ndim == x.ndim - 1
    if x.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if (y.shape[-1] if vector else y.shape[-2]) != x.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    solution, residuals, rank = Lstsq.apply(A, B_, rcond, driver, vector)
    if driver in ("gelsd", "gelss"):
        values = Tensor._wrap(np.linalg.svd(x, compute_uv=False))
    else:
        values = Tensor._wrap(B.get_array_module(x).zeros((0,), dtype=x.dtype))
    return linalg_lstsq((solution, residuals, rank, values))

"""Decompositions, solvers, norms and matrix functions against torch (torch.linalg and the
torch.* forms): values, dtypes, named-tuple results, gradients, errors.

Singular vectors, eigenvectors and Q are unique only up to sign, so their gradients are
compared through sign-invariant functions (U * U, U @ Vh, reconstructions)."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from oracle import RNG, arr, check, check_error, gradcheck_op

import disttorch
import disttorch.linalg  # noqa: F401  (the torch.linalg namespace)


def well(*shape, dtype="float64"):
    """A well-conditioned (diagonally dominant) batch of square matrices."""
    n = shape[-1]
    return (arr(*shape) + n * np.eye(n)).astype(dtype)


def spd(*shape, dtype="float64"):
    n = shape[-1]
    a = arr(*shape)
    return (a @ np.swapaxes(a, -1, -2) + n * np.eye(n)).astype(dtype)


def sym(m, a):
    """A symmetric matrix built from any square input (so gradients stay symmetric)."""
    return a + a.mT


def differentiable(fn):
    """fn keeping only its outputs that require grad (gradcheck compares those)."""

    def run(m, *args):
        out = fn(m, *args)
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(o for o in outs if o.requires_grad)

    return run


def quiet(fn):
    def run(*args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args)

    return run


# ---------------------------------------------------------------- inverse, det, solve

SOLVER_ROWS = [
    (lambda m, a: m.inverse(a), [well(3, 3)]),
    (lambda m, a: a.inverse(), [well(2, 3, 3)]),
    (lambda m, a: m.linalg.inv(a), [well(2, 2, 2)]),
    (lambda m, a: m.linalg.inv_ex(a), [well(3, 3)]),
    (lambda m, a: m.det(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.det(a), [arr(2, 3, 3)]),
    (lambda m, a: a.det(), [arr(1, 1)]),
    (lambda m, a: m.slogdet(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.slogdet(a), [arr(2, 3, 3)]),
    (lambda m, a: m.logdet(a), [spd(3, 3)]),
    (lambda m, a: a.logdet(), [spd(2, 3, 3)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(3, 3), arr(3, 2)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(3, 3), arr(3)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(2, 3, 3), arr(2, 3)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(2, 3, 3), arr(3)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(3, 3), arr(2, 3, 2)]),
    (lambda m, a, b: m.linalg.solve(a, b), [well(2, 1, 3, 3), arr(4, 3, 1)]),
    (lambda m, a, b: m.linalg.solve(a, b, left=False), [well(3, 3), arr(2, 3)]),
    (lambda m, a, b: m.linalg.solve_ex(a, b), [well(3, 3), arr(3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [well(3, 3), arr(3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False),
     [well(2, 3, 3), arr(2, 3)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
     [arr(3, 3), arr(2, 3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True, left=False,
                                               unitriangular=True), [arr(3, 3), arr(1, 3)]),
    # cholesky reads one triangle: symmetric inputs make finite differences comparable
    (lambda m, a: m.linalg.cholesky(sym(m, a)), [spd(3, 3)]),
    (lambda m, a: m.linalg.cholesky(sym(m, a), upper=True), [spd(2, 3, 3)]),
    (lambda m, a: m.linalg.cholesky_ex(sym(m, a)), [spd(3, 3)]),
    (quiet(lambda m, a: m.cholesky(sym(m, a))), [spd(3, 3)]),
    (quiet(lambda m, a: sym(m, a).cholesky(upper=True)), [spd(3, 3)]),
    (lambda m, b, a: m.cholesky_solve(b, m.linalg.cholesky(sym(m, a))), [arr(3, 2), spd(3, 3)]),
    (lambda m, b, a: m.cholesky_solve(b, m.linalg.cholesky(sym(m, a), upper=True), True),
     [arr(2, 3, 2), spd(3, 3)]),
    (lambda m, b, a: m.cholesky_solve(b, a.tril()), [arr(3, 2), well(3, 3)]),
    (lambda m, a: m.cholesky_inverse(a.tril()), [well(3, 3)]),
    (lambda m, a: m.cholesky_inverse(a.triu(), upper=True), [well(2, 3, 3)]),
]


@pytest.mark.parametrize("fn,inputs", SOLVER_ROWS)
def test_solvers(fn, inputs):
    check(fn, *inputs, rtol=1e-6)
    check(fn, *[x.astype("float32") for x in inputs], rtol=1e-4, atol=1e-5)
    gradcheck_op(differentiable(fn), *inputs)


@pytest.mark.parametrize("fn,inputs", [SOLVER_ROWS[i] for i in (0, 4, 11, 19)] + [
    (lambda m, a: m.linalg.slogdet(a).logabsdet, [arr(3, 3)])])
def test_solvers_gradgrad(fn, inputs):
    gradcheck_op(fn, *inputs, gradgrad=True)


def test_det_of_singular_matrix():
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    check(lambda m, a: m.linalg.det(a), singular, grad=False)
    check(lambda m, a: m.linalg.det(a), np.zeros((2, 2)))
    # the gradient is the cofactor matrix (torch's LU-based formula returns 0 here)
    a = disttorch.tensor(singular, requires_grad=True)
    (g,) = disttorch.autograd.grad(disttorch.linalg.det(a), a, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[4, 4, -4], [-2, -2, 2], [0, 0, 0]],
                               atol=1e-12)
    with pytest.raises(RuntimeError, match="double backward"):
        g.sum().backward()


def test_singular_and_non_pd_errors_are_linalg_errors():
    for fn, x in [(lambda m, a: m.linalg.inv(a), np.zeros((3, 3))),
                  (lambda m, a: m.inverse(a), np.stack([np.eye(3), np.zeros((3, 3))])),
                  (lambda m, a: m.linalg.solve(a, a), np.zeros((3, 3))),
                  (lambda m, a: m.linalg.solve(a, a), np.stack([np.eye(2), np.zeros((2, 2))])),
                  (lambda m, a: m.linalg.cholesky(a), -np.eye(3)),
                  (lambda m, a: m.linalg.cholesky(a), np.stack([np.eye(2), -np.eye(2)])),
                  (lambda m, a: m.linalg.cholesky(a), np.array([[4.0, 1], [100, 3]])),
                  (lambda m, a: m.linalg.cholesky(a, upper=True), np.array([[4.0, 100], [1, 3]])),
                  (lambda m, a: m.linalg.cholesky_ex(a, check_errors=True), -np.eye(2)),
                  (quiet(lambda m, a: m.cholesky(a)), -np.eye(2)),
                  (lambda m, a: m.linalg.inv_ex(a, check_errors=True), np.zeros((2, 2))),
                  (lambda m, a: m.linalg.lu_factor(a), np.zeros((2, 2))),
                  (lambda m, a: m.linalg.lu_factor(a), np.ones((2, 3, 4)))]:
        err = check_error(fn, x.astype("float32"), match="same")
        assert isinstance(err, RuntimeError)
    err = check_error(lambda m, a: m.linalg.inv(a), np.zeros((2, 2)))
    assert isinstance(err, disttorch.linalg.LinAlgError)


def test_solve_triangular_with_zero_diagonal_gives_inf():
    check(lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False),
          np.array([[0.0, 0.0], [1.0, 2.0]]), np.ones((2, 1)), grad=False)


def test_ex_variants_report_info():
    for m in (torch, disttorch):
        info = m.linalg.inv_ex(m.tensor(np.stack([np.eye(2), np.zeros((2, 2))]))).info
        assert info.tolist() == [0, 1] and str(info.dtype) == "torch.int32"
        info = m.linalg.cholesky_ex(m.tensor(np.stack([np.eye(2), -np.eye(2)]))).info
        assert info.tolist() == [0, 1]
        assert int(m.linalg.solve_ex(m.zeros(2, 2), m.ones(2)).info) == 1


# ---------------------------------------------------------------- svd, eigh, qr, lu


def svd_invariants(m, a, full=False):
    u, s, vh = m.linalg.svd(a, full_matrices=full)
    k = s.shape[-1]
    return u[..., :k] * u[..., :k], s, vh[..., :k, :] * vh[..., :k, :], u[..., :k] @ vh[..., :k, :]


FACTOR_ROWS = [
    (svd_invariants, [arr(3, 3)]),
    (svd_invariants, [arr(4, 2)]),
    (svd_invariants, [arr(2, 4)]),
    (svd_invariants, [arr(2, 3, 2)]),
    (lambda m, a: svd_invariants(m, a, True), [arr(4, 2)]),
    (lambda m, a: svd_invariants(m, a, True), [arr(2, 3)]),
    (lambda m, a: m.linalg.svdvals(a), [arr(3, 4)]),
    (lambda m, a: (lambda r: (r.U * r.U, r.S, r.V * r.V))(m.svd(a)), [arr(4, 3)]),
    (lambda m, a: (lambda r: (r.U[..., :3] * r.U[..., :3], r.S))(m.svd(a, some=False)),
     [arr(4, 3)]),
    (lambda m, a: m.svd(a, compute_uv=False), [arr(4, 3)]),
    (lambda m, a: (lambda r: (r.eigenvalues, r.eigenvectors * r.eigenvectors))(
        m.linalg.eigh(sym(m, a))), [arr(3, 3)]),
    (lambda m, a: (lambda r: (r[0], r[1] @ m.diag_embed(r[0].exp()) @ r[1].mT))(
        m.linalg.eigh(sym(m, a), UPLO="U")), [arr(2, 3, 3)]),
    (lambda m, a: m.linalg.eigvalsh(sym(m, a)), [arr(3, 3)]),
    (lambda m, a: m.linalg.qr(a), [arr(4, 3)]),
    (lambda m, a: m.linalg.qr(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.qr(a), [arr(2, 4)]),
    (lambda m, a: m.linalg.qr(a, mode="complete"), [arr(2, 4)]),
    (lambda m, a: m.linalg.qr(a, mode="complete"), [arr(3, 3)]),
    (lambda m, a: m.linalg.qr(a), [arr(2, 3, 2)]),
    (quiet(lambda m, a: m.qr(a)), [arr(3, 2)]),
    (lambda m, a: m.linalg.lu_factor(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.lu_factor(a), [arr(2, 4, 3)]),
    (lambda m, a: m.linalg.lu_factor_ex(a), [arr(3, 4)]),
    (lambda m, a: m.linalg.lu(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.lu(a), [arr(4, 2)]),
    (lambda m, a: m.linalg.lu(a), [arr(2, 2, 4)]),
    (quiet(lambda m, a: m.lu(a)), [arr(3, 3)]),
]


@pytest.mark.parametrize("fn,inputs", FACTOR_ROWS)
def test_factorizations(fn, inputs):
    check(fn, *inputs, rtol=1e-6)
    check(fn, *[x.astype("float32") for x in inputs], rtol=1e-4, atol=1e-5)
    gradcheck_op(differentiable(fn), *inputs)


def test_factorization_gradgrad():
    gradcheck_op(lambda m, a: m.linalg.svdvals(a), arr(3, 3), gradgrad=True)
    gradcheck_op(lambda m, a: m.linalg.eigvalsh(sym(m, a)), arr(3, 3), gradgrad=True)
    gradcheck_op(lambda m, a: m.linalg.qr(a).R, arr(3, 2), gradgrad=True)


def test_qr_r_mode_and_svd_full_shapes():
    check(lambda m, a: m.linalg.qr(a, mode="r"), arr(4, 3), grad=False)
    for m in (torch, disttorch):
        r = m.linalg.qr(m.tensor(arr(4, 3), requires_grad=True), mode="r")
        with pytest.raises(RuntimeError, match="mode='r'"):
            r.R.sum().backward()
        q = m.linalg.qr(m.tensor(arr(4, 3), requires_grad=True), mode="complete")
        with pytest.raises(RuntimeError, match="not differentiable"):
            q.Q.sum().backward()
    check(lambda m, a: tuple(t.shape for t in m.linalg.svd(a)), arr(4, 3), grad=False)
    check(lambda m, a: tuple(t.shape for t in m.linalg.svd(a, False)), arr(2, 4, 3), grad=False)


def test_svd_reconstruction_and_orthogonality():
    a = arr(2, 5, 3)
    u, s, vh = disttorch.linalg.svd(disttorch.tensor(a), full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()[..., None, :]) @ vh.numpy(), a,
                               atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(u.numpy(), -1, -2) @ u.numpy(),
                               np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-12)


def test_return_types():
    for m in (torch, disttorch):
        r = m.linalg.slogdet(m.eye(2))
        assert r.sign.item() == 1.0 and r[1].item() == 0.0
        assert isinstance(r, tuple) and len(r) == 2
    assert repr(disttorch.linalg.slogdet(disttorch.eye(2))) == \
        repr(torch.linalg.slogdet(torch.eye(2)))
    assert repr(disttorch.linalg.eigh(disttorch.eye(2))) == \
        repr(torch.linalg.eigh(torch.eye(2)))
    result = disttorch.linalg.svd(disttorch.tensor(arr(3, 2)))
    copy = pickle.loads(pickle.dumps(result))
    assert type(copy) is type(result) and copy.S.tolist() == result.S.tolist()
    names = {"svd": ("U", "S", "Vh"), "qr": ("Q", "R"), "eigh": ("eigenvalues", "eigenvectors"),
             "lstsq": ("solution", "residuals", "rank", "singular_values")}
    a = disttorch.tensor(well(3, 3))
    for fn, fields in names.items():
        args = (a, a) if fn == "lstsq" else (a,)
        result = getattr(disttorch.linalg, fn)(*args)
        assert all(getattr(result, f) is result[i] for i, f in enumerate(fields))


# ---------------------------------------------------------------- pinv, rank, lstsq

RANK_DEFICIENT = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])

PSEUDO_ROWS = [
    (lambda m, a: m.linalg.pinv(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.pinv(a), [arr(4, 2)]),
    (lambda m, a: m.linalg.pinv(a), [arr(2, 2, 4)]),
    (lambda m, a: m.linalg.pinv(sym(m, a), hermitian=True), [arr(3, 3)]),
    (lambda m, a: m.pinverse(a), [arr(3, 2)]),
    (lambda m, a: a.pinverse(rcond=1e-3), [arr(2, 3)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [well(3, 3), arr(3, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [arr(5, 3), arr(5, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [arr(3, 5), arr(3, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [arr(5, 3), arr(5)]),
    (lambda m, a, b: m.linalg.lstsq(a, b, driver="gelsd"), [arr(5, 3), arr(5, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b, driver="gels"), [arr(2, 5, 3), arr(2, 5, 2)]),
]


@pytest.mark.parametrize("fn,inputs", PSEUDO_ROWS)
def test_pseudo_inverse_and_lstsq(fn, inputs):
    check(fn, *inputs, rtol=1e-6)
    check(fn, *[x.astype("float32") for x in inputs], rtol=1e-3, atol=1e-4)
    gradcheck_op(differentiable(fn), *inputs)


def test_rank_deficient_and_rank():
    check(lambda m, a: m.linalg.pinv(a), RANK_DEFICIENT, grad=False)
    check(lambda m, a: m.linalg.lstsq(a, a), RANK_DEFICIENT, grad=False)
    for kwargs in ({}, {"hermitian": True}, {"atol": 1e-2}, {"atol": 1e-2, "rtol": 0.5},
                   {"tol": 1e-2}, {"rtol": 1e-4}):
        check(lambda m, a: m.linalg.matrix_rank(a, **kwargs),
              np.diag([1.0, -1e-3, 1e-9]).astype("float32"))
    check(lambda m, a: m.linalg.matrix_rank(a), RANK_DEFICIENT)
    check(lambda m, a: m.linalg.matrix_rank(a), np.stack([RANK_DEFICIENT, np.eye(3)]))
    check(lambda m, a: m.linalg.pinv(a, atol=0.1), np.diag([1.0, 0.05, 2.0]), grad=False)


# ---------------------------------------------------------------- norms

VECTOR_ORDS = [2, 1, 0, 3, 0.5, -1, float("inf"), float("-inf")]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
def test_vector_norm(ord):
    x = arr(2, 3, 4)
    check(lambda m, t: m.linalg.vector_norm(t, ord), x)
    check(lambda m, t: m.linalg.vector_norm(t, ord, dim=1, keepdim=True), x)
    check(lambda m, t: m.linalg.vector_norm(t, ord, dim=(0, 2)), x.astype("float32"))
    check(lambda m, t: m.linalg.norm(t, ord, dim=-1), x)
    check(lambda m, t: m.linalg.vector_norm(t, ord, dtype=m.float64), x.astype("float32"))
    if ord != 0:
        gradcheck_op(lambda m, t: m.linalg.vector_norm(t, ord, dim=1), x)


MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm(ord):
    x = arr(2, 3, 4)
    check(lambda m, t: m.linalg.matrix_norm(t, ord), x)
    check(lambda m, t: m.linalg.matrix_norm(t, ord, dim=(0, 2), keepdim=True), x)
    check(lambda m, t: m.linalg.matrix_norm(t, ord, dim=(2, 0)), x.astype("float32"))
    check(lambda m, t: m.linalg.norm(t, ord), x[0])
    check(lambda m, t: m.linalg.norm(t, ord, (1, 2), True), x)
    # torch's own cond backward fails (an in-place masked_fill_) for orders other than +-2
    check(lambda m, t: m.linalg.cond(t, ord), well(2, 3, 3), grad=ord in (2, -2))
    gradcheck_op(lambda m, t: m.linalg.matrix_norm(t, ord), x)
    gradcheck_op(lambda m, t: m.linalg.cond(t, ord), well(3, 3))


def test_norm_defaults_and_names():
    x = arr(2, 3, 4)
    check(lambda m, t: m.linalg.norm(t), x)
    check(lambda m, t: m.linalg.norm(t, dim=(0, 1)), x)
    check(lambda m, t: m.linalg.norm(t, 3), x[0, 0])
    check(lambda m, t: m.linalg.cond(t), arr(3, 4))
    check(lambda m, t: m.linalg.cond(t, -2), arr(2, 3, 3))
    gradcheck_op(lambda m, t: m.linalg.cond(t), arr(3, 3))
    for fn in (lambda m, t: m.linalg.norm(t), lambda m, t: m.linalg.matrix_norm(t, "nuc"),
               lambda m, t: m.linalg.matrix_norm(t, 2), lambda m, t: m.linalg.matrix_norm(t, 1),
               lambda m, t: m.linalg.matrix_norm(t, -1), lambda m, t: m.linalg.cond(t)):
        names = [type(fn(m, m.tensor(x[0], requires_grad=True)).grad_fn).__name__
                 for m in (torch, disttorch)]
        assert names[0] == names[1]


# ---------------------------------------------------------------- products and functions

FUNCTION_ROWS = [
    (lambda m, a: m.matrix_power(a, 0), [arr(3, 3)]),
    (lambda m, a: a.matrix_power(1), [arr(3, 3)]),
    (lambda m, a: a.matrix_power(2), [arr(3, 3)]),
    (lambda m, a: a.matrix_power(3), [arr(2, 3, 3)]),
    (lambda m, a: a.matrix_power(5), [arr(3, 3)]),
    (lambda m, a: a.matrix_power(-1), [well(3, 3)]),
    (lambda m, a: m.linalg.matrix_power(a, -3), [well(2, 3, 3)]),
    (lambda m, a: m.matrix_exp(a), [arr(3, 3)]),
    (lambda m, a: m.linalg.matrix_exp(a), [arr(2, 2, 2)]),
    (lambda m, a: a.matrix_exp(), [3 * arr(4, 4)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [arr(2, 3), arr(3, 4)]),
    (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [arr(3), arr(3, 4), arr(4)]),
    (lambda m, a, b, c, d: m.linalg.multi_dot([a, b, c, d]),
     [arr(5, 2), arr(2, 6), arr(6, 3), arr(3, 4)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [arr(3), arr(3)]),
    (lambda m, a, b: m.linalg.vecdot(a, b), [arr(3), arr(3)]),
    (lambda m, a, b: m.linalg.vecdot(a, b), [arr(2, 3), arr(3)]),
    (lambda m, a, b: m.linalg.vecdot(a, b, dim=0), [arr(3, 2), arr(3, 2)]),
    (lambda m, a, b: m.linalg.matmul(a, b), [arr(2, 3), arr(2, 3, 2)]),
]


@pytest.mark.parametrize("fn,inputs", FUNCTION_ROWS)
def test_matrix_functions(fn, inputs):
    check(fn, *inputs, rtol=1e-6)
    check(fn, *[x.astype("float32") for x in inputs], rtol=1e-4, atol=1e-4)
    gradcheck_op(fn, *inputs)
    names = []
    for m in (torch, disttorch):
        out = fn(m, *[m.tensor(x, requires_grad=True) for x in inputs])
        names.append(type(out.grad_fn).__name__)
    assert names[0] == names[1]


def test_matrix_function_dtypes_and_gradgrad():
    check(lambda m, a: a.matrix_power(3), arr(3, 3, dtype="int64"))
    check(lambda m, a: a.matrix_power(0), arr(3, 3, dtype="int64"))
    gradcheck_op(lambda m, a: m.matrix_exp(a), arr(2, 2), gradgrad=True)
    gradcheck_op(lambda m, a: a.matrix_power(3), arr(2, 2), gradgrad=True)


# ---------------------------------------------------------------- errors

ERROR_ROWS = [
    (lambda m, a: a.inverse(), [(3, 4)]),
    (lambda m, a: a.inverse(), [(3,)]),
    (lambda m, a: a.long().inverse(), [(3, 3)]),
    (lambda m, a: a.long().inverse(), [(3, 4)]),
    (lambda m, a: a.half().inverse(), [(3, 3)]),
    (lambda m, a: a.det(), [(3, 4)]),
    (lambda m, a: a.det(), [(3,)]),
    (lambda m, a: a.long().det(), [(3, 3)]),
    (lambda m, a: a.half().det(), [(3, 3)]),
    (lambda m, a: a.long().logdet(), [(3, 3)]),
    (lambda m, a: a.slogdet(), [(3, 4)]),
    (lambda m, a: m.linalg.slogdet(a.long()), [(3, 3)]),
    (lambda m, a: a.svd(), [(3,)]),
    (lambda m, a: m.linalg.svd(a), [(3,)]),
    (lambda m, a: m.linalg.svd(a.long()), [(3, 3)]),
    (lambda m, a: m.linalg.svd(a.half()), [(3, 3)]),
    (lambda m, a: m.linalg.svd(a, driver="gesvd"), [(3, 3)]),
    (lambda m, a: m.linalg.svdvals(a.long()), [(3, 3)]),
    (lambda m, a: a.long().pinverse(), [(3, 3)]),
    (lambda m, a: m.linalg.pinv(a), [(3,)]),
    (lambda m, a: a.matrix_power(2), [(3, 4)]),
    (lambda m, a: a.matrix_power(2), [(3,)]),
    (lambda m, a: a.long().matrix_power(-1), [(3, 3)]),
    (lambda m, a: a.matrix_power(2.0), [(3, 3)]),
    (lambda m, a: a.matrix_exp(), [(3, 4)]),
    (lambda m, a: a.long().matrix_exp(), [(3, 3)]),
    (lambda m, a: m.linalg.cholesky(a), [(3, 4)]),
    (lambda m, a: m.linalg.cholesky(a.long()), [(3, 3)]),
    (lambda m, a: m.linalg.cholesky(a.half()), [(3, 3)]),
    (lambda m, a: m.linalg.qr(a), [(3,)]),
    (lambda m, a: m.linalg.qr(a, mode="foo"), [(3, 3)]),
    (lambda m, a: m.linalg.qr(a.long()), [(3, 3)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(3, 4), (3,)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (4,)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(3, 3), (4, 2)]),
    (lambda m, a, b: m.linalg.solve(a, b.double()), [(3, 3), (3,)]),
    (lambda m, a, b: m.linalg.solve(a.long(), b.long()), [(3, 3), (3,)]),
    (lambda m, a, b: m.linalg.solve(a.long(), b.long()), [(3, 4), (3,)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(3,), (3,)]),
    (lambda m, a, b: m.linalg.solve(a, b[0]), [(3, 3), (3,)]),
    (lambda m, a, b: m.linalg.solve(a, b, left=False), [(3, 3), (2, 4)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (4, 3, 2)]),
    (lambda m, a, b: m.linalg.solve(a, b), [(2, 3, 3), (4, 3)]),
    (lambda m, a: m.linalg.eigh(a), [(3, 4)]),
    (lambda m, a: m.linalg.eigh(a, UPLO="X"), [(3, 3)]),
    (lambda m, a: m.linalg.eigh(a.long()), [(3, 3)]),
    (lambda m, a: m.linalg.eigvalsh(a.long()), [(3, 3)]),
    (lambda m, a: m.linalg.inv(a), [(3,)]),
    (lambda m, a: m.linalg.norm(a, "fro"), [(3,)]),
    (lambda m, a: m.linalg.norm(a, dim=(0, 1, 2)), [(3, 3, 3)]),
    (lambda m, a: m.linalg.norm(a, 2), [(3, 3, 3)]),
    (lambda m, a: m.linalg.norm(a.long()), [(3,)]),
    (lambda m, a: m.linalg.vector_norm(a.long()), [(3,)]),
    (lambda m, a: m.linalg.vector_norm(a, "fro"), [(3,)]),
    (lambda m, a: m.linalg.matrix_norm(a), [(3,)]),
    (lambda m, a: m.linalg.matrix_norm(a, 3), [(3, 3)]),
    (lambda m, a: m.linalg.matrix_norm(a.long()), [(3, 3)]),
    (lambda m, a: m.linalg.matrix_norm(a, dim=(0, 1, 2)), [(3, 3, 3)]),
    (lambda m, a: m.linalg.multi_dot([a]), [(3, 3)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [(2, 3, 3), (3, 3)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [(3, 3), (2, 3, 3)]),
    (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(3, 3), (3,), (3, 3)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [(3, 3), (4, 3)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b]), [(3,), (4, 2)]),
    (lambda m, a, b, c: m.linalg.multi_dot([a, b, c]), [(2, 3), (3, 2), (3,)]),
    (lambda m, a, b: m.linalg.multi_dot([a, b.double()]), [(3, 3), (3, 3)]),
    (lambda m, a, b: m.linalg.vecdot(a, b), [(3,), (4,)]),
    (lambda m, a, b: m.linalg.vecdot(a, b), [(2, 3), (4,)]),
    (lambda m, a, b: m.linalg.vecdot(a.long(), b.long()), [(3,), (3,)]),
    (lambda m, a, b: m.linalg.vecdot(a, b.double()), [(3,), (3,)]),
    (lambda m, a: m.linalg.matrix_rank(a.long()), [(3, 3)]),
    (lambda m, a, b: m.cholesky_solve(a, b), [(3, 2), (4, 4)]),
    (lambda m, a, b: m.cholesky_solve(a, b), [(3,), (3, 3)]),
    (lambda m, a, b: m.cholesky_solve(a, b.double()), [(3, 2), (3, 3)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [(3, 3), (4, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b, driver="foo"), [(3, 3), (3, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b.double()), [(3, 2), (3, 2)]),
    (lambda m, a, b: m.linalg.lstsq(a, b), [(3,), (3,)]),
    (lambda m, a: m.linalg.lu_factor(a, pivot=False), [(2, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [(3, 3), (3,)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [(3, 3), (4, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True, left=False), [(3, 3), (2, 4)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [(3, 4), (3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True), [(3,), (3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a.long(), b.long(), upper=True), [(3, 3), (3, 2)]),
    (lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False), [(2, 3, 3), (4, 3, 2)]),
]


@pytest.mark.parametrize("fn,shapes", ERROR_ROWS)
def test_errors(fn, shapes):
    check_error(fn, *[arr(*s, dtype="float32") for s in shapes], match="same")


def test_random_inputs_agree_with_torch():
    """A property sweep: random batched well-conditioned systems, several sizes."""
    for n in (1, 2, 5):
        for batch in ((), (3,), (2, 1)):
            a = well(*batch, n, n)
            b = RNG.standard_normal(batch + (n, 2))
            check(lambda m, x, y: (m.linalg.solve(x, y), m.linalg.det(x), m.linalg.inv(x)),
                  a, b, rtol=1e-6)

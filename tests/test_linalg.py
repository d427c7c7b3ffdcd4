"""Linear algebra products and structure ops against torch: matmul family, einsum, tensordot,
kron, trace, diag/diagonal/diag_embed, triu/tril, cross (values, dtypes, grads, node names,
errors), with float64 finite-difference checks."""

import warnings

import numpy as np
import pytest
import torch
from oracle import arr, check, check_error, gradcheck_op

import disttorch
import disttorch.linalg  # noqa: F401  (the torch.linalg namespace)


def node_names(fn, *inputs):
    """grad_fn names of the outputs of fn in torch and in disttorch (inputs require grad)."""
    names = []
    for m in (torch, disttorch):
        ts = [m.tensor(x.copy(), requires_grad=x.dtype.kind == "f") for x in inputs]
        out = fn(m, *ts)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        names.append([type(o.grad_fn).__name__ if o.grad_fn is not None else None
                      for o in outs])
    return names


# ---------------------------------------------------------------- matmul family

MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)),
    ((2, 2, 3), (3,)), ((3,), (2, 3, 4)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
    ((1, 3, 4), (2, 4, 5)), ((4, 2, 3), (4, 3, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 2, 4, 5)),
]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_ranks(sa, sb):
    check(lambda m, x, y: m.matmul(x, y), arr(*sa), arr(*sb))
    check(lambda m, x, y: x @ y, arr(*sa, dtype="float32"), arr(*sb, dtype="float32"))
    assert node_names(lambda m, x, y: x @ y, arr(*sa), arr(*sb))[0] == \
        node_names(lambda m, x, y: x @ y, arr(*sa), arr(*sb))[1]


@pytest.mark.parametrize("sa,sb", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)),
                                   ((2, 2, 3), (3, 2)), ((3,), (2, 3, 2)), ((2, 3), (2, 3, 2)),
                                   ((2, 1, 2, 3), (3, 3, 2))])
def test_matmul_gradcheck(sa, sb):
    gradcheck_op(lambda m, x, y: m.matmul(x, y), arr(*sa), arr(*sb), gradgrad=True)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float16"])
def test_matmul_dtypes(dtype):
    low, high = (0, 3) if dtype != "float16" else (-2, 2)
    for sa, sb in [((2, 3), (3, 4)), ((2, 2, 3), (2, 3, 4)), ((3,), (3,)), ((2, 3), (3,))]:
        check(lambda m, x, y: x @ y, arr(*sa, dtype=dtype, low=low, high=high),
              arr(*sb, dtype=dtype, low=low, high=high), rtol=1e-2, atol=1e-2)


def test_rmatmul_and_methods():
    check(lambda m, x, y: x.__rmatmul__(y), arr(3, 2), arr(4, 3))
    check(lambda m, x, y: x.matmul(y), arr(2, 3), arr(3))


PRODUCT_ROWS = [
    (lambda m, x, y: m.mm(x, y), [(2, 3), (3, 4)]),
    (lambda m, x, y: x.mm(y), [(3, 3), (3, 1)]),
    (lambda m, x, y: m.bmm(x, y), [(2, 3, 4), (2, 4, 2)]),
    (lambda m, x, y: m.mv(x, y), [(2, 3), (3,)]),
    (lambda m, x, y: m.dot(x, y), [(4,), (4,)]),
    (lambda m, x, y: m.vdot(x, y), [(4,), (4,)]),
    (lambda m, x, y: m.inner(x, y), [(3,), (3,)]),
    (lambda m, x, y: m.inner(x, y), [(2, 3), (4, 3)]),
    (lambda m, x, y: m.inner(x, y), [(2, 2, 3), (3,)]),
    (lambda m, x, y: m.outer(x, y), [(3,), (4,)]),
    (lambda m, x, y: m.ger(x, y), [(2,), (3,)]),
    (lambda m, x, y: x.outer(y), [(2,), (3,)]),
    (lambda m, x, y: m.tensordot(x, y, 1), [(2, 3), (3, 4)]),
    (lambda m, x, y: m.tensordot(x, y), [(2, 3, 4), (3, 4, 2)]),
    (lambda m, x, y: m.tensordot(x, y, 0), [(2, 3), (2,)]),
    (lambda m, x, y: m.tensordot(x, y, dims=([1, 0], [0, 2])), [(3, 4, 2), (4, 5, 3)]),
    (lambda m, x, y: m.tensordot(x, y, dims=[[1], [0]]), [(2, 3), (3, 2)]),
    (lambda m, x, y: m.kron(x, y), [(2, 3), (3, 2)]),
    (lambda m, x, y: m.kron(x, y), [(2,), (2, 3)]),
    (lambda m, x, y: m.kron(x, y), [(2, 2, 1), (2, 3)]),
    (lambda m, x, y: x.kron(y), [(3,), (2,)]),
]


@pytest.mark.parametrize("fn,shapes", PRODUCT_ROWS)
def test_products(fn, shapes):
    check(fn, *[arr(*s) for s in shapes])
    check(fn, *[arr(*s, dtype="float32") for s in shapes])
    gradcheck_op(fn, *[arr(*s) for s in shapes])
    names = node_names(fn, *[arr(*s) for s in shapes])
    assert names[1] == names[0]


@pytest.mark.parametrize("fn,shapes", [PRODUCT_ROWS[i] for i in (0, 2, 3, 4, 12, 17)])
def test_products_gradgrad(fn, shapes):
    gradcheck_op(fn, *[arr(*s) for s in shapes], gradgrad=True)


def test_products_int_and_mixed_dtypes():
    check(lambda m, x, y: m.dot(x, y), arr(4, dtype="int64"), arr(4, dtype="int64"))
    check(lambda m, x, y: m.outer(x, y), arr(3, dtype="int64"), arr(2, dtype="float32"))
    check(lambda m, x, y: m.outer(x, y), arr(3, dtype="bool"), arr(2, dtype="bool"))
    check(lambda m, x, y: m.kron(x, y), arr(2, 2, dtype="int32"), arr(2, dtype="float64"))
    check(lambda m, x, y: m.kron(x, y), arr(2, dtype="bool"), arr(2, dtype="bool"))
    check(lambda m, x, y: m.tensordot(x, y, 1), arr(2, 3, dtype="int64"),
          arr(3, 2, dtype="int64"))


ADD_ROWS = [
    (lambda m, i, x, y: m.addmm(i, x, y), [(2, 4), (2, 3), (3, 4)]),
    (lambda m, i, x, y: m.addmm(i, x, y, beta=0.5, alpha=-2), [(4,), (2, 3), (3, 4)]),
    (lambda m, i, x, y: i.addmm(x, y, beta=0), [(1, 4), (2, 3), (3, 4)]),
    (lambda m, i, x, y: m.addmv(i, x, y), [(2,), (2, 3), (3,)]),
    (lambda m, i, x, y: m.addmv(i, x, y, beta=2, alpha=0.5), [(1,), (2, 3), (3,)]),
    (lambda m, i, x, y: m.baddbmm(i, x, y), [(2, 3, 4), (2, 3, 2), (2, 2, 4)]),
    (lambda m, i, x, y: m.baddbmm(i, x, y, beta=0.5, alpha=3), [(3, 4), (2, 3, 2), (2, 2, 4)]),
    (lambda m, i, x, y: m.addbmm(i, x, y), [(3, 4), (2, 3, 2), (2, 2, 4)]),
    (lambda m, i, x, y: m.addbmm(i, x, y, beta=2, alpha=0.5), [(4,), (2, 3, 2), (2, 2, 4)]),
    (lambda m, i, x, y: m.addr(i, x, y), [(2, 3), (2,), (3,)]),
    (lambda m, i, x, y: m.addr(i, x, y, beta=0.5, alpha=2), [(3,), (2,), (3,)]),
]


@pytest.mark.parametrize("fn,shapes", ADD_ROWS)
def test_add_products(fn, shapes):
    check(fn, *[arr(*s) for s in shapes])
    gradcheck_op(fn, *[arr(*s) for s in shapes])
    names = node_names(fn, *[arr(*s) for s in shapes])
    assert names[1] == names[0]


def test_add_products_inplace_and_ints():
    check(lambda m, i, x, y: i.clone().addmm_(x, y, beta=2), arr(2, 4), arr(2, 3), arr(3, 4))
    check(lambda m, i, x, y: i.clone().addmv_(x, y), arr(2), arr(2, 3), arr(3))
    check(lambda m, i, x, y: i.clone().baddbmm_(x, y), arr(2, 2, 4), arr(2, 2, 3),
          arr(2, 3, 4))
    check(lambda m, i, x, y: i.clone().addr_(x, y), arr(2, 3), arr(2), arr(3))
    ints = [arr(2, 2, dtype="int64"), arr(2, 2, dtype="int64"), arr(2, 2, dtype="int64")]
    check(lambda m, i, x, y: m.addmm(i, x, y, beta=1.5, alpha=2.7), *ints)
    check(lambda m, i, x, y: m.addr(i, x, y), arr(2, 2, dtype="bool"), arr(2, dtype="bool"),
          arr(2, dtype="bool"))
    # (torch's own backward fails for mixed dtypes here, so values only)
    check(lambda m, i, x, y: m.addr(i, x, y), arr(2, 2), arr(2, dtype="float32"),
          arr(2, dtype="float32"), grad=False)
    check(lambda m, i, x, y: m.addmm(i, x, y, beta=0), np.full((2, 2), np.nan), arr(2, 3),
          arr(3, 2))


PRODUCT_ERRORS = [
    (lambda m, x, y: m.mm(x, y), [(4, 3), (4, 5)]),
    (lambda m, x, y: m.mm(x, y), [(4,), (4, 5)]),
    (lambda m, x, y: m.mm(x, y), [(4, 3), (3,)]),
    (lambda m, x, y: m.mm(x, y.double()), [(4, 3), (3, 5)]),
    (lambda m, x, y: m.mm(x.long(), y), [(4, 3), (3, 5)]),
    (lambda m, x, y: m.mm(x.bool(), y.bool()), [(2, 2), (2, 2)]),
    (lambda m, x, y: x[0, 0] @ y, [(2, 2), (3,)]),
    (lambda m, x, y: x @ y, [(3,), (4,)]),
    (lambda m, x, y: x @ y, [(3,), (4, 5)]),
    (lambda m, x, y: x @ y, [(5, 3), (4,)]),
    (lambda m, x, y: x @ y, [(2, 3, 4), (2, 5, 6)]),
    (lambda m, x, y: x @ y, [(2, 3, 4), (3, 4, 6)]),
    (lambda m, x, y: x @ y, [(2, 3, 4), (5,)]),
    (lambda m, x, y: x @ y, [(5,), (2, 3, 4)]),
    (lambda m, x, y: x @ y, [(2, 3, 4), (5, 6)]),
    (lambda m, x, y: x @ y, [(3, 4), (2, 5, 6)]),
    (lambda m, x, y: x @ y.double(), [(3, 4), (4, 5)]),
    (lambda m, x, y: x @ y.double(), [(2, 3, 4), (2, 4, 5)]),
    (lambda m, x, y: x @ y.double(), [(3,), (3,)]),
    (lambda m, x, y: x @ y.double(), [(2, 3), (3,)]),
    (lambda m, x, y: x.double() @ y, [(2, 2, 3), (3, 2)]),
    (lambda m, x, y: x.double() @ y, [(2, 2, 3), (3,)]),
    (lambda m, x, y: x @ y.double(), [(3,), (2, 3, 2)]),
    (lambda m, x, y: x.bool() @ y.bool(), [(2, 2, 2), (2, 2, 2)]),
    (lambda m, x, y: x.bool() @ y.bool(), [(2,), (2,)]),
    (lambda m, x, y: m.bmm(x, y), [(3, 4), (2, 4, 5)]),
    (lambda m, x, y: m.bmm(x, y), [(2, 3, 4), (4, 5)]),
    (lambda m, x, y: m.bmm(x, y), [(2, 3, 4), (3, 4, 5)]),
    (lambda m, x, y: m.bmm(x, y), [(2, 3, 4), (2, 3, 5)]),
    (lambda m, x, y: m.bmm(x, y.double()), [(2, 3, 4), (2, 4, 5)]),
    (lambda m, x, y: m.mv(x, y), [(3,), (3,)]),
    (lambda m, x, y: m.mv(x, y), [(3, 4), (4, 1)]),
    (lambda m, x, y: m.mv(x, y), [(3, 4), (5,)]),
    (lambda m, x, y: m.mv(x, y.double()), [(3, 4), (4,)]),
    (lambda m, x, y: m.dot(x, y), [(3, 4), (3,)]),
    (lambda m, x, y: m.dot(x, y), [(3,), (4,)]),
    (lambda m, x, y: m.dot(x, y.double()), [(3,), (3,)]),
    (lambda m, x, y: m.dot(x, y.double()), [(3,), (4,)]),
    (lambda m, x, y: m.vdot(x, y), [(3,), (4,)]),
    (lambda m, x, y: m.inner(x, y), [(3, 4), (3, 5)]),
    (lambda m, x, y: m.inner(x, y.double()), [(3, 4), (3, 4)]),
    (lambda m, x, y: m.outer(x, y), [(3, 4), (3,)]),
    (lambda m, x, y: m.outer(x, y), [(3,), (3, 4)]),
    (lambda m, x, y: m.tensordot(x, y, 1), [(2, 3), (4, 5)]),
    (lambda m, x, y: m.tensordot(x, y, -1), [(2, 3), (3, 5)]),
    (lambda m, x, y: m.tensordot(x, y, ([1, 0], [0])), [(2, 3), (3, 5)]),
    (lambda m, x, y: m.tensordot(x, y.double(), 1), [(2, 3), (3, 5)]),
    (lambda m, x, y: m.addmm(x, x, y), [(3, 4), (4, 5)]),
    (lambda m, x, y: m.addmm(x[0], x, y), [(3, 4), (4, 5)]),
    (lambda m, x, y: m.addmm(x[0], x[0], y), [(3, 4), (4, 5)]),
    (lambda m, x, y: m.addmm(y.double(), x, y), [(3, 3), (3, 3)]),
    (lambda m, x, y: m.addmm(y, x.double(), y), [(3, 3), (3, 3)]),
    (lambda m, x, y: m.addmv(y, x, y), [(3, 4), (4,)]),
    (lambda m, x, y: m.addmv(y.double(), x, y), [(4, 4), (4,)]),
    (lambda m, x, y: m.baddbmm(x, x, y), [(2, 3, 4), (2, 4, 5)]),
    (lambda m, x, y: m.baddbmm(x.double(), x, y), [(2, 3, 3), (2, 3, 3)]),
    (lambda m, x, y: m.addr(x, x, y), [(3, 3), (3,)]),
    (lambda m, x, y: m.addr(x.long(), y.long(), y.long(), beta=1.5), [(3, 3), (3,)]),
]


@pytest.mark.parametrize("fn,shapes", PRODUCT_ERRORS)
def test_product_errors(fn, shapes):
    check_error(fn, *[arr(*s, dtype="float32") for s in shapes], match="same")


# ---------------------------------------------------------------- einsum

EINSUM_ROWS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(3,), (4,)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]), ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i->i", [(3,)]), ("ij->j", [(2, 3)]), ("i,i->i", [(3,), (3,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ij,j->i", [(2, 3), (3,)]), ("ij,ij->", [(2, 3), (2, 3)]),
    ("ij,kl->ijkl", [(2, 2), (2, 2)]), ("i,i,i->", [(2,), (2,), (2,)]),
    ("iij->j", [(2, 2, 3)]), ("ijk->kji", [(2, 2, 3)]), ("i->", [(3,)]),
    ("ij,jk->", [(2, 3), (3, 4)]), ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("...i,...i->...", [(4, 1, 3), (2, 3)]), ("...ij->ij", [(4, 2, 3)]),
    ("i...->...", [(2, 3, 4)]), ("bi...,bj...", [(2, 3, 4), (2, 5, 4)]),
    ("Ab,ba", [(2, 3), (3, 2)]), (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("iji->j", [(2, 3, 2)]), ("ii,ij->j", [(3, 3), (3, 2)]), ("ijk,ikl,ilm->jm",
                                                               [(2, 3, 2), (2, 2, 3), (2, 3, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_ROWS)
def test_einsum(eq, shapes):
    fn = lambda m, *xs: m.einsum(eq, *xs)  # noqa: E731
    check(fn, *[arr(*s) for s in shapes])
    check(fn, *[arr(*s, dtype="float32") for s in shapes])
    gradcheck_op(fn, *[arr(*s) for s in shapes])
    names = node_names(fn, *[arr(*s) for s in shapes])
    assert names[1] == names[0]


@pytest.mark.parametrize("eq,shapes", [EINSUM_ROWS[i] for i in (0, 2, 10, 24, 30)])
def test_einsum_gradgrad(eq, shapes):
    gradcheck_op(lambda m, *xs: m.einsum(eq, *xs) ** 2, *[arr(*s) for s in shapes],
                 gradgrad=True)


def test_einsum_forms_and_dtypes():
    check(lambda m, x, y: m.einsum("ij,jk", [x, y]), arr(2, 3), arr(3, 4))
    check(lambda m, x, y: m.einsum(x, [0, 1], y, [1, 2], [0, 2]), arr(2, 3), arr(3, 4))
    check(lambda m, x: m.einsum(x, [..., 1], [1]), arr(2, 3, 4))
    check(lambda m, x: m.einsum("", x), np.array(3.0))
    check(lambda m, x: m.einsum("ij->", x), arr(2, 2, dtype="int32"))
    check(lambda m, x, y: m.einsum("ij,jk", x, y), arr(2, 2, dtype="int32"),
          arr(2, 2, dtype="int32"))
    check(lambda m, x: m.einsum("ij->ji", x), arr(2, 2, dtype="bool"))
    check(lambda m, x, y: m.einsum("ij,ij->ij", x, y), arr(2, 2, dtype="bool"),
          arr(2, 2, dtype="bool"))
    check(lambda m, x, y: m.einsum("ij,jk", x, y), arr(2, 2, dtype="float16"),
          arr(2, 2, dtype="float16"), rtol=1e-2, atol=1e-2)


def test_einsum_output_is_a_copy():
    x = disttorch.ones(2, 3)
    y = disttorch.einsum("ij->ji", x)
    y.add_(1)
    assert float(x.sum()) == 6.0


EINSUM_ERRORS = [
    ("ij,jk->ik", [(2, 3), (4, 5)]), ("ij,jk->ik", [(2, 3)]), ("ij,jk->il", [(2, 3), (3, 5)]),
    ("ijk,jk->ik", [(2, 3), (3, 5)]), ("ij,jk->ik", [(2, 3), (3, 5)]),
    ("...ijk->ij", [(2, 3)]), ("i1,jk", [(2, 3), (3, 4)]), ("ij->ii", [(2, 3)]),
    ("ij", [(2, 3), (3, 4)]), ("ij,ij->ij", [(2, 3), (4, 3)]),
    ("...i,...i->...", [(4, 3), (2, 3)]), ("ii->i", [(2, 3)]), ("...i...->i", [(2, 3)]),
    ("i->i->i", [(2,)]), (" i 1 ,j k", [(2, 2), (2, 2)]), ("i.j", [(2, 2)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM_ERRORS)
def test_einsum_errors(eq, shapes):
    xs = [arr(*s, dtype="float32") for s in shapes]
    if eq == "ij,jk->ik" and shapes == [(2, 3), (3, 5)]:
        check_error(lambda m, x, y: m.einsum(eq, x, y.double()), *xs, match="same")
        check_error(lambda m, x, y: m.einsum(eq, x.bool(), y.bool()), *xs, match="same")
        return
    check_error(lambda m, *ts: m.einsum(eq, *ts), *xs, match="same")


def test_einsum_argument_errors():
    check_error(lambda m: m.einsum("ij"), match="same")
    check_error(lambda m, x: m.einsum(x, [0, 60]), arr(2, 3), match="same")


# ---------------------------------------------------------------- structure ops

STRUCT_ROWS = [
    (lambda m, x: m.trace(x), [(3, 3)]),
    (lambda m, x: x.trace(), [(2, 4)]),
    (lambda m, x: m.diag(x), [(3,)]),
    (lambda m, x: m.diag(x, 2), [(3,)]),
    (lambda m, x: m.diag(x, -1), [(3,)]),
    (lambda m, x: m.diag(x), [(3, 4)]),
    (lambda m, x: x.diag(1), [(3, 4)]),
    (lambda m, x: x.diag(-2), [(3, 4)]),
    (lambda m, x: x.diag(5), [(3, 4)]),
    (lambda m, x: m.diagonal(x), [(3, 4)]),
    (lambda m, x: m.diagonal(x, 1, 0, 2), [(3, 4, 2)]),
    (lambda m, x: x.diagonal(-1, 2, 0), [(3, 4, 2)]),
    (lambda m, x: x.diagonal(offset=1, dim1=-1, dim2=-2), [(2, 3, 3)]),
    (lambda m, x: m.linalg.diagonal(x), [(2, 3, 4)]),
    (lambda m, x: m.linalg.diagonal(x, offset=1, dim1=0, dim2=2), [(2, 3, 4)]),
    (lambda m, x: m.diag_embed(x), [(2, 3)]),
    (lambda m, x: m.diag_embed(x, 1), [(2, 3)]),
    (lambda m, x: x.diag_embed(-1, 0, 2), [(2, 3)]),
    (lambda m, x: x.diag_embed(0, 2, 0), [(2, 3)]),
    (lambda m, x, y: m.diagonal_scatter(x, y), [(3, 3), (3,)]),
    (lambda m, x, y: m.diagonal_scatter(x, y, 1), [(3, 4), (3,)]),
    (lambda m, x, y: x.diagonal_scatter(y, -1, 1, 0), [(3, 4, 2), (2, 3)]),
    (lambda m, x: m.triu(x), [(3, 4)]),
    (lambda m, x: m.triu(x, 1), [(2, 3, 4)]),
    (lambda m, x: x.triu(-1), [(4, 3)]),
    (lambda m, x: m.tril(x), [(3, 4)]),
    (lambda m, x: m.tril(x, -1), [(2, 3, 4)]),
    (lambda m, x: x.tril(2), [(4, 3)]),
    (lambda m, x, y: m.cross(x, y, dim=1), [(2, 3), (2, 3)]),
    (lambda m, x, y: m.cross(x, y, 0), [(3, 4), (3, 1)]),
    (lambda m, x, y: x.cross(y, -1), [(2, 3), (1, 3)]),
    (lambda m, x, y: m.linalg.cross(x, y), [(4, 3), (4, 3)]),
    (lambda m, x, y: m.linalg.cross(x, y, dim=0), [(3, 1), (3, 4)]),
]


@pytest.mark.parametrize("fn,shapes", STRUCT_ROWS)
def test_structure_ops(fn, shapes):
    check(fn, *[arr(*s) for s in shapes])
    check(fn, *[arr(*s, dtype="float32") for s in shapes])
    gradcheck_op(fn, *[arr(*s) for s in shapes])
    names = node_names(fn, *[arr(*s) for s in shapes])
    assert names[1] == names[0]


@pytest.mark.parametrize("fn,shapes", [STRUCT_ROWS[i] for i in (0, 2, 5, 9, 15, 19, 22, 28)])
def test_structure_gradgrad(fn, shapes):
    # squared: the ops are linear, so their second derivative alone is zero
    gradcheck_op(lambda m, *xs: fn(m, *xs) ** 2, *[arr(*s) for s in shapes], gradgrad=True)


def test_structure_dtypes():
    for dtype in ("int64", "int32", "uint8", "bool", "float16"):
        x = arr(3, 3, dtype=dtype)
        check(lambda m, t: t.triu(), x)
        check(lambda m, t: t.tril(-1), x)
        check(lambda m, t: t.diag(), x)
        check(lambda m, t: t.diagonal(1), x)
        check(lambda m, t: t[0].diag_embed(), x)
        if dtype != "bool":
            check(lambda m, t: t.trace(), x, rtol=1e-3)
    check(lambda m, x, y: m.linalg.cross(x, y), arr(3, dtype="int64"), arr(3, dtype="int64"))
    check(lambda m, x, y: m.diagonal_scatter(x, y), arr(3, 3), arr(3, dtype="int64"))


def test_diagonal_is_a_view():
    for m in (torch, disttorch):
        base = m.zeros(3, 3)
        d = base.diagonal()
        d.add_(1)
        assert float(base.sum()) == 3.0
        x = m.tensor(arr(3, 3), requires_grad=True)
        y = x * 1
        y.diagonal().mul_(2)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.eye(3) + 1)


def test_inplace_triangles():
    check(lambda m, x: x.clone().triu_(1), arr(3, 4))
    check(lambda m, x: x.clone().tril_(-1), arr(3, 4))


def test_cross_default_dim_warns():
    for m in (torch, disttorch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m.cross(m.ones(4, 3), m.ones(4, 3))
        assert "deprecated" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda m, x, y: m.cross(x, y), arr(3, 4), arr(3, 4))
        check_error(lambda m, x, y: m.cross(x, y), arr(4, 5), arr(4, 5), match="same")


STRUCT_ERRORS = [
    (lambda m, x: x.trace(), [(3,)]),
    (lambda m, x: x.trace(), [(2, 3, 3)]),
    (lambda m, x: x.bool().trace(), [(3, 3)]),
    (lambda m, x: x.diag(), [(2, 3, 3)]),
    (lambda m, x: x.sum().diag(), [(3,)]),
    (lambda m, x: x.diagonal(0, 1, 1), [(3, 3)]),
    (lambda m, x: x.diagonal(0, 0, 2), [(3, 3)]),
    (lambda m, x: x.diagonal(), [(3,)]),
    (lambda m, x: x.diag_embed(0, 0, 0), [(3,)]),
    (lambda m, x: x.sum().diag_embed(), [(3,)]),
    (lambda m, x: x.triu(), [(3,)]),
    (lambda m, x: x.tril(), [(3,)]),
    (lambda m, x, y: m.diagonal_scatter(x, y), [(3, 3), (2,)]),
    (lambda m, x, y: m.linalg.cross(x, y), [(3, 4), (3, 4)]),
    (lambda m, x, y: m.cross(x, y, dim=1), [(3, 4), (3, 4)]),
    (lambda m, x, y: m.cross(x, y, dim=1), [(3, 3), (4, 3)]),
    (lambda m, x, y: m.linalg.cross(x, y), [(3,), (2, 3)]),
    (lambda m, x, y: m.linalg.cross(x, y, dim=2), [(3,), (3,)]),
    (lambda m, x, y: m.linalg.cross(x, y, dim=0), [(1, 2), (3, 2)]),
    (lambda m, x, y: m.linalg.cross(x, y.double()), [(3,), (3,)]),
    (lambda m, x, y: m.linalg.cross(x.long(), y), [(3,), (3,)]),
]


@pytest.mark.parametrize("fn,shapes", STRUCT_ERRORS)
def test_structure_errors(fn, shapes):
    check_error(fn, *[arr(*s, dtype="float32") for s in shapes], match="same")

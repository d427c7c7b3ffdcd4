"""Sorting, order statistics and search against torch: sort, argsort, msort, topk, kthvalue,
median, nanmedian, mode, unique, unique_consecutive, searchsorted, bucketize, histc,
bincount; values, dtypes, shapes, gradients, printed results and errors."""

import numpy as np
import pytest
import torch
from oracle import RNG, arr, check, check_error, gradcheck_op

import disttorch

INF = float("inf")


def ties(*shape, low=-2, high=3):
    """Small integers as floats: sorts see ties."""
    return RNG.integers(low, high, size=shape).astype(np.float64)


def with_nan(*shape, count=2):
    a = arr(*shape)
    flat = a.reshape(-1)
    flat[RNG.choice(flat.size, count, replace=False)] = np.nan
    return a


def rows(*entries):
    return [pytest.param(*e[1:], id=e[0]) for e in entries]


def table(entries):
    return pytest.mark.parametrize("fn,inputs", [(e.values[0], e.values[1:]) for e in entries],
                                   ids=[e.id for e in entries])


SORTING = rows(
    ("sort", lambda m, x: m.sort(x), arr(3, 5)),
    ("sort-dim0", lambda m, x: x.sort(0), arr(4, 3)),
    ("sort-desc", lambda m, x: x.sort(-2, descending=True), arr(2, 4, 3)),
    ("sort-desc-pos", lambda m, x: m.sort(x, 1, True), arr(2, 4, 3)),
    ("sort-1d", lambda m, x: x.sort(), arr(7)),
    ("sort-0d", lambda m, x: x.sort(), arr()),
    ("sort-stable-ties", lambda m, x: x.sort(dim=1, stable=True), ties(4, 8)),
    ("sort-stable-desc-ties", lambda m, x: m.sort(x, stable=True, descending=True), ties(4, 8)),
    ("sort-ties", lambda m, x: x.sort(0), ties(8, 3)),
    ("sort-nan", lambda m, x: x.sort(1), with_nan(3, 5, count=4)),
    ("sort-nan-desc", lambda m, x: x.sort(1, descending=True), with_nan(3, 5, count=4)),
    ("sort-int", lambda m, x: x.sort(stable=True), arr(3, 6, dtype="int64")),
    ("sort-bool", lambda m, x: x.sort(stable=True), arr(3, 6, dtype="bool")),
    ("sort-uint8-desc", lambda m, x: x.sort(stable=True, descending=True),
     arr(3, 6, dtype="uint8")),
    ("sort-f32", lambda m, x: x.sort(0), arr(5, 2, dtype="float32")),
    ("sort-empty", lambda m, x: x.sort(0), arr(0, 3)),
    ("argsort", lambda m, x: m.argsort(x), arr(3, 5)),
    ("argsort-dim-desc", lambda m, x: x.argsort(0, True), arr(4, 3)),
    ("argsort-stable", lambda m, x: m.argsort(x, dim=1, stable=True), ties(3, 8)),
    ("argsort-bool", lambda m, x: x.argsort(stable=True), arr(2, 6, dtype="bool")),
    ("argsort-0d", lambda m, x: x.argsort(), arr()),
    ("msort", lambda m, x: m.msort(x), arr(4, 3)),
    ("msort-1d", lambda m, x: x.msort(), arr(6)),
    ("msort-nan", lambda m, x: x.msort(), with_nan(4, 3, count=3)),
    ("topk", lambda m, x: m.topk(x, 2), arr(3, 5)),
    ("topk-dim", lambda m, x: x.topk(3, 0), arr(4, 3)),
    ("topk-smallest", lambda m, x: x.topk(2, -1, largest=False), arr(2, 3, 5)),
    ("topk-positional", lambda m, x: m.topk(x, 1, 0, False, True), arr(4, 3)),
    ("topk-all", lambda m, x: x.topk(5), arr(2, 5)),
    ("topk-zero", lambda m, x: x.topk(0), arr(2, 5)),
    ("topk-nan", lambda m, x: x.topk(2), np.array([[1.0, np.nan, 3.0], [2.0, 5.0, np.nan]])),
    ("topk-int", lambda m, x: x.topk(2), np.array([[5, 1, 3, 9], [0, -2, 7, 4]])),
    ("topk-0d", lambda m, x: x.topk(1), arr()),
    ("kthvalue", lambda m, x: m.kthvalue(x, 2), arr(3, 5)),
    ("kthvalue-dim-keep", lambda m, x: x.kthvalue(1, 0, True), arr(4, 3)),
    ("kthvalue-last", lambda m, x: x.kthvalue(4, dim=-1), arr(2, 3, 4)),
    ("kthvalue-nan", lambda m, x: x.kthvalue(2),
     np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 6.0]])),
    ("kthvalue-int", lambda m, x: x.kthvalue(3), np.array([[5, 1, 3, 9], [0, -2, 7, 4]])),
    ("kthvalue-0d", lambda m, x: x.kthvalue(1), arr()),
    ("median", lambda m, x: m.median(x), arr(3, 5)),
    ("median-even", lambda m, x: x.median(), arr(4, 2)),
    ("median-ties", lambda m, x: x.median(), ties(4, 5)),
    ("median-nan", lambda m, x: x.median(), with_nan(3, 4)),
    ("median-dim", lambda m, x: m.median(x, 1), arr(3, 5)),
    ("median-dim-even-keep", lambda m, x: x.median(0, keepdim=True), arr(4, 3)),
    ("median-dim-ties", lambda m, x: x.median(-1), ties(5, 7)),
    ("median-dim-nan", lambda m, x: x.median(1), with_nan(4, 5, count=5)),
    ("median-int", lambda m, x: x.median(0), arr(5, 3, dtype="int64")),
    ("median-empty", lambda m, x: x.median(), arr(0, 3)),
    ("median-0d", lambda m, x: x.median(0), arr()),
    ("nanmedian", lambda m, x: m.nanmedian(x), with_nan(3, 5, count=3)),
    ("nanmedian-ties", lambda m, x: x.nanmedian(), np.array([1.0, np.nan, 2.0, 2.0])),
    ("nanmedian-dim", lambda m, x: x.nanmedian(1), with_nan(4, 5, count=6)),
    ("nanmedian-allnan", lambda m, x: x.nanmedian(0),
     np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 6.0]])),
    ("nanmedian-nonan", lambda m, x: x.nanmedian(-1, True), arr(3, 4)),
    ("mode", lambda m, x: m.mode(x), ties(4, 7)),
    ("mode-dim-keep", lambda m, x: x.mode(0, True), ties(7, 4)),
    ("mode-unique", lambda m, x: x.mode(), arr(3, 5)),
    ("mode-int", lambda m, x: x.mode(1), RNG.integers(0, 3, size=(4, 6))),
    ("mode-bool", lambda m, x: x.mode(1), arr(4, 6, dtype="bool")),
    ("mode-3d", lambda m, x: x.mode(1), ties(2, 6, 3)),
    ("mode-0d", lambda m, x: x.mode(), arr()),
)


@table(SORTING)
def test_sorting(fn, inputs):
    check(fn, *inputs)


SEARCH = rows(
    ("unique", lambda m, x: m.unique(x), ties(4, 5)),
    ("unique-method", lambda m, x: x.unique(sorted=False), ties(4, 5)),
    ("unique-inverse", lambda m, x: m.unique(x, return_inverse=True), ties(3, 4)),
    ("unique-counts", lambda m, x: x.unique(return_counts=True), ties(3, 4)),
    ("unique-all", lambda m, x: x.unique(True, True, True), ties(2, 3, 4)),
    ("unique-nan", lambda m, x: x.unique(return_counts=True),
     np.array([1.0, np.nan, 1.0, np.nan, 2.0])),
    ("unique-int", lambda m, x: x.unique(return_inverse=True), RNG.integers(0, 4, size=9)),
    ("unique-bool", lambda m, x: x.unique(return_counts=True), arr(7, dtype="bool")),
    ("unique-0d", lambda m, x: x.unique(return_inverse=True), arr()),
    ("unique-empty", lambda m, x: x.unique(return_inverse=True, return_counts=True), arr(0)),
    ("unique-dim0", lambda m, x: x.unique(dim=0, return_inverse=True, return_counts=True),
     RNG.integers(0, 2, size=(6, 3))),
    ("unique-dim1", lambda m, x: m.unique(x, dim=1, return_counts=True),
     RNG.integers(0, 2, size=(2, 7)).astype(np.float32)),
    ("unique-dim-neg", lambda m, x: x.unique(dim=-1), RNG.integers(0, 2, size=(2, 2, 5))),
    ("unique-dim-empty", lambda m, x: x.unique(dim=1), arr(2, 0)),
    ("unique_consecutive", lambda m, x: m.unique_consecutive(x),
     np.array([1, 1, 2, 2, 3, 1, 1, 2])),
    ("unique_consecutive-all", lambda m, x: x.unique_consecutive(True, True),
     ties(3, 4, low=0, high=2)),
    ("unique_consecutive-dim", lambda m, x: x.unique_consecutive(
        return_inverse=True, return_counts=True, dim=0),
     np.array([[1, 2], [1, 2], [3, 4], [1, 2], [1, 2]])),
    ("unique_consecutive-0d", lambda m, x: x.unique_consecutive(return_inverse=True), arr()),
    ("searchsorted", lambda m, s, v: m.searchsorted(s, v),
     np.array([1.0, 3, 5, 7, 9]), np.array([3.0, 6, 9, 0, 10])),
    ("searchsorted-right", lambda m, s, v: m.searchsorted(s, v, right=True),
     np.array([1.0, 3, 5, 7, 9]), np.array([[3.0, 6], [9, 1]])),
    ("searchsorted-side", lambda m, s, v: m.searchsorted(s, v, side="right", out_int32=True),
     np.array([1.0, 3, 5, 7, 9]), np.array([3.0, 6, 9])),
    ("searchsorted-scalar", lambda m, s: m.searchsorted(s, 5), np.array([1.0, 3, 5, 7, 9])),
    ("searchsorted-batched", lambda m, s, v: m.searchsorted(s, v),
     np.array([[1.0, 3, 5], [2, 4, 6]]), np.array([[3.0, 6, 0], [1, 7, 4]])),
    ("searchsorted-sorter", lambda m, s, v, i: m.searchsorted(s, v, sorter=i),
     np.array([5.0, 1, 3]), np.array([3.0, 0, 6]), np.array([1, 2, 0])),
    ("searchsorted-mixed", lambda m, s, v: m.searchsorted(s, v),
     np.array([1, 3, 5]), np.array([2.5, 3.0])),
    ("bucketize", lambda m, v, s: m.bucketize(v, s),
     np.array([[3.0, 6], [9, 0]]), np.array([1.0, 3, 5, 7, 9])),
    ("bucketize-right", lambda m, v, s: m.bucketize(v, s, right=True, out_int32=True),
     np.array([3.0, 6, 9]), np.array([1.0, 3, 5, 7, 9])),
    ("bucketize-scalar", lambda m, s: m.bucketize(5.0, s), np.array([1.0, 3, 5, 7, 9])),
    ("histc", lambda m, x: m.histc(x), arr(50)),
    ("histc-bins", lambda m, x: x.histc(bins=4), np.array([3.0, 1, 2, 1, 3, 3])),
    ("histc-range", lambda m, x: m.histc(x, 5, 0, 5), np.array([0.0, 1, 2, 2.5, 5, 6, -1])),
    ("histc-const", lambda m, x: x.histc(4), np.array([1.0, 1])),
    ("histc-f32", lambda m, x: x.histc(7, -1, 1), arr(40, dtype="float32")),
    ("histc-empty", lambda m, x: x.histc(3), arr(0)),
    ("bincount", lambda m, x: m.bincount(x), np.array([1, 1, 3, 0, 5])),
    ("bincount-minlength", lambda m, x: x.bincount(minlength=8), np.array([1, 1, 3])),
    ("bincount-weights", lambda m, x, w: x.bincount(w), np.array([1, 1, 3]),
     np.array([0.5, 1.0, 2.0], dtype=np.float32)),
    ("bincount-int-weights", lambda m, x, w: m.bincount(x, weights=w),
     np.array([1, 1, 3]), np.array([1, 2, 3])),
    ("bincount-uint8", lambda m, x: x.bincount(), np.array([2, 0, 2], dtype=np.uint8)),
    ("bincount-empty", lambda m, x: x.bincount(), np.array([], dtype=np.int64)),
)


@table(SEARCH)
def test_search(fn, inputs):
    check(fn, *inputs, grad=False)


# ---------------------------------------------------------------- node names, printing


@pytest.mark.parametrize("fn,name", [
    (lambda m, x: x.sort()[0], "SortBackward0"), (lambda m, x: x.msort(), "SortBackward0"),
    (lambda m, x: x.topk(2).values, "TopkBackward0"),
    (lambda m, x: x.kthvalue(2)[0], "KthvalueBackward0"),
    (lambda m, x: x.median(), "MedianBackward0"), (lambda m, x: x.median(0)[0], "MedianBackward1"),
    (lambda m, x: x.nanmedian(), "NanmedianBackward0"),
    (lambda m, x: x.nanmedian(1).values, "NanmedianBackward1"),
    (lambda m, x: x.mode(0)[0], "ModeBackward0"), (lambda m, x: x.unique(), "Unique2Backward0"),
    (lambda m, x: x.unique(dim=0), "UniqueDimBackward0"),
    (lambda m, x: x.unique_consecutive(), "UniqueConsecutiveBackward0"),
])
def test_node_names(fn, name):
    a = arr(3, 4)
    assert type(fn(torch, torch.tensor(a, requires_grad=True)).grad_fn).__name__ == name
    assert fn(disttorch, disttorch.tensor(a, requires_grad=True)).grad_fn.name() == name


def test_indices_do_not_require_grad():
    x = disttorch.tensor(arr(3, 4), requires_grad=True)
    for values, indices in (x.sort(), x.topk(2), x.kthvalue(1), x.median(0), x.mode(1)):
        assert values.requires_grad and not indices.requires_grad
        assert indices.dtype == disttorch.int64
    assert not disttorch.argsort(x).requires_grad
    assert not x.histc().requires_grad


@pytest.mark.parametrize("fn", [
    lambda m, x: x.sort(), lambda m, x: m.topk(x, 2, 0), lambda m, x: x.kthvalue(1, 1, True),
    lambda m, x: x.median(1), lambda m, x: x.nanmedian(0), lambda m, x: x.mode(0),
])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_printed_results(fn, requires_grad):
    a = np.array([[1.0, 5, 3, 7], [4, 2, 6, 8], [9, 0, 11, 10]], dtype=np.float32)
    got = fn(disttorch, disttorch.tensor(a, requires_grad=requires_grad))
    expected = fn(torch, torch.tensor(a, requires_grad=requires_grad))
    assert repr(got) == repr(expected)
    assert str(got) == str(expected)
    values, indices = got
    assert values is got.values and indices is got.indices


def test_no_derivative_backward_raises():
    x = disttorch.tensor(arr(3, 4), requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for '_unique2' is not"):
        x.unique().sum().backward()
    w = disttorch.tensor(arr(3), requires_grad=True)
    counts = disttorch.bincount(disttorch.tensor([0, 1, 1]), w)
    assert counts.requires_grad
    with pytest.raises(RuntimeError, match="derivative for aten::bincount"):
        counts.sum().backward()


# ---------------------------------------------------------------- numerical gradients


GRADCHECK = rows(
    ("sort", lambda m, x: (x * x).sort(1)[0], arr(3, 5), True),
    ("sort-desc", lambda m, x: x.sort(0, descending=True).values, arr(4, 3), False),
    ("msort", lambda m, x: x.msort(), arr(4, 3), False),
    ("topk", lambda m, x: (x * x).topk(2, 0).values, arr(4, 3), True),
    ("topk-smallest", lambda m, x: x.topk(3, largest=False)[0], arr(3, 5), False),
    ("kthvalue", lambda m, x: (x * x).kthvalue(2, 1, True)[0], arr(3, 5), True),
    ("median", lambda m, x: x.median(), arr(3, 5), False),
    ("median-dim", lambda m, x: (x * x).median(0).values, arr(5, 3), True),
    ("nanmedian", lambda m, x: x.nanmedian(), with_nan(3, 5), False),
    ("nanmedian-dim", lambda m, x: x.nanmedian(1)[0], with_nan(3, 5, count=3), False),
    ("mode", lambda m, x: x.mode(1)[0], arr(3, 5), False),
)


@pytest.mark.parametrize("fn,inputs,gradgrad", [(r.values[0], r.values[1:-1], r.values[-1])
                                                for r in GRADCHECK],
                         ids=[r.id for r in GRADCHECK])
def test_gradcheck(fn, inputs, gradgrad):
    gradcheck_op(fn, *inputs, gradgrad=gradgrad)


# ---------------------------------------------------------------- errors


ERRORS = rows(
    ("sort-dim", lambda m, x: x.sort(2), arr(3, 4)),
    ("argsort-dim", lambda m, x: x.argsort(-3), arr(3, 4)),
    ("topk-dim", lambda m, x: x.topk(1, 2), arr(3, 4)),
    ("topk-k", lambda m, x: x.topk(5), arr(3, 4)),
    ("topk-neg-k", lambda m, x: x.topk(-1), arr(3, 4)),
    ("topk-bool", lambda m, x: x.topk(1), arr(3, 4, dtype="bool")),
    ("kthvalue-k", lambda m, x: x.kthvalue(5), arr(3, 4)),
    ("kthvalue-zero", lambda m, x: x.kthvalue(0, 0), arr(3, 4)),
    ("kthvalue-dim", lambda m, x: x.kthvalue(1, 2), arr(3, 4)),
    ("kthvalue-empty", lambda m, x: x.kthvalue(1, 0), arr(0, 3)),
    ("kthvalue-bool", lambda m, x: x.kthvalue(1), arr(3, 4, dtype="bool")),
    ("median-dim", lambda m, x: x.median(2), arr(3, 4)),
    ("median-empty-dim", lambda m, x: x.median(0), arr(0, 3)),
    ("median-bool", lambda m, x: x.median(), arr(3, 4, dtype="bool")),
    ("median-bool-dim", lambda m, x: x.median(0), arr(3, 4, dtype="bool")),
    ("nanmedian-dim", lambda m, x: x.nanmedian(-3), arr(3, 4)),
    ("mode-dim", lambda m, x: x.mode(2), arr(3, 4)),
    ("mode-empty", lambda m, x: x.mode(0), arr(0, 3)),
    ("unique-dim", lambda m, x: x.unique(dim=2), arr(3, 4)),
    ("unique-0d-dim", lambda m, x: x.unique(dim=0), arr()),
    ("unique-zero-size", lambda m, x: x.unique(dim=0), arr(2, 0)),
    ("unique_consecutive-dim", lambda m, x: x.unique_consecutive(dim=5), arr(3, 4)),
    ("searchsorted-0d", lambda m, s, v: m.searchsorted(s, v), np.array(1.0), arr(2)),
    ("searchsorted-side", lambda m, s, v: m.searchsorted(s, v, side="middle"), arr(3), arr(2)),
    ("searchsorted-opposite", lambda m, s, v: m.searchsorted(s, v, right=True, side="left"),
     arr(3), arr(2)),
    ("searchsorted-sorter", lambda m, s, v, i: m.searchsorted(s, v, sorter=i),
     arr(3), arr(2), np.array([0, 1])),
    ("searchsorted-batch", lambda m, s, v: m.searchsorted(s, v), arr(2, 3), arr(3, 2)),
    ("bucketize-2d", lambda m, v, s: m.bucketize(v, s), arr(2), arr(2, 3)),
    ("histc-int", lambda m, x: x.histc(), arr(5, dtype="int64")),
    ("histc-bins", lambda m, x: x.histc(0), arr(5)),
    ("histc-range", lambda m, x: x.histc(4, 3, 1), arr(5)),
    ("histc-inf", lambda m, x: x.histc(2), np.array([1.0, INF])),
    ("bincount-2d", lambda m, x: m.bincount(x), np.array([[1, 2]])),
    ("bincount-negative", lambda m, x: m.bincount(x), np.array([1, -1])),
    ("bincount-float", lambda m, x: m.bincount(x), arr(3)),
    ("bincount-bool", lambda m, x: m.bincount(x), arr(3, dtype="bool")),
    ("bincount-minlength", lambda m, x: m.bincount(x, minlength=-1), np.array([1, 2])),
    ("bincount-weights", lambda m, x, w: m.bincount(x, w), np.array([1, 2]), arr(3)),
)


@table(ERRORS)
def test_errors(fn, inputs):
    check_error(fn, *inputs, match="same")


@pytest.mark.parametrize("fn", [
    lambda m, x: x.topk(1.0), lambda m, x: x.median(1.0), lambda m, x: x.median(dim=None),
    lambda m, x: x.median(keepdim=True),
])
def test_type_errors(fn):
    check_error(fn, arr(3, 4))

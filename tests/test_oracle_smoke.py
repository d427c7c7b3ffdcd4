"""Smoke rows for the oracle harness itself, on the core ops."""

import pytest
from oracle import arr, check, check_error, gradcheck_op


@pytest.mark.parametrize("fn,shapes", [
    (lambda m, x, y: m.add(x, y), [(3, 4), (4,)]),
    (lambda m, x, y: x * y - x / (y * y + 1), [(2, 3), (2, 3)]),
    (lambda m, x, y: (x @ y).sum(dim=0), [(3, 4), (4, 5)]),
    (lambda m, x, y: (x.exp() + y).mean(), [(5,), (1,)]),
])
def test_rows(fn, shapes):
    check(fn, *[arr(*s) for s in shapes])


def test_gradcheck_core():
    gradcheck_op(lambda m, x, y: (x * y).exp().sum(dim=1), arr(2, 3), arr(2, 3), gradgrad=True)


def test_broadcast_error_message():
    check_error(lambda m, x, y: x + y, arr(2, 3), arr(2, 4), match="same")
    check_error(lambda m, x, y: x @ y, arr(4, 3), arr(4, 5), match="same")

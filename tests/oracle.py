"""The oracle harness: run the same lambda on torch and on disttorch and compare.

A test row is `check(lambda m, x, y: m.add(x, y), a, b)`: `m` is the module (torch or
disttorch), the arrays become tensors of the same values in each. It compares values,
dtypes and shapes of the outputs, then the gradients of sum(output * random projection)
with respect to every floating input; `gradcheck_op` adds a float64 finite-difference
check of the disttorch gradients.
"""

import numpy as np
import torch

import disttorch

RNG = np.random.default_rng(1234)


def arr(*shape, dtype="float64", low=-2.0, high=2.0, positive=False):
    """A random NumPy array for a test input (floats uniform in [low, high])."""
    if positive:
        low, high = 0.1, max(high, 2.0)
    if dtype == "bool":
        return RNG.random(shape) > 0.5
    if np.dtype(dtype).kind in "iu":
        return RNG.integers(int(low) if low > 0 else 0 if np.dtype(dtype).kind == "u" else
                            int(low) - 3, int(high) + 4, size=shape).astype(dtype)
    return RNG.uniform(low, high, size=shape).astype(dtype)


def _wrap(module, value, requires_grad):
    if isinstance(value, np.ndarray):
        t = module.tensor(value.copy())
        if requires_grad and value.dtype.kind == "f":
            t.requires_grad_(True)
        return t
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, np.ndarray) for v in value):
        return type(value)(_wrap(module, v, requires_grad) for v in value)
    return value


def to_numpy(value):
    if isinstance(value, (torch.Tensor, disttorch.Tensor)):
        return value.detach().numpy(force=True)
    return np.asarray(value)


def _flatten(out):
    if isinstance(out, (tuple, list)):
        items = []
        for o in out:
            items.extend(_flatten(o))
        return items
    return [out]


def assert_same(got, expected, rtol=1e-5, atol=1e-6, what="output"):
    """disttorch result `got` matches torch result `expected`: type, shape, dtype, values."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, disttorch.Tensor), f"{what}: expected a Tensor, got {type(got)}"
        assert tuple(got.shape) == tuple(expected.shape), (
            f"{what}: shape {tuple(got.shape)} != torch's {tuple(expected.shape)}")
        assert str(got.dtype) == str(expected.dtype), (
            f"{what}: dtype {got.dtype} != torch's {expected.dtype}")
        g, e = to_numpy(got), to_numpy(expected)
        if e.dtype.kind in "biu":
            np.testing.assert_array_equal(g, e, err_msg=what)
        else:
            np.testing.assert_allclose(g.astype(np.float64), e.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=what)
    elif isinstance(expected, (tuple, list)):
        assert len(got) == len(expected), f"{what}: {len(got)} results != torch's {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, rtol, atol, f"{what}[{i}]")
    elif isinstance(expected, float):
        assert abs(got - expected) <= atol + rtol * abs(expected), f"{what}: {got} != {expected}"
    else:
        assert got == expected, f"{what}: {got!r} != torch's {expected!r}"


def check(fn, *inputs, grad=True, rtol=1e-5, atol=1e-6, grad_rtol=None, grad_atol=None):
    """Run `fn(module, *tensors)` in torch and disttorch; compare outputs and gradients."""
    t_in = [_wrap(torch, x, grad) for x in inputs]
    d_in = [_wrap(disttorch, x, grad) for x in inputs]
    expected = fn(torch, *t_in)
    got = fn(disttorch, *d_in)
    assert_same(got, expected, rtol, atol)
    if not grad:
        return got
    t_leaves = [t for t in _flatten(t_in) if isinstance(t, torch.Tensor) and t.requires_grad]
    d_leaves = [t for t in _flatten(d_in) if isinstance(t, disttorch.Tensor) and t.requires_grad]
    t_outs = [o for o in _flatten(expected) if isinstance(o, torch.Tensor) and o.requires_grad]
    d_outs = [o for o in _flatten(got) if isinstance(o, disttorch.Tensor) and o.requires_grad]
    assert len(t_outs) == len(d_outs), "outputs requiring grad differ from torch's"
    if not t_outs or not t_leaves:
        return got
    projections = [RNG.standard_normal(tuple(o.shape)) for o in t_outs]
    t_loss = sum((o * torch.tensor(p, dtype=o.dtype)).sum() for o, p in zip(t_outs, projections))
    d_loss = sum((o * disttorch.tensor(p, dtype=o.dtype)).sum()
                 for o, p in zip(d_outs, projections))
    t_grads = torch.autograd.grad(t_loss, t_leaves, allow_unused=True)
    d_grads = disttorch.autograd.grad(d_loss, d_leaves, allow_unused=True)
    for i, (g, e) in enumerate(zip(d_grads, t_grads)):
        if e is None:
            assert g is None or not np.any(to_numpy(g)), f"grad[{i}]: torch has none"
            continue
        assert g is not None, f"grad[{i}]: disttorch gave no gradient, torch did"
        assert_same(g, e, grad_rtol or rtol * 10, grad_atol or atol * 10, f"grad[{i}]")
    return got


def gradcheck_op(fn, *inputs, gradgrad=False, atol=1e-5, rtol=1e-3):
    """float64 finite-difference check of disttorch's gradients for `fn(disttorch, *xs)`."""
    d_in = [_wrap(disttorch, np.asarray(x, dtype=np.float64) if isinstance(x, np.ndarray) and
                  x.dtype.kind == "f" else x, True) for x in inputs]

    def run(*xs):
        return fn(disttorch, *xs)

    assert disttorch.autograd.gradcheck(run, tuple(d_in), atol=atol, rtol=rtol)
    if gradgrad:
        assert disttorch.autograd.gradgradcheck(run, tuple(d_in), atol=atol, rtol=rtol)


def check_error(fn, *inputs, match=None):
    """Both frameworks raise the same exception type (and, with match, the same message)."""
    t_in = [_wrap(torch, x, False) for x in inputs]
    d_in = [_wrap(disttorch, x, False) for x in inputs]
    try:
        fn(torch, *t_in)
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raised
        t_err = e
    else:
        raise AssertionError("torch did not raise")
    try:
        fn(disttorch, *d_in)
    except Exception as e:  # noqa: BLE001
        d_err = e
    else:
        raise AssertionError(f"disttorch did not raise; torch raised {t_err!r}")
    assert isinstance(d_err, type(t_err)) or type(t_err).__name__ == type(d_err).__name__ or (
        isinstance(d_err, RuntimeError) and isinstance(t_err, RuntimeError)), (
        f"disttorch raised {type(d_err).__name__}, torch {type(t_err).__name__}")
    if match == "same":
        assert str(d_err).split("\n")[0] == str(t_err).split("\n")[0], (
            f"message {str(d_err)!r} != torch's {str(t_err)!r}")
    elif match is not None:
        assert match in str(d_err), f"{match!r} not in {str(d_err)!r}"
    return d_err

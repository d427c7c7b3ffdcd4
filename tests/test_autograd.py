"""Autograd behaviour against torch: graph fields, backward/grad options, hooks, modes, errors,
custom Functions and higher-order gradients."""

import numpy as np
import pytest
import torch
from oracle import arr, assert_same

import disttorch

FRAMEWORKS = [torch, disttorch]


def both(fn):
    """Run fn(module) in torch and disttorch and compare what it returns."""
    expected = fn(torch)
    got = fn(disttorch)
    assert_same(got, expected, rtol=1e-6, atol=1e-8)
    return got


X = arr(3)
W = arr(3, 2)
X23 = arr(2, 3)
X53 = arr(5, 3)


def leaf(m, a=X):
    return m.tensor(a.copy(), requires_grad=True)


# ---------------------------------------------------------------- graph fields


def test_leaf_and_grad_fn_fields():
    def run(m):
        x = leaf(m)
        y = (x * 2 + 1).exp()
        s = y.sum()
        names = (type(s.grad_fn).__name__ if m is torch else s.grad_fn.name())
        nxt = s.grad_fn.next_functions[0][0]
        nxt_name = type(nxt).__name__ if m is torch else nxt.name()
        return (x.is_leaf, y.is_leaf, y.requires_grad, x.grad_fn is None, names, nxt_name)

    both(run)


def test_next_functions_reach_accumulate_grad():
    for m in FRAMEWORKS:
        x = leaf(m)
        y = x * 3
        acc = y.grad_fn.next_functions[0][0]
        name = type(acc).__name__ if m is torch else acc.name()
        assert name == "AccumulateGrad"
        assert acc.variable is x
        assert y.grad_fn.next_functions[1] == (None, 0)


def test_requires_grad_propagation_and_setters():
    def run(m):
        a = m.tensor([1.0, 2.0])
        b = a * 2
        a.requires_grad_()
        c = a * 2
        return (b.requires_grad, c.requires_grad, a.is_leaf, c.is_leaf)

    both(run)
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        (leaf(disttorch) * 2).requires_grad = False
    with pytest.raises(RuntimeError, match="floating point"):
        disttorch.tensor([1, 2]).requires_grad_()


# ---------------------------------------------------------------- backward options


def test_accumulation_into_grad():
    def run(m):
        x = leaf(m)
        (x * x).sum().backward()
        (x * 3).sum().backward()
        return x.grad

    both(run)


def test_backward_with_gradient_argument():
    g = arr(3)
    both(lambda m: _bw(m, lambda x: x.exp() * 2, gradient=m.tensor(g)))


def _bw(m, fn, **kwargs):
    x = leaf(m)
    fn(x).backward(**kwargs)
    return x.grad


def test_retain_graph_allows_second_backward():
    def run(m):
        x = leaf(m)
        y = (x.exp() * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    both(run)


def test_backward_inputs_restricts_accumulation():
    def run(m):
        x, w = leaf(m), m.tensor(W.copy(), requires_grad=True)
        (x @ w).sum().backward(inputs=[w])
        return x.grad is None, w.grad

    both(run)


def test_autograd_grad_options():
    def run(m):
        x, w = leaf(m), m.tensor(W.copy(), requires_grad=True)
        y = (x @ w).exp()
        gx, gw = m.autograd.grad(y, (x, w), grad_outputs=m.ones(2), retain_graph=True)
        unused = leaf(m)
        gu = m.autograd.grad(y.sum(), [x, unused], allow_unused=True)[1]
        return gx, gw, gu is None, x.grad is None

    both(run)


def test_retain_grad_on_non_leaf():
    def run(m):
        x = leaf(m)
        y = x * 2
        y.retain_grad()
        (y * y).sum().backward()
        return y.grad, y.retains_grad, x.grad

    both(run)


def test_non_leaf_inputs_for_grad():
    def run(m):
        x = leaf(m)
        y = x.exp()
        z = (y * y).sum()
        return m.autograd.grad(z, y)[0]

    both(run)


def test_shared_subgraph_and_diamond():
    def run(m):
        x = leaf(m)
        a = x * 2
        b = a.exp()
        c = a * a
        (b + c).sum().backward()
        return x.grad

    both(run)


def test_grads_of_aliasing_outputs_do_not_share_memory():
    x, y = leaf(disttorch), leaf(disttorch)
    (x + y).sum().backward()
    x.grad.mul_(10)
    np.testing.assert_allclose(y.grad.numpy(), np.ones(3))
    g = disttorch.ones(3)
    z = leaf(disttorch)
    (z + 0).backward(g)
    z.grad.add_(1)
    np.testing.assert_allclose(g.numpy(), np.ones(3))


# ---------------------------------------------------------------- errors


def _message(fn):
    with pytest.raises(RuntimeError) as info:
        fn()
    return str(info.value)


def test_second_backward_raises_torch_error():
    msgs = []
    for m in FRAMEWORKS:
        x = leaf(m)
        y = (x.exp() * x).sum()
        y.backward()
        msgs.append(_message(y.backward))
    assert msgs[0] == msgs[1]


def test_non_scalar_backward_raises():
    msgs = [_message(lambda m=m: (leaf(m) * 2).backward()) for m in FRAMEWORKS]
    assert msgs[0] == msgs[1]


def test_no_grad_tensor_backward_raises():
    msgs = [_message(lambda m=m: m.tensor([1.0]).sum().backward()) for m in FRAMEWORKS]
    assert msgs[0] == msgs[1]


def test_saved_tensor_modified_inplace_raises():
    msgs = []
    for m in FRAMEWORKS:
        x = leaf(m)
        y = x * 1
        z = (y.exp()).log() * y  # MulBackward0 saves y
        y.mul_(2)
        msgs.append(_message(lambda: z.sum().backward()))
    assert msgs[0] == msgs[1]


def test_inplace_on_leaf_requiring_grad_raises():
    msgs = [_message(lambda m=m: leaf(m).add_(1)) for m in FRAMEWORKS]
    assert msgs[0] == msgs[1]


def test_grad_shape_mismatch_raises():
    msgs = [_message(lambda m=m: (leaf(m) * 2).backward(m.ones(2))) for m in FRAMEWORKS]
    assert msgs[0] == msgs[1]


def test_unused_input_raises_without_allow_unused():
    msgs = []
    for m in FRAMEWORKS:
        x, u = leaf(m), leaf(m)
        msgs.append(_message(lambda: m.autograd.grad((x * 2).sum(), [x, u])))
    assert msgs[0] == msgs[1]


# ---------------------------------------------------------------- in-place with autograd


def test_inplace_on_non_leaf_gets_history():
    def run(m):
        x = leaf(m)
        y = x * 2
        y.add_(x)
        y.mul_(3)
        y.sum().backward()
        name = type(y.grad_fn).__name__ if m is torch else y.grad_fn.name()
        version = y._version if m is torch else y._version[0]  # ours: a shared counter box
        return x.grad, name, version

    both(run)


def test_inplace_through_view_updates_base_history():
    def run(m):
        x = leaf(m, X23)
        y = x * 1
        v = y.view(3, 2)
        v.mul_(3)
        (y * y).sum().backward()
        return x.grad

    both(run)


# ---------------------------------------------------------------- grad modes


def test_grad_modes_context_and_decorator():
    def run(m):
        x = leaf(m)
        with m.no_grad():
            a = x * 2
            with m.enable_grad():
                b = x * 2
        with m.set_grad_enabled(False):
            c = x * 2

        @m.no_grad()
        def f(t):
            return t * 2

        @m.inference_mode()
        def g(t):
            return t * 2

        with m.inference_mode():
            d = x * 2
        return (a.requires_grad, b.requires_grad, c.requires_grad, f(x).requires_grad,
                g(x).requires_grad, d.requires_grad, m.is_grad_enabled())

    both(run)


def test_set_grad_enabled_as_function():
    for m in FRAMEWORKS:
        m.set_grad_enabled(False)
        assert not m.is_grad_enabled()
        m.set_grad_enabled(True)
        assert m.is_grad_enabled()


def test_detach_and_detach_inplace():
    def run(m):
        x = leaf(m)
        y = x * 2
        d = y.detach()
        d2 = (x * 3).detach_()
        return d.requires_grad, d.is_leaf, d2.requires_grad, d2.grad_fn is None

    both(run)
    x = leaf(disttorch)
    d = x.detach()
    d.add_(1)
    assert x._version == d._version  # storage shared


# ---------------------------------------------------------------- hooks and callbacks


def test_tensor_hooks_modify_gradients():
    def run(m):
        x = leaf(m)
        seen = []
        x.register_hook(lambda g: g * 2)
        y = x * x
        h = y.register_hook(lambda g: seen.append(g.clone()))
        y.sum().backward()
        h.remove()
        y2 = x * x
        y2.sum().backward()
        return x.grad, seen[0]

    both(run)


def test_post_accumulate_grad_hook_sees_accumulated_grad():
    def run(m):
        x = leaf(m)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * 2).sum().backward()
        (x * 3).sum().backward()
        return seen[0], seen[1]

    both(run)


def test_queue_callback_runs_after_backward():
    events = []
    x = leaf(disttorch)

    def hook(g):
        disttorch.autograd.queue_callback(lambda: events.append(("done", x.grad is not None)))
        events.append("hook")

    x.register_hook(hook)
    (x * 2).sum().backward()
    assert events == ["hook", ("done", True)]
    with pytest.raises(RuntimeError, match="during backward"):
        disttorch.autograd.queue_callback(lambda: None)


# ---------------------------------------------------------------- custom Function, Variable


def _make_cube(m):
    class Cube(m.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x)
            ctx.scale = scale
            return x ** 3 * scale

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False)
            return grad * 3 * x ** 2 * ctx.scale, None

    return Cube


def test_custom_function():
    def run(m):
        x = leaf(m)
        y = _make_cube(m).apply(x, 2.0)
        y.sum().backward()
        name = type(y.grad_fn).__name__
        return y, x.grad, name

    both(run)


def test_custom_function_double_backward_and_saved_output():
    def run(m):
        class Exp(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                out = x.exp()
                ctx.save_for_backward(out)
                return out

            @staticmethod
            def backward(ctx, grad):
                (out,) = ctx.saved_tensors
                return grad * out

        x = leaf(m)
        y = Exp.apply(x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return g, x.grad

    both(run)


def test_custom_function_wrong_gradient_count():
    for m in FRAMEWORKS:
        class Bad(m.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, grad):
                return grad

        with pytest.raises(RuntimeError, match="incorrect number of gradients"):
            Bad.apply(leaf(m), leaf(m)).sum().backward()


def test_variable_returns_tensor():
    v = disttorch.autograd.Variable(disttorch.ones(2), requires_grad=True)
    assert type(v) is disttorch.Tensor and v.requires_grad and v.is_leaf
    assert isinstance(disttorch.ones(1), disttorch.autograd.Variable)


def test_gradcheck_and_gradgradcheck():
    x = disttorch.tensor(arr(4), requires_grad=True)
    w = disttorch.tensor(arr(4), requires_grad=True)
    assert disttorch.autograd.gradcheck(lambda a, b: (a * b).exp() / (b * b + 1), (x, w))
    assert disttorch.autograd.gradgradcheck(lambda a, b: (a * b).exp() * a, (x, w))

    class Wrong(disttorch.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        disttorch.autograd.gradcheck(Wrong.apply, (x,))
    assert not disttorch.autograd.gradcheck(Wrong.apply, (x,), raise_exception=False)


# ---------------------------------------------------------------- higher order


def test_second_derivative_of_cube():
    def run(m):
        x = leaf(m)
        (g,) = m.autograd.grad((x ** 3).sum(), x, create_graph=True)
        (h,) = m.autograd.grad(g.sum(), x)
        return g, h

    both(run)


def test_hessian_vector_product():
    v = arr(3)

    def run(m):
        x = leaf(m)
        w = m.tensor(W.copy())
        y = ((x @ w).exp()).sum() + (x * x * x).sum()
        (g,) = m.autograd.grad(y, x, create_graph=True)
        (hvp,) = m.autograd.grad((g * m.tensor(v)).sum(), x)
        return hvp

    both(run)


def test_gradient_penalty():
    def run(m):
        w = m.tensor(W.copy(), requires_grad=True)
        x = m.tensor(X53.copy(), requires_grad=True)
        out = (x @ w).exp().sum()
        (gx,) = m.autograd.grad(out, x, create_graph=True)
        penalty = ((gx * gx).sum(1) - 1) ** 2
        penalty.mean().backward()
        return w.grad

    both(run)

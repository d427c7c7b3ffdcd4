"""Linear algebra, derived products: outer/ger, inner, tensordot, kron and the fused
multiply-adds addmm, addmv, addbmm, baddbmm, addr (beta * input + alpha * product).

inner and tensordot are compositions (permute, reshape, mm), as in torch, so they
differentiate through mm; the add* family and kron are primitives with Tensor-op backwards.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import make_unary_inplace, register, result_dtype, sum_to, wrap_dim
from .linalg import _check_batch2, _check_mv, _ctype, _dims, _legacy, _no_bool, _scale, product

__all__ = ["inner", "outer", "ger", "addmm", "addmv", "addbmm", "baddbmm", "addr", "tensordot",
           "kron"]


# ---------------------------------------------------------------- outer, inner, tensordot


def outer(input, vec2):
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got "
                               f"{t._data.ndim}-D")
    return input.reshape(-1, 1) * vec2


ger = outer


def tensordot(a, b, dims=2):
    x, y = a._data, b._data
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        dims_a, dims_b = list(range(-dims, 0)), list(range(dims))
    else:
        dims_a, dims_b = dims
        dims_a = [dims_a] if isinstance(dims_a, (int, np.integer)) else list(dims_a)
        dims_b = [dims_b] if isinstance(dims_b, (int, np.integer)) else list(dims_b)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if x.dtype != y.dtype:
        raise RuntimeError("both inputs should have same dtype")
    ca = [wrap_dim(d, x.ndim) for d in dims_a]
    cb = [wrap_dim(d, y.ndim) for d in dims_b]
    for da, db, i, j in zip(dims_a, dims_b, ca, cb):
        if x.shape[i] != y.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{x.shape[i]} in dim {da} and second has size {y.shape[j]} "
                               f"in dim {db}")
    free_a = [d for d in range(x.ndim) if d not in ca]
    free_b = [d for d in range(y.ndim) if d not in cb]
    size = int(np.prod([x.shape[d] for d in ca]))
    left = a.permute(free_a + ca).reshape(-1, size)
    right = b.permute(cb + free_b).reshape(size, -1)
    shape = tuple(x.shape[d] for d in free_a) + tuple(y.shape[d] for d in free_b)
    return left.mm(right).reshape(shape)


def inner(input, other):
    x, y = input._data, other._data
    if x.ndim == 0 or y.ndim == 0:
        return input * other
    if x.shape[-1] != y.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(x.shape)} and {list(y.shape)}")
    return tensordot(input, other, ([-1], [-1]))


register("outer", outer)
register("ger", outer)
register("inner", inner)


# ---------------------------------------------------------------- addmm family


def _check_int_scalars(dtype, beta, alpha):
    if dtype.kind in "iub":
        for name, value in (("beta", beta), ("alpha", alpha)):
            if isinstance(value, float):
                raise RuntimeError(f"For integral input tensors, argument {name} must not be "
                                   "a floating point number.")


def _combine(input, product_data, beta, alpha):
    """beta * input + alpha * product on arrays (input broadcast to the product's shape)."""
    out = product_data
    if alpha != 1:
        out = out * out.dtype.type(alpha)
    if beta != 0:
        base = input._data
        try:
            base = np.broadcast_to(base, out.shape)
        except ValueError:
            input.expand(out.shape)  # raises torch's expand message
        if beta != 1:
            base = base * out.dtype.type(beta)
        out = out + base
    return out


def _add_backward(ctx, grad, shape):
    return sum_to(_scale(grad, ctx.beta), shape) if ctx.needs_input_grad[0] else None


class Addmm(Op):
    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        x, y = a._data, b._data
        for name, m in (("mat1", x), ("mat2", y)):
            if m.ndim != 2:
                raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
        if x.shape[1] != y.shape[0]:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({_dims(x.shape)} "
                               f"and {_dims(y.shape)})")
        if x.dtype != y.dtype:
            raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_legacy(x)} "
                               f"and {_legacy(y)}")
        if input._data.dtype != y.dtype:
            raise RuntimeError(f"self and mat2 must have the same dtype, but got "
                               f"{_legacy(input._data)} and {_legacy(y)}")
        _no_bool(x, "addmm_impl_cpu_")
        return _save_and_combine(ctx, input, a, b, beta, alpha, product(x, y))

    @staticmethod
    def backward(ctx, grad):
        input_shape, a, b = _saved(ctx)
        flags = ctx.needs_input_grad
        return (_add_backward(ctx, grad, input_shape),
                _scale(grad.mm(b.t()), ctx.alpha) if flags[1] else None,
                _scale(a.t().mm(grad), ctx.alpha) if flags[2] else None, None, None)


def _save_and_combine(ctx, input, a, b, beta, alpha, product_data):
    flags = ctx.needs_input_grad
    if flags:
        ctx.save_for_backward(a if flags[2] else None, b if flags[1] else None)
        ctx.beta, ctx.alpha, ctx.input_shape = beta, alpha, input._data.shape
    return _combine(input, product_data, beta, alpha)


def _saved(ctx):
    a, b = ctx.saved_tensors
    return ctx.input_shape, a, b


class Addmv(Op):
    node_name = "AddmvBackward0"

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        x, y = a._data, b._data
        _check_mv(x, y, input._data.ndim if input._data.ndim > 1 else 1)
        if x.shape[1] != y.shape[0] or input._data.shape not in ((x.shape[0],), (1,), ()):
            size = input._data.shape[0] if input._data.ndim else 1
            raise RuntimeError(f"size mismatch, got input ({size}), mat ({_dims(x.shape)}), "
                               f"vec ({y.shape[0]})")
        if not input._data.dtype == x.dtype == y.dtype:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got "
                               f"{_legacy(input._data)}, {_legacy(x)}, and {_legacy(y)}")
        _no_bool(x, "addmv_impl_cpu")
        return _save_and_combine(ctx, input, a, b, beta, alpha, product(x, y))

    @staticmethod
    def backward(ctx, grad):
        input_shape, a, b = _saved(ctx)
        flags = ctx.needs_input_grad
        return (_add_backward(ctx, grad, input_shape),
                _scale(grad.reshape(-1, 1) * b, ctx.alpha) if flags[1] else None,
                _scale(a.t().mv(grad), ctx.alpha) if flags[2] else None, None, None)


def _check_baddbmm(input, x, y):
    if x.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if y.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    _check_batch2(x.shape[0], x.shape[2], y.shape[0], y.shape[1])
    if not input._data.dtype == x.dtype == y.dtype:
        raise RuntimeError(f"Input dtypes must be the same, got: input {_ctype(input._data)}, "
                           f"batch1: {_ctype(x)}, batch2: {_ctype(y)}")
    _no_bool(x, "bmm")


class Baddbmm(Op):
    node_name = "BaddbmmBackward0"

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        x, y = a._data, b._data
        _check_baddbmm(input, x, y)
        return _save_and_combine(ctx, input, a, b, beta, alpha, product(x, y))

    @staticmethod
    def backward(ctx, grad):
        input_shape, a, b = _saved(ctx)
        flags = ctx.needs_input_grad
        return (_add_backward(ctx, grad, input_shape),
                _scale(grad.bmm(b.mT), ctx.alpha) if flags[1] else None,
                _scale(a.mT.bmm(grad), ctx.alpha) if flags[2] else None, None, None)


class Addbmm(Op):
    node_name = "AddbmmBackward0"

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        x, y = a._data, b._data
        wrap_dim(2, x.ndim)  # torch's IndexError for matrices
        _check_baddbmm(input, x, y)
        # sum_b x_b @ y_b is one GEMM of the batches laid side by side
        flat = product(x.transpose(1, 0, 2).reshape(x.shape[1], -1), y.reshape(-1, y.shape[2]))
        ctx.count = x.shape[0]
        return _save_and_combine(ctx, input, a, b, beta, alpha, flat)

    @staticmethod
    def backward(ctx, grad):
        input_shape, a, b = _saved(ctx)
        flags = ctx.needs_input_grad
        batched = grad.reshape((1,) + grad._data.shape).expand(ctx.count, -1, -1)
        return (_add_backward(ctx, grad, input_shape),
                _scale(batched.bmm(b.mT), ctx.alpha) if flags[1] else None,
                _scale(a.mT.bmm(batched), ctx.alpha) if flags[2] else None, None, None)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return Addmm.apply(input, mat1, mat2, beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    return Addmv.apply(input, mat, vec, beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return Baddbmm.apply(input, batch1, batch2, beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return Addbmm.apply(input, batch1, batch2, beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got "
                               f"{t._data.ndim}-D")
    return Addr.apply(input, vec1, vec2, beta, alpha)


class Addr(Op):
    node_name = "AddrBackward0"

    @staticmethod
    def forward(ctx, input, a, b, beta, alpha):
        dt = np.dtype(result_dtype(input, a, b).np)
        _check_int_scalars(dt, beta, alpha)
        x, y = a._data.astype(dt, copy=False), b._data.astype(dt, copy=False)
        outer_data = x[:, None] * y[None, :]
        if dt == np.bool_:
            base = np.broadcast_to(input._data, outer_data.shape)
            out = (base & bool(beta)) | (outer_data & bool(alpha))
        else:
            cast = Tensor._wrap(input._data.astype(dt, copy=False))
            out = _combine(cast, outer_data, beta, alpha)
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[2] else None, b if flags[1] else None)
            ctx.beta, ctx.alpha, ctx.input_shape = beta, alpha, input._data.shape
            ctx.input_dtype = B._FROM_NP[input._data.dtype]
        return out

    @staticmethod
    def backward(ctx, grad):
        input_shape, a, b = _saved(ctx)
        flags = ctx.needs_input_grad
        dtype = grad.dtype  # the vectors may be of a lower dtype than the result
        g_a = _scale(grad.mv(b.to(dtype)), ctx.alpha).to(a.dtype) if flags[1] else None
        g_b = _scale(grad.t().mv(a.to(dtype)), ctx.alpha).to(b.dtype) if flags[2] else None
        g_input = _add_backward(ctx, grad, input_shape)
        if g_input is not None:
            g_input = g_input.to(ctx.input_dtype)
        return g_input, g_a, g_b, None, None


for _name, _fn in (("addmm", addmm), ("addmv", addmv), ("baddbmm", baddbmm),
                   ("addbmm", addbmm), ("addr", addr)):
    register(_name, _fn, inplace=make_unary_inplace(_fn))


# ---------------------------------------------------------------- kron


class Kron(Op):
    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, a, b):
        dt = result_dtype(a, b).np
        x, y = a._data.astype(dt, copy=False), b._data.astype(dt, copy=False)
        ndim = max(x.ndim, y.ndim)
        sa = (1,) * (ndim - x.ndim) + x.shape
        sb = (1,) * (ndim - y.ndim) + y.shape
        # interleave: a's dims at even positions, b's at odd, then merge each pair
        xs = tuple(s for d in sa for s in (d, 1))
        ys = tuple(s for d in sb for s in (1, d))
        flags = ctx.needs_input_grad
        if flags:
            ctx.save_for_backward(a if flags[1] else None, b if flags[0] else None)
            ctx.shapes = (x.shape, y.shape, xs, ys)
        out = x.reshape(xs) * y.reshape(ys)
        return out.reshape(tuple(p * q for p, q in zip(sa, sb)))

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        shape_a, shape_b, xs, ys = ctx.shapes
        flags = ctx.needs_input_grad
        full = grad.reshape(tuple(p * q for p, q in zip(xs, ys)))
        n = len(xs)
        ga = gb = None
        if flags[0]:
            ga = (full * b.reshape(ys)).sum(tuple(range(1, n, 2))).reshape(shape_a)
        if flags[1]:
            gb = (full * a.reshape(xs)).sum(tuple(range(0, n, 2))).reshape(shape_b)
        return ga, gb


def kron(input, other):
    return Kron.apply(input, other)


register("kron", kron)

"""Shape ops: views (view, reshape, expand, transpose, permute, t), clone and contiguous.

A view shares memory and the version counter with its base and records how it was made
from the base (`_view_chain`), so an in-place op on a view can rewrite the base's history
(torch's CopySlices) and gradients flow to the base.
"""

import numpy as np

from .._tensor import Size, Tensor, _wrap_dim
from ..autograd.function import Op
from ._common import register

__all__ = ["reshape", "t", "transpose", "swapaxes", "swapdims", "permute", "clone"]


def mark_view(out, base, method, args):
    """Record that `out` is `getattr(base, method)(*args)` sharing base's memory."""
    root = base._base
    if root is None:
        root = base
        chain = ()
    else:
        chain = base.__dict__.get("_view_chain", ())
    out._base = root
    out._version = base._version
    out._view_chain = chain + ((method, args),)
    return out


def apply_view_chain(t, chain):
    for method, args in chain:
        t = getattr(t, method)(*args)
    return t


def _shape_arg(shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def infer_shape(shape, numel):
    """Resolve one -1 in `shape`, raising torch's errors for impossible shapes."""
    shape = list(shape)
    infer = [i for i, s in enumerate(shape) if s == -1]
    if len(infer) > 1:
        raise RuntimeError("only one dimension can be inferred")
    for s in shape:
        if s < -1:
            raise RuntimeError(f"invalid shape dimension {s}")
    known = 1
    for i, s in enumerate(shape):
        if i not in infer:
            known *= s
    if infer:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '[{', '.join(str(s) for s in shape)}]' is invalid for "
                               f"input of size {numel}")
        shape[infer[0]] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '[{', '.join(str(s) for s in shape)}]' is invalid for input "
                           f"of size {numel}")
    return tuple(shape)


class View(Op):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.in_shape = data.shape
        try:
            return data.reshape(shape, copy=False)
        except ValueError:
            raise RuntimeError("view size is not compatible with input tensor's size and stride "
                               "(at least one dimension spans across two contiguous subspaces). "
                               "Use .reshape(...) instead.") from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Op):
    """reshape that had to copy (torch names the node _ReshapeAlias/CloneBackward chain)."""

    node_name = "ReshapeAliasBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        from .convert import view_as_dtype

        return view_as_dtype(self, shape[0])
    shape = infer_shape(_shape_arg(shape), self._data.size)
    return mark_view(View.apply(self, shape), self, "view", (shape,))


def reshape(input, *shape):
    shape = infer_shape(_shape_arg(shape), input._data.size)
    if shape == input._data.shape:
        return view(input, shape)
    try:
        input._data.reshape(shape, copy=False)
    except ValueError:
        # not expressible as a view: torch copies (clone then view)
        return View.apply(clone(input), shape)
    return view(input, shape)


def view_as(self, other):
    return view(self, other._data.shape)


def reshape_as(self, other):
    return reshape(self, other._data.shape)


register("view", view)
register("reshape", reshape)
register("view_as", view_as)
register("reshape_as", reshape_as)


class Expand(Op):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        return np.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        from ._common import sum_to

        return sum_to(grad, ctx.in_shape), None


def expand(self, *sizes):
    sizes = _shape_arg(sizes)
    shape = self._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.{_legacy(self)}Tensor{{[{', '.join(map(str, shape))}]}}, "
            f"size=[{', '.join(map(str, sizes))}]): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   "leading, non-existing dimension 0")
            target.append(s)
            continue
        own = shape[i - lead]
        if s == -1:
            s = own
        elif own != 1 and s != own:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({own}) "
                f"at non-singleton dimension {i}.  Target sizes: "
                f"[{', '.join(map(str, sizes))}].  Tensor sizes: [{', '.join(map(str, shape))}]")
        target.append(s)
    target = tuple(target)
    return mark_view(Expand.apply(self, target), self, "expand", (target,))


def expand_as(self, other):
    return expand(self, other._data.shape)


def _legacy(t):
    from ._common import _legacy_name

    return _legacy_name(t.dtype)


register("expand", expand)
register("expand_as", expand_as)


class Permute(Op):
    node_name = "PermuteBackward0"

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x._data.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(tuple(np.argsort(ctx.dims).tolist())), None


class Transpose(Op):
    node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, x, d0, d1):
        ctx.dims = (d0, d1)
        return x._data.swapaxes(d0, d1)

    @staticmethod
    def backward(ctx, grad):
        return grad.transpose(*ctx.dims), None, None


def permute(input, *dims):
    dims = _shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {ndim} is not equal to len(dims) = {len(dims)}")
    dims = tuple(_wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return mark_view(Permute.apply(input, dims), input, "permute", (dims,))


def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    d0, d1 = _wrap_dim(dim0, ndim), _wrap_dim(dim1, ndim)
    return mark_view(Transpose.apply(input, d0, d1), input, "transpose", (d0, d1))


class T(Op):
    node_name = "TBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data.T

    @staticmethod
    def backward(ctx, grad):
        return grad.t()


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return mark_view(T.apply(input), input, "t", ())


swapaxes = swapdims = transpose
register("permute", permute)
register("transpose", transpose)
register("swapaxes", transpose)
register("swapdims", transpose)
register("t", t)
Tensor.T = property(lambda self: permute(self, tuple(range(self._data.ndim - 1, -1, -1))))
Tensor.mT = property(lambda self: transpose(self, -2, -1))
Tensor.H = Tensor.T
Tensor.mH = Tensor.mT


def _transpose_inplace(self, dim0, dim1):
    result = transpose(self.detach(), dim0, dim1)
    self._data = result._data
    self._version[0] += 1
    return self


def _t_inplace(self):
    return _transpose_inplace(self, 0, 1) if self._data.ndim == 2 else self


register("transpose_", _transpose_inplace)
register("t_", _t_inplace)


class Clone(Op):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


def clone(input, *, memory_format=None):
    return Clone.apply(input)


def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


register("clone", clone)
register("contiguous", contiguous)


# ---------------------------------------------------------------- in-place on views


class CopySlices(Op):
    """The base of a view after an in-place op on the view: base with the view replaced."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, chain):
        data = base._data.copy()
        region = apply_view_chain(Tensor._wrap(data), chain)._data
        region[...] = value._data
        mask = np.ones(data.shape, dtype=data.dtype)
        apply_view_chain(Tensor._wrap(mask), chain)._data[...] = 0
        ctx.mask = mask
        ctx.chain = chain
        return data

    @staticmethod
    def backward(ctx, grad):
        g_base = grad * Tensor._wrap(ctx.mask) if ctx.needs_input_grad[0] else None
        g_value = apply_view_chain(grad, ctx.chain) if ctx.needs_input_grad[1] else None
        if g_value is not None and not g_value._data.flags.c_contiguous:
            g_value = g_value.contiguous()
        return g_base, g_value, None


def rebase_view_history(view_tensor, value):
    """In-place op result `value` written through `view_tensor` into its base."""
    from ._common import snapshot

    base = view_tensor._base
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    chain = view_tensor.__dict__.get("_view_chain", ())
    new_base = CopySlices.apply(snapshot(base), value, chain)
    base._data[...] = new_base._data
    base._version[0] += 1
    base._grad_fn = new_base._grad_fn
    base._output_nr = 0
    base._requires_grad = True
    fresh = apply_view_chain(base, chain)
    view_tensor._grad_fn = fresh._grad_fn
    view_tensor._output_nr = fresh._output_nr
    view_tensor._requires_grad = True

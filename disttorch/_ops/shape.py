"""Shape ops that return views: view, reshape, flatten, squeeze, expand, permute, transpose,
movedim, and their in-place forms; clone and contiguous.

Every view goes through `mark_view` (views.py, re-exported here with the rest of the view
mechanism: apply_view_chain, CopySlices, rebase_view_history), so in-place ops on views
reach the base's history.
"""

import warnings

import numpy as np

from .._tensor import Size, Tensor, _wrap_dim
from ..autograd.function import Op
from ._common import register, sum_to
from .views import (  # noqa: F401  (re-exported)
    CopySlices,
    ViewOfBase,
    alias_with_history,
    apply_view_chain,
    check_writable,
    mark_view,
    metadata_inplace,
    rebase_view_history,
    strided_view,
)

__all__ = ["reshape", "flatten", "unflatten", "ravel", "squeeze", "unsqueeze", "t",
           "transpose", "swapaxes", "swapdims", "permute", "movedim", "moveaxis", "adjoint",
           "broadcast_to", "clone"]


# ---------------------------------------------------------------- view and reshape


def shape_arg(shape):
    """Sizes given as varargs or as one sequence, as a tuple of ints."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, Tensor)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _fmt(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def infer_shape(shape, numel):
    """Resolve one -1 in `shape`, raising torch's errors for impossible shapes."""
    infer = -1
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s < 0:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape "
                               f"{_fmt(shape)}")
        else:
            known *= s
    if infer >= 0:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {_fmt(shape)} because the "
                "unspecified dimension size -1 can be any value and is ambiguous")
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
        return shape[:infer] + (numel // known,) + shape[infer + 1:]
    if known != numel:
        raise RuntimeError(f"shape '{_fmt(shape)}' is invalid for input of size {numel}")
    return shape


_VIEW_ERROR = ("view size is not compatible with input tensor's size and stride (at least one "
               "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")


class View(Op):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x._data.shape
        try:
            return x._data.reshape(shape, copy=False)
        except ValueError:
            raise RuntimeError(_VIEW_ERROR) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class UnsafeView(View):
    """reshape of a tensor that no view can express: torch reshapes a contiguous clone."""

    node_name = "UnsafeViewBackward0"


def view(self, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer, tuple, list, Size)):
        from .convert import view_as_dtype

        return view_as_dtype(self, shape[0])
    shape = infer_shape(shape_arg(shape), self._data.size)
    return mark_view(View.apply(self, shape), self, "view", (shape,))


def _viewable(data, shape):
    if data.flags.c_contiguous:
        return True
    try:
        data.reshape(shape, copy=False)
    except ValueError:
        return False
    return True


def reshape(input, *shape):
    shape = infer_shape(shape_arg(shape), input._data.size)
    if _viewable(input._data, shape):
        return mark_view(View.apply(input, shape), input, "view", (shape,))
    return UnsafeView.apply(Clone.apply(input, "C"), shape)


def view_as(self, other):
    return view(self, other._data.shape)


def reshape_as(self, other):
    return reshape(self, other._data.shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    start, end = _wrap_dim(start_dim, len(shape)), _wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    merged = 1
    for s in shape[start:end + 1]:
        merged *= s
    return reshape(input, shape[:start] + (merged,) + shape[end + 1:])


def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = _wrap_dim(dim, len(shape))
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if -1 in sizes:
        sizes = infer_shape(sizes, shape[d])
    elif Size(sizes).numel() != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {_fmt(sizes)} don't multiply up to the "
                           f"size of dim {dim} ({shape[d]}) in the input tensor")
    return view(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    return view(contiguous(input), (-1,))


register("view", view)
register("reshape", reshape)
register("view_as", view_as)
register("reshape_as", reshape_as)
register("flatten", flatten)
register("unflatten", unflatten)
register("ravel", ravel)


# ---------------------------------------------------------------- squeeze and unsqueeze


class Squeeze(Op):
    node_name = "SqueezeBackward0"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.in_shape = x._data.shape
        return x._data.squeeze(axes)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class SqueezeDim(Squeeze):
    node_name = "SqueezeBackward1"


class SqueezeDims(Squeeze):
    node_name = "SqueezeBackward2"


class Unsqueeze(Op):
    node_name = "UnsqueezeBackward0"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.in_shape = x._data.shape
        return np.expand_dims(x._data, dim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        op, axes = Squeeze, tuple(i for i, s in enumerate(shape) if s == 1)
    elif isinstance(dim, (tuple, list)):
        op = SqueezeDims
        axes = tuple(d for d in sorted({_wrap_dim(d, len(shape)) for d in dim})
                     if shape[d] == 1)
    else:
        d = _wrap_dim(dim, len(shape))
        op, axes = SqueezeDim, ((d,) if shape and shape[d] == 1 else ())
    return mark_view(op.apply(input, axes), input, "squeeze", (dim,))


def unsqueeze(input, dim):
    d = _wrap_dim(dim, input._data.ndim + 1)
    return mark_view(Unsqueeze.apply(input, d), input, "unsqueeze", (d,))


register("squeeze", squeeze)
register("unsqueeze", unsqueeze)


# ---------------------------------------------------------------- expand


class Expand(Op):
    node_name = "ExpandBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        data = x._data
        ctx.in_shape = data.shape
        if Size(shape).numel() == data.size:  # nothing repeats: a writable view
            return data.reshape(shape)
        lead = len(shape) - data.ndim
        strides = (0,) * lead + tuple(
            0 if n == 1 and s != 1 else st for n, s, st in zip(data.shape, shape[lead:],
                                                               data.strides))
        view = strided_view(data, shape, strides)
        view.flags.writeable = False  # elements share memory: torch refuses writes
        return view

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.in_shape), None


def _legacy(t):
    from ._common import _legacy_name

    return _legacy_name(t.dtype)


def expand(self, *sizes):
    sizes = shape_arg(sizes)
    shape = self._data.shape
    if sizes == shape:
        return mark_view(Expand.apply(self, sizes), self, "expand", (sizes,))
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(torch.{_legacy(self)}Tensor{{{_fmt(shape)}}}, size={_fmt(sizes)}): the "
            f"number of sizes provided ({len(sizes)}) must be greater or equal to the number "
            f"of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a "
                                   f"leading, non-existing dimension {i}")
            target.append(s)
            continue
        own = shape[i - lead]
        if s == -1:
            s = own
        elif own != s and own != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({own}) "
                f"at non-singleton dimension {i}.  Target sizes: {_fmt(sizes)}.  Tensor "
                f"sizes: {_fmt(shape)}")
        target.append(s)
    target = tuple(target)
    return mark_view(Expand.apply(self, target), self, "expand", (target,))


def expand_as(self, other):
    return expand(self, other._data.shape)


def broadcast_to(input, size):
    return expand(input, tuple(size))


register("expand", expand)
register("expand_as", expand_as)
register("broadcast_to", broadcast_to)


# ---------------------------------------------------------------- permutations


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


class T(Op):
    node_name = "TBackward0"

    @staticmethod
    def forward(ctx, x):
        return x._data.T

    @staticmethod
    def backward(ctx, grad):
        return grad.t()


def permute(input, *dims):
    dims = shape_arg(dims)
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


def t(input):
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return mark_view(T.apply(input), input, "t", ())


def movedim(input, source, destination):
    ndim = input._data.ndim
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source "
                           f"({_fmt(src)} dims) should contain the same number of dims as "
                           f"destination ({_fmt(dst)} dims)")
    src_w = [_wrap_dim(d, ndim) for d in src]
    dst_w = [_wrap_dim(d, ndim) for d in dst]
    if len(set(src_w)) != len(src_w):
        raise RuntimeError(f"movedim: repeated dim in `source` ({_fmt(src)})")
    if len(set(dst_w)) != len(dst_w):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({_fmt(dst)})")
    order = [None] * ndim
    for s, d in zip(src_w, dst_w):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src_w)
    perm = tuple(o if o is not None else next(rest) for o in order)
    return mark_view(Permute.apply(input, perm), input, "permute", (perm,))


def _T(self):
    ndim = self._data.ndim
    if ndim == 0:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases.", UserWarning, stacklevel=2)
    elif ndim != 2:
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated and it will throw an error in a future release. "
                      "Consider `x.mT` to transpose batches of matrices or `x.permute(*torch."
                      "arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.",
                      UserWarning, stacklevel=2)
    return permute(self, tuple(range(ndim - 1, -1, -1)))


def _matrix_transpose(name):
    def get(self):
        if self._data.ndim < 2:
            raise RuntimeError(f"tensor.{name} is only supported on matrices or batches of "
                               f"matrices. Got {self._data.ndim}-D tensor.")
        return transpose(self, -2, -1)

    return get


def _H(self):
    ndim = self._data.ndim
    if ndim != 2:
        hint = (" For batches of matrices, consider using tensor.mH" if ndim > 2 else "")
        raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                           f"{ndim}-D tensor.{hint}")
    return transpose(self, 0, 1)


def adjoint(input):
    if input._data.ndim < 2:
        raise RuntimeError(f"tensor.adjoint() is only supported on matrices or batches of "
                           f"matrices. Got {input._data.ndim}-D tensor.")
    return transpose(input, -2, -1)


swapaxes = swapdims = transpose
moveaxis = movedim
register("permute", permute)
register("transpose", transpose)
register("swapaxes", transpose)
register("swapdims", transpose)
register("t", t)
register("movedim", movedim)
register("moveaxis", movedim)
register("adjoint", adjoint)
Tensor.T = property(_T)
Tensor.mT = property(_matrix_transpose("mT"))
Tensor.H = property(_H)
Tensor.mH = property(_matrix_transpose("mH"))


# ---------------------------------------------------------------- in-place metadata changes


def _squeeze_inplace(self, dim=None):
    name = ("SqueezeBackward3" if dim is None else
            "SqueezeBackward5" if isinstance(dim, (tuple, list)) else "SqueezeBackward4")
    return metadata_inplace(squeeze, name)(self, dim)


def _t_inplace(self):
    return metadata_inplace(t, "TBackward1")(self)


register("unsqueeze_", metadata_inplace(unsqueeze, "UnsqueezeBackward1"))
register("squeeze_", _squeeze_inplace)
register("transpose_", metadata_inplace(transpose, "TransposeBackward1"))
register("swapaxes_", Tensor.transpose_)
register("swapdims_", Tensor.transpose_)
register("t_", _t_inplace)


# ---------------------------------------------------------------- copies


class Clone(Op):
    node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, order):
        return x._data.copy(order=order)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def clone(input, *, memory_format=None):
    # torch's preserve_format keeps the strides of a dense tensor (numpy's order "K") and
    # makes overlapping (expanded) ones contiguous
    data = input._data
    dense = memory_format is None and all(s or n < 2 for n, s in zip(data.shape, data.strides))
    return Clone.apply(input, "K" if dense else "C")


def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self, "C")


register("clone", clone)
register("contiguous", contiguous)


# ---------------------------------------------------------------- the rest of the family

from . import rearrange as _rearrange  # noqa: E402  (they use the above)
from . import slicing as _slicing  # noqa: E402

for _module in (_slicing, _rearrange):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
    __all__ += _module.__all__

"""The view mechanism every view op goes through (re-exported by shape.py).

A view shares memory and the version counter with its base and records how it was made
from the base (`_view_chain`: (method, args) steps that `apply_view_chain` replays), so an
in-place op on a view can rewrite the base's history (torch's CopySlices) and gradients
reach the base. Views of multi-output ops (split, unbind) also carry `_view_origin`, since
torch forbids modifying those in place.
"""

import weakref

import numpy as np

from .. import _backend as B
from .._tensor import Tensor, _root_array
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import check_inplace, commit_inplace, sum_to


def mark_view(out, base, method, args, origin=None):
    """Record that `out` is `getattr(base, method)(*args)` sharing base's memory."""
    root = base._base
    chain = base.__dict__.get("_view_chain") if root is not None else None
    if chain is None:  # base is no view (a detached alias is its own root for autograd)
        root, chain = base, ()
    out._base = root
    out._version = base._version
    out._view_chain = chain + ((method, args),)
    if root._grad_fn is not None:  # its views need new history when root is modified
        views = root.__dict__.get("_views")
        if views is None:
            views = root._views = [32]  # [prune threshold, weakrefs...]
        views.append(weakref.ref(out))
        if len(views) > views[0]:  # drop dead views; amortised O(1) per view
            views[1:] = [ref for ref in views[1:] if ref() is not None]
            views[0] = max(32, 2 * len(views))
    if origin is None:
        origin = base.__dict__.get("_view_origin")
    if origin is not None:
        out._view_origin = origin
    return out


def apply_view_chain(t, chain):
    for method, args in chain:
        t = getattr(t, method)(*args)
    return t


def strided_view(data, shape, strides):
    """A view of `data`'s memory with the given shape and byte strides (its storage kept)."""
    if type(data) is np.ndarray:
        if data.flags.c_contiguous:  # the fast way: data's own buffer
            return np.ndarray(shape, data.dtype, buffer=data, strides=strides)
        root = _root_array(data)
        if root.flags.c_contiguous:
            offset = data.ctypes.data - root.ctypes.data
            return np.ndarray(shape, data.dtype, buffer=root, offset=offset, strides=strides)
    return B.get_array_module(data).lib.stride_tricks.as_strided(data, shape, strides)


def alias_with_history(t):
    """A tensor on t's memory carrying t's autograd history (no copy)."""
    a = Tensor._wrap(t._data)
    if t._requires_grad:
        a._requires_grad = True
        a._grad_fn = t._grad_fn
        a._output_nr = t._output_nr
    return a


class CopySlices(Op):
    """`base` with the region that `chain` selects replaced by `value` (broadcast, cast).

    With `inplace` the write goes into base's own memory: that is how an in-place op on a
    view gives the base its new history.
    """

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, value, chain, inplace):
        data = base._data if inplace else base._data.copy()
        region = apply_view_chain(Tensor._wrap(data), chain)._data
        region[...] = value._data
        ctx.chain = chain
        ctx.value_meta = (value._data.shape, B._FROM_NP[value._data.dtype])
        return data

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        g_base = g_value = None
        if flags[0]:
            zero = Tensor._wrap(B.get_array_module(grad._data).zeros((), grad._data.dtype))
            g_base = CopySlices.apply(grad, zero, ctx.chain, False)
        if flags[1]:
            shape, dtype = ctx.value_meta
            g_value = sum_to(apply_view_chain(grad, ctx.chain), shape).to(dtype)
        return g_base, g_value, None, None


class ViewOfBase(Op):
    """The history of a view after its base was rewritten: the view replayed on the base."""

    node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, chain):
        ctx.chain = chain
        ctx.base_meta = (base._data.shape, base._data.dtype)
        return apply_view_chain(Tensor._wrap(base._data), chain)._data

    @staticmethod
    def backward(ctx, grad):
        shape, dtype = ctx.base_meta
        zeros = Tensor._wrap(B.get_array_module(grad._data).zeros(shape, dtype))
        return CopySlices.apply(zeros, grad, ctx.chain, False), None


def _multi_output_error(origin):
    name, nr = origin
    return RuntimeError(
        f"Output {nr} of {name} is a view and is being modified inplace. This view is the "
        "output of a function that returns multiple views. Such functions do not allow the "
        "output views to be modified inplace. You should replace the inplace operation by an "
        "out-of-place one.")


def rebase_view_history(view_tensor, value, others=()):
    """Write `value` (the in-place result) through `view_tensor` into its base.

    The base's history becomes CopySlices(old base, value); the view (and `others`, further
    views of the same base that the caller changed) get their history replayed on it.
    """
    chain = view_tensor.__dict__.get("_view_chain")
    if chain is None:  # a detached alias: no view for autograd
        view_tensor._data[...] = value._data
        view_tensor._version[0] += 1
        view_tensor._grad_fn = value._grad_fn
        view_tensor._output_nr = value._output_nr
        view_tensor._requires_grad = value._requires_grad
        return
    origin = view_tensor.__dict__.get("_view_origin")
    if origin is not None and state.enabled:
        raise _multi_output_error(origin)
    check_writable(view_tensor)
    base = view_tensor._base
    if base._grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an "
                           "in-place operation.")
    new_base = CopySlices.apply(alias_with_history(base), value, chain, True)
    base._version[0] += 1
    base._grad_fn = new_base._grad_fn
    base._output_nr = 0
    base._requires_grad = new_base._requires_grad
    refresh_views(base, (view_tensor, *others))


def refresh_views(base, also=()):
    """After `base` got new history in place: every view of it replays itself on the base
    (torch regenerates a view's grad_fn when its base changed), so no view keeps gradients
    of values it no longer holds."""
    views = [ref() for ref in base.__dict__.get("_views", (None,))[1:]]
    seen = set()
    for v in (*also, *views):
        if v is None or id(v) in seen or v._base is not base:
            continue
        seen.add(id(v))
        chain = v.__dict__.get("_view_chain")
        if chain is None:
            continue
        fresh = ViewOfBase.apply(base, chain)
        v._grad_fn = fresh._grad_fn
        v._output_nr = 0
        v._requires_grad = fresh._requires_grad


def check_writable(t):
    """torch refuses writes into tensors whose elements share memory (expand's views)."""
    if not t._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to "
                           "tensor refers to a single memory location. Please clone() the "
                           "tensor before performing the operation.")


def commit_result(self, result):
    """Make `result` the new content and history of `self` (through its base for views)."""
    if self._base is not None and "_view_chain" in self.__dict__:
        rebase_view_history(self, result)
    else:
        commit_inplace(self, result)


def views_to_refresh(self):
    return (self,) if self._base is not None and "_view_chain" in self.__dict__ else ()


def metadata_inplace(fn, node_name):
    """`x.unsqueeze_(0)` and friends: x takes the view's layout and (renamed) history."""

    def inplace(self, *args):
        check_inplace(self)
        result = fn(self, *args)
        self._data = result._data
        self._version[0] += 1
        if result._requires_grad:
            node = result._grad_fn
            node.__class__ = _renamed_node_class(type(node), node_name)
            self._grad_fn = node
            self._output_nr = 0
            self._requires_grad = True
        if "_view_chain" in self.__dict__:
            self._view_chain = result._view_chain
        return self

    inplace.__name__ = fn.__name__ + "_"
    return inplace


_RENAMED = {}


def _renamed_node_class(cls, name):
    """`cls` under torch's name for the in-place variant (UnsqueezeBackward1, ...)."""
    key = (cls, name)
    renamed = _RENAMED.get(key)
    if renamed is None:
        renamed = _RENAMED[key] = type(cls)(name, (cls,), {
            "_is_node_class": True, "node_name": name, "__module__": cls.__module__,
            "__qualname__": name})
    return renamed

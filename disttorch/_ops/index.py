"""Indexing: `Tensor.__getitem__` / `__setitem__` with torch's basic and advanced indexing,
and index_put. The rest of the family is imported at the end: masked.py (masked_*, take,
put, nonzero), scatter.py (gather, scatter*), index_along.py (index_select, index_add, ...).

An index is read the way torch reads it: ints, slices and None are applied first as one
view (named after the last step torch would take: SelectBackward0, SliceBackward0, ...),
then the tensor, list and mask indices index that view with NumPy's advanced indexing,
whose placement of the result's dims is torch's once the ints are gone.
"""

import operator

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ..autograd.grad_mode import state
from ._common import needs_graph, register, scalar_array, sum_to
from .shape import _fmt, expand
from .slicing import BASIC_OPS, BasicIndex, Index, SelectIndex
from .views import (
    alias_with_history,
    check_writable,
    commit_result,
    mark_view,
    rebase_view_history,
    views_to_refresh,
)

__all__ = ["index_put", "index_put_"]

_FULL = slice(None)
_ADV, _MASK = "a", "m"


def _normalize(index):
    """The index as a tuple; a short list holding index objects counts as one (torch)."""
    if type(index) is tuple:
        return index
    if type(index) is list and len(index) < 32:
        for item in index:
            if item is None or item is Ellipsis or isinstance(
                    item, (slice, list, tuple, Tensor, np.ndarray)):
                return tuple(index)
    return (index,)


def _array_item(data):
    """A Tensor/array index as an int, a bool, or (kind, array)."""
    kind = data.dtype.kind
    if kind == "b" or data.dtype == np.uint8:
        if data.ndim == 0:
            return bool(data)
        return (_MASK, data.astype(bool, copy=False))
    if kind not in "iu":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if data.ndim == 0:
        return int(data)
    return (_ADV, data)


def _convert(item):
    t = type(item)
    if t is int or t is slice or item is None or item is Ellipsis:
        return item
    if t is bool or t is np.bool_:
        return bool(item)
    if isinstance(item, Tensor):
        return _array_item(item._data)
    if isinstance(item, np.integer):
        return int(item)
    if isinstance(item, (list, tuple, np.ndarray)):
        data = np.asarray(item)
        if data.size == 0 and data.dtype.kind == "f":
            data = data.astype(np.int64)
        return _array_item(data)
    if isinstance(item, float):
        raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                         "Variables are valid indices (got float)")
    raise TypeError(f"new(): invalid data type '{t.__name__}'")


def _slice_item(s):
    start, stop, step = s.start, s.stop, s.step
    if step is not None:
        step = operator.index(step)
        if step == 0:
            raise ValueError("slice step cannot be zero")
        if step < 0:
            raise ValueError("step must be greater than zero")
    if start is not None:
        start = operator.index(start)
    if stop is not None:
        stop = operator.index(stop)
    return slice(start, stop, step)


def parse_index(shape, index, bare_slice=False):
    """torch's reading of `index` on a tensor of `shape`.

    Returns (basic, last, advanced, pending): `basic` is a NumPy basic index (ending in
    Ellipsis) for the view of ints/slices/None, `last` the name of torch's last view step
    (None when the view would be the tensor itself), `advanced` the index of the remaining
    tensor/list/mask indices into that view (None when there are none) and `pending` what
    `check_advanced` verifies once the view's shape is known.
    """
    raw = _normalize(index)
    items = [_convert(i) for i in raw]
    ndim = len(shape)
    consumed = 0
    for c in items:
        tc = type(c)
        if tc is int or tc is slice:
            consumed += 1
        elif tc is tuple:
            consumed += c[1].ndim if c[0] is _MASK else 1
    if consumed > ndim:
        if ndim == 0 and type(index) is not tuple and len(items) == 1:
            if type(raw[0]) is int:
                if raw[0]:
                    raise IndexError(f"index {raw[0]} is out of bounds for dimension 0 with "
                                     "size 0")
                raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in "
                                 "Python or `tensor.item<T>()` in C++ to convert a 0-dim "
                                 "tensor to a number")
            if type(items[0]) is slice:
                raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    basic, adv, pending = [], [], []
    last = None
    src = 0  # dim of the input
    seen_ellipsis = False
    n_tensors = 0  # torch numbers advanced indices among themselves in its messages
    for pos, c in enumerate(items):  # torch names the item's position in messages
        tc = type(c)
        if tc is int:
            size = shape[src]
            if c < -size or c >= size:
                raise IndexError(f"index {c} is out of bounds for dimension {pos} with size "
                                 f"{size}")
            basic.append(c)
            src += 1
            last = "Select"
        elif tc is slice:
            c = _slice_item(c)
            # torch skips a slice that is written as the whole dim (not one that only
            # amounts to it, like -3: on a dim of 3)
            whole = (not c.start and c.step in (None, 1)
                     and (c.stop is None or c.stop >= shape[src]))
            if bare_slice or not whole:
                last = "Slice"
            basic.append(c)
            adv.append(_FULL)
            src += 1
        elif c is None:
            basic.append(None)
            adv.append(_FULL)
            last = "Unsqueeze"
        elif c is Ellipsis:
            n = 0 if seen_ellipsis else ndim - consumed
            seen_ellipsis = True
            basic.extend([_FULL] * n)
            adv.extend([_FULL] * n)
            src += n
        elif tc is bool:  # a new dim of size 1, kept or dropped by a one-element mask
            basic.append(None)
            adv.append(np.array([c]))
            pending.append((_MASK, len(adv) - 1, n_tensors, adv[-1]))
            n_tensors += 1
            last = "Unsqueeze"
        else:
            kind, arr = c
            k = arr.ndim if kind is _MASK else 1
            basic.extend([_FULL] * k)
            adv.append(arr)
            pending.append((kind, len(adv) - 1, n_tensors, arr))
            n_tensors += k
            src += k
    basic.append(Ellipsis)
    if not pending:
        return tuple(basic), last, None, None
    while adv[-1] is _FULL:
        adv.pop()
    return tuple(basic), last, tuple(adv), pending


def check_advanced(view_shape, advanced, pending):
    """torch's errors for masks, unbroadcastable and out-of-range indices on the view.

    Returns `advanced`, with out-of-range positions zeroed when the result is empty (torch
    reads nothing then, so it accepts them; NumPy would not).
    """
    dims = []  # the view dim where each entry of `advanced` starts
    covered = set()
    d = 0
    for entry in advanced:
        dims.append(d)
        n = entry.ndim if entry is not _FULL and entry.dtype == np.bool_ else 1
        if entry is not _FULL:
            covered.update(range(d, d + n))
        d += n
    shapes = []
    for kind, i, ordinal, arr in pending:
        if kind is _MASK:
            d = dims[i]
            for j, n in enumerate(arr.shape):
                if view_shape[d + j] != n:
                    raise IndexError(
                        f"The shape of the mask {_fmt(arr.shape)} at index {j} does not match "
                        f"the shape of the indexed tensor {_fmt(view_shape)} at index {d + j}")
            shapes.extend([(int(arr.sum()),)] * arr.ndim)
        else:
            shapes.append(arr.shape)
    indexed = shapes[0] if len(shapes) == 1 else None
    if indexed is None:
        try:
            indexed = np.broadcast_shapes(*shapes)
        except ValueError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together "
                             "with shapes " + ", ".join(_fmt(s) for s in shapes)) from None
    if 0 in indexed:
        return advanced  # nothing is read, so no index can be out of range
    if any(view_shape[k] == 0 for k in covered):
        raise IndexError("index is out of bounds for dimension with size 0")
    empty = any(n == 0 for k, n in enumerate(view_shape) if k not in covered)
    for kind, i, ordinal, arr in pending:
        if kind is _MASK:
            continue
        size = view_shape[dims[i]]
        if arr.max() >= size or arr.min() < -size:
            bad = (arr >= size) | (arr < -size)
            if not empty:
                raise IndexError(f"index {int(arr[bad].reshape(-1)[0])} is out of bounds for "
                                 f"dimension {ordinal} with size {size}")
            advanced = advanced[:i] + (np.where(bad, 0, arr),) + advanced[i + 1:]
    return advanced


def _basic_view(self, basic, last):
    view = BASIC_OPS[last].apply(self, basic)
    return mark_view(view, self, "__getitem__", (basic,))


def getitem(self, index):
    kind = type(index)
    if kind is int:  # the common cases first, without parsing
        shape = self._data.shape
        if shape and -shape[0] <= index < shape[0]:
            key = (index, Ellipsis)
            return mark_view(SelectIndex.apply(self, key), self, "__getitem__", (key,))
    elif kind is slice:
        start, stop, step = index.start, index.stop, index.step
        if ((start is None or type(start) is int) and (stop is None or type(stop) is int)
                and (step is None or type(step) is int and step > 0) and self._data.ndim):
            key = (index, Ellipsis)
            return mark_view(BasicIndex.apply(self, key), self, "__getitem__", (key,))
    elif kind is Tensor and index._data.ndim and index._data.dtype == np.int64:
        data, shape = index._data, self._data.shape
        if shape and data.size and -shape[0] <= data.min() and data.max() < shape[0]:
            return Index.apply(self, (data,))
    basic, last, adv, pending = parse_index(self._data.shape, index, type(index) is slice)
    if adv is None:
        return _basic_view(self, basic, last or "Alias")
    view = self if last is None else _basic_view(self, basic, last)
    adv = check_advanced(view._data.shape, adv, pending)
    return Index.apply(view, adv)


register("__getitem__", getitem)


# ---------------------------------------------------------------- assignment


def _check_values_fit(values_shape, result_shape):
    try:
        np.broadcast_to(np.empty(values_shape, dtype=np.bool_), result_shape)
    except ValueError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {_fmt(values_shape)} cannot "
                           f"be broadcast to indexing result of shape {_fmt(result_shape)}"
                           ) from None


class IndexPut(Op):
    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, index, values, accumulate):
        out = x._data.copy()
        vals = values._data
        xp = B.get_array_module(out)
        try:
            if accumulate:
                xp.add.at(out, index, vals)
            else:
                out[index] = vals
        except ValueError:
            _check_values_fit(vals.shape, x._data[index].shape)
            raise
        ctx.index, ctx.accumulate = index, accumulate
        ctx.values_shape = vals.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        flags = ctx.needs_input_grad
        g_x = g_values = None
        if flags[0]:
            if ctx.accumulate:
                g_x = grad
            else:
                zero = Tensor._wrap(B.get_array_module(grad._data).zeros((), grad._data.dtype))
                g_x = IndexPut.apply(grad, ctx.index, zero, False)
        if flags[2]:
            g_values = sum_to(Index.apply(grad, ctx.index), ctx.values_shape)
        return g_x, None, g_values, None


class CopyInto(Op):
    """`dst.copy_(src)` as an op: src broadcast and cast to dst; dst gets no gradient."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        xp = B.get_array_module(dst._data)
        ctx.src_meta = (src._data.shape, B._FROM_NP[src._data.dtype])
        return xp.broadcast_to(src._data, dst._data.shape).astype(dst._data.dtype)

    @staticmethod
    def backward(ctx, grad):
        shape, dtype = ctx.src_meta
        g_dst = None
        if ctx.needs_input_grad[0]:
            g_dst = Tensor._wrap(B.get_array_module(grad._data).zeros_like(grad._data))
        g_src = sum_to(grad, shape).to(dtype) if ctx.needs_input_grad[1] else None
        return g_dst, g_src


def _value_tensor(self, value):
    """The assigned value as a tensor with its leading 1s dropped (torch); not yet cast."""
    if isinstance(value, Tensor):
        shape = value._data.shape
        lead = 0
        while lead < len(shape) and shape[lead] == 1:
            lead += 1
        return value.reshape(shape[lead:]) if lead else value
    if isinstance(value, (int, float, bool, np.number, np.bool_)):
        return Tensor._wrap(scalar_array(value, self.dtype, self._data))
    from .._tensor_str import type_name

    kind = type(value)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    raise TypeError(f"can't assign a {name} to a {type_name(self)}")


def _dtype_mismatch(dst, src):
    from ._common import _legacy_name

    return RuntimeError(f"Index put requires the source and destination dtypes match, got "
                        f"{_legacy_name(dst.dtype)} for the destination and "
                        f"{_legacy_name(src.dtype)} for the source.")


class FillInto(CopyInto):
    """`x[...] = number` (or a 0-d tensor): torch fills x (FillBackward3)."""

    node_name = "FillBackward3"


def setitem(self, index, value):
    basic, last, adv, pending = parse_index(self._data.shape, index)
    if state.enabled and self._requires_grad and self._grad_fn is None:
        what = "a view of a leaf Variable" if last is not None else "a leaf Variable"
        raise RuntimeError(f"{what} that requires grad is being used in an in-place "
                           "operation.")
    fill = not isinstance(value, Tensor) or value._data.ndim == 0  # torch fills then
    value = _value_tensor(self, value)
    if adv is not None and value._data.dtype != self._data.dtype:
        view = self._data[basic]
        adv = check_advanced(view.shape, adv, pending)
        _check_values_fit(value._data.shape, view[adv].shape)
        raise _dtype_mismatch(self, value)
    if not needs_graph(self, value):
        check_writable(self)
        target = self._data[basic]
        if adv is None:
            if value._data.shape != target.shape:
                expand(value, target.shape)  # raises torch's message when it cannot
            target[...] = value._data
        else:
            adv = check_advanced(target.shape, adv, pending)
            try:
                target[adv] = value._data
            except ValueError:
                _check_values_fit(value._data.shape, target[adv].shape)
                raise
        self._version[0] += 1
        return
    if adv is not None:
        view = self if last is None else _basic_view(self, basic, last)
        adv = check_advanced(view._data.shape, adv, pending)
        result = IndexPut.apply(alias_with_history(view), adv, value, False)
        if last is None:
            commit_result(self, result)
        else:
            rebase_view_history(view, result, views_to_refresh(self))
        return
    target_shape = self._data[basic].shape
    if value._data.shape != target_shape:
        expand(value, target_shape)
    if value._data.dtype != self._data.dtype:
        value = value.to(self.dtype)
    if last is None:  # x[...] = v is x.copy_(v) (x.fill_(v) for a number or a 0-d v)
        op = FillInto if fill else CopyInto
        commit_result(self, op.apply(alias_with_history(self), value))
        return
    view = _basic_view(self, basic, last)
    rebase_view_history(view, value, views_to_refresh(self))


register("__setitem__", setitem)


def _index_put_key(self, indices, values, name):
    """index_put's indices: every tensor (0-d ones too) is an advanced index."""
    from ._common import _legacy_name

    if not isinstance(values, Tensor):
        raise TypeError(f"{name}(): argument 'values' (position 2) must be Tensor, not "
                        f"{type(values).__name__}")
    if values._data.dtype != self._data.dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_legacy_name(self.dtype)} for the destination and "
                           f"{_legacy_name(values.dtype)} for the source.")
    key, pending = [], []
    used = 0
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got "
                            f"{type(t).__name__}")
        data = t._data
        if data.dtype.kind == "b" or data.dtype == np.uint8:
            data = data.astype(bool, copy=False)
            pending.append((_MASK, len(key), used, data))
            used += data.ndim
        elif data.dtype.kind in "iu":
            pending.append((_ADV, len(key), used, data))
            used += 1
        else:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        key.append(data)
    ndim = self._data.ndim
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim} (got {used})")
    return check_advanced(self._data.shape, tuple(key), pending)


def index_put(input, indices, values, accumulate=False):
    key = _index_put_key(input, indices, values, "index_put")
    return IndexPut.apply(input, key, values, accumulate)


def index_put_(self, indices, values, accumulate=False):
    key = _index_put_key(self, indices, values, "index_put_")
    if state.enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    if needs_graph(self, values):
        commit_result(self, IndexPut.apply(alias_with_history(self), key, values, accumulate))
        return self
    check_writable(self)
    if accumulate:
        B.get_array_module(self._data).add.at(self._data, key, values._data)
    else:
        self._data[key] = values._data
    self._version[0] += 1
    return self


register("index_put", index_put)
register("index_put_", index_put_)


from . import index_along as _index_along  # noqa: E402  (they build on the above)
from . import masked as _masked  # noqa: E402
from . import scatter as _scatter  # noqa: E402

for _module in (_masked, _scatter, _index_along):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
    __all__ += _module.__all__

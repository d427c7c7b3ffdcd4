"""Sliding windows on raw arrays, shared by convolution, fold/unfold, pooling and resampling.

`im2col` copies every window of an (N, C, *size) array into one contiguous block (one strided
view, one copy) so that a convolution is a batched matmul; `col2im`/`add_windows`, its adjoint,
add the windows back with one strided add per kernel position. `Windows` describes pooling
windows (output size, padding, the slice each kernel position reads); `TapPlan` describes
separable resampling (interpolation, adaptive averages) as a few weighted gathers per dim.

Linear maps (avg pooling, fold/unfold, interpolation, pixel shuffle, the scatter of a max
pool's gradient) come as a pair of ops made by `linear_pair`: each one's backward is the other,
so gradients of any order exist, and without create_graph a backward is one array call.
"""

import itertools
import math
import threading

import numpy as np

from .. import _backend as B
from ..autograd.function import Op


def out_size(size, kernel, stride, padding, dilation, ceil_mode=False):
    """How many window positions fit along one dim (torch's pooling_output_shape)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:  # the last window must start inside the input
        out -= 1
    return out


def tap_slices(kernel, stride, dilation, out):
    """For each kernel position (row-major), the slices of the padded input it reads."""
    per_dim = [[slice(k * dl, k * dl + st * (o - 1) + 1, st) for k in range(kn)]
               for kn, st, dl, o in zip(kernel, stride, dilation, out)]
    return [(Ellipsis, *slices) for slices in itertools.product(*per_dim)]


def pad_array(x, before, after, fill=0):
    """x with its last len(before) dims padded by `fill` (x itself when nothing is padded)."""
    if not any(before) and not any(after):
        return x
    d = len(before)
    xp = B.get_array_module(x)
    size = x.shape[x.ndim - d:]
    shape = x.shape[:x.ndim - d] + tuple(s + b + a for s, b, a in zip(size, before, after))
    out = xp.full(shape, fill, dtype=x.dtype) if fill else xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis, *(slice(b, b + s) for b, s in zip(before, size)))] = x
    return out


def crop(x, before, size):
    """The inverse of pad_array, as a contiguous array."""
    if not any(before) and x.shape[x.ndim - len(size):] == tuple(size):
        return x
    xp = B.get_array_module(x)
    return xp.ascontiguousarray(x[(Ellipsis, *(slice(b, b + s) for b, s in zip(before, size)))])


class _Scratch(threading.local):
    def __init__(self):
        self.buffers = {}


_scratch = _Scratch()


def scratch(purpose, shape, dtype, like):
    """A reusable work array for a temporary that dies within one call.

    Arrays this large come straight from the OS (mmap) and fault in page by page on every
    allocation; one buffer per purpose, grown to the largest size asked, avoids that.
    """
    xp = B.get_array_module(like)
    size = math.prod(shape)
    key = (purpose, np.dtype(dtype), B.device_of(like))
    buffer = _scratch.buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = _scratch.buffers[key] = xp.empty(size, dtype=dtype)
    return buffer[:size].reshape(shape)


def im2col(x, kernel, stride, padding, dilation, out, buffer=None):
    """(*lead, *size) -> (*lead, *kernel, *out): the values of every window, contiguous
    (written into `buffer` when given and a copy is needed)."""
    d = len(kernel)
    x = pad_array(x, padding, padding)
    xp = B.get_array_module(x)
    lead = x.ndim - d
    spatial = x.strides[lead:]
    view = xp.lib.stride_tricks.as_strided(
        x, x.shape[:lead] + tuple(kernel) + tuple(out),
        x.strides[:lead] + tuple(s * dl for s, dl in zip(spatial, dilation))
        + tuple(s * st for s, st in zip(spatial, stride)))
    if buffer is None or view.flags.c_contiguous:  # (a 1x1 kernel's windows are the input)
        return xp.ascontiguousarray(view)
    buffer = buffer.reshape(view.shape)
    buffer[...] = view
    return buffer


def add_windows(cols, total, stride, dilation):
    """Add each window's values (*lead, *kernel, *out) into the padded array `total`."""
    d = cols.ndim - total.ndim
    lead = total.ndim - d
    kernel = cols.shape[lead:lead + d]
    out = cols.shape[lead + d:]
    rest = (slice(None),) * d
    for position, window in zip(itertools.product(*map(range, kernel)),
                                tap_slices(kernel, stride, dilation, out)):
        total[window] += cols[(Ellipsis, *position, *rest)]


def col2im(cols, size, stride, padding, dilation):
    """The adjoint of im2col: (*lead, *kernel, *out) added back into zeros of (*lead, *size)."""
    lead = cols.ndim - 2 * len(size)
    xp = B.get_array_module(cols)
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    total = xp.zeros(cols.shape[:lead] + padded, dtype=cols.dtype)
    add_windows(cols, total, stride, dilation)
    return crop(total, padding, size)


class Windows:
    """Pooling windows over the last len(kernel) dims of an input of `shape`."""

    def __init__(self, shape, kernel, stride, padding, dilation, ceil_mode):
        d = len(kernel)
        self.shape = tuple(shape)
        self.size = self.shape[len(shape) - d:]
        self.kernel, self.stride, self.padding = kernel, stride, padding
        self.dilation = dilation
        self.out = tuple(out_size(*args, ceil_mode) for args in zip(
            self.size, kernel, stride, padding, dilation))
        self.out_shape = self.shape[:len(shape) - d] + self.out
        # with ceil_mode the last window may reach past the right padding
        self.after = tuple(max(p, (o - 1) * st + dl * (k - 1) + 1 - s - p) for s, k, st, p, dl, o
                           in zip(self.size, kernel, stride, padding, dilation, self.out))

    def taps(self):
        return tap_slices(self.kernel, self.stride, self.dilation, self.out)

    def padded(self, x, fill=0):
        return pad_array(x, self.padding, self.after, fill)

    def unpadded(self, x):
        return crop(x, self.padding, self.size)

    def first_inside_tap(self, xp):
        """For each window, the (row-major) tap of its first position inside the input."""
        tap = 0
        for i, (o, k, st, p, dl) in enumerate(zip(self.out, self.kernel, self.stride,
                                                  self.padding, self.dilation)):
            start = np.arange(o) * st - p
            first = np.maximum(0, -(start // dl))  # smallest j with start + j * dl >= 0
            tap = tap * k + first.reshape((-1,) + (1,) * (len(self.out) - 1 - i))
        return xp.asarray(tap)

    def flat_index(self, tap, xp):
        """Flat positions (within the last dims of the input) of the chosen tap of each window."""
        d = len(self.kernel)
        strides = [math.prod(self.size[i + 1:]) for i in range(d)]
        index = xp.zeros(self.out, dtype=np.int64)
        for i in range(d):
            start = xp.arange(self.out[i], dtype=np.int64) * self.stride[i] - self.padding[i]
            index = index + (start * strides[i]).reshape((-1,) + (1,) * (d - 1 - i))
        offsets = [sum(k * dl * s for k, dl, s in zip(position, self.dilation, strides))
                   for position in itertools.product(*map(range, self.kernel))]
        return index + xp.asarray(offsets, dtype=np.int64)[tap]


def max_taps(x, windows, want_tap):
    """The max of each window and (if wanted) which kernel position holds it.

    Ties keep the first position and a NaN wins over numbers (the last NaN, as torch scans).
    """
    xp = B.get_array_module(x)
    floating = x.dtype.kind in "fV"
    fill = -np.inf if floating else np.iinfo(x.dtype).min
    padded = windows.padded(x, fill)
    taps = windows.taps()
    best = padded[taps[0]].copy()
    tap = None
    if want_tap:
        tap_type = np.int8 if len(taps) < 128 else np.int32
        tap = xp.zeros(best.shape, dtype=tap_type)
    for i, window in enumerate(taps[1:], 1):
        values = padded[window]
        if want_tap:
            better = values > best
            if floating:
                better |= values != values
            # positions only grow, so a max keeps the latest position that won
            xp.maximum(tap, better.view(np.int8) * tap_type(i) if tap_type is np.int8
                       else better * tap_type(i), out=tap)
        xp.maximum(best, values, out=best)
    if want_tap and padded is not x:
        # a window whose values all equal the fill kept tap 0, maybe a padding position:
        # torch reports its first position inside the input
        stuck = best == fill
        if bool(stuck.any()):
            first = windows.first_inside_tap(xp).astype(tap.dtype)
            tap[stuck] = xp.broadcast_to(first, tap.shape)[stuck]
    return best, tap


class TapScatter:
    """A max pool's gradient as a linear map: apply sends each window's value to the position
    its `tap` chose (zeros elsewhere); adjoint gathers from those positions."""

    def __init__(self, windows, tap):
        self.windows = windows
        self.tap = tap
        self.overlapping = any(st < dl * (k - 1) + 1 for k, st, dl in zip(
            windows.kernel, windows.stride, windows.dilation))

    def apply(self, values):
        xp = B.get_array_module(values)
        w = self.windows
        padded = tuple(p + s + a for p, s, a in zip(w.padding, w.size, w.after))
        total = xp.zeros(w.shape[:len(w.shape) - len(padded)] + padded, dtype=values.dtype)
        # multiplying by the mask is fast but turns an inf or nan into nan elsewhere
        exact = values.dtype.kind in "fV" and not bool(xp.isfinite(values).all())
        for k, window in enumerate(w.taps()):
            chosen = self.tap == k
            if exact:
                total[window] += xp.where(chosen, values, values.dtype.type(0))
            elif self.overlapping:
                total[window] += values * chosen
            else:
                xp.multiply(values, chosen, out=total[window])
        return w.unpadded(total)

    def adjoint(self, values):
        xp = B.get_array_module(values)
        padded = self.windows.padded(values)
        zero = values.dtype.type(0)
        total = None
        for k, window in enumerate(self.windows.taps()):
            part = xp.where(self.tap == k, padded[window], zero)
            total = part if total is None else total + part
        return total


def sum_taps(padded, windows):
    """Sum of each window of an already padded array."""
    taps = windows.taps()
    total = padded[taps[0]].copy()
    for window in taps[1:]:
        total += padded[window]
    return total


def add_taps(values, windows, dtype):
    """The adjoint of sum_taps: every window's value added to each of its positions."""
    xp = B.get_array_module(values)
    padded = tuple(p + s + a for p, s, a in zip(windows.padding, windows.size, windows.after))
    lead = windows.shape[:len(windows.shape) - len(padded)]
    total = xp.zeros(lead + padded, dtype=dtype)
    for window in windows.taps():
        total[window] += values
    return windows.unpadded(total)


class FlatScatter:
    """Values of shape (*lead, *out) sent to flat positions of the last dims of `shape`.

    `index` holds, for each value, its position within the trailing dims of `shape` (after
    `lead_dims` leading dims they share). apply adds the values into zeros (a max pool's
    gradient: duplicates add up) or writes them (`accumulate=False`, max_unpool); adjoint
    gathers from the same positions.
    """

    def __init__(self, index, shape, lead_dims, accumulate=True):
        self.index = index
        self.shape = tuple(shape)
        self.rows = math.prod(self.shape[:lead_dims])
        self.plane = math.prod(self.shape[lead_dims:])
        self.per_row = math.prod(index.shape[lead_dims:])
        self.accumulate = accumulate

    def apply(self, values):
        xp = B.get_array_module(values)
        rows, plane = self.rows, self.plane
        out = xp.zeros(rows * plane, dtype=values.dtype)
        where = self.index.reshape(rows, self.per_row) + (
            xp.arange(rows, dtype=np.int64) * plane)[:, None]
        if self.accumulate:
            xp.add.at(out, where.reshape(-1), values.reshape(-1))
        else:
            out[where.reshape(-1)] = values.reshape(-1)
        return out.reshape(self.shape)

    def adjoint(self, values):
        xp = B.get_array_module(values)
        flat = values.reshape(self.rows, self.plane)
        index = self.index.reshape(self.rows, self.per_row)
        return xp.take_along_axis(flat, index, axis=1).reshape(self.index.shape)


def linear_pair(map_node, adjoint_node):
    """Two ops for a linear map given by a plan (`plan.apply`, `plan.adjoint` on arrays),
    each the other's gradient; returns (Map, Adjoint)."""

    class Map(Op):
        node_name = map_node

        @staticmethod
        def forward(ctx, x, plan):
            if ctx.needs_input_grad:
                ctx.plan = plan
            return plan.apply(x._data)

        @staticmethod
        def backward(ctx, grad):
            return Adjoint.apply(grad, ctx.plan), None

    class Adjoint(Op):
        node_name = adjoint_node

        @staticmethod
        def forward(ctx, x, plan):
            if ctx.needs_input_grad:
                ctx.plan = plan
            return plan.adjoint(x._data)

        @staticmethod
        def backward(ctx, grad):
            return Map.apply(grad, ctx.plan), None

    return Map, Adjoint


def _rounds(index):
    """Split the positions of `index` into rounds in which no target repeats (so a fancy-index
    add is exact): [(targets, sources)] as NumPy arrays."""
    if not len(index):
        return []
    order = np.argsort(index, kind="stable")
    ordered = index[order]
    rank = np.arange(len(index)) - np.searchsorted(ordered, ordered, side="left")
    return [(ordered[rank == r], order[rank == r]) for r in range(int(rank.max()) + 1)]


class TapPlan:
    """Separable resampling of the last len(dims) dims: along each, every output position is a
    weighted sum of a few input positions (1 tap for nearest, 2 for linear, 4 for cubic,
    a window for adaptive averages).

    `dims` lists, per dim, its input size and its taps as (index, weight or None) NumPy arrays
    over the output positions. apply resamples the last dim first (torch's bilinear order).
    """

    def __init__(self, dims, dtype, xp):
        self.dims = []
        for size, taps in dims:
            self.dims.append((size, [
                (xp.asarray(index), None if weight is None else xp.asarray(weight, dtype=dtype),
                 [(xp.asarray(t), xp.asarray(s)) for t, s in _rounds(index)])
                for index, weight in taps]))

    def apply(self, x):
        for i in reversed(range(len(self.dims))):
            axis = x.ndim - len(self.dims) + i
            result = None
            for index, weight, _ in self.dims[i][1]:
                values = x.take(index, axis=axis)
                if weight is not None:
                    values *= weight.reshape((-1,) + (1,) * (x.ndim - 1 - axis))
                if result is None:
                    result = values
                else:
                    result += values
            x = result
        return x

    def adjoint(self, grad):
        xp = B.get_array_module(grad)
        for i, (size, taps) in enumerate(self.dims):
            axis = grad.ndim - len(self.dims) + i
            shape = grad.shape[:axis] + (size,) + grad.shape[axis + 1:]
            total = xp.zeros(shape, dtype=grad.dtype)
            lead = (slice(None),) * axis
            for _, weight, rounds in taps:
                part = grad if weight is None else grad * weight.reshape(
                    (-1,) + (1,) * (grad.ndim - 1 - axis))
                for targets, sources in rounds:
                    total[lead + (targets,)] += part.take(sources, axis=axis)
            grad = total
        return grad

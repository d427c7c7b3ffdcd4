"""F.pad and torch.constant_pad_nd: constant, reflect, replicate and circular padding.

Constant padding (negative amounts crop) is one op whose gradient is the constant padding of
the gradient by the negated amounts, so it differentiates again. The other modes gather along
each padded dim through an index array; their gradient adds rows back along the same indices.
"""


from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._elementwise_base import type_error

__all__ = ["constant_pad_nd"]
FUNCTIONAL = ["pad"]


def _pad_pairs(pad, ndim):
    """[(dim, before, after)] from torch's flat list (last dim first)."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input "
                           f"dimension but got padding length {len(pad)} and input of dimension "
                           f"{ndim}")
    return [(ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(len(pad) // 2)]


class ConstantPad(Op):
    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, pad, value):
        d = x._data
        pairs = _pad_pairs(pad, d.ndim)
        shape = list(d.shape)
        source = [slice(None)] * d.ndim
        target = [slice(None)] * d.ndim
        for dim, before, after in pairs:
            size = shape[dim] + before + after
            if size < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            start = max(-before, 0)
            length = max(min(shape[dim] - start - max(-after, 0), size), 0)
            source[dim] = slice(start, start + length)
            target[dim] = slice(max(before, 0), max(before, 0) + length)
            shape[dim] = size
        xp = B.get_array_module(d)
        out = xp.full(shape, value, dtype=d.dtype) if value else xp.zeros(shape, dtype=d.dtype)
        out[tuple(target)] = d[tuple(source)]
        if ctx.needs_input_grad:
            ctx.pad = pad
        return out

    @staticmethod
    def backward(ctx, grad):
        return ConstantPad.apply(grad, [-p for p in ctx.pad], 0), None, None


def constant_pad_nd(input, pad, value=0):
    return ConstantPad.apply(input, list(pad), value)


# ---------------------------------------------------------------- reflect, replicate, circular


def _source_index(mode, size, before, after, xp):
    """For each output position along one dim, the input position it copies."""
    position = xp.arange(-before, size + after)
    if mode == "replicate":
        return xp.clip(position, 0, size - 1)
    if mode == "circular":  # wraps around what is left after negative (cropping) amounts
        start, stop = max(-before, 0), size - max(-after, 0)
        position = xp.arange(-max(before, 0), stop - start + max(after, 0))
        return position % (stop - start) + start
    position = xp.abs(position)  # reflect about 0, then about size - 1
    return (size - 1) - xp.abs((size - 1) - position)


class IndexPad(Op):
    """Reflect/replicate/circular padding: a gather along each padded dim."""

    @staticmethod
    def forward(ctx, x, indices):
        d = x._data
        for dim, index in indices:
            d = d.take(index, axis=dim)
        if ctx.needs_input_grad:
            ctx.indices = indices
            ctx.shape = x._data.shape
        return d if d is not x._data else d.copy()

    @staticmethod
    def backward(ctx, grad):
        xp = B.get_array_module(grad._data)
        for dim, index in reversed(ctx.indices):
            shape = list(grad.shape)
            shape[dim] = ctx.shape[dim]
            zeros = Tensor._wrap(xp.zeros(shape, dtype=grad._data.dtype))
            grad = zeros.index_add(dim, Tensor._wrap(index), grad)
        return grad, None


_NODES = {(mode, k): type(IndexPad)(f"{name}Pad{k}D", (IndexPad,), {
    "node_name": f"{name}Pad{k}DBackward0"})
    for mode, name in (("reflect", "Reflection"), ("replicate", "Replication"))
    for k in (1, 2, 3)}
_NODES.update({("circular", k): type(IndexPad)(f"CircularPad{k}D", (IndexPad,), {
    "node_name": "CopySlices"}) for k in (1, 2, 3)})

_SUPPORTED = ("\nSupported combinations for non-constant padding:\n"
              "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
              "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
              "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")


def _index_pad(input, pad, mode):
    ndim = input.dim()
    count = len(pad) // 2
    if len(pad) % 2 or count not in (1, 2, 3) or ndim not in (count + 1, count + 2):
        raise NotImplementedError(f"Padding size {len(pad)} is not supported for {ndim}D input "
                                  f"tensor.{_SUPPORTED}")
    shape = input.shape
    if mode != "circular" and 0 in shape[1:]:
        raise RuntimeError(f"Expected {count + 1}D or {count + 2}D (batch mode) tensor with "
                           "possibly 0 batch size and other non-zero dimensions for input, but "
                           f"got: {list(shape)}")
    xp = B.get_array_module(input._data)
    indices = []
    for dim, before, after in _pad_pairs(pad, ndim):
        size = shape[dim]
        if mode == "reflect" and (before >= size or after >= size):
            raise RuntimeError(f"Argument #{2 + 2 * (ndim - dim)}: Padding size should be less "
                               "than the corresponding input dimension, but got: padding "
                               f"({before}, {after}) at dimension {dim} of input {list(shape)}")
        if mode == "circular" and (before > size or after > size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + before + after <= 0:
            letter = "WHD"[ndim - 1 - dim]
            raise RuntimeError(f"input ({letter}: {size}) is too small. Calculated output "
                               f"{letter}: {size + before + after}")
        indices.append((dim, _source_index(mode, size, before, after, xp)))
    return _NODES[(mode, count)].apply(input, tuple(indices))


def pad(input, pad, mode="constant", value=None):
    if not isinstance(input, Tensor):
        type_error("pad", input, "input", 1)
    if not isinstance(pad, (tuple, list)):
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not "
                        f"{type(pad).__name__}")
    if mode == "constant":
        return ConstantPad.apply(input, list(pad), 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    return _index_pad(input, pad, mode)

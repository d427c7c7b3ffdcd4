"""einsum: torch's equation (or sublist) form on np.einsum, differentiable by einsum.

einsum parses torch's equation (or sublist) form into explicit labels, one per dimension
(ellipsis dimensions get fresh letters), runs np.einsum with path optimisation, and
differentiates by einsum again: the gradient of operand k contracts the output gradient with
all the other operands, so any number of operands and higher-order gradients work.
"""

import string

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import sum_to
from .linalg import _legacy, _no_bool

__all__ = ["einsum"]

_LETTERS = string.ascii_uppercase + string.ascii_lowercase


# ---------------------------------------------------------------- einsum: parsing


def _parse_term(term, start, operand):
    """Labels of one operand's subscripts; '.' marks where its ellipsis goes."""
    labels = []
    i = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if "." in labels:
                raise RuntimeError(f"einsum(): found '.' for operand {operand} for which an "
                                   "ellipsis was already found")
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {operand} that is not part "
                                   "of any ellipsis")
            labels.append(".")
            i += 3
            continue
        if c != " ":
            if c not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in "
                                   "the equation string, subscripts must be in [a-zA-Z]")
            labels.append(c)
        i += 1
    return labels


def _parse(equation, count):
    """(input label lists with '.' for ellipsis, output labels or None) from an equation."""
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) > count:
        raise RuntimeError("einsum(): fewer operands were provided than specified in the "
                           "equation")
    if len(terms) < count:
        raise RuntimeError("einsum(): more operands were provided than specified in the "
                           "equation")
    inputs, start = [], 0
    for k, term in enumerate(terms):
        inputs.append(_parse_term(term, start, k))
        start += len(term) + 1
    output = _parse_term(rhs, start + 1, "output") if arrow else None
    return inputs, output


def _sublist_labels(sub):
    labels = []
    for s in sub:
        if s is Ellipsis:
            labels.append(".")
        elif not 0 <= s < 52:
            raise ValueError("einsum(): subscript in subscript list is not within the valid "
                             "range [0, 52)")
        else:
            labels.append(_LETTERS[s])
    return labels


def _canonical(inputs, output, shapes):
    """Explicit labels for every dimension and each label's (broadcast) size."""
    used = {c for labels in inputs for c in labels} | set(output or ())
    fresh = [c for c in _LETTERS if c not in used]
    ell_ndim = 0
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        named = len(labels) - ("." in labels)
        if "." in labels:
            if named > len(shape):
                raise RuntimeError(f"einsum(): the number of subscripts in the equation "
                                   f"({named}) is more than the number of dimensions "
                                   f"({len(shape)}) for operand {k}")
            ell_ndim = max(ell_ndim, len(shape) - named)
        elif named != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               f"does not match the number of dimensions ({len(shape)}) for "
                               f"operand {k} and no ellipsis was given")
    ell = fresh[:ell_ndim]
    sizes, ell_sizes, canon = {}, [1] * ell_ndim, []
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        named = len(labels) - ("." in labels)
        expanded = []
        for c in labels:
            if c == ".":
                expanded.extend(ell[ell_ndim - (len(shape) - named):])
            else:
                expanded.append(c)
        own = {}
        for c, s in zip(expanded, shape):
            if c in own and own[c] != s:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but "
                                   f"the sizes don't match, {s} != {own[c]}")
            own[c] = s
            if c in ell:
                e = ell.index(c)
                if s != 1 and ell_sizes[e] not in (1, s):
                    raise RuntimeError(
                        f"einsum(): dimension {e} covered by ellipsis in operand {k}has size "
                        f"{s} which does not broadcast with previously seen ellipsis with size "
                        f"{ell_sizes[e]} for the respective dimension")
                ell_sizes[e] = max(ell_sizes[e], s)
            elif c in sizes and s != 1 and sizes[c] not in (1, s):
                raise RuntimeError(f"einsum(): subscript {c} has size {s} for operand {k} which "
                                   f"does not broadcast with previously seen size {sizes[c]}")
            sizes[c] = max(sizes.get(c, 1), s)
        canon.append("".join(expanded))
    if output is None:
        counts = {}
        for labels in canon:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        out = "".join(ell) + "".join(sorted(c for c, n in counts.items()
                                            if n == 1 and c not in ell))
    else:
        out = ""
        seen = set("".join(canon))
        for c in output:
            if c == ".":
                out += "".join(ell)
                continue
            if c in out:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in seen:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
            out += c
    return tuple(canon), out, sizes


# ---------------------------------------------------------------- einsum: the op


class Einsum(Op):
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, spec, *operands):
        inputs, output, sizes = spec
        arrays = []
        first = operands[0]._data
        for t, labels in zip(operands, inputs):
            x = t._data
            if x.dtype != first.dtype:
                raise RuntimeError(f"expected scalar type {_legacy(first)} but found "
                                   f"{_legacy(x)}")
            full = tuple(sizes[c] for c in labels)
            if x.shape != full:
                x = np.broadcast_to(x, full)
            arrays.append(x)
        contracted = any(c not in output for labels in inputs for c in labels)
        if first.dtype.kind == "b" and contracted:
            if len(arrays) > 1:
                _no_bool(first, "bmm")
        dtype = first.dtype
        if dtype.itemsize == 2 and dtype.kind in "fV":
            arrays = [x.astype(np.float32) for x in arrays]
        elif dtype.kind in "biu" and len(arrays) == 1 and contracted:
            arrays = [arrays[0].astype(np.int64)]  # a plain sum: torch sums integers as int64
            dtype = np.dtype(np.int64)
        out = np.einsum(",".join(inputs) + "->" + output, *arrays,
                        optimize=len(arrays) > 1)
        if out.dtype != dtype:
            out = out.astype(dtype)
        xp = B.get_array_module(out)
        if any(xp.may_share_memory(out, x) for x in arrays):
            out = out.copy()
        if ctx.needs_input_grad:
            ctx.save_for_backward(*operands)
            ctx.spec, ctx.shapes = spec, tuple(t._data.shape for t in operands)
        return out

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output, sizes = ctx.spec
        flags = ctx.needs_input_grad[1:]
        grads = [None]
        for k, labels in enumerate(inputs):
            if not flags[k]:
                grads.append(None)
                continue
            grads.append(_operand_grad(grad, operands, k, inputs, output, sizes,
                                       ctx.shapes[k]))
        return tuple(grads)


class EinsumMul(Einsum):
    node_name = "MulBackward0"


class EinsumSum(Einsum):
    node_name = "SumBackward1"


class EinsumPermute(Einsum):
    node_name = "PermuteBackward0"


def _einsum_op(inputs, output, sizes, tensors):
    contracted = any(c not in output for labels in inputs for c in labels)
    if len(inputs) == 1:
        op = EinsumSum if contracted else EinsumPermute
    else:
        op = Einsum if contracted else EinsumMul
    return op.apply((inputs, output, sizes), *tensors)


def _operand_grad(grad, operands, k, inputs, output, sizes, shape):
    """d(einsum)/d(operand k) contracted with grad, as an einsum of the other operands."""
    labels = inputs[k]
    unique = "".join(dict.fromkeys(labels))
    others = [j for j in range(len(inputs)) if j != k]
    available = set(output).union(*(inputs[j] for j in others))
    target = "".join(c for c in unique if c in available)
    g = _einsum_op((output,) + tuple(inputs[j] for j in others), target, sizes,
                   (grad,) + tuple(operands[j] for j in others))
    if len(target) != len(unique):  # labels summed within operand k only: broadcast back
        g = g.reshape(tuple(sizes[c] if c in available else 1 for c in unique))
        g = g.expand(tuple(sizes[c] for c in unique))
    if len(unique) != len(labels):  # repeated labels: put the gradient on the diagonal
        used = set("".join(inputs) + output)
        fresh = iter(c for c in _LETTERS if c not in used)
        out_labels, deltas, seen = "", [], set()
        for c in labels:
            if c in seen:
                f = next(fresh)
                deltas.append(c + f)
                out_labels += f
            else:
                seen.add(c)
                out_labels += c
        xp = B.get_array_module(g._data)
        eyes = tuple(Tensor._wrap(xp.eye(sizes[d[0]], dtype=g._data.dtype)) for d in deltas)
        sizes = dict(sizes, **{d[1]: sizes[d[0]] for d in deltas})
        g = _einsum_op((unique,) + tuple(deltas), out_labels, sizes, (g,) + eyes)
    return sum_to(g, shape)


def einsum(*args):
    if not args or (isinstance(args[0], str) and len(args) < 2):
        raise ValueError("einsum(): must specify the equation string and at least one "
                         "operand, or at least one operand and its subscripts list")
    if isinstance(args[0], str):
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        shapes = [t._data.shape for t in operands]
        inputs, output = _parse(args[0], len(operands))
    else:  # sublist form: op, sub, op, sub, ..., [output sub]
        operands = args[0::2]
        subs = list(args[1::2])
        output = None
        if len(args) % 2:
            operands, output = operands[:-1], _sublist_labels(args[-1])
        inputs = [_sublist_labels(s) for s in subs]
        shapes = [t._data.shape for t in operands]
    canon, out, sizes = _canonical(inputs, output, shapes)
    return _einsum_op(canon, out, sizes, tuple(operands))

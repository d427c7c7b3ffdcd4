"""Collation: turning a list of samples into a batch (default_collate), or converting one
sample's NumPy data into tensors (default_convert, used when automatic batching is off).

`collate(batch, collate_fn_map=...)` is the general walker: it dispatches on the first
element's type through `collate_fn_map`, then recurses into mappings, namedtuples and
sequences, as torch.utils.data._utils.collate does.
"""

import collections.abc
import copy
import re

import numpy as np

from ... import _backend as B
from ..._ops import join as _join
from ..._ops.creation import as_tensor, tensor
from ..._tensor import Tensor
from ...autograd.grad_mode import is_grad_enabled

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
           "collate_float_fn", "collate_int_fn", "collate_str_fn"]

# NumPy dtypes of strings, bytes, unicode and objects: left alone rather than made tensors
_NON_NUMERIC = re.compile(r"[SaUO]")

_TYPE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
               "lists; found {}")


def default_convert(data):
    """NumPy arrays and scalars inside `data` become tensors (sharing memory); the
    containers around them are rebuilt with the same type."""
    if isinstance(data, Tensor):
        return data
    data_type = type(data)
    if data_type.__module__ == "numpy" and data_type.__name__ not in ("str_", "bytes_"):
        if isinstance(data, np.ndarray) and _NON_NUMERIC.search(data.dtype.str):
            return data
        return as_tensor(np.asarray(data))  # a NumPy scalar keeps its dtype
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: default_convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return data_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]  # torch returns a list here
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, items):
    """A mapping of like's type holding items (a plain dict if that type cannot be built)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            out = copy.copy(like)
            out.update(items)
            return out
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_sequence(like, items):
    """A sequence of like's type holding items (a plain list if that type cannot be built)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            out = copy.copy(like)
            for i, item in enumerate(items):
                out[i] = item
            return out
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples, dispatching on the first sample's type."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for kind, fn in collate_fn_map.items():
            if isinstance(elem, kind):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {
            key: collate([sample[key] for sample in batch], collate_fn_map=collate_fn_map)
            for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(field, collate_fn_map=collate_fn_map)
                           for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(column, collate_fn_map=collate_fn_map) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # torch returns a list here
        return _rebuild_sequence(elem, columns)
    raise TypeError(_TYPE_ERROR.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stack along a new first dimension, with torch.stack's promotion and size check."""
    if is_grad_enabled() and any(t.requires_grad for t in batch):
        return _join.stack(batch, 0)  # keeps the samples' autograd history
    arrays = [t._data for t in batch]
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(a.shape)} at entry {i}")
    first = arrays[0].dtype
    if any(a.dtype != first for a in arrays):
        dtype = B._FROM_NP[first]
        for a in arrays:
            dtype = B.promote_types(dtype, B._FROM_NP[a.dtype])
        arrays = [a.astype(dtype.np, copy=False) for a in arrays]
    return Tensor._wrap(B.get_array_module(*arrays).stack(arrays))


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    if _NON_NUMERIC.search(batch[0].dtype.str):
        raise TypeError(_TYPE_ERROR.format(batch[0].dtype))
    return collate([as_tensor(a) for a in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    return as_tensor(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    return tensor(batch, dtype=B.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    return tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stack a list of samples into a batch: tensors, NumPy arrays and numbers become one
    tensor with a new first dimension (Python floats float64, ints int64), strings stay a
    list, and mappings, namedtuples and sequences are collated field by field."""
    return collate(batch, collate_fn_map=default_collate_fn_map)

"""Tensors as MPI buffers: contiguous staging, byte views and the reduction of each dtype.

MPI needs contiguous host memory of a type it knows. Data movement (broadcast, gather, send,
...) ships raw bytes, which covers every dtype including bfloat16. Reductions need a typed
buffer. Standard MPI has no 16-bit float types: float16 uses the library's MPIX float16 type
when a probe shows its reductions work (Open MPI 5 has it), and otherwise float16 and bfloat16
are reduced in float32 (which holds both exactly, so the result is the float32 result rounded
once) and written back. bool reduces with the logical ops that match torch's (SUM is "any",
PRODUCT is "all").
"""

from dataclasses import dataclass

import numpy as np

from .. import _backend as B
from .process_group import RedOpType, mpi

_MPI_TYPE_OF = {"bool": "C_BOOL", "uint8": "UINT8_T", "int8": "INT8_T", "int16": "INT16_T",
                "int32": "INT32_T", "int64": "INT64_T", "float32": "FLOAT", "float64": "DOUBLE",
                "float16": "FLOAT", "bfloat16": "FLOAT"}
_WIDENED = {"float16": np.dtype(np.float32), "bfloat16": np.dtype(np.float32)}
_ARITH_OPS = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD",
              RedOpType.MIN: "MIN", RedOpType.MAX: "MAX", RedOpType.BAND: "BAND",
              RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}
_BOOL_OPS = {RedOpType.SUM: "LOR", RedOpType.PRODUCT: "LAND", RedOpType.MIN: "LAND",
             RedOpType.MAX: "LOR", RedOpType.BAND: "LAND", RedOpType.BOR: "LOR",
             RedOpType.BXOR: "LXOR"}
# torch's scalar-type names, for its "result type Float can't be cast to ..." error
_TORCH_SCALAR_NAME = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short",
                      "int32": "Int", "int64": "Long"}


@dataclass(frozen=True)
class Reduction:
    """How one (dtype, ReduceOp) pair is reduced by MPI."""

    mpi_op: object
    mpi_type: object
    wire_dtype: np.dtype  # dtype of the buffer handed to MPI
    average: bool  # divide by the group size afterwards


def reduction(dtype, op, op_name):
    """The Reduction for a tensor dtype, raising torch-like errors for unsupported pairs."""
    try:
        op = RedOpType(op)
    except ValueError:
        raise ValueError(f"{op_name}: unknown reduce op {op!r}; expected a dist.ReduceOp "
                         "member") from None
    if dtype.name == "bool":
        names = _BOOL_OPS
    else:
        names = _ARITH_OPS
    if op is RedOpType.AVG and not dtype.is_floating_point:
        raise RuntimeError(
            f"{op_name} with ReduceOp.AVG needs a floating-point tensor, got {dtype}: result "
            f"type Float can't be cast to the desired output type "
            f"{_TORCH_SCALAR_NAME[dtype.name]}")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dtype.is_floating_point:
        raise RuntimeError(f"{op_name}: ReduceOp.{op.name} is only supported for integer and "
                           f"bool tensors, got {dtype}")
    if op not in names:
        raise RuntimeError(f"{op_name}: ReduceOp.{op.name} is not supported by disttorch's "
                           "MPI backend")
    MPI = mpi()
    mpi_op = getattr(MPI, names[op])
    if dtype.name == "float16" and _native_float16():
        return Reduction(mpi_op, MPI.FLOAT16_T, dtype.np, op is RedOpType.AVG)
    return Reduction(mpi_op, getattr(MPI, _MPI_TYPE_OF[dtype.name]),
                     _WIDENED.get(dtype.name, dtype.np), op is RedOpType.AVG)


_float16_probe = []


def _native_float16():
    """Whether the MPI library reduces its float16 type (tried once, never assumed)."""
    if not _float16_probe:
        MPI = mpi()
        works = False
        if getattr(MPI, "FLOAT16_T", MPI.DATATYPE_NULL) != MPI.DATATYPE_NULL:
            a, b = np.array([1.5, 2.0], np.float16), np.array([0.25, 3.0], np.float16)
            try:
                MPI.SUM.Reduce_local([a, MPI.FLOAT16_T], [b, MPI.FLOAT16_T])
                MPI.MAX.Reduce_local([a, MPI.FLOAT16_T], [a.copy(), MPI.FLOAT16_T])
                works = b.tolist() == [1.75, 5.0]
            except MPI.Exception:
                works = False
        _float16_probe.append(works)
    return _float16_probe[0]


def staged(tensor, wire_dtype=None):
    """A C-contiguous host array with the tensor's values (the tensor's own array when
    possible, so that MPI writes straight into the tensor)."""
    data = tensor._data
    if type(data) is not np.ndarray:
        # device arrays are staged through host memory (CUDA-aware MPI is the GPU backend's)
        data = B.move_array(data, B.CPU)
    if wire_dtype is not None and data.dtype != wire_dtype:
        return data.astype(wire_dtype, order="C")
    if data.flags.c_contiguous:
        return data
    return np.array(data, order="C")


def write_back(tensor, array):
    """Store an array's values into the tensor in place (casting back to its dtype)."""
    data = tensor._data
    if array is not data:
        if type(data) is np.ndarray:
            data[...] = array
        else:
            data[...] = B.move_array(array, B.device_of(data))
    tensor._version[0] += 1


def empty_like_stack(count, tensor, wire_dtype=None):
    """A contiguous (count, *shape) host array for gathering `count` copies of a tensor."""
    return np.empty((count,) + tuple(tensor._data.shape), wire_dtype or tensor._data.dtype)


def stack(tensors, wire_dtype=None):
    """A contiguous (len, *shape) host array holding the tensors' values, in order."""
    out = empty_like_stack(len(tensors), tensors[0], wire_dtype)
    for i, t in enumerate(tensors):
        out[i] = staged(t)
    return out


def as_bytes(array):
    """A contiguous array viewed as flat bytes, as a [buffer, MPI.BYTE] spec."""
    return [array.reshape(-1).view(np.uint8), mpi().BYTE]


def flat_bytes(arrays):
    """One contiguous byte array holding the arrays one after the other."""
    return np.concatenate([a.reshape(-1).view(np.uint8) for a in arrays])


def typed(array, reduction_):
    """A contiguous array as a typed [buffer, MPI datatype] spec for a reduction."""
    return [array, reduction_.mpi_type]


def average(array, count):
    """Finish ReduceOp.AVG in place (the buffer holds the sum)."""
    np.divide(array, count, out=array)

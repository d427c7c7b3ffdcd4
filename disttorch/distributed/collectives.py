"""Tensor collectives with torch's signatures: all_reduce, broadcast, gather, ... barrier.

Each call validates its arguments locally (so a wrong size fails on the rank that passed it,
before any communication), stages its tensors as contiguous host buffers, and issues the
blocking MPI call, or the non-blocking one wrapped in a Work when async_op=True. Results land
in the caller's tensors in place, like torch's. src/dst are global ranks; group_src/group_dst
are ranks within `group`.
"""

import math

import numpy as np

from .._tensor import Tensor
from . import buffers as buf
from .debug import check, describe
from .process_group import RedOpType, ReduceOp, group_peer, mpi, resolve
from .work import Work


def _run(async_op, issue, finish=None, outputs=()):
    """Run a collective: issue(blocking) starts it; finish() runs once it completed."""
    if async_op:
        return Work([issue(False)], finish, outputs)
    issue(True)
    if finish is not None:
        finish()
    return None


def _call(comm, name, blocking, *args):
    """comm.<name>(*args) when blocking, else the non-blocking comm.I<name>(*args)."""
    if blocking:
        getattr(comm, name)(*args)
        return None
    return getattr(comm, "I" + name[0].lower() + name[1:])(*args)


def check_tensor(param, name):
    if not isinstance(param, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor but got {type(param)} instead.")


def check_tensor_list(param, name):
    if not isinstance(param, list) or not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"List[torch.Tensor] but got {type(param)} instead.")


def _check_like(op_name, tensors, like, expected_len):
    """Every tensor of a list has the dtype and shape of `like`, and the list has the group's
    size (torch's errors, raised before any communication)."""
    if len(tensors) != expected_len:
        raise RuntimeError(f"{op_name}: invalid tensor list (expected length {expected_len}, "
                           f"got {len(tensors)})")
    for i, t in enumerate(tensors):
        if t.dtype is not like.dtype:
            raise ValueError(f"{op_name}: invalid usage of tensors with different dtypes: "
                             f"found {like.dtype} and {t.dtype} (at index {i})")
        if t._data.shape != like._data.shape:
            raise RuntimeError(f"{op_name}: invalid tensor size at index {i} (expected "
                               f"{list(like._data.shape)}, got {list(t._data.shape)})")


def _check_same_dtype(op_name, a, b):
    if a.dtype is not b.dtype:
        raise ValueError(f"{op_name}: invalid usage of tensors with different dtypes: found "
                         f"{a.dtype} and {b.dtype}")


def _op_name(op):
    return RedOpType(op).name if isinstance(op, int) else repr(op)


# ----------------------------------------------------------------------------- reductions


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    check_tensor(tensor, "tensor")
    pg = resolve(group, "all_reduce")
    if pg is None:
        return None
    check(pg, "all_reduce", tensor=describe(tensor), op=_op_name(op))
    red = buf.reduction(tensor.dtype, op, "all_reduce")
    array = buf.staged(tensor, red.wire_dtype)
    MPI = mpi()

    def finish():
        if red.average:
            buf.average(array, pg.size())
        buf.write_back(tensor, array)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Allreduce", blocking, MPI.IN_PLACE, buf.typed(array, red), red.mpi_op),
        finish, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    check_tensor(tensor, "tensor")
    pg = resolve(group, "reduce")
    if pg is None:
        return None
    root = group_peer(pg, dst, group_dst)
    check(pg, "reduce", tensor=describe(tensor), op=_op_name(op), dst=root)
    red = buf.reduction(tensor.dtype, op, "reduce")
    array = buf.staged(tensor, red.wire_dtype)
    is_root = pg.rank() == root
    MPI = mpi()
    send = MPI.IN_PLACE if is_root else buf.typed(array, red)
    recv = buf.typed(array, red) if is_root else None

    def finish():
        if is_root:
            if red.average:
                buf.average(array, pg.size())
            buf.write_back(tensor, array)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Reduce", blocking, send, recv, red.mpi_op, root), finish, [tensor])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    check_tensor(output, "output")
    check_tensor_list(input_list, "input_list")
    pg = resolve(group, "reduce_scatter")
    if pg is None:
        return None
    check(pg, "reduce_scatter", output=describe(output), op=_op_name(op))
    _check_like("reduce_scatter", input_list, output, pg.size())
    red = buf.reduction(output.dtype, op, "reduce_scatter")
    send = buf.stack(input_list, red.wire_dtype)
    recv = buf.staged(output, red.wire_dtype)
    return _reduce_scatter(pg, red, send, recv, output, async_op)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = resolve(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    check(pg, "reduce_scatter_tensor", output=describe(output), input=describe(input),
          op=_op_name(op))
    _check_same_dtype("reduce_scatter_tensor", output, input)
    if input.numel() != pg.size() * output.numel():
        raise RuntimeError(
            f"reduce_scatter_tensor: input tensor must have world_size ({pg.size()}) times the "
            f"elements of the output tensor: input {list(input.shape)} has {input.numel()}, "
            f"output {list(output.shape)} has {output.numel()}")
    red = buf.reduction(output.dtype, op, "reduce_scatter_tensor")
    send = buf.staged(input, red.wire_dtype)
    recv = buf.staged(output, red.wire_dtype)
    return _reduce_scatter(pg, red, send, recv, output, async_op)


def _reduce_scatter(pg, red, send, recv, output, async_op):
    def finish():
        if red.average:
            buf.average(recv, pg.size())
        buf.write_back(output, recv)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Reduce_scatter_block", blocking, buf.typed(send, red), buf.typed(recv, red),
        red.mpi_op), finish, [output])


# ----------------------------------------------------------------------------- data movement


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    check_tensor(tensor, "tensor")
    pg = resolve(group, "broadcast")
    if pg is None:
        return None
    root = group_peer(pg, src, group_src)
    check(pg, "broadcast", tensor=describe(tensor), src=root)
    array = buf.staged(tensor)

    def finish():
        if pg.rank() != root:
            buf.write_back(tensor, array)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Bcast", blocking, buf.as_bytes(array), root), finish, [tensor])


def all_gather(tensor_list, tensor, group=None, async_op=False):
    check_tensor_list(tensor_list, "tensor_list")
    check_tensor(tensor, "tensor")
    pg = resolve(group, "all_gather")
    if pg is None:
        return None
    check(pg, "all_gather", tensor=describe(tensor))
    _check_like("all_gather", tensor_list, tensor, pg.size())
    send = buf.staged(tensor)
    recv = buf.empty_like_stack(pg.size(), tensor)

    def finish():
        for out, chunk in zip(tensor_list, recv):
            buf.write_back(out, chunk)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Allgather", blocking, buf.as_bytes(send), buf.as_bytes(recv)),
        finish, tensor_list)


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    check_tensor(output_tensor, "output_tensor")
    check_tensor(input_tensor, "input_tensor")
    pg = resolve(group, "all_gather_into_tensor")
    if pg is None:
        return None
    check(pg, "all_gather_into_tensor", input=describe(input_tensor),
          output=describe(output_tensor))
    _check_same_dtype("all_gather_into_tensor", output_tensor, input_tensor)
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise RuntimeError(
            f"all_gather_into_tensor: output tensor must have world_size ({pg.size()}) times "
            f"the elements of the input tensor: input {list(input_tensor.shape)} has "
            f"{input_tensor.numel()}, output {list(output_tensor.shape)} has "
            f"{output_tensor.numel()}")
    send = buf.staged(input_tensor)
    recv = buf.staged(output_tensor)
    return _run(async_op, lambda blocking: _call(
        pg.comm, "Allgather", blocking, buf.as_bytes(send), buf.as_bytes(recv)),
        lambda: buf.write_back(output_tensor, recv), [output_tensor])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    check_tensor(tensor, "tensor")
    if gather_list:
        check_tensor_list(gather_list, "gather_list")
    pg = resolve(group, "gather")
    if pg is None:
        return None
    root = group_peer(pg, dst, group_dst, default=0)
    check(pg, "gather", tensor=describe(tensor), dst=root)
    is_root = pg.rank() == root
    if is_root and not gather_list:
        raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
    if not is_root and gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination "
                         "ranks.")
    if is_root:
        _check_like("gather", gather_list, tensor, pg.size())
    send = buf.staged(tensor)
    recv = buf.empty_like_stack(pg.size(), tensor) if is_root else None

    def finish():
        if is_root:
            for out, chunk in zip(gather_list, recv):
                buf.write_back(out, chunk)

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Gather", blocking, buf.as_bytes(send),
        buf.as_bytes(recv) if is_root else None, root), finish, gather_list or [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    check_tensor(tensor, "tensor")
    if scatter_list:
        check_tensor_list(scatter_list, "scatter_list")
    pg = resolve(group, "scatter")
    if pg is None:
        return None
    root = group_peer(pg, src, group_src, default=0)
    check(pg, "scatter", tensor=describe(tensor), src=root)
    is_root = pg.rank() == root
    if is_root and not scatter_list:
        raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
    if not is_root and scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    if is_root:
        _check_like("scatter", scatter_list, tensor, pg.size())
    send = buf.stack(scatter_list) if is_root else None
    recv = buf.staged(tensor)
    return _run(async_op, lambda blocking: _call(
        pg.comm, "Scatter", blocking, buf.as_bytes(send) if is_root else None,
        buf.as_bytes(recv), root), lambda: buf.write_back(tensor, recv), [tensor])


def _split_sizes(splits, rows, size, what):
    if splits is None or len(splits) == 0:
        if rows % size:
            raise RuntimeError(f"all_to_all_single: {what} tensor's first dimension ({rows}) "
                               f"must be divisible by the world size ({size}) when no split "
                               "sizes are given")
        return [rows // size] * size
    splits = [int(s) for s in splits]
    if len(splits) != size or sum(splits) != rows or min(splits) < 0:
        raise RuntimeError(f"all_to_all_single: {what}_split_sizes {splits} must have "
                           f"world_size ({size}) non-negative entries summing to the "
                           f"{what} tensor's first dimension ({rows})")
    return splits


def _counts_and_displacements(counts):
    displacements = [0]
    for c in counts[:-1]:
        displacements.append(displacements[-1] + c)
    return counts, displacements


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None,
                      group=None, async_op=False):
    check_tensor(output, "output")
    check_tensor(input, "input")
    pg = resolve(group, "all_to_all_single")
    if pg is None:
        return None
    # the first dimension may differ between ranks; the rest and the dtype may not
    check(pg, "all_to_all_single", dtype=input.dtype.name, row_shape=tuple(input.shape[1:]))
    _check_same_dtype("all_to_all_single", output, input)
    if input.dim() == 0 or output.dim() == 0:
        raise RuntimeError("all_to_all_single: input and output must have at least one "
                           "dimension")
    row = math.prod(input.shape[1:])
    if math.prod(output.shape[1:]) != row:
        raise RuntimeError(f"all_to_all_single: output {list(output.shape)} and input "
                           f"{list(input.shape)} must have the same size after dimension 0")
    row_bytes = row * input._data.itemsize
    sends = _split_sizes(input_split_sizes, input.shape[0], pg.size(), "input")
    recvs = _split_sizes(output_split_sizes, output.shape[0], pg.size(), "output")
    send, recv = buf.staged(input), buf.staged(output)
    send_spec = [buf.as_bytes(send)[0],
                 _counts_and_displacements([s * row_bytes for s in sends]), mpi().BYTE]
    recv_spec = [buf.as_bytes(recv)[0],
                 _counts_and_displacements([r * row_bytes for r in recvs]), mpi().BYTE]
    return _run(async_op, lambda blocking: _call(
        pg.comm, "Alltoallv", blocking, send_spec, recv_spec),
        lambda: buf.write_back(output, recv), [output])


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    check_tensor_list(output_tensor_list, "output_tensor_list")
    check_tensor_list(input_tensor_list, "input_tensor_list")
    pg = resolve(group, "all_to_all")
    if pg is None:
        return None
    check(pg, "all_to_all", n_inputs=len(input_tensor_list))
    for what, tensors in (("output", output_tensor_list), ("input", input_tensor_list)):
        if len(tensors) != pg.size():
            raise RuntimeError(f"all_to_all: {what}_tensor_list must have world_size "
                               f"({pg.size()}) tensors, got {len(tensors)}")
        for t in tensors:
            _check_same_dtype("all_to_all", t, input_tensor_list[0])
    send = buf.flat_bytes([buf.staged(t) for t in input_tensor_list])
    recv_sizes = [t._data.nbytes for t in output_tensor_list]
    recv = np.empty(sum(recv_sizes), np.uint8)
    send_spec = [send, _counts_and_displacements([t._data.nbytes for t in input_tensor_list]),
                 mpi().BYTE]
    recv_spec = [recv, _counts_and_displacements(recv_sizes), mpi().BYTE]

    def finish():
        start = 0
        for t, n in zip(output_tensor_list, recv_sizes):
            chunk = recv[start:start + n].view(t._data.dtype).reshape(t._data.shape)
            buf.write_back(t, chunk)
            start += n

    return _run(async_op, lambda blocking: _call(
        pg.comm, "Alltoallv", blocking, send_spec, recv_spec), finish, output_tensor_list)


def barrier(group=None, async_op=False, device_ids=None, timeout=None):
    pg = resolve(group, "barrier")
    if pg is None:
        return None
    check(pg, "barrier")
    return _run(async_op, lambda blocking: _call(pg.comm, "Barrier", blocking))

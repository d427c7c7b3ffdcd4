"""Every collective, for every dtype and ReduceOp, sync and async, at any world size.

Each rank knows what every rank contributes (a function of the rank), so each test computes
the expected result locally with NumPy and compares. Tests assert after their last collective,
so a failure on one rank cannot leave the others waiting in the next one.
"""

import numpy as np
import pytest

import disttorch.distributed as dist
from disttorch import _backend as B
from disttorch._tensor import Tensor
from disttorch.distributed import buffers, process_group
from disttorch.distributed.utils import _get_comm

DTYPES = [d.name for d in B.ALL]
OPS = ["SUM", "AVG", "PRODUCT", "MIN", "MAX"]
MODES = pytest.mark.parametrize("async_op", [False, True], ids=["sync", "async"])
SHAPE = (2, 3)


def rank():
    return dist.get_rank()


def size():
    return dist.get_world_size()


def T(array):
    return Tensor._wrap(array)


def np_dtype(name):
    return B.DTYPES[name].np


def contribution(name, r, chunk=0):
    """Rank r's input to a reduction: base * k with k a permutation of 1..size over the ranks
    (so MIN and MAX come from different ranks per element); small enough for int8 PRODUCT."""
    n = size()
    index = np.arange(6).reshape(SHAPE)
    if name == "bool":
        return (index + r + chunk) % 3 == 0
    base = np.array([[1, 2, 0], [2, 1, 1]])
    return (base * ((r + index + chunk) % n + 1)).astype(np_dtype(name))


def expected_reduction(name, op, chunk=0):
    stack = np.stack([contribution(name, r, chunk) for r in range(size())])
    if name == "bool":
        return stack.any(0) if op in ("SUM", "MAX") else stack.all(0)
    reduce_fn = {"SUM": np.sum, "AVG": np.mean, "PRODUCT": np.prod, "MIN": np.min,
                 "MAX": np.max}[op]
    exact = reduce_fn(stack.astype(np.float64), axis=0)
    if B.DTYPES[name].is_floating_point:
        return exact.astype(np_dtype(name))
    return exact.astype(np.int64).astype(np_dtype(name))  # wraps around like C arithmetic


def payload(name, r, chunk=0):
    """Distinct data for rank r (and chunk) for collectives that only move data."""
    values = np.arange(6).reshape(SHAPE) + 7 * r + 3 * chunk
    if name == "bool":
        return values % 2 == 1
    return values.astype(np_dtype(name))


def assert_same(actual, expected):
    actual = actual._data if isinstance(actual, Tensor) else actual
    assert actual.dtype == expected.dtype
    assert actual.shape == expected.shape
    if actual.dtype.kind == "b":
        assert np.array_equal(actual, expected)
    else:
        assert np.array_equal(actual.astype(np.float64), expected.astype(np.float64)), (
            actual, expected)


def finish(work, async_op):
    if async_op:
        assert isinstance(work, dist.Work)
        assert work.wait() is True
        assert work.is_completed()
    else:
        assert work is None


def supported(name, op):
    return op != "AVG" or B.DTYPES[name].is_floating_point


# ----------------------------------------------------------------------------- reductions


@MODES
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_reduce(dtype, op, async_op):
    t = T(contribution(dtype, rank()))
    reduce_op = getattr(dist.ReduceOp, op)
    if not supported(dtype, op):
        with pytest.raises(RuntimeError, match="AVG"):
            dist.all_reduce(t, op=reduce_op, async_op=async_op)
        return
    finish(dist.all_reduce(t, op=reduce_op, async_op=async_op), async_op)
    assert_same(t, expected_reduction(dtype, op))


@MODES
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce(dtype, op, async_op):
    if not supported(dtype, op):
        return
    dst = size() - 1
    t = T(contribution(dtype, rank()))
    finish(dist.reduce(t, dst=dst, op=getattr(dist.ReduceOp, op), async_op=async_op),
           async_op)
    expected = expected_reduction(dtype, op) if rank() == dst else contribution(dtype, rank())
    assert_same(t, expected)


@MODES
@pytest.mark.parametrize("form", ["list", "tensor"])
@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_reduce_scatter(dtype, op, form, async_op):
    """reduce_scatter (a list of inputs) and reduce_scatter_tensor (one long input)."""
    if not supported(dtype, op):
        return
    chunks = [contribution(dtype, rank(), chunk=j) for j in range(size())]
    out = T(np.zeros(SHAPE, np_dtype(dtype)))
    reduce_op = getattr(dist.ReduceOp, op)
    if form == "list":
        work = dist.reduce_scatter(out, [T(c) for c in chunks], reduce_op, async_op=async_op)
    else:
        work = dist.reduce_scatter_tensor(out, T(np.concatenate(chunks)), reduce_op,
                                          async_op=async_op)
    finish(work, async_op)
    assert_same(out, expected_reduction(dtype, op, chunk=rank()))


@pytest.mark.parametrize("shape", [(), (0,), (5,), (2, 1, 3)])
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_all_reduce_shapes(shape, dtype):
    t = T(np.full(shape, rank() + 1, np_dtype(dtype)))
    dist.all_reduce(t)
    assert_same(t, np.full(shape, size() * (size() + 1) // 2, np_dtype(dtype)))


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "int16"])
def test_all_reduce_non_contiguous(dtype):
    """A strided view is reduced and written back into its base; other elements untouched."""
    base = np.full((3, 4), -1, np_dtype(dtype))
    base[:, ::2] = rank() + 1
    view = T(base[:, ::2])
    assert not view._data.flags.c_contiguous
    dist.all_reduce(view, op=dist.ReduceOp.MAX)
    assert np.array_equal(base[:, ::2].astype(np.float64), np.full((3, 2), size()))
    assert np.array_equal(base[:, 1::2].astype(np.float64), np.full((3, 2), -1))


@pytest.mark.parametrize("op", ["SUM", "AVG", "MIN"])
def test_float16_reduced_through_float32_when_mpi_lacks_float16(op, monkeypatch):
    monkeypatch.setattr(buffers, "_float16_probe", [False])
    t = T(contribution("float16", rank()))
    dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
    assert_same(t, expected_reduction("float16", op))


def test_bitwise_ops():
    t = T(np.array([1 << rank() % 8, 0xFF], np.int32))
    dist.all_reduce(t, op=dist.ReduceOp.BOR)
    expected = 0
    for r in range(size()):
        expected |= 1 << r % 8
    assert t._data.tolist() == [expected, 0xFF]


# ----------------------------------------------------------------------------- data movement


@MODES
@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast(dtype, async_op):
    src = size() - 1
    t = T(payload(dtype, rank()))
    finish(dist.broadcast(t, src=src, async_op=async_op), async_op)
    assert_same(t, payload(dtype, src))


@MODES
@pytest.mark.parametrize("form", ["list", "concat", "stack"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_gather(dtype, form, async_op):
    """all_gather (a list of outputs) and all_gather_into_tensor (concatenated or stacked)."""
    expected = np.stack([payload(dtype, r) for r in range(size())])
    mine = T(payload(dtype, rank()))
    if form == "list":
        outs = [T(np.zeros(SHAPE, np_dtype(dtype))) for _ in range(size())]
        finish(dist.all_gather(outs, mine, async_op=async_op), async_op)
        for r, out in enumerate(outs):
            assert_same(out, expected[r])
        return
    shape = (size() * SHAPE[0], SHAPE[1]) if form == "concat" else expected.shape
    out = T(np.zeros(shape, np_dtype(dtype)))
    finish(dist.all_gather_into_tensor(out, mine, async_op=async_op), async_op)
    assert_same(out, expected.reshape(shape))


@MODES
@pytest.mark.parametrize("dtype", DTYPES)
def test_gather(dtype, async_op):
    dst = size() - 1
    outs = [T(np.zeros(SHAPE, np_dtype(dtype))) for _ in range(size())]
    work = dist.gather(T(payload(dtype, rank())), outs if rank() == dst else None, dst=dst,
                       async_op=async_op)
    finish(work, async_op)
    if rank() == dst:
        for r, out in enumerate(outs):
            assert_same(out, payload(dtype, r))


@MODES
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter(dtype, async_op):
    src = size() - 1
    chunks = [T(payload(dtype, src, chunk=j)) for j in range(size())]
    out = T(np.zeros(SHAPE, np_dtype(dtype)))
    work = dist.scatter(out, chunks if rank() == src else None, src=src, async_op=async_op)
    finish(work, async_op)
    assert_same(out, payload(dtype, src, chunk=rank()))


@MODES
@pytest.mark.parametrize("dtype", DTYPES)
def test_all_to_all_single(dtype, async_op):
    send = np.concatenate([payload(dtype, rank(), chunk=j) for j in range(size())])
    out = T(np.zeros_like(send))
    finish(dist.all_to_all_single(out, T(send), async_op=async_op), async_op)
    assert_same(out, np.concatenate([payload(dtype, r, chunk=rank()) for r in range(size())]))


def test_all_to_all_single_uneven_splits():
    """Rank r sends j + 1 rows to rank j, so it receives rank() + 1 rows from each."""
    rows_to = [j + 1 for j in range(size())]
    send = np.concatenate([np.full((j + 1, 2), 10 * rank() + j, np.int64)
                           for j in range(size())])
    out = T(np.zeros((size() * (rank() + 1), 2), np.int64))
    dist.all_to_all_single(out, T(send), output_split_sizes=[rank() + 1] * size(),
                           input_split_sizes=rows_to)
    expected = np.concatenate([np.full((rank() + 1, 2), 10 * r + rank(), np.int64)
                               for r in range(size())])
    assert_same(out, expected)


@MODES
@pytest.mark.parametrize("dtype", ["bool", "bfloat16", "int64"])
def test_all_to_all(dtype, async_op):
    inputs = [T(payload(dtype, rank(), chunk=j)) for j in range(size())]
    outs = [T(np.zeros(SHAPE, np_dtype(dtype))) for _ in range(size())]
    finish(dist.all_to_all(outs, inputs, async_op=async_op), async_op)
    for r, out in enumerate(outs):
        assert_same(out, payload(dtype, r, chunk=rank()))


def test_non_contiguous_broadcast_and_all_gather():
    base = np.zeros((3, 2), np.float32)
    if rank() == 0:
        base[...] = np.arange(6).reshape(3, 2)
    dist.broadcast(T(base.T), src=0)  # a transposed (Fortran-ordered) view
    out = np.zeros((2, size()))
    columns = [T(out[:, r]) for r in range(size())]
    dist.all_gather(columns, T(np.full(2, float(rank()))))
    assert np.array_equal(base, np.arange(6).reshape(3, 2))
    assert np.array_equal(out, np.tile(np.arange(size(), dtype=np.float64), (2, 1)))


# ----------------------------------------------------------------------------- point to point


@pytest.mark.parametrize("mode", ["sync", "async", "batch"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_send_recv_ring(dtype, mode):
    """Each rank sends to its right and receives from its left neighbour."""
    if size() == 1:
        pytest.skip("a ring needs two ranks")
    right, left = (rank() + 1) % size(), (rank() - 1) % size()
    out = T(np.zeros(SHAPE, np_dtype(dtype)))
    mine = T(payload(dtype, rank()))
    if mode == "batch":
        works = dist.batch_isend_irecv([dist.P2POp(dist.isend, mine, right, tag=5),
                                        dist.P2POp(dist.irecv, out, left, tag=5)])
        for work in works:
            work.wait()
        sender = works[1].source_rank()
    else:
        send_work = dist.isend(mine, dst=right, tag=5)
        if mode == "async":
            recv_work = dist.irecv(out, src=left, tag=5)
            recv_work.wait()
            sender = recv_work.source_rank()
        else:
            sender = dist.recv(out, src=left, tag=5)
        send_work.wait()
    assert sender == left
    assert_same(out, payload(dtype, left))


def test_recv_from_any_source():
    if size() == 1:
        pytest.skip("needs two ranks")
    if rank() == 0:
        got = set()
        for _ in range(size() - 1):
            t = T(np.zeros(1, np.int64))
            sender = dist.recv(t, tag=7)
            assert t._data[0] == sender * 11
            got.add(sender)
        assert got == set(range(1, size()))
    else:
        dist.send(T(np.array([rank() * 11], np.int64)), dst=0, tag=7)
    dist.barrier()  # keep the next test's messages out of this test's receives


def test_receiving_into_a_smaller_tensor_is_a_clear_error():
    if size() == 1:
        pytest.skip("needs two ranks")
    right, left = (rank() + 1) % size(), (rank() - 1) % size()
    send = dist.isend(T(np.zeros(4, np.float32)), dst=right, tag=9)
    with pytest.raises(RuntimeError, match="larger than the receiving tensor"):
        dist.recv(T(np.zeros(2, np.float32)), src=left, tag=9)
    send.wait()
    dist.barrier()


# ----------------------------------------------------------------------------- objects


def test_object_collectives():
    src = size() - 1
    objects = [{"from": src}, "text", [1, 2]] if rank() == src else [None, None, None]
    dist.broadcast_object_list(objects, src=src)
    gathered = [None] * size()
    dist.all_gather_object(gathered, {"rank": rank(), "tensor": T(np.arange(rank() + 1))})
    at_root = [None] * size() if rank() == 0 else None
    dist.gather_object(("r", rank()), at_root, dst=0)
    received = [None]
    dist.scatter_object_list(received, [f"for {r}" for r in range(size())] if rank() == 0
                             else None, src=0)
    assert objects == [{"from": src}, "text", [1, 2]]
    assert [g["rank"] for g in gathered] == list(range(size()))
    assert gathered[-1]["tensor"]._data.tolist() == list(range(size()))
    if rank() == 0:
        assert at_root == [("r", r) for r in range(size())]
    assert received == [f"for {rank()}"]


# ----------------------------------------------------------------------------- barriers, Work


@MODES
def test_barrier(async_op):
    finish(dist.barrier(async_op=async_op), async_op)
    assert dist.monitored_barrier(timeout=30) is None


def test_monitored_barrier_names_the_missing_rank():
    if size() == 1:
        pytest.skip("needs two ranks")
    missing = size() - 1
    error = None
    if rank() != missing:
        try:
            dist.monitored_barrier(timeout=0.5, wait_all_ranks=True)
        except RuntimeError as exc:
            error = str(exc)
    dist.barrier()
    if rank() == 0:
        assert error is not None and f"Ranks {missing} failed to pass monitoredBarrier" in error
    elif rank() != missing:
        assert error is not None and "failed" in error


def test_work_polling_result_and_future():
    t = T(np.full(4, rank() + 1.0))
    work = dist.all_reduce(t, async_op=True)
    while not work.is_completed():
        pass
    doubled = dist.all_reduce(T(np.ones(2)), async_op=True).get_future().then(
        lambda fut: fut.value()[0]._data * 2).wait()
    assert work.result()[0] is t
    assert np.array_equal(t._data, np.full(4, size() * (size() + 1) / 2))
    assert np.array_equal(doubled, np.full(2, 2.0 * size()))


# ----------------------------------------------------------------------------- groups, init


def test_new_group_members_and_non_members():
    evens = list(range(0, size(), 2))
    group = dist.new_group(evens)
    t, b = T(np.array([rank() + 1.0])), T(np.array([float(rank())]))
    if rank() not in evens:
        assert group is dist.GroupMember.NON_GROUP_MEMBER
        assert (dist.get_rank(group), dist.get_world_size(group)) == (-1, -1)
        with pytest.warns(UserWarning, match="does not belong to the given group"):
            assert dist.all_reduce(t, group=group) is None
        assert t._data[0] == rank() + 1
        with pytest.raises(RuntimeError, match="not a member"):
            group.rank()
        with pytest.raises(ValueError, match="not a member"):
            dist.get_process_group_ranks(group)
        return
    dist.all_reduce(t, group=group)
    dist.broadcast(b, src=evens[-1], group=group)
    seen = (dist.get_rank(group), dist.get_world_size(group),
            dist.get_process_group_ranks(group))
    dist.destroy_process_group(group)
    assert seen == (evens.index(rank()), len(evens), evens)
    assert (t._data[0], b._data[0]) == (sum(r + 1 for r in evens), evens[-1])
    with pytest.raises(ValueError, match="destroyed"):
        dist.all_reduce(t, group=group)


def test_new_group_with_local_synchronization():
    """Only the members call new_group; here a group of the last rank alone."""
    if rank() == size() - 1:
        group = dist.new_group([size() - 1], use_local_synchronization=True)
        t = T(np.ones(2))
        dist.all_reduce(t, group=group)
        global_rank = dist.get_global_rank(group, 0)
        dist.destroy_process_group(group)
        assert (t._data.tolist(), global_rank) == ([1.0, 1.0], size() - 1)


def test_world_matches_mpi_and_environment():
    import os

    from mpi4py import MPI

    assert dist.is_available() and dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size()) == (MPI.COMM_WORLD.rank,
                                                        MPI.COMM_WORLD.size)
    assert dist.get_backend() == "mpi"
    assert dist.group.WORLD is dist.GroupMember.WORLD
    assert os.environ["RANK"] == str(rank())
    assert os.environ["WORLD_SIZE"] == str(size())
    assert 0 <= int(os.environ["LOCAL_RANK"]) < int(os.environ["LOCAL_WORLD_SIZE"]) <= size()
    assert os.environ["MASTER_ADDR"] and os.environ["MASTER_PORT"]
    assert _get_comm().Get_size() == size()


def test_init_twice_backend_checks_and_reduce_op():
    with pytest.raises(ValueError, match="trying to initialize the default process group "
                                         "twice!"):
        dist.init_process_group()
    for name in ("mpi", "gloo", "MPI", "cpu:gloo", None):
        process_group._check_backend(name)
    with pytest.raises(RuntimeError, match="NCCL support comes with .* GPU backend"):
        process_group._check_backend("nccl")
    with pytest.raises(RuntimeError, match="NCCL"):
        process_group._check_backend("cpu:gloo,cuda:nccl")
    with pytest.raises(ValueError, match="'mpi' and 'gloo'"):
        process_group._check_backend("ucc")
    assert dist.ReduceOp.SUM == dist.ReduceOp.RedOpType.SUM
    assert dist.ReduceOp(dist.ReduceOp.MAX) is dist.ReduceOp.MAX


def test_rank_and_world_size_checked_against_mpi(monkeypatch):
    check = process_group._check_layout
    check(rank(), size(), rank(), size())
    with pytest.raises(RuntimeError, match=r"world_size=\d+\) but MPI started"):
        check(-1, size() + 1, rank(), size())
    with pytest.raises(RuntimeError, match="but this process is MPI rank"):
        check(rank() + 1, -1, rank(), size())
    monkeypatch.setenv("WORLD_SIZE", str(size() + 2))
    with pytest.raises(RuntimeError, match=rf"WORLD_SIZE={size() + 2} from .*, but MPI says"):
        check(-1, -1, rank(), size())


# ----------------------------------------------------------------------------- errors


def f32(*shape):
    return T(np.zeros(shape, np.float32))


# (name, call, error, message pattern); every error is local, so every rank raises it
ERRORS = [
    ("list length", lambda: dist.all_gather([f32(2)] * (size() + 1), f32(2)),
     RuntimeError, r"expected length \d+, got \d+"),
    ("shape", lambda: dist.all_gather([f32(2)] * (size() - 1) + [f32(3)], f32(2)),
     RuntimeError, r"invalid tensor size at index \d+ \(expected \[2\], got \[3\]\)"),
    ("dtype", lambda: dist.all_gather([T(np.zeros(2))] * size(), f32(2)),
     ValueError, "different dtypes"),
    ("into tensor", lambda: dist.all_gather_into_tensor(f32(size() * 2 + 1), f32(2)),
     RuntimeError, "world_size"),
    ("reduce_scatter_tensor",
     lambda: dist.reduce_scatter_tensor(f32(2), f32(size() * 2 + 1)),
     RuntimeError, "world_size"),
    ("reduce_scatter list", lambda: dist.reduce_scatter(f32(2), [f32(2)] * (size() + 1)),
     RuntimeError, "expected length"),
    ("a2a splits",
     lambda: dist.all_to_all_single(f32(size()), f32(size()), None, [1] * (size() + 1)),
     RuntimeError, r"input_split_sizes \[.*\] must have world_size"),
    ("src range", lambda: dist.broadcast(f32(2), src=size()), ValueError,
     "not part of group"),
    ("src missing", lambda: dist.broadcast(f32(2)), ValueError, "Must specify"),
    ("gather list", lambda: dist.gather(f32(2), None, dst=rank()),
     ValueError, "must be specified on destination rank"),
    ("scatter list", lambda: dist.scatter(f32(2), None, src=rank()),
     ValueError, "must be specified on source rank"),
    ("int avg", lambda: dist.all_reduce(T(np.ones(2, np.int32)), op=dist.ReduceOp.AVG),
     RuntimeError, "can't be cast to the desired output type Int"),
    ("float band", lambda: dist.all_reduce(f32(2), op=dist.ReduceOp.BAND),
     RuntimeError, "integer and bool"),
    ("not a tensor", lambda: dist.all_reduce(np.ones(2)), TypeError, "torch.Tensor"),
    ("send to self", lambda: dist.send(f32(2), dst=rank()), ValueError,
     "should not be the same"),
    ("bad tag", lambda: dist.isend(f32(2), dst=rank(), tag=-1), ValueError, "tag must be"),
]


@pytest.mark.parametrize("call,error,match", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_are_raised_before_communicating(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ----------------------------------------------------------------------------- debug mode


@pytest.fixture
def debug_mode():
    process_group.set_debug(True)
    yield
    process_group.set_debug(False)


def test_debug_mode_passes_matching_calls(debug_mode):
    t = T(np.ones(3, np.float32))
    dist.all_reduce(t)
    dist.broadcast(t, src=0)
    dist.barrier()
    assert t._data.tolist() == [size()] * 3


def test_debug_mode_names_mismatched_ranks(debug_mode):
    if size() == 1:
        pytest.skip("needs two ranks")
    t = T(np.ones(2 if rank() == 0 else 3, np.float32))
    with pytest.raises(RuntimeError) as info:
        dist.all_reduce(t)
    message = str(info.value)
    assert "DISTTORCH_DEBUG" in message
    assert "rank 0: all_reduce(op=SUM, tensor=[shape=[2], dtype=torch.float32])" in message
    others = ", ".join(str(r) for r in range(1, size()))
    assert ": all_reduce(op=SUM, tensor=[shape=[3]" in message and others in message
    # a different collective altogether is caught too
    with pytest.raises(RuntimeError, match="broadcast"):
        if rank() == 0:
            dist.broadcast(T(np.ones(2)), src=0)
        else:
            dist.all_reduce(T(np.ones(2)))

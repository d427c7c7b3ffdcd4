"""Point-to-point messages (send, recv, isend, irecv, batch_isend_irecv) and
monitored_barrier, which is built on them.

Tensors travel as raw bytes, so any dtype works; the receiver's tensor must have the sender's
size. `peer`, `src` and `dst` are global ranks, `group_*` ranks within the group.
"""

import functools
import time

import numpy as np

from . import buffers as buf
from .collectives import check_tensor
from .process_group import group_peer, mpi, resolve
from .work import Work


def _peer(pg, rank, group_rank, what):
    peer = group_peer(pg, rank, group_rank)
    if peer == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank "
                         "of the current process.")
    return peer


def _check_tag(tag):
    if not isinstance(tag, int) or tag < 0 or tag >= _reserved_tag():
        raise ValueError(f"tag must be an int in [0, {_reserved_tag()}), got {tag!r}")


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    check_tensor(tensor, "tensor")
    pg = resolve(group, "isend")
    if pg is None:
        return None
    _check_tag(tag)
    peer = _peer(pg, dst, group_dst, "destination")
    array = buf.staged(tensor)
    request = pg.comm.Isend(buf.as_bytes(array), peer, tag)
    return Work([request], outputs=[tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    check_tensor(tensor, "tensor")
    pg = resolve(group, "irecv")
    if pg is None:
        return None
    MPI = mpi()
    _check_tag(tag)
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _peer(pg, src, group_src, "source")
    array = buf.staged(tensor)
    status = MPI.Status()
    request = pg.comm.Irecv(buf.as_bytes(array), peer, tag)

    def finish():
        received = status.Get_count(MPI.BYTE)
        if received != array.nbytes:
            raise RuntimeError(
                f"recv: the tensor has {array.nbytes} bytes ({list(tensor.shape)}, "
                f"{tensor.dtype}) but rank {pg.ranks[status.Get_source()]} sent {received}")
        buf.write_back(tensor, array)

    return Work([request], finish, [tensor], source=lambda: pg.ranks[status.Get_source()],
                statuses=[status])


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into `tensor`; returns the sender's global rank (-1 outside the group)."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    return work.source_rank()


class P2POp:
    """One send or receive for batch_isend_irecv: op is dist.isend or dist.irecv."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``torch.distributed."
                             "isend`` or ``torch.distributed.irecv``.")
        check_tensor(tensor, "tensor")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer


def batch_isend_irecv(p2p_op_list):
    """Start every operation of the list; returns their Works."""
    if not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError("Invalid ``p2p_op_list``. Each op is expected to to be of type "
                         "``torch.distributed.P2POp``.")
    if len({id(p.group) for p in p2p_op_list}) > 1:
        raise ValueError("All ops need to use the same group.")
    return [p.op(p.tensor, p.peer, p.group, p.tag, p.group_peer) for p in p2p_op_list]


@functools.cache
def _reserved_tag():
    """The largest MPI tag, kept for monitored_barrier so user tags never match it."""
    MPI = mpi()
    return MPI.COMM_WORLD.Get_attr(MPI.TAG_UB)


def monitored_barrier(group=None, timeout=None, wait_all_ranks=False):
    """A barrier that names the ranks that did not reach it within `timeout`.

    Group rank 0 waits for a message from every other rank, then tells each whether all
    arrived; unlike barrier(), a missing rank produces an error instead of a hang.
    """
    pg = resolve(group, "monitored_barrier")
    if pg is None:
        return None
    timeout = timeout or pg.timeout
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
    deadline = time.monotonic() + seconds
    tag = _reserved_tag()
    me = pg.rank()
    if pg.size() == 1:
        return None
    if me != 0:
        pg.comm.Isend(np.ones(1, np.uint8), 0, tag).Wait()
        ack = np.zeros(1, np.uint8)
        request = pg.comm.Irecv(ack, 0, tag)
        # rank 0 may take the whole timeout to find a missing rank before it answers
        if not _wait_until([request], deadline + seconds + 5)[0]:
            # a receive left posted would swallow the answer to a later monitored_barrier
            request.Cancel()
            request.Wait()
            raise RuntimeError(f"[Rank {pg.ranks[me]}]: monitored_barrier timed out after "
                               f"{seconds:g} s waiting for rank {pg.ranks[0]}")
        if not ack[0]:
            raise RuntimeError(f"[Rank {pg.ranks[me]}]: monitored_barrier failed: rank "
                               f"{pg.ranks[0]} reported ranks that did not reach it")
        return None
    tokens = {r: np.zeros(1, np.uint8) for r in range(1, pg.size())}
    requests = [pg.comm.Irecv(tokens[r], r, tag) for r in tokens]
    done = _wait_until(requests, deadline)
    missing = [pg.ranks[r] for r, ok in zip(tokens, done) if not ok]
    for request, ok in zip(requests, done):
        if not ok:
            request.Cancel()
            request.Wait()
    arrived = [r for r, ok in zip(tokens, done) if ok]
    for r in arrived:
        pg.comm.Isend(np.array([0 if missing else 1], np.uint8), r, tag).Wait()
    if missing:
        which = (f"Ranks {', '.join(map(str, missing))}" if wait_all_ranks
                 else f"Rank {missing[0]}")
        raise RuntimeError(f"[Rank {pg.ranks[0]}]: {which} failed to pass monitoredBarrier "
                           f"in {int(seconds * 1000)} ms")
    return None


def _wait_until(requests, deadline):
    """Poll requests until all completed or the deadline; which ones completed."""
    done = [False] * len(requests)
    while True:
        for i, request in enumerate(requests):
            if not done[i]:
                done[i] = request.Test()
        if all(done):
            return done
        if time.monotonic() > deadline:
            return done
        time.sleep(1e-3)

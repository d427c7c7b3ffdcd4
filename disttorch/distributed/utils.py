"""Internal helpers for the layers built on disttorch.distributed (DistributedDataParallel)."""

from .process_group import resolve


def _get_comm(group=None):
    """The mpi4py communicator behind a process group (the default group when None).

    DDP uses it to issue its own non-blocking all-reduces on flat gradient buckets. Raises on a
    rank that is not a member of `group`.
    """
    pg = resolve(group, "_get_comm")
    if pg is None:
        raise RuntimeError("_get_comm: this rank is not a member of the given process group")
    return pg.comm

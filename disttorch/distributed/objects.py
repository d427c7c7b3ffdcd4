"""Collectives of picklable Python objects: broadcast_object_list, all_gather_object,
gather_object, scatter_object_list.

They use mpi4py's lowercase (pickling) methods. As in torch, they unpickle whatever the other
ranks send, so use them only between processes of the same trusted job.
"""

from .debug import check
from .process_group import group_peer, resolve


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace object_list's items on every rank with those of rank src."""
    pg = resolve(group, "broadcast_object_list")
    if pg is None:
        return None
    root = group_peer(pg, src, group_src, default=0)
    check(pg, "broadcast_object_list", n_objects=len(object_list), src=root)
    received = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root=root)
    if pg.rank() != root:
        object_list[:] = received
    return None


def all_gather_object(object_list, obj, group=None):
    """object_list[i] = the obj of group rank i, on every rank."""
    pg = resolve(group, "all_gather_object")
    if pg is None:
        return None
    check(pg, "all_gather_object")
    _check_output_list("all_gather_object", "object_list", object_list, pg.size())
    object_list[:pg.size()] = pg.comm.allgather(obj)
    return None


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """On rank dst, object_gather_list[i] = the obj of group rank i."""
    pg = resolve(group, "gather_object")
    if pg is None:
        return None
    root = group_peer(pg, dst, group_dst, default=0)
    check(pg, "gather_object", dst=root)
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError("Must provide object_gather_list on dst rank")
        _check_output_list("gather_object", "object_gather_list", object_gather_list,
                           pg.size())
    gathered = pg.comm.gather(obj, root=root)
    if pg.rank() == root:
        object_gather_list[:pg.size()] = gathered
    return None


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """scatter_object_output_list[0] = scatter_object_input_list[group rank] of rank src."""
    pg = resolve(group, "scatter_object_list")
    if pg is None:
        return None
    root = group_peer(pg, src, group_src, default=0)
    check(pg, "scatter_object_list", src=root)
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at "
                         "least 1.")
    inputs = None
    if pg.rank() == root:
        if scatter_object_input_list is None:
            raise ValueError("source rank must provide non-None scatter_object_input_list")
        inputs = list(scatter_object_input_list)
        if len(inputs) != pg.size():
            raise ValueError(f"scatter_object_list: scatter_object_input_list must have "
                             f"world_size ({pg.size()}) objects, got {len(inputs)}")
    scatter_object_output_list[0] = pg.comm.scatter(inputs, root=root)
    return None


def _check_output_list(op_name, name, object_list, size):
    if not isinstance(object_list, list) or len(object_list) < size:
        got = len(object_list) if isinstance(object_list, list) else type(object_list).__name__
        raise ValueError(f"{op_name}: {name} must be a list of at least world_size ({size}) "
                         f"items, got {got}")

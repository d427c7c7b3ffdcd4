"""DISTTORCH_DEBUG=1: check that every rank issues the same collective with the same tensors.

A rank that calls a different collective, or the same one with another shape or dtype, makes
MPI hang or silently mix data. With the check on, each collective first all-gathers a short
description of the call from every rank of the group and, if they differ, raises on every rank
a RuntimeError naming the ranks and what each called. This costs one small collective per
call, so it is off by default (like TORCH_DISTRIBUTED_DEBUG=DETAIL, which also enables it).
"""

from .process_group import debug_enabled


def describe(tensor):
    """The parts of a tensor that must agree across ranks: shape and dtype."""
    return (tuple(tensor._data.shape), tensor.dtype.name)


def check(pg, op_name, **details):
    """Raise on every rank of `pg` if the ranks' calls (op_name and details) differ."""
    if not debug_enabled():
        return
    call = (op_name, tuple(sorted(details.items())))
    calls = pg.comm.allgather(call)
    if all(c == calls[0] for c in calls):
        return
    ranks_by_call = {}
    for group_rank, c in enumerate(calls):
        ranks_by_call.setdefault(c, []).append(pg.ranks[group_rank])
    lines = [f"  rank{'s' if len(r) > 1 else ''} {', '.join(map(str, r))}: {_format(c)}"
             for c, r in ranks_by_call.items()]
    raise RuntimeError(
        f"DISTTORCH_DEBUG: the ranks of process group {pg.group_name!r} called mismatched "
        f"collectives (this rank, {pg.ranks[pg.rank()]}, called {_format(call)}):\n"
        + "\n".join(lines))


def _format(call):
    op_name, details = call
    parts = []
    for key, value in details:
        if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], tuple):
            shape, dtype = value
            value = f"[shape=[{', '.join(map(str, shape))}], dtype=torch.{dtype}]"
        parts.append(f"{key}={value}")
    return f"{op_name}({', '.join(parts)})"

"""torch.distributed over MPI: process groups, collectives and point-to-point messages.

Importing this package does not import mpi4py (that would initialise MPI); it is imported by
init_process_group. See process_group.py for groups, collectives.py for the tensor
collectives, objects.py for the pickled-object ones and failure.py for what happens when a
rank dies.
"""

from . import env as _env
from .collectives import (
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .objects import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    scatter_object_list,
)
from .p2p import P2POp, batch_isend_irecv, irecv, isend, monitored_barrier, recv, send
from .process_group import (
    Backend,
    GroupMember,
    ProcessGroup,
    ReduceOp,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    new_group,
)
from .work import Future, Work
from . import algorithms  # noqa: E402  (Join, DDP comm hooks; needs the names above)
from . import optim  # noqa: E402  (ZeroRedundancyOptimizer; needs the names above)

# under mpirun or srun, torchrun-style scripts may read RANK etc. before init_process_group
if _env.detect().launched_by_mpi:
    _env.export_torchrun_variables()


def is_mpi_available():
    return is_available()


def is_gloo_available():
    """'gloo' runs over MPI here, so it is available exactly when MPI is."""
    return is_available()


def is_nccl_available():
    return False


def is_torchelastic_launched():
    import os

    return "TORCHELASTIC_RUN_ID" in os.environ


__all__ = [
    "Backend", "Future", "algorithms", "optim", "GroupMember", "P2POp", "ProcessGroup",
    "ReduceOp", "Work",
    "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all",
    "all_to_all_single", "barrier", "batch_isend_irecv", "broadcast", "broadcast_object_list",
    "destroy_process_group", "gather", "gather_object", "get_backend", "get_global_rank",
    "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size", "group",
    "init_process_group", "irecv", "is_available", "is_gloo_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "is_torchelastic_launched", "isend",
    "monitored_barrier", "new_group", "recv", "reduce", "reduce_scatter",
    "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
]

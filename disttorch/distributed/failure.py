"""Ending the whole job when one rank fails, with that rank's traceback.

An MPI job whose rank dies of an uncaught exception otherwise leaves the other ranks waiting
forever in their next collective. The hook below prints the traceback with every line labelled
by the rank (ranks' stderr is interleaved by the launcher) and calls MPI_Abort, which makes
mpirun or srun kill every rank, as `python -m mpi4py` does.
"""

import sys
import traceback


def labelled_traceback(rank, exc_type, exc, tb):
    """The traceback text with each line prefixed by `[rank N] `."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    label = f"[rank {rank}] "
    return "".join(label + line for line in text.splitlines(keepends=True))


def report_and_abort(rank, exc_type, exc, tb, status=1):
    """Print the labelled traceback and abort the MPI job (when MPI is running)."""
    try:
        sys.stdout.flush()
    except Exception:  # a closed stdout must not stop the abort
        pass
    sys.stderr.write(labelled_traceback(rank, exc_type, exc, tb))
    sys.stderr.flush()
    abort(status)


def abort(status):
    """MPI_Abort on COMM_WORLD if MPI is initialised and not finalised; else return."""
    MPI = sys.modules.get("mpi4py.MPI")
    if MPI is None or not MPI.Is_initialized() or MPI.Is_finalized():
        return
    if MPI.COMM_WORLD.Get_size() > 1:
        MPI.COMM_WORLD.Abort(status)


def install_excepthook(rank):
    """Replace sys.excepthook so an uncaught exception on this rank ends the job."""

    def excepthook(exc_type, exc, tb):
        report_and_abort(rank, exc_type, exc, tb)

    sys.excepthook = excepthook

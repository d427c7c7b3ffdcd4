"""The distributed tests share one default process group for the whole session.

They run under `mpirun -n N python -m pytest tests/distributed` (every rank runs every test,
in the same order, so their collectives match) and under plain pytest as a single rank.
"""

import faulthandler

import pytest

import disttorch.distributed as dist

HANG_TIMEOUT_S = 120


@pytest.fixture(scope="session", autouse=True)
def world():
    if not dist.is_initialized():
        dist.init_process_group()
    return dist.group.WORLD


@pytest.fixture(autouse=True)
def hang_guard():
    """End this rank if one test runs for minutes: a rank that fails before a collective
    leaves the others waiting in it, and exiting makes the MPI launcher end the whole job
    (after printing every thread's stack) instead of hanging CI."""
    faulthandler.dump_traceback_later(HANG_TIMEOUT_S, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()

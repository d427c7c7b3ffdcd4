"""The main-process side of multi-process data loading.

Each worker has its own index queue; all share one result queue. Tasks are numbered in
sampler order and dealt to the workers round-robin, at most `prefetch_factor` per worker in
flight; results are put back in task order (unless `in_order=False`). Workers are stopped
when the pass ends (or, with persistent workers, when the iterator is collected), when an
iterator is garbage-collected, and at interpreter exit, so none outlives the program.

Workers start with 'forkserver' (else 'spawn'), never a fork of this process, which may have
initialised MPI; they do not see the MPI launcher's environment, so one that initialises MPI
anyway (a main script importing mpi4py, imported again in each worker) does not join the job.
"""

import atexit
import contextlib
import itertools
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.util  # noqa: F401  (see the atexit hook below)
import os
import pickle
import queue
import warnings
import weakref

from . import _worker
from .dataloader import _BaseDataLoaderIter

# how long shutdown waits for a worker to exit before terminating it (seconds)
_JOIN_TIMEOUT = 5.0

# iterators whose workers may be running, shut down at exit; weak, so that collecting an
# iterator (which stops its workers) is not prevented by this registry
_live_iterators = weakref.WeakSet()
_exiting = False


def _shutdown_all_at_exit():
    global _exiting
    for iterator in list(_live_iterators):
        iterator._shutdown_workers()
    _exiting = True  # later __del__ calls find the workers already stopped


# registered after multiprocessing.util's own exit hook (imported above), so this runs first
# and stops workers cleanly before multiprocessing terminates any stragglers
atexit.register(_shutdown_all_at_exit)


# environment variables through which MPI launchers (Open MPI, PMIx, MPICH/Hydra, Intel MPI,
# Slurm's PMI) tell a process which rank it is
_MPI_LAUNCHER_PREFIXES = ("OMPI_", "PMIX_", "PRTE_", "PMI_", "HYDRA_", "MPI_LOCAL")


def default_multiprocessing_context():
    """forkserver where the platform has it, else spawn: never fork (unsafe after MPI_Init)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    _preload_disttorch_in_forkserver()
    return multiprocessing.get_context("forkserver")


def _preload_disttorch_in_forkserver():
    """Have the forkserver, before it starts, import disttorch rather than the main script.

    Workers forked from it then start in milliseconds instead of importing disttorch again,
    and a script that initialises MPI when imported does so in each worker (a separate
    singleton) instead of in the forkserver that all workers are forked from. Importing
    disttorch does not initialise MPI. The module list is only reachable through
    multiprocessing's internals; a list the user has set, or other internals, are left alone.
    """
    server = getattr(multiprocessing.forkserver, "_forkserver", None)
    started = getattr(server, "_forkserver_pid", 0) is not None
    if not started and getattr(server, "_preload_modules", None) == ["__main__"]:
        multiprocessing.set_forkserver_preload(["disttorch"])


@contextlib.contextmanager
def _without_mpi_launcher_environment():
    """Hide the MPI launcher's variables from processes started inside this block.

    A worker (or the forkserver) that initialises MPI, e.g. by re-importing a main script
    that imports mpi4py, would otherwise try to join the job as a second copy of this rank
    and hang it; without them it starts as a singleton of its own.
    """
    hidden = {name: os.environ.pop(name) for name in list(os.environ)
              if name.startswith(_MPI_LAUNCHER_PREFIXES)}
    try:
        yield
    finally:
        os.environ.update(hidden)


class MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """A pass over a DataLoader whose batches are made by worker processes."""

    def __init__(self, loader):
        super().__init__(loader)
        self._shutdown = False
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        if self._prefetch_factor <= 0:
            raise AssertionError("prefetch_factor must be greater than 0 for "
                                 "MultiProcessingDataLoaderIter")
        context = loader.multiprocessing_context or default_multiprocessing_context()
        self._result_queue = _worker.ResultQueue(ctx=context)
        self._workers_done_event = context.Event()
        # from here on __del__ stops whatever workers exist, even if the next one fails
        self._workers = []
        self._index_queues = []
        _live_iterators.add(self)
        for worker_id in range(self._num_workers):
            index_queue = context.Queue()
            # a worker that died must not block this process's exit on an unread queue
            index_queue.cancel_join_thread()
            process = context.Process(
                target=_worker.worker_loop, daemon=True,
                args=(self._iterable, self._dataset, index_queue, self._result_queue,
                      self._workers_done_event, self._auto_collation, self._collate_fn,
                      self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                      self._num_workers))
            try:
                with _without_mpi_launcher_environment():
                    process.start()
            except (TypeError, AttributeError, pickle.PicklingError):
                warnings.warn(
                    "Got pickle error when attempting to start a worker Process. DataLoader "
                    f"workers start with '{context.get_start_method()}', which pickles the "
                    "dataset, collate_fn and worker_init_fn into each worker: define them at "
                    "module level (not as lambdas or local functions).", stacklevel=4)
                raise
            self._index_queues.append(index_queue)
            self._workers.append(process)
        self._reset(loader, first_iter=True)

    # ---------------------------------------------------------------- task bookkeeping

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0  # number of the next task to hand out
        self._rcvd_idx = 0  # number of the next task to return
        # task number -> (worker_id,) while in flight, (worker_id, batch) once arrived early
        self._task_info = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers  # False once a worker is done
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            # persistent workers: wait until every worker has restarted its fetcher,
            # dropping any results left over from an abandoned pass
            for index_queue in self._index_queues:
                index_queue.put(_worker.ResumeIteration())
            waiting = self._num_workers
            while waiting:
                task_idx, _ = self._get_data()
                if isinstance(task_idx, _worker.ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        assert self._tasks_outstanding < max_tasks
        try:
            index = self._next_index()
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next worker still serving, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if not self._workers_status[worker_id]:
                continue
            if (self._in_order or self._workers_num_tasks[worker_id]
                    < max_tasks // sum(self._workers_status)):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _next_data(self):
        while True:
            # skip tasks that will never be answered (their worker's stream has ended)
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info:
                    if len(info) == 2 or self._workers_status[info[0]]:
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # it arrived earlier
                worker_id, batch = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(batch, worker_id)
            assert not self._shutdown and self._tasks_outstanding > 0
            task_idx, batch = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(batch, _worker.IterableDatasetStop):
                if self._persistent_workers:
                    self._workers_status[batch.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(batch.worker_id)
                self._try_put_index()
                continue
            if task_idx == self._rcvd_idx or not self._in_order:
                worker_id = self._task_info.pop(task_idx)[0]
                if task_idx == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process_data(batch, worker_id)
            self._task_info[task_idx] += (batch,)  # early: keep it until its turn

    def _process_data(self, batch, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(batch, _worker.ExceptionWrapper):
            batch.reraise()
        return batch

    # ---------------------------------------------------------------- receiving

    def _try_get_data(self, timeout):
        """(True, result), or (False, None) when nothing came within timeout seconds."""
        try:
            return True, self._result_queue.get(timeout=timeout)
        except queue.Empty:
            pass
        dead = []
        for worker_id, process in enumerate(self._workers):
            if self._workers_status[worker_id] and not process.is_alive():
                dead.append(process)
                self._mark_worker_as_unavailable(worker_id)
        if dead:
            pids = ", ".join(str(p.pid) for p in dead)
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            received, result = self._try_get_data(self._timeout)
            if not received:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            return result
        while True:
            received, result = self._try_get_data(_worker.STATUS_CHECK_INTERVAL)
            if received:
                return result

    # ---------------------------------------------------------------- stopping

    def _mark_worker_as_unavailable(self, worker_id):
        # the worker exits when it reads None; tasks already queued to it are skipped
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        if _exiting or self._shutdown:
            return
        self._shutdown = True
        try:
            self._workers_done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            for process in self._workers:
                process.join(timeout=_JOIN_TIMEOUT)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
            self._result_queue.cancel_join_thread()
            self._result_queue.close()
        finally:
            for process in self._workers:
                if process.is_alive():
                    process.terminate()
                    process.join(timeout=_JOIN_TIMEOUT)
            _live_iterators.discard(self)

    def __del__(self):
        if getattr(self, "_workers", None) is not None:
            self._shutdown_workers()

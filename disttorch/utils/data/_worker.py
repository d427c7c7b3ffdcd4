"""The worker side of multi-process data loading, and what both sides share.

A worker is a separate process (started by forkserver or spawn, never a plain fork of a
process that may have initialised MPI). It takes `(task_idx, index)` from its own index
queue, fetches and collates that batch, and puts `(task_idx, batch)` on the result queue
shared by all workers. Errors travel back as an `ExceptionWrapper` holding the worker's
traceback text, which the main process re-raises.
"""

import dataclasses
import multiprocessing
import multiprocessing.queues
import queue
import random
import sys
import traceback

import numpy as np

from ..._ops import random as _random

# how often a waiting worker checks that its parent is alive and that it has not been told
# to stop, and how often the main process checks that its workers are alive (seconds)
STATUS_CHECK_INTERVAL = 0.25


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What `get_worker_info()` returns inside a worker: its id, the number of workers, its
    seed (base_seed + id) and its own copy of the dataset."""

    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


_worker_info = None


def get_worker_info():
    """The current worker's WorkerInfo, or None in the main process."""
    return _worker_info


class KeyErrorMessage(str):
    """A message that KeyError shows as is (KeyError shows its argument's repr)."""

    __slots__ = ()

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception turned into picklable text, to be re-raised in another process."""

    def __init__(self, exc_info=None, where="in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        # the text, not the traceback object: tracebacks neither pickle nor should be kept
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            error = self.exc_type(msg)
        except Exception:
            # an exception class that cannot be built from one message
            raise RuntimeError(msg) from None
        raise error


@dataclasses.dataclass(frozen=True)
class IterableDatasetStop:
    """A worker's iterable dataset copy is exhausted."""

    worker_id: int


@dataclasses.dataclass(frozen=True)
class ResumeIteration:
    """A persistent worker starts a new epoch (and echoes this back when ready)."""


class ResultQueue(multiprocessing.queues.Queue):
    """The result queue. A batch that fails to pickle in a worker's feeder thread is sent
    back as that batch's error, instead of being printed there while the main process
    waits forever for it."""

    def _on_queue_feeder_error(self, error, obj):
        if isinstance(obj, tuple) and len(obj) == 2 and _worker_info is not None:
            where = f"in DataLoader worker process {_worker_info.id}"
            exc_info = (type(error), error, error.__traceback__)
            self.put((obj[0], ExceptionWrapper(exc_info, where=where)))
        else:
            super()._on_queue_feeder_error(error, obj)


# ---------------------------------------------------------------- fetching one batch


class MapFetcher:
    """Fetches the samples at a batch of indices (or one index) and collates them."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems:
            return self.collate_fn(getitems(index))
        return self.collate_fn([self.dataset[i] for i in index])


class IterableFetcher(MapFetcher):
    """Takes the next len(index) samples of the dataset's stream (or the next one)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.stream = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.stream))
        batch = []
        for _ in index:
            try:
                batch.append(next(self.stream))
            except StopIteration:
                self.ended = True
                break
        if not batch or (self.drop_last and len(batch) < len(index)):
            raise StopIteration
        return self.collate_fn(batch)


def make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last):
    fetcher = IterableFetcher if iterable else MapFetcher
    return fetcher(dataset, auto_collation, collate_fn, drop_last)


# ---------------------------------------------------------------- the worker process


def _seed_everything(base_seed, worker_id):
    """Seed Python's, disttorch's and NumPy's global generators for this worker."""
    seed = base_seed + worker_id
    random.seed(seed)
    _random.manual_seed(seed)
    # NumPy's legacy seed takes 32-bit words; mixing the id in through SeedSequence keeps
    # neighbouring workers' streams unrelated
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(4))
    return seed


def _fetcher_or_error(setup_error, iterable, dataset, auto_collation, collate_fn, drop_last,
                      where):
    """(a fresh fetcher for an epoch, None), or (None, the error to report instead)."""
    if setup_error is not None:
        return None, setup_error
    try:
        return make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last), None
    except Exception:
        return None, ExceptionWrapper(where=where)


def worker_loop(iterable, dataset, index_queue, result_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers):
    """The body of a worker process: serve tasks until told to stop or orphaned."""
    global _worker_info
    try:
        seed = _seed_everything(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        fetcher_args = (iterable, dataset, auto_collation, collate_fn, drop_last, where)
        setup_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
        except Exception:
            setup_error = ExceptionWrapper(where=where)
        fetcher, failure = _fetcher_or_error(setup_error, *fetcher_args)
        iteration_end = False
        parent = multiprocessing.parent_process()
        while parent is None or parent.is_alive():
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                # the None that normally ends a worker may never come: when the iterator is
                # collected as part of a reference cycle, its queues' feeder threads are
                # stopped before its __del__ can send it
                if done_event.is_set():
                    break
                continue
            if isinstance(task, ResumeIteration):
                result_queue.put((task, None))
                iteration_end = False
                fetcher, failure = _fetcher_or_error(setup_error, *fetcher_args)
                continue
            if task is None:
                break
            if done_event.is_set() or iteration_end:
                continue  # draining: the main process no longer wants results
            task_idx, index = task
            if fetcher is None:
                # a failed setup is this worker's answer to every task: reported as a result,
                # where the main process is listening
                batch = failure
            else:
                try:
                    batch = fetcher.fetch(index)
                except Exception as error:
                    if iterable and isinstance(error, StopIteration):
                        batch = IterableDatasetStop(worker_id)
                        iteration_end = True
                    else:
                        batch = ExceptionWrapper(where=where)
            result_queue.put((task_idx, batch))
            del batch, task, index  # free the batch's memory while waiting
    except KeyboardInterrupt:
        pass  # the main process handles Ctrl-C and shuts the workers down
    if done_event.is_set():
        result_queue.cancel_join_thread()
        result_queue.close()

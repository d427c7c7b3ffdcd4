"""Join: training with uneven inputs (torch.distributed.algorithms.Join).

Every rank runs the same number of iterations of collectives: inside `with Join([model])`,
each training iteration starts with an all-reduce counting the ranks still training; a rank
that ran out of data leaves the block and, in `__exit__`, keeps answering that count with 0
and shadowing each iteration's collectives (the Joinables' join hooks) until every rank has
joined.
"""

from abc import ABC, abstractmethod

import numpy as np

from ..._tensor import Tensor
from .. import collectives


class JoinHook:
    """What a Joinable does for each iteration it shadows (main_hook) and at the end."""

    def main_hook(self):
        """Shadow one iteration of the active ranks' collectives."""

    def post_hook(self, is_last_joiner):
        """Runs once after every rank joined."""


class Joinable(ABC):
    """An object (DDP, ZeroRedundancyOptimizer) that can shadow collectives once joined."""

    def __init__(self):
        self._join_config = None

    @abstractmethod
    def join_hook(self, **kwargs):
        """The JoinHook for this object."""

    @property
    @abstractmethod
    def join_device(self):
        """Device of the join all-reduce."""

    @property
    @abstractmethod
    def join_process_group(self):
        """Process group of the join all-reduce."""


class Join:
    """Context manager: `with Join([ddp_model]): for batch in my_rank_batches: ...`.

    Each training iteration, every Joinable calls `Join.notify_join_context(self)`; the first
    Joinable of the active Join does the all-reduce that counts the ranks still training.
    """

    _active = []  # the Join contexts entered and not yet left (innermost last)

    def __init__(self, joinables, enable=True, throw_on_early_termination=False, **kwargs):
        if not joinables:
            raise ValueError("The join context manager requires at least one joinable")
        self._joinables = list(joinables)
        self._enable = enable
        self._throw = throw_on_early_termination
        self._kwargs = kwargs
        self._hooks = []
        self._group = self._joinables[0].join_process_group

    def __enter__(self):
        if self._enable:
            self._hooks = [j.join_hook(**self._kwargs) for j in self._joinables]
            Join._active.append(self)
        return self

    @staticmethod
    def notify_join_context(joinable):
        """Called by a Joinable once per iteration: the ranks still training, counted by the
        first Joinable of the active Join (None for the others and outside a Join)."""
        if not Join._active:
            return None
        join = Join._active[-1]
        if join._joinables[0] is not joinable:
            return None
        return join._count_active(1)

    def _count_active(self, value):
        count = Tensor._wrap(np.asarray([value], dtype=np.int64))
        collectives.all_reduce(count, group=self._group)
        return int(count._data[0])

    def __exit__(self, exc_type, exc, tb):
        if not self._enable:
            return False
        Join._active.remove(self)
        if exc_type is not None:
            return False
        if self._throw:
            raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing "
                               "across all ranks.")
        is_last = True
        while True:
            active = self._count_active(0)
            if active == 0:
                break
            is_last = False
            for hook in self._hooks:
                hook.main_hook()
        for hook in self._hooks:
            hook.post_hook(is_last)
        return False

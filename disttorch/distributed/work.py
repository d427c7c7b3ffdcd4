"""Work and Future: handles on collectives started with async_op=True.

A Work holds the MPI requests of a non-blocking operation and a `finish` step that runs once
they complete (copying a staged buffer back into a non-contiguous tensor, dividing for AVG,
narrowing float32 back to float16). MPI progresses non-blocking operations inside MPI calls,
so `is_completed()` tests the requests rather than reading a flag.
"""

import time

from .process_group import mpi


class Work:
    """torch.distributed.Work: wait(), is_completed(), result(), get_future()."""

    def __init__(self, requests, finish=None, outputs=(), source=None, statuses=None):
        self._requests = list(requests)
        self._statuses = statuses  # MPI.Status per request, filled in for receives
        self._finish = finish
        self._outputs = list(outputs)
        self._source = source  # callable giving the sender of a receive
        self._done = False
        if not self._requests:
            self._complete()

    def _complete(self):
        self._done = True
        finish, self._finish = self._finish, None
        if finish is not None:
            finish()

    def wait(self, timeout=None):
        """Block until the operation completed; True, like torch's."""
        if self._done:
            return True
        MPI = mpi()
        try:
            if timeout is None:
                MPI.Request.Waitall(self._requests, self._statuses)
            else:
                seconds = (timeout.total_seconds() if hasattr(timeout, "total_seconds")
                           else timeout)
                deadline = time.monotonic() + seconds
                while not MPI.Request.Testall(self._requests, self._statuses):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"Work.wait timed out after {seconds} s")
                    time.sleep(1e-4)
        except MPI.Exception as exc:
            raise RuntimeError(self._describe(exc)) from exc
        self._complete()
        return True

    def _describe(self, exc):
        """MPI's error, with the per-request one (e.g. a truncated receive) when it has it."""
        errors = [s.Get_error() for s in self._statuses or ()]
        codes = [e for e in errors if e != mpi().SUCCESS] or [exc.Get_error_code()]
        text = "; ".join(mpi().Get_error_string(code) for code in codes)
        if "TRUNCATE" in text:
            text += " (the message is larger than the receiving tensor)"
        return f"MPI error: {text}"

    synchronize = wait

    def is_completed(self):
        if not self._done and mpi().Request.Testall(self._requests, self._statuses):
            self._complete()
        return self._done

    def is_success(self):
        return self.is_completed()

    def exception(self):
        return None

    def result(self):
        """The output tensors (waiting first)."""
        self.wait()
        return list(self._outputs)

    def source_rank(self):
        """The global rank a receive got its message from."""
        self.wait()
        if self._source is None:
            raise RuntimeError("source_rank is only available for a receive")
        return self._source()

    _source_rank = source_rank

    def get_future(self):
        return Future(work=self)

    def __repr__(self):
        return f"<Work {'completed' if self._done else 'pending'}>"


class Future:
    """A small torch.futures.Future: a value that may come from a Work, and `then` chains."""

    def __init__(self, work=None, parent=None, callback=None):
        self._work = work
        self._parent = parent
        self._callback = callback
        self._has_value = False
        self._value = None

    def set_result(self, value):
        self._value, self._has_value = value, True

    def done(self):
        if self._has_value:
            return True
        if self._work is not None:
            return self._work.is_completed()
        if self._parent is not None:
            return self._parent.done()
        return False

    def wait(self):
        if not self._has_value:
            if self._work is not None:
                self.set_result(self._work.result())
            elif self._parent is not None:
                self._parent.wait()
                self.set_result(self._callback(self._parent))
            else:
                raise RuntimeError("Future.wait() on a future that has no value yet")
        return self._value

    def value(self):
        return self.wait()

    def then(self, callback):
        """A future whose value is callback(self), computed when it is waited on."""
        return Future(parent=self, callback=callback)

    def add_done_callback(self, callback):
        self.wait()
        callback(self)

"""CUDA streams and events (torch.cuda.Stream, Event, stream(), current_stream()).

A Stream wraps a CuPy stream; making it current (`with disttorch.cuda.stream(s):`) makes
CuPy, and so every disttorch op, launch its kernels there. Events time and order work
between streams; like torch's, an Event is created on the device only at its first record.
"""

from .. import _backend as B
from . import _utils

__all__ = ["Stream", "Event", "StreamContext", "stream", "current_stream", "default_stream",
           "set_stream"]


class Stream:
    """torch.cuda.Stream: an ordered queue of work on one device."""

    def __init__(self, device=None, priority=0, **kwargs):
        cp = _utils.cupy_or_none()
        if cp is None:
            raise RuntimeError("torch.cuda.Stream requires CUDA support")
        index = _utils.device_index(device, optional=True)
        with cp.cuda.Device(index):
            # torch's pool streams do not synchronise with the legacy default stream
            self._stream = cp.cuda.Stream(non_blocking=True, priority=priority)
        self._index = index
        self.priority = priority

    @classmethod
    def _of(cls, cupy_stream, index):
        s = object.__new__(cls)
        s._stream, s._index, s.priority = cupy_stream, index, 0
        return s

    @property
    def device(self):
        return B.device("cuda", self._index)

    @property
    def cuda_stream(self):
        return self._stream.ptr

    def query(self):
        """True when all work queued so far has finished."""
        return self._stream.done

    def synchronize(self):
        self._stream.synchronize()

    def wait_event(self, event):
        """Make later work on this stream wait for `event` (no host blocking)."""
        if event._event is not None:
            self._stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Make later work on this stream wait for what is queued on `stream` now."""
        self.wait_event(stream.record_event())

    def record_event(self, event=None):
        if event is None:
            event = Event()
        event.record(self)
        return event

    def __eq__(self, other):
        return (isinstance(other, Stream) and self._stream.ptr == other._stream.ptr
                and self._index == other._index)

    def __hash__(self):
        return hash((self._stream.ptr, self._index))

    def __repr__(self):
        return f"<torch.cuda.Stream device=cuda:{self._index} cuda_stream={self.cuda_stream:#x}>"


class Event:
    """torch.cuda.Event: a marker in a stream, to wait on or to time work between two."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if _utils.cupy_or_none() is None:
            raise RuntimeError("Tried to instantiate dummy base class Event")
        self.enable_timing = enable_timing
        self.blocking = blocking
        self.interprocess = interprocess
        self._event = None

    def record(self, stream=None):
        """Mark the point reached by the work queued on `stream` (the current one)."""
        if stream is None:
            stream = current_stream()
        cp = _utils.require_cupy()
        if self._event is None:
            with cp.cuda.Device(stream._index):
                self._event = cp.cuda.Event(block=self.blocking,
                                            disable_timing=not self.enable_timing,
                                            interprocess=self.interprocess)
        self._event.record(stream._stream)

    def wait(self, stream=None):
        (current_stream() if stream is None else stream).wait_event(self)

    def query(self):
        """True when the recorded work has finished (or nothing was recorded)."""
        return self._event is None or self._event.done

    def synchronize(self):
        """Block the host until the recorded work has finished."""
        if self._event is not None:
            self._event.synchronize()

    def elapsed_time(self, end_event):
        """Milliseconds between this event and `end_event`, both recorded and timed."""
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if self._event is None or end_event._event is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        cp = _utils.require_cupy()
        return cp.cuda.get_elapsed_time(self._event, end_event._event)

    @property
    def cuda_event(self):
        return 0 if self._event is None else self._event.ptr

    def __repr__(self):
        if self._event is None:
            return "<torch.cuda.Event uninitialized>"
        return f"<torch.cuda.Event {self._event.ptr:#x}>"


def current_stream(device=None):
    """The stream new work on `device` (default: the current one) goes to."""
    cp = _utils.require_cupy()
    index = _utils.device_index(device, optional=True)
    return Stream._of(cp.cuda.get_current_stream(index), index)


def default_stream(device=None):
    """The device's legacy default stream (cuda_stream 0), as torch's default stream."""
    cp = _utils.require_cupy()
    return Stream._of(cp.cuda.Stream.null, _utils.device_index(device, optional=True))


def set_stream(stream):
    """Make `stream` the current stream of its device (None does nothing)."""
    if stream is None:
        return
    cp = _utils.require_cupy()
    with cp.cuda.Device(stream._index):
        stream._stream.use()


class StreamContext:
    """Within the block, work on the stream's device goes to the stream (torch's stream())."""

    def __init__(self, stream):
        self.stream = stream
        self._previous = None

    def __enter__(self):
        if self.stream is None:
            return None
        cp = _utils.require_cupy()
        self._device = cp.cuda.Device(self.stream._index)
        self._device.__enter__()
        self._previous = cp.cuda.get_current_stream()
        self.stream._stream.use()
        return self.stream

    def __exit__(self, *exc):
        if self.stream is None:
            return False
        self._previous.use()
        self._device.__exit__(*exc)
        return False


def stream(stream):
    """Context manager making `stream` current (torch.cuda.stream)."""
    return StreamContext(stream)

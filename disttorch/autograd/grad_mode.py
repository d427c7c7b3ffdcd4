"""Grad modes: no_grad, enable_grad, set_grad_enabled and inference_mode.

The state is one attribute of one object so that the hot path (`Function.apply`) reads it
with a single attribute lookup. Each mode works as a context manager and as a decorator.
"""

import functools


class _GradState:
    __slots__ = ("enabled", "inference")

    def __init__(self):
        self.enabled = True
        self.inference = False


state = _GradState()


def is_grad_enabled():
    return state.enabled


def is_inference_mode_enabled():
    return state.inference


class _Mode:
    """Base of the grad-mode context managers; subclasses say what to set on entry."""

    def _enter_state(self):
        raise TypeError("use one of no_grad, enable_grad, set_grad_enabled, inference_mode")

    def __enter__(self):
        self._saved = (state.enabled, state.inference)
        self._enter_state()
        return None

    def __exit__(self, *exc):
        state.enabled, state.inference = self._saved
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_Mode):
    def _enter_state(self):
        state.enabled = False


class enable_grad(_Mode):
    def _enter_state(self):
        state.enabled = True


class set_grad_enabled(_Mode):
    """Sets grad mode at construction (like torch), and restores it on exit."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'mode' must be bool, not "
                            f"{type(mode).__name__}")
        self._saved = (state.enabled, state.inference)
        self.mode = mode
        state.enabled = mode

    def _enter_state(self):
        state.enabled = self.mode

    def __enter__(self):
        if not hasattr(self, "_saved"):
            self._saved = (state.enabled, state.inference)
        self._enter_state()

    def clone(self):
        return set_grad_enabled.__new__(set_grad_enabled)._init_only(self.mode)

    def _init_only(self, mode):
        self.mode = mode
        return self

    def __call__(self, fn):
        state.enabled, state.inference = self._saved
        return _Mode.__call__(self, fn)


class inference_mode(_Mode):
    def __init__(self, mode=True):
        self.mode = mode

    def _enter_state(self):
        if self.mode:
            state.enabled = False
            state.inference = True

    def clone(self):
        return inference_mode(self.mode)

    def __call__(self, fn):
        if isinstance(fn, bool):  # inference_mode(False) used as a decorator factory
            return inference_mode(fn)
        return _Mode.__call__(self, fn)

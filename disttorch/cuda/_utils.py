"""What the parts of disttorch.cuda share: the lazy CuPy handle and device-index parsing.

CuPy comes from `_backend.cupy_module()` only when a function here is called, never at
`import disttorch`, so a machine without CUDA imports and runs disttorch on the CPU.
"""

import warnings

from .. import _backend as B

NOT_COMPILED = "Torch not compiled with CUDA enabled"

# callbacks run once, with the cupy module, the first time CUDA is found to work
# (disttorch.cuda.memory registers its peak tracker here)
_first_use_hooks = []
_first_use_done = False


def cupy_or_none():
    """The cupy module when a CUDA device works, else None; never raises."""
    global _first_use_done
    cp = B.cupy_module()
    if cp is not None and not _first_use_done:
        _first_use_done = True
        for hook in _first_use_hooks:
            try:
                hook(cp)
            except Exception as e:  # noqa: BLE001 - a statistic must not make CUDA unusable
                warnings.warn(f"disttorch.cuda: {hook.__module__} could not start: {e!r}",
                              RuntimeWarning, stacklevel=2)
    return cp


def require_cupy():
    """The cupy module, or torch's AssertionError when CUDA cannot be used."""
    cp = cupy_or_none()
    if cp is None:
        raise AssertionError(NOT_COMPILED)
    return cp


def device_count():
    cp = cupy_or_none()
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def current_index():
    """The current CUDA device's index, or -1 without CUDA."""
    cp = cupy_or_none()
    return -1 if cp is None else cp.cuda.runtime.getDevice()


def device_index(device, optional=False):
    """torch.cuda's reading of a device argument (int, str, device) as an index.

    With `optional`, an argument without an index (None, 'cuda') means the current device.
    A negative result means 'no device' to the callers that accept it.
    """
    if isinstance(device, str):
        device = B.device(device)
    if isinstance(device, B.device):
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
        return _or_current(device.index, optional, device)
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    index = getattr(device, "idx", None)  # a disttorch.cuda.device context object
    if isinstance(index, int):
        return index
    return _or_current(None, optional, device)


def _or_current(index, optional, device):
    if index is not None:
        return index
    if not optional:
        raise ValueError(f"Expected a torch.device with a specified index or an integer, but "
                         f"got:{device}")
    return current_index()


def checked_index(device, optional=True):
    """A device argument as the index of an existing GPU, with torch's "Invalid device id"."""
    require_cupy()
    index = device_index(device, optional)
    if index < 0 or index >= device_count():
        raise AssertionError("Invalid device id")
    return index

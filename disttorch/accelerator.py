"""torch.accelerator: the device-generic API that current PyTorch scripts use to pick a device.

disttorch's only accelerator is CUDA (through CuPy), so every call goes to disttorch.cuda;
without one, the calls behave as torch's do on a CPU-only install.
"""

from . import _backend as B
from . import cuda

_NO_DEVICE = "Cannot access accelerator device when none is available."


def is_available():
    return cuda.is_available()


def device_count():
    return cuda.device_count() if cuda.is_available() else 0


def current_accelerator(check_available=False):
    """device('cuda') when an accelerator is there, else None."""
    if not cuda.is_available():
        return None
    return B.device("cuda")


def _require():
    if not cuda.is_available():
        raise RuntimeError(_NO_DEVICE)


def current_device_index():
    _require()
    return cuda.current_device()


def set_device_index(device):
    _require()
    cuda.set_device(device)


def synchronize(device=None):
    _require()
    cuda.synchronize(device)


def empty_cache():
    if cuda.is_available():
        cuda.empty_cache()


def memory_allocated(device_index=None):
    _require()
    return cuda.memory_allocated(device_index)


def max_memory_allocated(device_index=None):
    _require()
    return cuda.max_memory_allocated(device_index)


current_device_idx = current_device_index
set_device_idx = set_device_index

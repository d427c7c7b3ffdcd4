"""disttorch.cuda: torch.cuda's device management on CuPy.

Nothing here imports CuPy when disttorch is imported: each function asks the backend for it
when called, so on a machine without CuPy, a driver or a GPU, `is_available()` is False and
the functions that need a device raise torch's errors. Device indices, the current device
and streams are CUDA's own (per host thread), shared with the CuPy arrays behind tensors.
"""

from . import _utils
from .memory import (empty_cache, max_memory_allocated, max_memory_reserved, mem_get_info,
                     memory_allocated, memory_reserved, reset_peak_memory_stats)
from .random import (get_rng_state, get_rng_state_all, initial_seed, manual_seed,
                     manual_seed_all, seed, seed_all, set_rng_state, set_rng_state_all)
from .streams import (Event, Stream, StreamContext, current_stream, default_stream, set_stream,
                      stream)

__all__ = ["is_available", "is_initialized", "init", "device_count", "current_device",
           "set_device", "device", "device_of", "synchronize", "get_device_name",
           "get_device_capability", "get_device_properties", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "empty_cache", "mem_get_info", "manual_seed",
           "manual_seed_all", "seed", "seed_all", "initial_seed", "get_rng_state",
           "set_rng_state", "get_rng_state_all", "set_rng_state_all", "Event", "Stream",
           "StreamContext", "stream", "current_stream", "default_stream", "set_stream"]

_initialized = False


def is_available():
    """True when CuPy is installed and finds a working CUDA device; never raises."""
    return _utils.cupy_or_none() is not None


def device_count():
    """The number of visible GPUs (0 without CUDA)."""
    return _utils.device_count()


def init():
    """Initialise CUDA now rather than at the first use of a GPU."""
    global _initialized
    cp = _utils.require_cupy()
    cp.cuda.runtime.free(0)  # cudaFree(NULL) makes the device's context exist
    _initialized = True


def is_initialized():
    """Whether CUDA has been initialised in this process (by init() or a GPU tensor)."""
    if _initialized:
        return True
    cp = _utils.cupy_or_none()
    return cp is not None and cp.cuda.driver.ctxGetCurrent() != 0


def current_device():
    """The index of the current GPU."""
    return _utils.require_cupy().cuda.runtime.getDevice()


def set_device(device):
    """Make `device` (an index, 'cuda:N' or a device) current; a negative index does nothing."""
    index = _utils.device_index(device)
    if index < 0:
        return
    cp = _utils.require_cupy()
    _check_ordinal(index)
    cp.cuda.runtime.setDevice(index)


def _check_ordinal(index):
    if index >= _utils.device_count():
        raise RuntimeError("CUDA error: invalid device ordinal\nCUDA kernel errors might be "
                           "asynchronously reported at some other API call, so the stacktrace "
                           "below might be incorrect.\nFor debugging consider passing "
                           "CUDA_LAUNCH_BLOCKING=1\nCompile with `TORCH_USE_CUDA_DSA` to "
                           "enable device-side assertions.\n")


class device:
    """Context manager that makes a GPU current inside the block (torch.cuda.device).

    A negative index or None does nothing, so code can be written once for CPU and GPU.
    """

    def __init__(self, device):
        self.idx = -1 if device is None else _utils.device_index(device, optional=True)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx < 0:
            return
        cp = _utils.cupy_or_none()
        if cp is None:
            raise RuntimeError("PyTorch was compiled without CUDA support")
        self.prev_idx = cp.cuda.runtime.getDevice()
        if self.prev_idx != self.idx:
            _check_ordinal(self.idx)
            cp.cuda.runtime.setDevice(self.idx)

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            _utils.require_cupy().cuda.runtime.setDevice(self.prev_idx)
        return False


_device_context = device  # synchronize's argument is named `device` too


class device_of(device):
    """Context manager that makes the GPU of a tensor current (no-op for a CPU tensor)."""

    def __init__(self, obj):
        super().__init__(obj.get_device() if obj.is_cuda else -1)


def synchronize(device=None):
    """Wait until all work queued on a GPU (default: the current one) has finished."""
    cp = _utils.require_cupy()
    with _device_context(device):
        cp.cuda.runtime.deviceSynchronize()


def get_device_properties(device=None):
    """Name, compute capability, memory and multiprocessor count of a GPU."""
    index = _utils.checked_index(device)
    return _DeviceProperties(_utils.require_cupy().cuda.runtime.getDeviceProperties(index))


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    props = get_device_properties(device)
    return props.major, props.minor


class _DeviceProperties:
    """What torch.cuda.get_device_properties returns (_CudaDeviceProperties)."""

    def __init__(self, raw):
        name = raw["name"]
        self.name = name.decode() if isinstance(name, bytes) else name
        self.major = raw["major"]
        self.minor = raw["minor"]
        self.total_memory = raw["totalGlobalMem"]
        self.multi_processor_count = raw["multiProcessorCount"]
        self.L2_cache_size = raw["l2CacheSize"]
        self.is_integrated = raw["integrated"]
        self.is_multi_gpu_board = raw["isMultiGpuBoard"]
        self.max_threads_per_multi_processor = raw["maxThreadsPerMultiProcessor"]
        self.warp_size = raw["warpSize"]

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // 2 ** 20}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // 2 ** 20}MB)")


def __getattr__(name):
    # default_generators would need CuPy at import time; it is built on first access
    if name == "default_generators":
        from .random import default_generators

        return default_generators()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


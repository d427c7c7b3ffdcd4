"""CUDA memory statistics (torch.cuda.memory_allocated ...) from CuPy's memory pool.

Allocated bytes are the pool's blocks in use and reserved bytes all it holds on the device,
which is what torch's caching allocator reports. CuPy keeps no peaks, so a memory hook
follows every pool allocation and release: the peak can only be reached right after an
allocation, and the running count is re-read from the pool whenever it is asked for (a
release on a thread without the hook would otherwise leave it too high).
"""

from . import _utils

__all__ = ["memory_allocated", "max_memory_allocated", "memory_reserved", "max_memory_reserved",
           "reset_peak_memory_stats", "empty_cache", "mem_get_info"]


class _PeakTracker:
    """Per-device running totals and peaks, fed by a CuPy memory hook."""

    def __init__(self):
        self.allocated = {}
        self.peak_allocated = {}
        self.peak_reserved = {}

    def on_malloc(self, device_id, mem_size):
        now = self.allocated.get(device_id, 0) + mem_size
        self.allocated[device_id] = now
        if now > self.peak_allocated.get(device_id, 0):
            self.peak_allocated[device_id] = now

    def on_free(self, device_id, mem_size):
        self.allocated[device_id] = self.allocated.get(device_id, 0) - mem_size

    def on_reserve(self, device_id, reserved):
        if reserved > self.peak_reserved.get(device_id, 0):
            self.peak_reserved[device_id] = reserved


_tracker = _PeakTracker()


def _install_hook(cp):
    """Start following the default pool (run once, when CUDA is first found to work)."""
    pool = cp.get_default_memory_pool()

    class Hook(cp.cuda.MemoryHook):
        name = "disttorch_peak_tracker"

        def malloc_postprocess(self, device_id, size, mem_size, mem_ptr, pmem_id):
            if mem_ptr:
                _tracker.on_malloc(device_id, mem_size)

        def free_postprocess(self, device_id, mem_size, mem_ptr, pmem_id):
            _tracker.on_free(device_id, mem_size)

        def alloc_postprocess(self, device_id, mem_size, mem_ptr):
            if mem_ptr:
                _tracker.on_reserve(device_id, pool.total_bytes())

    Hook().__enter__()  # stays installed for the life of the process


_utils._first_use_hooks.append(_install_hook)


def _pool_stat(device, read):
    """`read(pool)` for a device's default CuPy pool (0 while CUDA is unavailable)."""
    cp = _utils.cupy_or_none()
    if cp is None:
        return None, 0
    index = _utils.device_index(device, optional=True)
    if index < 0 or index >= _utils.device_count():
        raise RuntimeError(f"Invalid device argument {index}: did you call init?")
    pool = cp.get_default_memory_pool()
    if index == cp.cuda.runtime.getDevice():
        return index, read(pool)
    with cp.cuda.Device(index):
        return index, read(pool)


def _allocated(device):
    """The bytes in use on a device, resynchronising the tracker's running count."""
    index, used = _pool_stat(device, lambda pool: pool.used_bytes())
    if index is not None:
        _tracker.allocated[index] = used
    return index, used


def memory_allocated(device=None):
    """Bytes of device memory occupied by tensors (CuPy's pool blocks in use)."""
    return _allocated(device)[1]


def max_memory_allocated(device=None):
    """The peak of memory_allocated since the start or the last reset_peak_memory_stats."""
    index, used = _allocated(device)
    if index is None:
        return 0
    return max(used, _tracker.peak_allocated.get(index, 0))


def memory_reserved(device=None):
    """Bytes of device memory held by CuPy's pool, in use or cached."""
    return _pool_stat(device, lambda pool: pool.total_bytes())[1]


def max_memory_reserved(device=None):
    index, reserved = _pool_stat(device, lambda pool: pool.total_bytes())
    if index is None:
        return 0
    return max(reserved, _tracker.peak_reserved.get(index, 0))


def reset_peak_memory_stats(device=None):
    """Start both peaks again from the current allocated and reserved bytes."""
    _utils.device_index(device, optional=True)  # torch's ValueError for a cpu device comes first
    _utils.require_cupy()
    index, used = _allocated(device)
    _tracker.peak_allocated[index] = used
    _tracker.peak_reserved[index] = memory_reserved(index)


def empty_cache():
    """Return the pool's unused cached blocks to the device (no-op without CUDA)."""
    cp = _utils.cupy_or_none()
    if cp is None:
        return
    pool = cp.get_default_memory_pool()
    current = cp.cuda.runtime.getDevice()
    # visit only the devices the pool has used, so that no new CUDA context is created
    for index in set(_tracker.peak_reserved) | {current}:
        with cp.cuda.Device(index):
            pool.free_all_blocks()


def mem_get_info(device=None):
    """(free, total) bytes of device memory as the driver reports them."""
    index = _utils.checked_index(device)
    cp = _utils.require_cupy()
    with cp.cuda.Device(index):
        return cp.cuda.runtime.memGetInfo()

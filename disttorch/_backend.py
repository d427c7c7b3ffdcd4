"""The one place that chooses between NumPy and CuPy: devices, dtypes and type promotion.

Everything else asks this module for the array module of a device or of an array
(`get_array_module`) and never imports cupy itself. CuPy is imported lazily, the first
time a CUDA device is asked for, so `import disttorch` works on machines without it.
"""

import os

import numpy as np

try:  # bfloat16 is a NumPy extension type provided by ml_dtypes
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    _ml_dtypes = None

_cupy = None
_cupy_checked = False


def _tune_host_allocator():
    """Keep freed host memory for reuse instead of handing it back to the OS every step.

    Training frees and reallocates the same large arrays (gradients, activations, optimizer
    temporaries) every iteration; with glibc's defaults each big one is a fresh mmap whose
    pages fault in again, which cost an MLP train step ~30%. torch avoids it with its own
    caching allocator; NumPy uses malloc, so we raise glibc's thresholds once (what
    MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ would do). Skipped off glibc, when the user
    set those variables, or with DISTTORCH_MALLOC_TUNING=0.
    """
    if os.environ.get("DISTTORCH_MALLOC_TUNING", "1") == "0":
        return
    if any(k.startswith("MALLOC_") for k in os.environ):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows)
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's maximum on 64-bit
    mallopt(m_trim_threshold, 256 * 1024 * 1024)


_tune_host_allocator()


def cupy_module():
    """Return the cupy module when it is installed and a CUDA device works, else None."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no cupy, no driver or no device: CPU only
            _cupy = None
    return _cupy


def get_array_module(*arrays):
    """numpy, or cupy when any argument is a cupy array."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


# ----------------------------------------------------------------------------- devices


class device:
    """torch.device: a type ('cpu' or 'cuda') and an optional index."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError("device() received an invalid combination of arguments - got "
                            f"({type!r})")
        if ":" in type:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was "
                                   f"passed explicitly: {type}")
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in ("cpu", "cuda"):
            raise RuntimeError(
                "Expected one of cpu, cuda device type at start of device string: " + type)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = type, index

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))


CPU = device("cpu")


def as_device(dev):
    """Normalise a device argument (None, str, int or device) to a device or None."""
    if dev is None or isinstance(dev, device):
        return dev
    return device(dev)


def device_of(array):
    """The device an ndarray lives on."""
    if type(array) is np.ndarray or _cupy is None or not isinstance(array, _cupy.ndarray):
        return CPU
    return device("cuda", array.device.id)


def array_module_for(dev):
    """numpy for the CPU, cupy for CUDA (raising torch's error when CUDA is unavailable)."""
    if dev is None or dev.type == "cpu":
        return np
    cp = cupy_module()
    if cp is None:
        raise AssertionError("Torch not compiled with CUDA enabled")
    return cp


def move_array(array, dev):
    """Copy an array to a device (no copy when it is already there)."""
    if dev is None:
        return array
    if dev.type == "cpu":
        if isinstance(array, np.ndarray):
            return array
        return array.get()
    cp = array_module_for(dev)
    index = 0 if dev.index is None else dev.index
    if isinstance(array, cp.ndarray) and array.device.id == index:
        return array
    with cp.cuda.Device(index):
        return cp.asarray(array)


# ----------------------------------------------------------------------------- dtypes


class dtype:
    """torch.dtype: a name, its NumPy dtype and its category (bool, int or float)."""

    __slots__ = ("name", "np", "category", "itemsize", "is_floating_point", "is_signed",
                 "_rank")

    def __init__(self, name, np_dtype, category, rank):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integral, 2 floating
        self.itemsize = self.np.itemsize
        self.is_floating_point = category == 2
        self.is_signed = name not in ("bool", "uint8")
        self._rank = rank

    @property
    def is_complex(self):
        return False

    def to_real(self):
        return self

    def __repr__(self):
        return "torch." + self.name

    __str__ = __repr__

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _dtype_by_name(name):
    return DTYPES[name]


bool_ = dtype("bool", np.bool_, 0, 0)
uint8 = dtype("uint8", np.uint8, 1, 1)
int8 = dtype("int8", np.int8, 1, 1)
int16 = dtype("int16", np.int16, 1, 2)
int32 = dtype("int32", np.int32, 1, 3)
int64 = dtype("int64", np.int64, 1, 4)
float16 = dtype("float16", np.float16, 2, 5)
float32 = dtype("float32", np.float32, 2, 6)
float64 = dtype("float64", np.float64, 2, 7)
ALL = [bool_, uint8, int8, int16, int32, int64, float16, float32, float64]
if _ml_dtypes is not None:
    bfloat16 = dtype("bfloat16", _ml_dtypes.bfloat16, 2, 5)
    ALL.append(bfloat16)

DTYPES = {d.name: d for d in ALL}
_FROM_NP = {d.np: d for d in ALL}


def from_numpy_dtype(np_dtype):
    """The disttorch dtype of a NumPy dtype; raises TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    np_dtype = np.dtype(np_dtype)
    if np_dtype in _FROM_NP:
        return _FROM_NP[np_dtype]
    # platform aliases (e.g. 'long' on Windows) and other widths map by kind and size
    for d in ALL:
        if d.np.kind == np_dtype.kind and d.np.itemsize == np_dtype.itemsize:
            return d
    raise TypeError(
        f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
        "float64, float32, float16, bfloat16, int64, int32, int16, int8, uint8, and bool.")


_default_float = float32


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def _promote_pair(a, b):
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == 1:
        # uint8 with a signed type needs the next signed width that holds both
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a._rank > b._rank else b
    if a.category == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a._rank > b._rank else b
    return a


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a, b):
    return _PROMOTE[(a, b)]


def _combine(higher, lower):
    """torch's rule for merging a higher-priority result with a lower-priority one."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == 2:
        return higher
    if higher is bool_ or lower.category == 2:
        return _PROMOTE[(higher, lower)]
    return higher


def scalar_dtype(value):
    """The dtype a Python scalar takes as a 'wrapped number' (torch's weak scalar)."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def result_type_of(dims, zeros, wrapped):
    """Promote three groups (dtypes of tensors with dims, 0-dim tensors, Python scalars)."""
    def fold(group):
        out = None
        for d in group:
            out = d if out is None else _PROMOTE[(out, d)]
        return out

    return _combine(fold(dims), _combine(fold(zeros), fold(wrapped)))


def can_cast(from_, to):
    """torch.can_cast: same-kind casting (no float to int, no int or float to bool)."""
    return from_.category <= to.category

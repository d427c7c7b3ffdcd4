"""save / load: checkpoints as a zip archive holding one pickle and the arrays' raw bytes.

Layout of an archive (format version 1):

    archive/data.pkl        the object, pickled; each tensor and NumPy array in it is a
                            persistent-id record pointing into a storage
    archive/storages.json   per storage: dtype, number of bytes, first byte in the original
    archive/data/<key>      a storage's raw bytes
    archive/byteorder       'little' or 'big'
    archive/version         '1'

Arrays that view the same memory (a tensor and its views) share one storage, holding just
the span of memory they cover, and load as views of one array again. `load` unpickles with
a restricted Unpickler by default (weights_only=True): only containers, numbers, strings,
dtypes, devices, sizes and the array records can come out of a file, so loading never runs
code that the file names. `save` to a path is atomic: the archive is written to a temporary
file in the same directory, flushed to disk, then renamed over the target.
"""

import _codecs
import _compat_pickle
import collections
import contextlib
import importlib
import io
import json
import os
import pickle
import re
import stat
import sys
import zipfile

import numpy as np

from . import _backend as B
from ._tensor import Size, Tensor, TypedStorage

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals",
           "safe_globals", "DEFAULT_PROTOCOL"]

DEFAULT_PROTOCOL = 2  # torch's default pickle protocol for save
_FORMAT_VERSION = "1"
_PREFIX = "archive/"
_ZIP64_LIMIT = (1 << 31) - 1


# ---------------------------------------------------------------- dtypes in records


def _dtype_spec(np_dtype):
    """A string naming np_dtype in a record, or None when arrays of it are pickled normally."""
    dtype = B._FROM_NP.get(np_dtype)
    if dtype is not None:
        return dtype.name
    if np_dtype.kind in "biufcmM":
        return np_dtype.str
    return None


def _dtype_from_spec(spec):
    if spec in B.DTYPES:
        return B.DTYPES[spec].np
    np_dtype = np.dtype(str(spec))  # plain strings like '<u2'; never an object dtype
    if np_dtype.kind not in "biufcmM":
        raise pickle.UnpicklingError(f"invalid array dtype {spec!r} in checkpoint")
    return np_dtype


# ---------------------------------------------------------------- saving


def _root_array(a):
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _address(a):
    return a.__array_interface__["data"][0]


def _byte_extent(a, start):
    """[low, high) bytes an array touches, relative to the position start of its element 0."""
    low = high = start
    for size, stride in zip(a.shape, a.strides):
        reach = (size - 1) * stride
        if reach < 0:
            low += reach
        else:
            high += reach
    return low, high + a.itemsize


class _StorageTable:
    """The memory blocks that the saved arrays view, each saved once, over its used span."""

    def __init__(self):
        self.roots = {}  # key -> root array
        self.spans = {}  # key -> [low, high) bytes used within the root
        self._keys = {}  # id(root) -> key (each root is kept alive in self.roots)

    def place(self, array):
        """(storage key, byte offset of element 0 in the storage's root, the array as stored:
        itself, or a contiguous copy where its memory cannot be described as one block)."""
        root = _root_array(array)
        start = low = high = None
        if root.flags.c_contiguous or root.flags.f_contiguous:
            start = _address(array) - _address(root)
            low, high = _byte_extent(array, start)
        if start is None or _dtype_spec(root.dtype) is None or low < 0 or high > root.nbytes:
            array = root = np.ascontiguousarray(array)
            start, low, high = 0, 0, root.nbytes
        key = self._keys.get(id(root))
        if key is None:
            key = self._keys[id(root)] = len(self.roots)
            self.roots[key] = root
            self.spans[key] = [low, high]
        else:
            span = self.spans[key]
            span[0], span[1] = min(span[0], low), max(span[1], high)
        return key, start, array

    def describe(self):
        """What load needs to rebuild each storage (written as storages.json)."""
        table = {}
        for key, root in self.roots.items():
            low, high = self.spans[key]
            itemsize = root.itemsize
            typed = low % itemsize == 0 and high % itemsize == 0
            spec = _dtype_spec(root.dtype) if typed else "uint8"
            table[str(key)] = {"dtype": spec, "nbytes": high - low, "start": low}
        return table

    def span_bytes(self, key):
        root = self.roots[key]
        low, high = self.spans[key]
        flat = root.reshape(-1, order="A" if root.flags.f_contiguous else "C")
        return flat.view(np.uint8)[low:high]


def _make_pickler(pickle_module, storages):
    class _Pickler(pickle_module.Pickler):
        # pickle does not memoize objects given persistent ids: number them here, so that an
        # array saved twice loads as one object, as a pickled object would
        numbers = {}
        kept = []  # the numbered objects, alive so that their ids stay unique

        def persistent_id(self, obj):
            if isinstance(obj, Tensor):
                data = obj._data
                record = ("tensor", _class_path(type(obj)), _array_record(storages, data),
                          B._FROM_NP[data.dtype].name, obj.requires_grad,
                          str(B.device_of(data)))
            elif type(obj) is np.ndarray and _dtype_spec(obj.dtype) is not None:
                record = ("ndarray", _array_record(storages, obj), _dtype_spec(obj.dtype))
            elif isinstance(obj, np.generic) and _dtype_spec(obj.dtype) is not None:
                return ("npscalar", _dtype_spec(obj.dtype), obj.tobytes())
            else:
                return None
            number = self.numbers.setdefault(id(obj), len(self.numbers))
            if number == len(self.kept):
                self.kept.append(obj)
            return (record[0], number) + record[1:]

    return _Pickler


def _class_path(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def _array_record(storages, array):
    """(storage key, byte offset, shape, byte strides); key None for an empty array."""
    if array.size == 0:
        return (None, 0, array.shape, ())
    if not isinstance(array, np.ndarray):
        array = B.move_array(array, B.CPU)  # device memory is saved through a host copy
    key, start, stored = storages.place(array)
    return (key, start, stored.shape, stored.strides)


def _write_archive(obj, out, pickle_module, pickle_protocol, record_byteorder=True):
    storages = _StorageTable()
    buffer = io.BytesIO()
    _make_pickler(pickle_module, storages)(buffer, protocol=pickle_protocol).dump(obj)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(_PREFIX + "data.pkl", buffer.getbuffer())
        archive.writestr(_PREFIX + "storages.json", json.dumps(storages.describe()))
        if record_byteorder:
            archive.writestr(_PREFIX + "byteorder", sys.byteorder)
        archive.writestr(_PREFIX + "version", _FORMAT_VERSION)
        for key in storages.roots:
            data = storages.span_bytes(key)
            with archive.open(f"{_PREFIX}data/{key}", "w",
                              force_zip64=data.nbytes > _ZIP64_LIMIT) as entry:
                entry.write(data.data)


def _temporary_beside(path):
    """Create and open a new file next to path (so that renaming it over path is atomic)."""
    directory, name = os.path.split(path)
    for _ in range(100):
        candidate = os.path.join(directory, f".{name}.{os.urandom(4).hex()}.tmp")
        try:
            # mode 0o666 lets the umask decide the final permissions, as for a plain open()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            return candidate, os.open(candidate, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {path}")


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization=True, _disable_byteorder_record=False):
    """Save obj (tensors, state_dicts, nested containers, ...) to a path or binary file.

    Saving to a path never leaves a truncated file there: if anything fails, the previous
    file at that path is untouched. `_use_new_zipfile_serialization` is accepted for
    torch's signature; there is one format, a zip archive.
    """
    write_args = (pickle_module, pickle_protocol, not _disable_byteorder_record)
    if not isinstance(f, (str, os.PathLike)):
        _write_archive(obj, f, *write_args)
        return
    path = os.fspath(f)
    if os.path.islink(path):
        path = os.path.realpath(path)  # replace the file the link points to, not the link
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {os.path.dirname(path)} does not exist.")
    temporary, fd = _temporary_beside(path)
    try:
        with contextlib.suppress(FileNotFoundError):  # a replaced file keeps its permissions
            os.chmod(fd, stat.S_IMODE(os.stat(path).st_mode))
        with os.fdopen(fd, "wb") as out:
            _write_archive(obj, out, *write_args)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable, where supported
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# ---------------------------------------------------------------- the weights-only allowlist

_SAFE_BUILTINS = {
    **{("builtins", t.__name__): t for t in (list, dict, tuple, set, frozenset, int, float,
                                             bool, complex, str, bytes, bytearray, slice,
                                             range)},
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "Counter"): collections.Counter,
    # protocol 2 writes bytes as _codecs.encode(text, 'latin1')
    ("_codecs", "encode"): _codecs.encode,
    ("disttorch._backend", "_dtype_by_name"): B._dtype_by_name,
    ("disttorch._backend", "device"): B.device,
    ("disttorch._tensor", "Size"): Size,
}

_user_safe_globals = []

_DISTTORCH_MODULE = re.compile(r"disttorch(\.[A-Za-z_][A-Za-z0-9_]*)*")


def add_safe_globals(safe_globals):
    """Allow these classes/functions (or (obj, "module.name") pairs) in weights_only loads."""
    _user_safe_globals.extend(safe_globals)


def clear_safe_globals():
    _user_safe_globals.clear()


def get_safe_globals():
    return list(_user_safe_globals)


class safe_globals:
    """Context manager: the given globals are allowed in weights_only loads inside it."""

    def __init__(self, safe_globals):
        self.safe_globals = safe_globals

    def __enter__(self):
        self._saved = list(_user_safe_globals)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc):
        _user_safe_globals[:] = self._saved


def _user_safe_global(module, name):
    wanted = f"{module}.{name}"
    for entry in _user_safe_globals:
        obj, path = entry if isinstance(entry, tuple) else (entry, None)
        if path is None:
            path = f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
        if path == wanted:
            return obj
    return None


def _weights_only_error(detail):
    return pickle.UnpicklingError(
        "Weights only load failed. Re-running `disttorch.load` with `weights_only` set to "
        "`False` will likely succeed, but it can result in arbitrary code execution. Do it "
        "only if you got the file from a trusted source.\n\tWeightsUnpickler error: " + detail)


# ---------------------------------------------------------------- loading


def _target_device(map_location, location, storage):
    """The device an array saved at `location` goes to, per torch's map_location rules."""
    if map_location is None:
        target = location
    elif isinstance(map_location, (str, B.device)):
        target = map_location
    elif isinstance(map_location, dict):
        target = map_location.get(location, location)
    elif callable(map_location):
        moved = map_location(storage, location)
        target = location if moved is None else moved.device
    else:
        raise ValueError(f"map_location should be a str, a device, a dict or a callable, "
                         f"but got {type(map_location).__name__}")
    target = B.as_device(target)
    if target.type == "cuda" and B.cupy_module() is None:
        raise RuntimeError("Attempting to deserialize object on a CUDA device but "
                           "disttorch.cuda.is_available() is False. If you are running on a "
                           "CPU-only machine, please use disttorch.load with "
                           "map_location=torch.device('cpu') to map your storages to the CPU.")
    return target


class _ArchiveReader:
    """Reads storages out of an archive on first use, then builds arrays viewing them."""

    def __init__(self, archive):
        self.archive = archive
        names = set(archive.namelist())
        for required in ("data.pkl", "storages.json", "version"):
            if _PREFIX + required not in names:
                raise RuntimeError("not a checkpoint written by disttorch.save (its archive "
                                   f"has no {_PREFIX}{required})")
        version = archive.read(_PREFIX + "version").decode().strip()
        if version != _FORMAT_VERSION:
            raise RuntimeError(f"checkpoint format version {version} is not supported "
                               f"(this disttorch reads version {_FORMAT_VERSION})")
        self.table = json.loads(archive.read(_PREFIX + "storages.json"))
        byteorder = _PREFIX + "byteorder"
        self.swap = byteorder in names and archive.read(byteorder).decode() != sys.byteorder
        self.roots = {}

    def storage(self, key):
        root = self.roots.get(key)
        if root is not None:
            return root
        info = self.table[str(key)]
        np_dtype = _dtype_from_spec(info["dtype"])
        root = np.empty(info["nbytes"] // np_dtype.itemsize, dtype=np_dtype)
        target = memoryview(root.view(np.uint8))
        with self.archive.open(f"{_PREFIX}data/{key}") as entry:
            filled = 0
            while filled < len(target):
                count = entry.readinto(target[filled:])
                if not count:
                    raise RuntimeError(f"checkpoint storage {key} is truncated")
                filled += count
        if self.swap and np_dtype.itemsize > 1:
            root.byteswap(inplace=True)
        self.roots[key] = root
        return root

    def array(self, record, np_dtype):
        key, start, shape, strides = record
        if key is None:
            return np.empty(shape, dtype=np_dtype)
        root = self.storage(key)
        offset = start - self.table[str(key)]["start"]
        return np.ndarray(tuple(shape), np_dtype, buffer=root, offset=offset,
                          strides=tuple(strides))


def _make_unpickler(base, reader, map_location, weights_only):
    loaded = {}  # object number -> the array or tensor already built for it

    def persistent_load(self, pid):
        kind = pid[0] if isinstance(pid, tuple) and pid else None
        if kind == "npscalar":
            _, spec, raw = pid
            return np.frombuffer(raw, dtype=_dtype_from_spec(spec))[0]
        if kind not in ("tensor", "ndarray"):
            raise pickle.UnpicklingError(f"unknown record in checkpoint: {pid!r:.80}")
        number = pid[1]
        if number not in loaded:
            loaded[number] = (self._tensor(*pid[2:]) if kind == "tensor" else
                              reader.array(pid[2], _dtype_from_spec(pid[3])))
        return loaded[number]

    def tensor(self, cls_path, record, dtype_name, requires_grad, location):
        cls = self._tensor_class(cls_path)
        dtype = B.DTYPES[dtype_name]
        array = reader.array(record, dtype.np)
        device = _target_device(map_location, location, TypedStorage(array, dtype))
        t = Tensor._wrap(B.move_array(array, device))
        if cls is not Tensor:
            t = t.as_subclass(cls)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def tensor_class(self, path):
        module, _, name = path.rpartition(".")
        if not weights_only or _DISTTORCH_MODULE.fullmatch(module):
            # importing one of disttorch's own modules runs no code from the file
            cls = getattr(importlib.import_module(module), name, None)
        else:
            cls = _user_safe_global(module, name)
        if isinstance(cls, type) and issubclass(cls, Tensor):
            return cls
        if weights_only:
            raise _weights_only_error(f"Unsupported tensor class {path}")
        raise pickle.UnpicklingError(f"{path} is not a Tensor class")

    def find_class(self, module, name):
        if (module, name) in _compat_pickle.NAME_MAPPING:  # Python 2 names (protocol < 3)
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        safe = _SAFE_BUILTINS.get((module, name)) or _user_safe_global(module, name)
        if safe is None:
            raise _weights_only_error(
                f"Unsupported global: GLOBAL {module}.{name} was not an allowed global by "
                f"default. Please use `disttorch.serialization.add_safe_globals([{name}])` or "
                f"the `disttorch.serialization.safe_globals([{name}])` context manager to "
                "allowlist this global if you trust this class/function.")
        return safe

    namespace = {"persistent_load": persistent_load, "_tensor": tensor,
                 "_tensor_class": tensor_class}
    if weights_only:
        namespace["find_class"] = find_class
    return type("_Unpickler", (base,), namespace)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, **pickle_load_args):
    """Load an object saved by `save` from a path or binary file.

    weights_only (True unless a pickle_module is given) restricts what the file can
    contain to tensors, arrays, containers, numbers, strings, dtypes, devices and sizes,
    so that loading never runs code named in the file. map_location is None (each tensor
    back to the device it was saved from), a device or string, a dict from saved to new
    locations, or a callable(storage, location) returning a storage or None.
    """
    if weights_only is None:
        weights_only = pickle_module is None
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is "
                           "specified")
    pickle_module = pickle_module or pickle
    opened = None
    if isinstance(f, (str, os.PathLike)):
        f = opened = open(os.fspath(f), "rb")
    try:
        if not (hasattr(f, "seekable") and f.seekable()):
            f = io.BytesIO(f.read())  # zipfile needs to seek
        if not zipfile.is_zipfile(f):
            raise RuntimeError("not a checkpoint written by disttorch.save (expected a zip "
                               "archive)")
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            reader = _ArchiveReader(archive)
            unpickler = _make_unpickler(pickle_module.Unpickler, reader, map_location,
                                        weights_only)
            payload = io.BytesIO(archive.read(_PREFIX + "data.pkl"))
            return unpickler(payload, **pickle_load_args).load()
    finally:
        if opened is not None:
            opened.close()

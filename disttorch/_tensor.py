"""Tensor: one ndarray plus the autograd fields (grad, grad_fn, version counter, view base).

This layer knows nothing about ops or the engine: ops bind their methods onto Tensor when
they are imported (see `bind`), and autograd registers `Tensor.backward`'s implementation.
Rarely set fields (grad, hooks, ...) are class-level defaults so that creating a tensor only
writes the two slots it always needs.
"""

import numpy as np

from . import _backend as B


class Size(tuple):
    """torch.Size: a tuple of ints that prints as torch.Size([2, 3])."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size([{', '.join(str(s) for s in self)}])"

    __str__ = __repr__

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item):
        out = tuple.__getitem__(self, item)
        return Size(out) if isinstance(item, slice) else out

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


class Tensor:
    """A multi-dimensional array with autograd, shaped like torch.Tensor."""

    __slots__ = ("_data", "_version", "__dict__", "__weakref__")

    # class-level defaults: written into the instance only when they differ
    _requires_grad = False
    _grad_fn = None
    _output_nr = 0
    _base = None
    _grad = None
    _hooks = None  # leaf hooks (run by AccumulateGrad); non-leaf hooks live on grad_fn
    _post_acc_hooks = None
    _retains_grad = False
    _acc_ref = None  # weakref to this leaf's AccumulateGrad node
    _is_inference = False
    __array_priority__ = 1000  # `np.float64(2) * t` gives a Tensor (Tensor.__rmul__), as in torch

    def __new__(cls, *args, **kwargs):
        return _legacy_constructor(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        pass

    # ---------------------------------------------------------------- construction helpers

    @staticmethod
    def _wrap(data):
        """A plain tensor (no autograd) around an ndarray, fixing NumPy's 0-d scalars."""
        if type(data) is not np.ndarray:
            data = _as_ndarray(data)
        t = _new(Tensor)
        t._data = data
        t._version = [0]
        return t

    # ---------------------------------------------------------------- metadata

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def dtype(self):
        return B._FROM_NP[self._data.dtype]

    @property
    def device(self):
        return B.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def is_cpu(self):
        return self.device.type == "cpu"

    @property
    def layout(self):
        return "torch.strided"

    def dim(self):
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self):
        return self._data.ndim

    def numel(self):
        return self._data.size

    nelement = numel

    def element_size(self):
        return self._data.itemsize

    @property
    def itemsize(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def is_floating_point(self):
        return self._data.dtype.kind == "f" or self.dtype.is_floating_point

    def is_complex(self):
        return False

    def is_signed(self):
        return self.dtype.is_signed

    def stride(self, dim=None):
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim)]

    def is_contiguous(self, memory_format=None):
        d = self._data
        if d.flags.c_contiguous:
            return True
        # torch ignores the strides of size-1 dimensions
        expected = 1
        for size, stride in zip(reversed(d.shape), reversed(self.stride())):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True

    def data_ptr(self):
        d = self._data
        if isinstance(d, np.ndarray):
            return d.__array_interface__["data"][0]
        return d.data.ptr

    def storage_offset(self):
        root = _root_array(self._data)
        if isinstance(self._data, np.ndarray):
            start = root.__array_interface__["data"][0]
        else:
            start = root.data.ptr
        return (self.data_ptr() - start) // self._data.itemsize

    def storage(self):
        return TypedStorage(_root_array(self._data), self.dtype)

    untyped_storage = storage

    def get_device(self):
        dev = self.device
        return -1 if dev.type == "cpu" else dev.index

    # ---------------------------------------------------------------- autograd fields

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if value and not (self.dtype.is_floating_point):
            raise RuntimeError("only Tensors of floating point and complex dtype can require "
                               "gradients")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError("assigned grad has data of a different size")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if B.device_of(value._data) != B.device_of(self._data):
                raise RuntimeError("assigned grad has data located on a different device")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def _version_counter(self):
        return self._version[0]

    def is_inference(self):
        return self._is_inference

    @property
    def data(self):
        return self.detach()

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, not {type(value).__name__}")
        self._data = value._data

    def detach(self):
        t = Tensor._wrap(self._data)
        t._version = self._version  # detach shares storage, so it shares the version counter
        return t

    def detach_(self):
        if self._base is not None and self._base._requires_grad:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # ---------------------------------------------------------------- Python conversions

    def item(self):
        d = self._data
        if d.size != 1:
            raise RuntimeError(
                f"a Tensor with {d.size} elements cannot be converted to Scalar")
        value = d.reshape(()).item() if isinstance(d, np.ndarray) else d.get().item()
        if d.dtype.kind == "V" or B._FROM_NP[d.dtype].name == "bfloat16":
            value = float(value)
        return value

    def tolist(self):
        d = self._data if isinstance(self._data, np.ndarray) else self._data.get()
        if self.dtype.name == "bfloat16":
            d = d.astype(np.float32)
        return d.tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if not isinstance(self._data, np.ndarray):
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                                "Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.category != 1 and self.dtype.category != 0 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self):
        return iter(self.flip(0).unbind(0)) if self._data.ndim else iter([self])

    def __repr__(self, *, tensor_contents=None):
        return _repr_hook(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.  If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        cls = type(self)
        t = _new(cls)
        t._data = self._data.copy()
        t._version = [0]
        for key, value in self.__dict__.items():
            if key in ("_acc_ref", "_hooks", "_post_acc_hooks", "_base"):
                continue
            if key == "_grad" and value is not None:
                value = value.__deepcopy__(memo)
            t.__dict__[key] = value
        memo[id(self)] = t
        return t

    def as_subclass(self, cls):
        """The same data, history and version counter, seen as an instance of `cls`."""
        t = _new(cls)
        t._data = self._data
        t._version = self._version
        t.__dict__.update(self.__dict__)
        return t

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor, (self._data, self._requires_grad, type(self)))


def _rebuild_tensor(data, requires_grad, cls=Tensor):
    t = _new(cls)
    t._data = data
    t._version = [0]
    if requires_grad:
        t._requires_grad = True
    return t


_new = object.__new__


def _as_ndarray(data):
    xp = B.get_array_module(data)
    if isinstance(data, xp.ndarray):
        return data
    return xp.asarray(data)


def _root_array(a):
    while a.base is not None and hasattr(a.base, "shape"):
        a = a.base
    return a


def _wrap_dim(dim, ndim):
    """Normalise a possibly negative dim, raising torch's IndexError when out of range."""
    if type(dim) is not int:
        dim = int(dim)
    low, high = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
    if dim < low or dim > high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], "
                         f"but got {dim})")
    return dim % ndim if ndim else 0


class TypedStorage:
    """The flat memory behind a tensor and all its views (torch.TypedStorage)."""

    def __init__(self, root, dtype):
        self._root = root
        self.dtype = dtype

    @property
    def device(self):
        return B.device_of(self._root)

    def data_ptr(self):
        if isinstance(self._root, np.ndarray):
            return self._root.__array_interface__["data"][0]
        return self._root.data.ptr

    def size(self):
        return self._root.size

    __len__ = size

    def nbytes(self):
        return self._root.nbytes

    def element_size(self):
        return self._root.itemsize

    def tolist(self):
        flat = self._root.reshape(-1) if isinstance(self._root, np.ndarray) else self._root.get()
        return flat.reshape(-1).tolist()

    def __getitem__(self, index):
        return self.tolist()[index]

    def __eq__(self, other):
        return isinstance(other, TypedStorage) and self.data_ptr() == other.data_ptr()

    def __hash__(self):
        return hash(self.data_ptr())

    def __repr__(self):
        lines = [f" {v}" for v in self.tolist()]
        lines.append(f"[torch.storage.TypedStorage(dtype={self.dtype}, device={self.device}) "
                     f"of size {len(self)}]")
        return "\n".join(lines)


# ---------------------------------------------------------------- registration from above

def bind(name, fn):
    """Attach an op (defined in disttorch._ops) to Tensor as a method or operator."""
    setattr(Tensor, name, fn)


def _missing_repr(t):
    return f"tensor({t._data!r})"


_repr_hook = _missing_repr


def set_repr(fn):
    global _repr_hook
    _repr_hook = fn


def _legacy_constructor(cls, *args, **kwargs):
    raise RuntimeError("Tensor constructor is bound when disttorch is imported")


def set_legacy_constructor(fn):
    global _legacy_constructor
    _legacy_constructor = fn

"""Random numbers: Generator, seeding, and the sampling functions (rand, randn, randint, ...).

A Generator wraps NumPy's PCG64 stream: the same seed gives the same numbers on every run
(torch's own numbers are not reproduced). Samples are drawn on the host and then moved to
the requested device. Sampling has no gradient: an output of a random op that depends on a
tensor requiring grad gets a node under torch's name whose gradients are zeros. The in-place
fills (uniform_, normal_, ...) live in random_fill.py, imported at the end of this module.
"""

import os

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ..autograd.function import Op
from ._common import _legacy_name, broadcast_shapes, register
from ._python_data import C_NAMES
from .creation import dtype_arg, finish, out_dtype, parse_size, write_out

__all__ = ["Generator", "default_generator", "manual_seed", "seed", "initial_seed",
           "get_rng_state", "set_rng_state", "rand", "randn", "randint", "randperm", "normal",
           "bernoulli", "multinomial", "poisson", "rand_like", "randn_like", "randint_like"]

_DEFAULT_SEED = 67280421310721  # torch's default seed for a new CPU Generator
_STATE_SIZE = 56  # seed, PCG64 state and increment, and its buffered 32-bit half
_U64 = 1 << 64


class Generator:
    """torch.Generator: a reproducible random stream, seeded with manual_seed."""

    def __init__(self, device="cpu"):
        self._device = B.as_device(device)
        if self._device.type == "cuda":
            B.array_module_for(self._device)  # raises torch's error without CUDA
        self.manual_seed(_DEFAULT_SEED)

    @property
    def device(self):
        return self._device

    def manual_seed(self, seed):
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        seed = int(seed)
        if not -(1 << 63) <= seed < _U64:
            raise ValueError("Overflow when unpacking long long")
        self._seed = seed % _U64
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        fresh = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(fresh)
        return fresh

    def initial_seed(self):
        return self._seed

    def get_state(self):
        state = self._rng.bit_generator.state
        raw = (self._seed.to_bytes(8, "little")
               + state["state"]["state"].to_bytes(16, "little")
               + state["state"]["inc"].to_bytes(16, "little")
               + int(state["has_uint32"]).to_bytes(8, "little")
               + int(state["uinteger"]).to_bytes(8, "little"))
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        if new_state._data.size != _STATE_SIZE:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {_STATE_SIZE} but "
                               f"found the input RNG state size to be {new_state._data.size}")
        raw = bytes(np.ascontiguousarray(new_state._data if isinstance(
            new_state._data, np.ndarray) else new_state._data.get()))
        field = [int.from_bytes(raw[a:b], "little")
                 for a, b in ((0, 8), (8, 24), (24, 40), (40, 48), (48, 56))]
        bits = np.random.PCG64()
        bits.state = {"bit_generator": "PCG64", "state": {"state": field[1], "inc": field[2]},
                      "has_uint32": field[3], "uinteger": field[4]}
        self._seed = field[0]
        self._rng = np.random.Generator(bits)
        return self

    def clone_state(self):
        return Generator(self._device).set_state(self.get_state())

    def __reduce__(self):
        return (_rebuild_generator, (str(self._device), self.get_state()._data.tobytes()))


def _rebuild_generator(device, state):
    return Generator(device).set_state(Tensor._wrap(np.frombuffer(state, np.uint8).copy()))


default_generator = Generator()
default_generator.seed()  # like torch, a fresh process starts from a nondeterministic seed


def manual_seed(seed):
    """Seed the default generator (torch.manual_seed); returns it."""
    return default_generator.manual_seed(int(seed))


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


def rng_of(generator, fn):
    """The NumPy stream of a generator argument (the default generator for None)."""
    if generator is None:
        return default_generator._rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{fn}(): argument 'generator' must be torch.Generator, not "
                        f"{type(generator).__name__}")
    return generator._rng


def not_implemented(kernel, dt):
    return NotImplementedError(f'"{kernel}" not implemented for \'{_legacy_name(dt)}\'')


def uniform(rng, shape, dt, low=0.0, high=1.0):
    """Floats of dtype `dt` uniform in [low, high)."""
    work = np.float64 if dt is B.float64 else np.float32
    values = rng.random(shape, dtype=work)
    if low != 0.0 or high != 1.0:
        values = values * work(high - low) + work(low)
    elif dt.np == work:
        return values
    values = values.astype(dt.np)
    if high > low:  # rounding to the dtype must not reach the excluded upper bound
        top = np.nextafter(np.array(high, dtype=dt.np), np.array(low, dtype=dt.np))
        np.minimum(values, top, out=values)
    return values


def standard_normal(rng, shape, dt):
    work = np.float64 if dt is B.float64 else np.float32
    return rng.standard_normal(shape, dtype=work)


def _emit(values, dt, out, device, requires_grad):
    values = values.astype(dt.np, copy=False)
    if out is not None:
        return write_out(out, values)
    return finish(values, device, requires_grad)


def _float_dtype(dtype, out, kernel, fn):
    dtype = dtype_arg(dtype, fn)
    if out is not None:
        dtype = out_dtype(out, dtype)
    dt = dtype or B.get_default_dtype()
    if not dt.is_floating_point:
        raise not_implemented(kernel, dt)
    return dt


def rand(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    shape = parse_size(args, "rand", size)
    dt = _float_dtype(dtype, out, "check_uniform_bounds", "rand")
    values = uniform(rng_of(generator, "rand"), shape, dt)
    return _emit(values, dt, out, device, requires_grad)


def randn(*args, size=None, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    shape = parse_size(args, "randn", size)
    dt = _float_dtype(dtype, out, "normal_kernel_cpu", "randn")
    values = standard_normal(rng_of(generator, "randn"), shape, dt)
    return _emit(values, dt, out, device, requires_grad)


# the C++ names in torch's "from is out of bounds for X" messages
_BOUND_NAMES = {"bool": "bool", "uint8": "unsigned char", "int8": "signed char",
                "int16": "short", "int32": "int", "int64": "long"}


def check_int_range(low, high, dt):
    """torch's checks of a random_ range [low, high) for dtype `dt`."""
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= "
                           f"to={high}")
    if dt.category > 1:  # torch only warns when a float cannot hold every integer
        return
    if dt is B.bool_:
        lowest, highest = 0, 1
    else:
        lowest, highest = int(np.iinfo(dt.np).min), int(np.iinfo(dt.np).max)
    if not lowest <= low <= highest:
        raise RuntimeError(f"from is out of bounds for {_BOUND_NAMES[dt.name]}")
    if not lowest <= high - 1 <= highest:
        raise RuntimeError(f"to - 1 is out of bounds for {_BOUND_NAMES[dt.name]}")


def integers(rng, low, high, shape, dt):
    """Integers in [low, high) as dtype `dt`."""
    return rng.integers(low, high, size=shape, dtype=np.int64).astype(dt.np)


def _int_arg(value):
    if isinstance(value, Tensor) and value._data.ndim == 0 and value.dtype.category == 1:
        return int(value.item())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return None


def _randint_error(args, kwargs):
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}"
                                              for k, v in kwargs.items() if v is not None]
    options = "".join(
        f" * ({bounds}tuple of ints size, *, {gen}Tensor out = None, torch.dtype dtype = None, "
        "torch.layout layout = None, torch.device device = None, bool pin_memory = False, bool "
        "requires_grad = False)\n"
        for bounds in ("int high, ", "int low, int high, ")
        for gen in ("torch.Generator generator, ", ""))
    return TypeError(f"randint() received an invalid combination of arguments - got "
                     f"({', '.join(got)}), but expected one of:\n{options}")


def randint(*args, low=None, high=None, size=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    given = {"low": low, "high": high, "size": size}
    positional = list(args)
    if size is None and positional and len(positional) + (low is not None) + (
            high is not None) >= 2:
        last = positional.pop()
        if not isinstance(last, (tuple, list)):
            raise TypeError(f"randint(): argument 'size' (position {len(args)}) must be tuple "
                            f"of ints, not {type(last).__name__}")
        size = last
    if size is None:
        raise _randint_error(args, given)
    bounds = positional + [b for b in (low, high) if b is not None]
    if len(bounds) == 1:
        bounds = [0] + bounds
    if len(bounds) != 2 or any(_int_arg(b) is None for b in bounds):
        raise _randint_error(args, given)
    low, high = (_int_arg(b) for b in bounds)
    shape = parse_size((size,), "randint")
    dt = dtype_arg(dtype, "randint")
    if out is not None:
        dt = out_dtype(out, dt)
    dt = dt or B.int64
    check_int_range(low, high, dt)
    values = integers(rng_of(generator, "randint"), low, high, shape, dt)
    return _emit(values, dt, out, device, requires_grad)


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    dt = dtype_arg(dtype, "randperm")
    if out is not None:
        dt = out_dtype(out, dt)
    dt = dt or B.int64
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dt is B.bool_:
        raise not_implemented("randperm", dt)
    if dt is B.float16 and n > 2049:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    if dt.category == 1 and n - 1 > np.iinfo(dt.np).max:
        raise RuntimeError(f"value cannot be converted to type {C_NAMES[dt.name]} without "
                           "overflow")
    values = rng_of(generator, "randperm").permutation(int(n))
    return _emit(values, dt, out, device, requires_grad)


# ---------------------------------------------------------------- sampled ops with inputs


class Sampled(Op):
    """A random op's output: values drawn by the caller (the last argument), whose gradient
    with respect to every tensor input is zero, as torch defines it."""

    @staticmethod
    def forward(ctx, *args):
        ctx.inputs = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None
                           for a in args[:-1])
        return args[-1]

    @staticmethod
    def backward(ctx, grad):
        xp = B.get_array_module(grad._data)
        grads = tuple(Tensor._wrap(xp.zeros(meta[0], dtype=meta[1])) if need else None
                      for need, meta in zip(ctx.needs_input_grad, ctx.inputs))
        return grads + (None,)


def sampled_node(name):
    """The Sampled op under one of torch's node names (e.g. NormalBackward1)."""
    return type(name, (Sampled,), {"node_name": name})


_NormalMean = sampled_node("NormalBackward1")
_NormalStd = sampled_node("NormalBackward2")
_NormalBoth = sampled_node("NormalBackward3")
_BernoulliNode = sampled_node("BernoulliBackward0")
_PoissonNode = sampled_node("PoissonBackward0")


def _normal_error(mean, std, size):
    got = ", ".join(type(a).__name__ for a in (mean, std, size) if a is not None)
    return TypeError(
        f"normal() received an invalid combination of arguments - got ({got}), but expected "
        "one of:\n * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out "
        "= None)\n * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor "
        "out = None)\n * (float mean, Tensor std, *, torch.Generator generator = None, Tensor "
        "out = None)\n * (float mean, float std, tuple of ints size, *, torch.Generator "
        "generator = None, Tensor out = None, torch.dtype dtype = None, torch.layout layout = "
        "None, torch.device device = None, bool pin_memory = False, bool requires_grad = "
        "False)\n")


def _check_std(std):
    if isinstance(std, Tensor):
        if bool((std._data < 0).any()):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _host(t):
    return t._data if isinstance(t._data, np.ndarray) else t._data.get()


def normal(mean, std=None, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, pin_memory=False, requires_grad=False):
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    rng = rng_of(generator, "normal")
    if size is not None:
        if mean_t and mean._data.ndim or std_t and std._data.ndim or std is None:
            raise _normal_error(mean, std, size)
        mean, std = float(mean), float(std)
        shape = parse_size((size,), "normal")
        dt = _float_dtype(dtype, out, "normal_kernel_cpu", "normal")
        _check_std(std)
        values = standard_normal(rng, shape, dt) * std + mean
        return _emit(values, dt, out, device, requires_grad)
    if std is None:
        if not mean_t:
            raise _normal_error(mean, std, size)
        std = 1.0
    if not (mean_t or std_t):
        raise _normal_error(mean, std, size)
    tensors = [t for t in (mean, std) if isinstance(t, Tensor)]
    dt = tensors[0].dtype if len(tensors) == 1 else B.promote_types(mean.dtype, std.dtype)
    if not dt.is_floating_point:
        raise not_implemented("normal_kernel_cpu", dt)
    _check_std(std)
    shape = broadcast_shapes(*(t._data.shape for t in tensors)) if len(tensors) == 2 else (
        tensors[0]._data.shape)
    draws = standard_normal(rng, shape, dt)
    m = _host(mean) if mean_t else mean
    s = _host(std) if std_t else std
    values = (draws * s + m).astype(dt.np)
    values = B.move_array(values, tensors[0].device)
    node = _NormalBoth if mean_t and std_t else _NormalMean if mean_t else _NormalStd
    result = node.apply(mean, std, values)
    return write_out(out, result._data) if out is not None else result


def _check_probabilities(p):
    with np.errstate(invalid="ignore"):
        if not bool(((p >= 0) & (p <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  "
                               "(Could this error message be improved?  If so, please report an "
                               "enhancement request to PyTorch.)")


def bernoulli(input, p=None, *, generator=None, out=None):
    rng = rng_of(generator, "bernoulli")
    if p is not None:
        result = input.new_empty(input._data.shape).bernoulli_(p, generator=generator)
        return write_out(out, result._data) if out is not None else result
    dt = input.dtype
    if not dt.is_floating_point:
        raise not_implemented("bernoulli_tensor_cpu_p_", dt)
    probs = _host(input)
    _check_probabilities(probs)
    values = (rng.random(probs.shape) < probs).astype(dt.np)
    result = _BernoulliNode.apply(input, B.move_array(values, input.device))
    return write_out(out, result._data) if out is not None else result


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    rng = rng_of(generator, "multinomial")
    ndim = input._data.ndim
    if ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_legacy_name(input.dtype)}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = input._data.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if categories > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    probs = _host(input).astype(np.float64).reshape(-1, categories)
    if not bool((np.isfinite(probs) & (probs >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if probs.size and not bool((probs.sum(axis=1) > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:
        cdf = np.cumsum(probs, axis=1)
        cdf /= cdf[:, -1:]
        draws = rng.random((probs.shape[0], num_samples)) if probs.size else np.empty(
            (probs.shape[0], num_samples))
        rows = [np.searchsorted(c, u, side="right") for c, u in zip(cdf, draws)]
        samples = np.minimum(np.array(rows).reshape(draws.shape), categories - 1)
    else:  # exponential race: the k largest p / Exp(1) are a sample without replacement
        keys = probs / rng.exponential(size=probs.shape)
        samples = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    samples = samples.astype(np.int64).reshape(input._data.shape[:-1] + (num_samples,))
    if out is not None:
        return write_out(out, samples)
    return finish(samples, input.device)


def poisson(input, generator=None):
    rng = rng_of(generator, "poisson")
    dt = input.dtype
    if not dt.is_floating_point:
        raise not_implemented("poisson_cpu", dt)
    rates = _host(input)
    if not bool((rates >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    values = rng.poisson(rates.astype(np.float64)).astype(dt.np)
    return _PoissonNode.apply(input, B.move_array(values, input.device))


# ---------------------------------------------------------------- *_like


def _like(input, fn, dtype, device):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")
    dt = dtype_arg(dtype, fn) or input.dtype
    return dt, input.device if device is None else device


def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    dt, device = _like(input, "rand_like", dtype, device)
    if not dt.is_floating_point:
        raise not_implemented("check_uniform_bounds", dt)
    values = uniform(rng_of(generator, "rand_like"), input._data.shape, dt)
    return _emit(values, dt, None, device, requires_grad)


def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    dt, device = _like(input, "randn_like", dtype, device)
    if not dt.is_floating_point:
        raise not_implemented("normal_kernel_cpu", dt)
    values = standard_normal(rng_of(generator, "randn_like"), input._data.shape, dt)
    return _emit(values, dt, None, device, requires_grad)


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    dt, device = _like(input, "randint_like", dtype, device)
    if high is None:
        low, high = 0, low
    low, high = _int_arg(low), _int_arg(high)
    if low is None or high is None:
        raise TypeError("randint_like(): argument 'high' must be int")
    check_int_range(low, high, dt)
    values = integers(rng_of(generator, "randint_like"), low, high, input._data.shape, dt)
    return _emit(values, dt, None, device, requires_grad)


register("bernoulli", bernoulli)
register("multinomial", multinomial)

from . import random_fill  # noqa: E402,F401  (binds uniform_, normal_, ... onto Tensor)

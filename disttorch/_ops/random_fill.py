"""In-place random fills: uniform_, normal_, random_, bernoulli_, exponential_, geometric_,
cauchy_ and log_normal_ (what nn.init builds on).

Each draws host samples from the generator and writes them into the tensor. When autograd is
recording (the tensor is part of a graph), the fill is a node under torch's name whose
gradient is zero for the overwritten values, like torch's.
"""

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ._common import _legacy_name, check_inplace, commit_inplace, needs_graph, register
from ._python_data import C_NAMES, _limits
from .fill import _write
from .legacy import _CPP_NAMES
from .random import (
    _check_probabilities,
    check_int_range,
    not_implemented,
    rng_of,
    sampled_node,
    standard_normal,
    uniform,
)

_Uniform = sampled_node("UniformBackward0")
_Normal = sampled_node("NormalBackward0")
_RandomFromTo = sampled_node("RandomBackward0")
_RandomTo = sampled_node("RandomBackward1")
_Random = sampled_node("RandomBackward2")
_BernoulliTensor = sampled_node("BernoulliBackward1")
_BernoulliFloat = sampled_node("BernoulliBackward2")
_Exponential = sampled_node("ExponentialBackward0")
_Geometric = sampled_node("GeometricBackward0")
_Cauchy = sampled_node("CauchyBackward0")
_LogNormal = sampled_node("LogNormalBackward0")


def _fill(self, node, values, *inputs):
    """Write samples into self: directly, or as `node` when autograd is recording."""
    values = values.astype(self._data.dtype, copy=False)
    if type(self._data) is not np.ndarray:
        values = B.move_array(values, self.device)
    if needs_graph(self, *inputs):
        check_inplace(self)
        return commit_inplace(self, node.apply(self, *inputs, values))
    return _write(self, values)


def _continuous(self, name, cpp_name=False):
    """torch's refusal to draw a continuous distribution into an integer tensor."""
    dt = self.dtype
    if not dt.is_floating_point:
        spelled = _CPP_NAMES[dt.name] if cpp_name else _legacy_name(dt)
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. "
                           f"dtype must be a floating point but you specified {spelled}")


def _direct(self):
    """Whether samples can be drawn straight into self's memory (NumPy's out=)."""
    data = self._data
    return (type(data) is np.ndarray and (data.dtype == np.float32 or data.dtype == np.float64)
            and data.flags.c_contiguous and data.flags.writeable and not needs_graph(self))


def uniform_(self, from_=0.0, to=1.0, *, generator=None):
    dt = B._FROM_NP[self._data.dtype]
    if not dt.is_floating_point:
        raise not_implemented("check_uniform_bounds", dt)
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_:g} > to={to:g}")
    lowest, highest = _limits(dt)
    for name, value in (("from", from_), ("to", to)):
        if not lowest <= value <= highest:
            raise RuntimeError(f"{name} is out of bounds for {C_NAMES[dt.name]}")
    rng = rng_of(generator, "uniform_")
    if not _direct(self):
        return _fill(self, _Uniform, uniform(rng, self._data.shape, dt, float(from_), float(to)))
    data = self._data
    rng.random(out=data, dtype=data.dtype)
    if from_ != 0 or to != 1:
        data *= to - from_
        data += from_
        if to > from_:  # rounding must not reach the excluded upper bound
            np.minimum(data, np.nextafter(data.dtype.type(to), data.dtype.type(from_)),
                       out=data)
    self._version[0] += 1
    return self


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    dt = B._FROM_NP[self._data.dtype]
    if not dt.is_floating_point:
        raise not_implemented("normal_kernel_cpu", dt)
    rng = rng_of(generator, "normal_")
    if not _direct(self):
        draws = standard_normal(rng, self._data.shape, dt)
        return _fill(self, _Normal, draws * std + mean)
    data = self._data
    rng.standard_normal(out=data, dtype=data.dtype)
    if std != 1:
        data *= std
    if mean != 0:
        data += mean
    self._version[0] += 1
    return self


def _highest(dt):
    """The top of random_'s default range: every integer the dtype holds exactly."""
    if dt is B.bool_:
        return 1
    if dt.category == 1:
        return int(np.iinfo(dt.np).max)
    mantissa = {2: 11, 4: 24, 8: 53}[dt.itemsize] if dt.np.kind == "f" else 8
    return 1 << mantissa


def random_(self, *args, generator=None, **kwargs):
    bounds = list(args)
    if "from" in kwargs:
        bounds.insert(0, kwargs.pop("from"))
    if "to" in kwargs:
        bounds.append(kwargs.pop("to"))
    if kwargs or len(bounds) > 2 or any(
            b is not None and (not isinstance(b, (int, np.integer)) or isinstance(b, bool))
            for b in bounds):
        got = ", ".join(type(b).__name__ for b in bounds)
        raise TypeError(f"random_() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:\n * (*, torch.Generator generator = None)\n"
                        " * (int from, int to, *, torch.Generator generator = None)\n"
                        " * (int to, *, torch.Generator generator = None)\n")
    dt = self.dtype
    if not bounds:
        low, high, node = 0, _highest(dt) + 1, _Random
    elif len(bounds) == 1:
        low, high, node = 0, int(bounds[0]), _RandomTo
        check_int_range(low, high, dt)
    else:
        low, node = int(bounds[0]), _RandomFromTo
        high = _highest(dt) + 1 if bounds[1] is None else int(bounds[1])
        check_int_range(low, high, dt)
    rng = rng_of(generator, "random_")
    values = rng.integers(low, high - 1, size=self._data.shape, dtype=np.int64, endpoint=True)
    return _fill(self, node, values)


def bernoulli_(self, p=0.5, *, generator=None):
    rng = rng_of(generator, "bernoulli_")
    if isinstance(p, Tensor):
        if not p.dtype.is_floating_point:
            raise not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
        probs = p.expand(self._data.shape)._data
        probs = probs if isinstance(probs, np.ndarray) else probs.get()
        _check_probabilities(probs)
        return _fill(self, _BernoulliTensor, rng.random(probs.shape) < probs, p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return _fill(self, _BernoulliFloat, rng.random(self._data.shape) < p)


def exponential_(self, lambd=1.0, *, generator=None):
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    _continuous(self, "Exponential")
    draws = rng_of(generator, "exponential_").exponential(1.0 / lambd, self._data.shape)
    return _fill(self, _Exponential, draws)


def geometric_(self, p, *, generator=None):
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    draws = rng_of(generator, "geometric_").geometric(p, self._data.shape)
    return _fill(self, _Geometric, draws)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    _continuous(self, "Cauchy", cpp_name=True)
    draws = rng_of(generator, "cauchy_").standard_cauchy(self._data.shape)
    return _fill(self, _Cauchy, draws * sigma + median)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    if not self.dtype.is_floating_point:
        raise not_implemented("log_normal_cpu", self.dtype)
    draws = rng_of(generator, "log_normal_").lognormal(mean, std, self._data.shape)
    return _fill(self, _LogNormal, draws)


for _fn in (uniform_, normal_, random_, bernoulli_, exponential_, geometric_, cauchy_,
            log_normal_):
    register(_fn.__name__, _fn)
del _fn

"""The CUDA random generators (torch.cuda.manual_seed, seed, get_rng_state ...).

Each GPU has its own disttorch Generator, seeded independently of the CPU one, with torch's
default seed. Without CUDA the seeding functions do nothing, as torch's do, so a script may
call them unconditionally.
"""

import os

from .._ops.random import Generator
from . import _utils

__all__ = ["manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
           "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all"]

_generators = None


def default_generators():
    """One Generator per visible GPU (an empty tuple without CUDA)."""
    global _generators
    if _generators is None:
        count = _utils.device_count()
        _generators = tuple(Generator(f"cuda:{i}") for i in range(count))
    return _generators


def _current():
    return default_generators()[_utils.current_index()]


def manual_seed(seed):
    """Seed the current GPU's generator."""
    seed = int(seed)
    if _utils.cupy_or_none() is not None:
        _current().manual_seed(seed)


def manual_seed_all(seed):
    """Seed every GPU's generator."""
    seed = int(seed)
    for generator in default_generators():
        generator.manual_seed(seed)


def seed():
    """Seed the current GPU's generator from a random number."""
    if _utils.cupy_or_none() is not None:
        _current().seed()


def seed_all():
    """Seed every GPU's generator with one random number."""
    fresh = int.from_bytes(os.urandom(8), "little")
    for generator in default_generators():
        generator.manual_seed(fresh)


def initial_seed():
    _utils.require_cupy()
    return _current().initial_seed()


def _generator_of(device):
    _utils.require_cupy()
    return default_generators()[_utils.checked_index(device)]


def get_rng_state(device="cuda"):
    """The state of a GPU's generator, as a uint8 CPU tensor."""
    return _generator_of(device).get_state()


def set_rng_state(new_state, device="cuda"):
    if _utils.cupy_or_none() is not None:
        _generator_of(device).set_state(new_state)


def get_rng_state_all():
    return [generator.get_state() for generator in default_generators()]


def set_rng_state_all(new_states):
    for generator, state in zip(default_generators(), new_states):
        generator.set_state(state)

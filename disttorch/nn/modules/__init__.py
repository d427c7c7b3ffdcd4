"""Every layer class, re-exported as disttorch.nn.<Name>."""

from . import (activation, container, conv, distance, dropout, flatten, linear, loss,
               normalization, padding, pooling, rnn, sparse, transformer, upsampling)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential

FAMILIES = (activation, conv, distance, dropout, flatten, linear, loss, normalization, padding,
            pooling, rnn, sparse, transformer, upsampling)
__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"]
for _family in FAMILIES:
    for _name in _family.__all__:
        globals()[_name] = getattr(_family, _name)
        __all__.append(_name)
del _family

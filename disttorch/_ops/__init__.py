"""The op families; importing this package binds every op onto Tensor.

`disttorch/__init__.py` re-exports each family's `__all__` as the torch namespace.
"""

from . import (compare, convert, creation, elementwise, index, join, linalg, math,
               nn_activation, nn_conv, nn_loss, nn_norm, nn_pool, nn_rnn, random, reduce, shape,
               sorting)

FAMILIES = (creation, random, convert, elementwise, math, compare, reduce, sorting, shape, join,
            index, linalg, nn_activation, nn_conv, nn_loss, nn_norm, nn_pool, nn_rnn)

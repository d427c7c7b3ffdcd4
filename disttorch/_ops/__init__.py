"""The op families; importing this package binds every op onto Tensor.

`disttorch/__init__.py` re-exports each family's `__all__` as the torch namespace.
"""

from . import convert, creation, elementwise, index, linalg, random, reduce, shape

FAMILIES = (creation, random, convert, elementwise, reduce, shape, index, linalg)

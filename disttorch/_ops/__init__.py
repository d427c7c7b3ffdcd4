"""The op families; importing this package binds every op onto Tensor.

`disttorch/__init__.py` re-exports each family's `__all__` as the torch namespace.
"""

from . import (
    compare,
    convert,
    creation,
    elementwise,
    index,
    join,
    linalg,
    linalg_cholesky,
    linalg_einsum,
    linalg_factor,
    linalg_functions,
    linalg_lu,
    linalg_products,
    linalg_solve,
    linalg_struct,
    math,
    nn_activation,
    nn_conv,
    nn_loss,
    nn_norm,
    nn_pool,
    nn_rnn,
    random,
    reduce,
    shape,
    sorting,
)

FAMILIES = (creation, random, convert, elementwise, math, compare, reduce, sorting, shape, join,
            index, linalg, linalg_products, linalg_einsum, linalg_struct, linalg_solve,
            linalg_cholesky, linalg_factor, linalg_lu, linalg_functions, nn_activation, nn_conv,
            nn_loss, nn_norm, nn_pool, nn_rnn)

"""disttorch: PyTorch's programming model on NumPy (and CuPy), with data-parallel training
over MPI. `import disttorch as torch` gives the torch namespace; this module only re-exports.
"""

from . import _backend
from ._backend import (bool_ as bool, can_cast, device, dtype, float16, float32, float64,
                       get_default_dtype, int8, int16, int32, int64, promote_types,
                       set_default_dtype, uint8)
from ._tensor import Size, Tensor, TypedStorage
from . import autograd
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd.grad_mode import is_inference_mode_enabled
from . import _ops

for _family in _ops.FAMILIES:
    for _name in _family.__all__:
        globals()[_name] = getattr(_family, _name)
del _family, _name

from . import linalg  # noqa: E402

from . import _tensor_str  # noqa: E402  (registers Tensor.__repr__)
from . import nn  # noqa: E402
from . import utils  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import optim  # noqa: E402
from . import distributed  # noqa: E402
from . import cuda  # noqa: E402
from . import accelerator  # noqa: E402
from ._tensor_str import set_printoptions  # noqa: E402

if hasattr(_backend, "bfloat16"):
    bfloat16 = _backend.bfloat16

half = float16
float = float32
double = float64
short = int16
int = int32
long = int64

__version__ = "0.1.0"

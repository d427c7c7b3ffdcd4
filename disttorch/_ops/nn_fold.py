"""fold and unfold (col2im and im2col): a pair of linear maps, each the other's gradient."""

import math

from .._tensor import Tensor
from ._common import wrap_dim
from ._nn_util import not_implemented
from ._nn_window import col2im, im2col, linear_pair, out_size

__all__ = []
FUNCTIONAL = ["unfold", "fold"]


class _Columns:
    """unfold's plan: (N, C, *size) <-> (N, C * prod(kernel), prod(out))."""

    def __init__(self, size, kernel, dilation, padding, stride):
        self.size, self.kernel = size, kernel
        self.dilation, self.padding, self.stride = dilation, padding, stride
        self.out = tuple(out_size(*args) for args in zip(size, kernel, stride, padding,
                                                          dilation))

    def apply(self, x):
        cols = im2col(x, self.kernel, self.stride, self.padding, self.dilation, self.out)
        return cols.reshape(x.shape[0], x.shape[1] * math.prod(self.kernel),
                            math.prod(self.out))

    def adjoint(self, cols):
        n, c = cols.shape[0], cols.shape[1] // math.prod(self.kernel)
        cols = cols.reshape((n, c) + self.kernel + self.out)
        return col2im(cols, self.size, self.stride, self.padding, self.dilation)


_Unfold, _Fold = linear_pair("Im2ColBackward0", "Col2ImBackward0")


def _check_input(fname, input):
    if not isinstance(input, Tensor):
        raise TypeError(f"{fname}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}")


def _pair_arg(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(value)}")
    return value


def _check_block_args(kernel, dilation, padding, stride, fold):
    checks = [("kernel size", kernel, "kernel", lambda v: v > 0, "greater than zero"),
              ("dilation", dilation, "dilation", lambda v: v > 0, "greater than zero"),
              ("padding", padding, "pad", lambda v: v >= 0, "non-negative"),
              ("stride", stride, "stride", lambda v: v > 0, "greater than zero")]
    if fold:  # col2im checks stride before dilation and padding
        checks = [checks[0], checks[3], checks[1], checks[2]]
    for what, (h, w), short, ok, expected in checks:
        if not (ok(h) and ok(w)):
            raise RuntimeError(f"{what} should be {expected}, but got {short}_height: {h} "
                               f"{short}_width: {w}")


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    kernel = _pair_arg(kernel_size, "kernel_size")
    dilation = _pair_arg(dilation, "dilation")
    padding = _pair_arg(padding, "padding")
    stride = _pair_arg(stride, "stride")
    _check_block_args(kernel, dilation, padding, stride, fold=False)
    _check_input("unfold", input)
    shape = list(input.shape)
    if input.dim() < 3:
        wrap_dim(2, input.dim())
    if not ((len(shape) == 3 and shape[0] and shape[1] and shape[2]) or (
            len(shape) == 4 and shape[1] and shape[2] and shape[3])):
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {shape}")
    if input._data.dtype.kind not in "fV":
        not_implemented("im2col_out_cpu", input.dtype)
    size = tuple(shape[-2:])
    plan = _Columns(size, kernel, dilation, padding, stride)
    if any(o < 1 for o in plan.out):
        raise RuntimeError(f"Given input with spatial size {size}, kernel_size={kernel}, "
                           f"dilation={dilation}, padding={padding}, calculated shape of the "
                           f"array of sliding blocks as {plan.out}, but its components must be "
                           "at least one.")
    if len(shape) == 3:
        return _Unfold.apply(input.unsqueeze(0), plan).squeeze(0)
    return _Unfold.apply(input, plan)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    size = _pair_arg(output_size, "output_size")
    kernel = _pair_arg(kernel_size, "kernel_size")
    dilation = _pair_arg(dilation, "dilation")
    padding = _pair_arg(padding, "padding")
    stride = _pair_arg(stride, "stride")
    _check_block_args(kernel, dilation, padding, stride, fold=True)
    _check_input("fold", input)
    shape = list(input.shape)
    if not ((len(shape) == 2 and shape[0] and shape[1]) or (
            len(shape) == 3 and shape[1] and shape[2])):
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor for input with possibly 0 "
                           f"batch size and non-zero dimensions for input, but got: {shape}")
    planes, length = shape[-2:]
    if planes % math.prod(kernel):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product "
                           f"of kernel_size, but got input.size(1)={planes} and "
                           f"kernel_size={kernel}.")
    plan = _Columns(size, kernel, dilation, padding, stride)
    blocks = plan.out
    described = (f"Given output_size={size}, kernel_size={kernel}, dilation={dilation}, "
                 f"padding={padding}, stride={stride}, ")
    if length != math.prod(blocks):
        raise RuntimeError(f"{described}expected size of input's dimension 2 to match the "
                           f"calculated number of sliding blocks {blocks[0]} * {blocks[1]} = "
                           f"{math.prod(blocks)}, but got input.size(2)={length}.")
    if any(b < 1 for b in blocks):
        raise RuntimeError(f"{described}calculated shape of the array of sliding blocks as "
                           f"{blocks}, which is invalid.")
    if input._data.dtype.kind not in "fV":
        not_implemented("col2im_out_cpu", input.dtype)
    if len(shape) == 2:
        return _Fold.apply(input.unsqueeze(0), plan).squeeze(0)
    return _Fold.apply(input, plan)

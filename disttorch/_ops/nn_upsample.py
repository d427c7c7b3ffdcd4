"""Resampling: interpolate (nearest, nearest-exact, linear, bilinear, trilinear, bicubic, area,
and antialiased bilinear, bicubic and lanczos), the deprecated upsample functions, and
pixel_shuffle / pixel_unshuffle.

Each mode is separable: along every spatial dim an output position is a weighted sum of a few
input positions, computed here with torch's index and weight formulas (in the input's float
precision, float32 where torch uses float). The resampling is a linear map whose gradient is its
adjoint, both ops of one pair, so gradients of any order exist.
"""

import math
import warnings

import numpy as np

from .. import _backend as B
from .._tensor import Tensor
from ._elementwise_base import type_error
from ._nn_util import not_implemented
from ._nn_window import TapPlan, linear_pair

__all__ = ["pixel_shuffle", "pixel_unshuffle"]
FUNCTIONAL = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
              "pixel_shuffle", "pixel_unshuffle"]

_NODES = {("nearest", 1): "UpsampleNearest1D", ("nearest", 2): "UpsampleNearest2D",
          ("nearest", 3): "UpsampleNearest3D", ("nearest-exact", 1): "UpsampleNearestExact1D",
          ("nearest-exact", 2): "UpsampleNearestExact2D",
          ("nearest-exact", 3): "UpsampleNearestExact3D", ("linear", 1): "UpsampleLinear1D",
          ("bilinear", 2): "UpsampleBilinear2D", ("trilinear", 3): "UpsampleTrilinear3D",
          ("bicubic", 2): "UpsampleBicubic2D"}
_NODES.update({("bilinear-aa", 2): "UpsampleBilinear2DAa", ("bicubic-aa", 2):
               "UpsampleBicubic2DAa", ("lanczos-aa", 2): "UpsampleLanczos2DAa"})
_OPS = {key: linear_pair(f"{name}Backward0", f"{name}BackwardBackward0")[0]
        for key, name in _NODES.items()}


def _scale(size, out, scale, opmath):
    """torch's compute_scales_value: 1 / scale_factor when given, else size / out."""
    if scale is not None and scale > 0:
        return opmath(1.0 / scale)
    return opmath(size) / opmath(out)


def _nearest_taps(size, out, scale, exact):
    f32 = np.float32
    dst = np.arange(out)
    if out == size:
        index = dst
    elif out == 2 * size and not exact:
        index = dst >> 1
    else:
        s = _scale(size, out, scale, f32)
        if exact:  # (dst + 0.5) * scale is a double, floored as a float
            index = np.floor(((dst + 0.5) * np.float64(s)).astype(f32)).astype(np.int64)
        else:
            index = np.floor(dst.astype(f32) * s).astype(np.int64)
        index = np.minimum(index, size - 1)
    return [(index, None)]


def _source(size, out, scale, align_corners, cubic, opmath):
    """torch's area_pixel_compute_source_index for every output position."""
    dst = np.arange(out).astype(opmath)
    if align_corners:
        s = opmath(size - 1) / opmath(out - 1) if out > 1 else opmath(0)
        return s * dst
    s = _scale(size, out, scale, opmath)
    real = s * (dst + opmath(0.5)) - opmath(0.5)
    return real if cubic else np.maximum(real, opmath(0))


def _guard(real, size, opmath):
    index = np.minimum(np.floor(real).astype(np.int64), size - 1)
    lam = np.clip(real - index.astype(opmath), opmath(0), opmath(1))
    return index, lam


def _linear_taps(size, out, scale, align_corners, opmath):
    index, lam = _guard(_source(size, out, scale, align_corners, False, opmath), size, opmath)
    upper = index + (index < size - 1)
    return [(index, opmath(1) - lam), (upper, lam)]


def _cubic_weights(t, opmath):
    a = opmath(-0.75)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    one = opmath(1)
    return [far(t + one), near(t), near(one - t), far(one - t + one)]


def _cubic_taps(size, out, scale, align_corners, opmath):
    index, lam = _guard(_source(size, out, scale, align_corners, True, opmath), size, opmath)
    weights = _cubic_weights(lam, opmath)
    return [(np.clip(index - 1 + j, 0, size - 1), weights[j]) for j in range(4)]


def _triangle(x):
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0)


def _keys_cubic(x):  # a = -0.5, as PIL
    x = np.abs(x)
    a = x.dtype.type(-0.5)
    return np.where(x < 1, ((a + 2) * x - (a + 3)) * x * x + 1,
                    np.where(x < 2, ((a * x - 5 * a) * x + 8 * a) * x - 4 * a, 0))


def _lanczos(x):
    x = np.abs(x)
    return np.where(x < 3, np.sinc(x) * np.sinc(x / 3), 0).astype(x.dtype)


# filter, and the support (in input positions, before scaling) of each antialiased mode
_AA_FILTERS = {"bilinear": (_triangle, 2), "bicubic": (_keys_cubic, 4), "lanczos": (_lanczos, 6)}


def _antialias_taps(size, out, scale, align_corners, mode, opmath):
    """torch's antialiased weights (PIL's resampling): the filter widened by the scale when
    shrinking, each output's weights normalised to sum to 1."""
    filter_fn, interp = _AA_FILTERS[mode]
    if align_corners:
        s = opmath(size - 1) / opmath(out - 1) if out > 1 else opmath(0)
    else:
        s = _scale(size, out, scale, opmath)
    support = opmath(interp * 0.5 * s) if s >= 1 else opmath(interp * 0.5)
    width = int(math.ceil(support)) * 2 + 1
    invscale = opmath(1.0 / s) if s >= 1 else opmath(1)
    center = (s * (np.arange(out) + 0.5)).astype(opmath)
    start = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    count = np.clip(np.minimum(np.trunc(center + support + 0.5).astype(np.int64), size) - start,
                    0, width)
    j = np.arange(width)[:, None]
    weights = filter_fn(((j + start - center) + 0.5) * invscale).astype(opmath)
    weights = np.where(j < count, weights, opmath(0))
    total = weights.sum(0, dtype=opmath)
    weights = np.where(total != 0, weights / np.where(total != 0, total, 1), weights)
    return [(np.minimum(start + k, size - 1), weights[k]) for k in range(int(count.max()))]


def _upsample(input, mode, out, scales, align_corners, antialias=False):
    d = input.dim() - 2
    shape = list(input.shape)
    letters = "DHW"[3 - d:]
    if any(s <= 0 for s in shape[2:]) or any(o <= 0 for o in out):
        given = ", ".join(f"{c}: {s}" for c, s in zip(letters, shape[2:]))
        wanted = ", ".join(f"{c}: {o}" for c, o in zip(letters, out))
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({given}) output ({wanted})")
    if input.numel() == 0 and math.prod(shape[1:]) == 0:
        raise RuntimeError(f"Non-empty {d + 2}D data tensor expected but got a tensor with "
                           f"sizes {shape}")
    dt = input._data.dtype
    nearest = mode in ("nearest", "nearest-exact")
    if not (dt.kind in "fV" or (nearest and dt == np.uint8)):
        suffix = "_channels_last" if d == 2 else ""
        name = {"nearest-exact": "_upsample_nearest_exact"}.get(mode, f"upsample_{mode}")
        not_implemented(f"{name}{d}d{suffix}", input.dtype)
    opmath = np.float64 if dt == np.float64 else np.float32
    dims = []
    for size, o, scale in zip(shape[2:], out, scales):
        if antialias:
            taps = _antialias_taps(size, o, scale, align_corners, mode, opmath)
        elif nearest:
            taps = _nearest_taps(size, o, scale, mode == "nearest-exact")
        elif mode == "bicubic":
            taps = _cubic_taps(size, o, scale, align_corners, opmath)
        else:
            taps = _linear_taps(size, o, scale, align_corners, opmath)
        dims.append((size, taps))
    plan = TapPlan(dims, dt, B.get_array_module(input._data))
    return _OPS[(mode + "-aa" if antialias else mode, d)].apply(input, plan)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    if not isinstance(input, Tensor):
        type_error("interpolate", input, "input", 1)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scales = None
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {list(input.shape[2:])} and output size "
                    f"of {size}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                    "and output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, (int, np.integer)) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] "
                                "or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            out = [int(s) for s in size]
        else:
            if not isinstance(size, (int, np.integer)):
                raise TypeError(f"upsample(): argument 'output_size' must be tuple of ints, not "
                                f"{type(size).__name__}")
            out = [int(size)] * dim
    elif scale_factor is not None:
        out = None
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {list(input.shape[2:])} and "
                    f"scale_factor of shape {scale_factor}. Please provide input tensor in (N, C, "
                    "d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and out is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        out = [math.floor(input.shape[i + 2] * scales[i]) for i in range(dim)]
        scales = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes "
                         "and requires a 4-D tensor as input")
    if out is None:  # C++ truncates size * scale
        out = [int(input.shape[i + 2] * scales[i]) for i in range(dim)]
    if scales is None:
        scales = [None] * dim
    modes = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3),
             "linear": (1,), "bilinear": (2,), "trilinear": (3,), "bicubic": (2,)}
    if mode == "lanczos" and dim == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if antialias:
        return _upsample(input, mode, out, scales, align_corners, antialias=True)
    if mode in modes and dim in modes[mode]:
        if mode == "area":
            from . import nn_adaptive_pool as pools

            pool = (pools.adaptive_avg_pool1d, pools.adaptive_avg_pool2d,
                    pools.adaptive_avg_pool3d)[dim - 1]
            return pool(input, out[0] if dim == 1 else out)
        return _upsample(input, mode, out, scales, align_corners)
    wanted = {"linear": 3, "bilinear": 4, "trilinear": 5}
    if mode in wanted and input.dim() in (3, 4, 5):
        raise NotImplementedError(f"Got {input.dim()}D input, but {mode} mode needs "
                                  f"{wanted[mode]}D input")
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the "
        "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
        f"nearest-exact (got {mode})")


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------- pixel shuffle


class _ShufflePlan:
    """(*, C r^2, H, W) <-> (*, C, H r, W r)."""

    def __init__(self, factor):
        self.r = factor

    def apply(self, x):
        r = self.r
        *lead, c, h, w = x.shape
        lead = tuple(lead)
        x = x.reshape(lead + (c // (r * r), r, r, h, w))
        n = len(lead)
        order = tuple(range(n)) + tuple(n + i for i in (0, 3, 1, 4, 2))
        return x.transpose(order).reshape(lead + (c // (r * r), h * r, w * r))

    def adjoint(self, y):
        r = self.r
        *lead, c, h, w = y.shape
        lead = tuple(lead)
        y = y.reshape(lead + (c, h // r, r, w // r, r))
        n = len(lead)
        order = tuple(range(n)) + tuple(n + i for i in (0, 2, 4, 1, 3))
        return y.transpose(order).reshape(lead + (c * r * r, h // r, w // r))


_PixelShuffle, _PixelUnshuffle = linear_pair("PixelShuffleBackward0", "PixelUnshuffleBackward0")


def _check_factor(fname, input, factor, what):
    if not isinstance(input, Tensor):
        type_error(fname, input, "input", 1)
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool):
        raise TypeError(f"{fname}(): argument '{what}' (position 2) must be int, not "
                        f"{type(factor).__name__}")
    if input.dim() < 3:
        raise RuntimeError(f"{fname} expects input to have at least 3 dimensions, but got input "
                           f"with {input.dim()} dimension(s)")
    if factor <= 0:
        raise RuntimeError(f"{fname} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor):
    _check_factor("pixel_shuffle", input, upscale_factor, "upscale_factor")
    c = input.shape[-3]
    if c % (upscale_factor * upscale_factor):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but input.size(-3)={c} is "
                           f"not divisible by {upscale_factor * upscale_factor}")
    return _PixelShuffle.apply(input, _ShufflePlan(int(upscale_factor)))


def pixel_unshuffle(input, downscale_factor):
    _check_factor("pixel_unshuffle", input, downscale_factor, "downscale_factor")
    h, w = input.shape[-2:]
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % downscale_factor:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not divisible "
                               f"by {downscale_factor}")
    return _PixelUnshuffle.apply(input, _ShufflePlan(int(downscale_factor)))

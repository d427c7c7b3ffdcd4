"""Pooling (max with indices, average, adaptive, power-average, max_unpool), interpolation,
pixel shuffle and their Modules against torch: outputs, indices and gradients over kernel,
stride, padding, dilation and ceil_mode settings, gradchecks, node names, repr strings and
errors."""

import warnings

import numpy as np
import pytest
import torch
from oracle import arr, check, check_error, gradcheck_op

import disttorch

F_T = torch.nn.functional
F_D = disttorch.nn.functional
F32 = dict(rtol=1e-4, atol=1e-5)


def fn(m):
    return F_T if m is torch else F_D


def node(out):
    out = out[0] if isinstance(out, tuple) else out
    return None if out.grad_fn is None else type(out.grad_fn).__name__


def check_node(call, *inputs, **tol):
    got = check(call, *inputs, **tol)
    expected = call(torch, *[torch.tensor(a, requires_grad=a.dtype.kind == "f")
                             for a in inputs])
    assert node(got) == node(expected)
    return got


# ---------------------------------------------------------------- max pooling

MAX_POOL = [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("max_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool2d", (1, 2, 9, 8), dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1),
                                      padding=(1, 0), return_indices=True)),
    ("max_pool2d", (3, 7, 7), dict(kernel_size=3, stride=1, return_indices=True)),
    ("max_pool2d", (2, 2, 6, 5), dict(kernel_size=2, stride=3, ceil_mode=True)),
    ("max_pool2d", (0, 2, 6, 5), dict(kernel_size=2)),
    ("max_pool2d", (2, 2, 5, 5), dict(kernel_size=(5, 1), stride=(), padding=(2, 0),
                                      dilation=(1, 1))),
    ("max_pool1d", (2, 3, 9), dict(kernel_size=2)),
    ("max_pool1d", (3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                 return_indices=True)),
    ("max_pool1d", (2, 3, 11), dict(kernel_size=2, dilation=3, return_indices=True)),
]


@pytest.mark.parametrize("name,shape,kwargs", MAX_POOL)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_pool(name, shape, kwargs, dtype):
    check_node(lambda m, x: getattr(fn(m), name)(x, **kwargs), arr(*shape, dtype=dtype))


@pytest.mark.parametrize("row", [1, 3, 9])
def test_max_pool_gradcheck(row):
    name, shape, kwargs = MAX_POOL[row]
    kwargs = dict(kwargs, return_indices=False)
    gradcheck_op(lambda m, x: getattr(fn(m), name)(x, **kwargs), arr(*shape), gradgrad=True)


@pytest.mark.parametrize("dtype", ["int64", "int8", "float16"])
def test_max_pool_other_dtypes(dtype):
    x = arr(2, 3, 7, 6, dtype=dtype, low=-3, high=3)  # integers: many ties, first one wins
    check(lambda m, x: fn(m).max_pool2d(x, 3, 2, 1, return_indices=True), x, grad=False)
    check(lambda m, x: fn(m).max_pool1d(x[0], 2, return_indices=True), x, grad=False)


def test_max_pool_nan_and_infinity():
    x = arr(1, 2, 6, 6)
    x[0, 0, 1, 1] = x[0, 0, 0, 1] = x[0, 1, 4, 4] = np.nan
    x[0, 1, 0, 0] = np.inf
    check(lambda m, x: fn(m).max_pool2d(x, 2, return_indices=True), x)
    check(lambda m, x: fn(m).max_pool2d(x, 3, 1, 1, return_indices=True), x)


def test_max_pool1d_namespace():
    check(lambda m, x: m.max_pool1d(x, 3, 2), arr(2, 3, 9))
    check(lambda m, x: m.max_pool2d(x, 3, 2), arr(2, 3, 9, 9))
    check(lambda m, x: m.max_pool1d_with_indices(x, 3, 2), arr(2, 3, 9))
    check(lambda m, x: fn(m).max_pool2d_with_indices(x, 2), arr(2, 3, 4, 4))


# ---------------------------------------------------------------- average pooling

AVG_POOL = [
    ("avg_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool2d", (2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1,
                                      count_include_pad=False)),
    ("avg_pool2d", (2, 3, 6, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("avg_pool2d", (2, 3, 6, 6), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                      count_include_pad=False)),
    ("avg_pool2d", (3, 7, 6), dict(kernel_size=(3, 2), stride=(1, 2), divisor_override=4)),
    ("avg_pool2d", (1, 1, 5, 5), dict(kernel_size=5)),
    ("avg_pool1d", (2, 3, 9), dict(kernel_size=3)),
    ("avg_pool1d", (3, 10), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                 count_include_pad=False)),
]


@pytest.mark.parametrize("name,shape,kwargs", AVG_POOL)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_avg_pool(name, shape, kwargs, dtype):
    check_node(lambda m, x: getattr(fn(m), name)(x, **kwargs), arr(*shape, dtype=dtype))


@pytest.mark.parametrize("row", [2, 4, 5, 8])
def test_avg_pool_gradcheck(row):
    name, shape, kwargs = AVG_POOL[row]
    gradcheck_op(lambda m, x: getattr(fn(m), name)(x, **kwargs), arr(*shape), gradgrad=True)


@pytest.mark.parametrize("dtype", ["int64", "float16"])
def test_avg_pool_other_dtypes(dtype):
    x = arr(2, 3, 7, 6, dtype=dtype, low=-9, high=9)  # integers divide toward zero
    check(lambda m, x: fn(m).avg_pool2d(x, 3, 2, 1, ceil_mode=True), x, grad=False, **F32)
    check(lambda m, x: fn(m).avg_pool2d(x, 2, divisor_override=3), x, grad=False, **F32)
    check(lambda m, x: m.avg_pool1d(x[0], 2), x, grad=False, **F32)


# ---------------------------------------------------------------- adaptive pooling

ADAPTIVE = [((2, 3, 8, 8), (1, 1)), ((2, 3, 7, 9), (3, 4)), ((2, 3, 7, 9), 5),
            ((3, 5, 6), (None, 4)), ((2, 3, 4, 5), (6, 7)), ((2, 3, 7, 9), (7, 9)),
            ((1, 2, 13, 5), (4, 2))]


@pytest.mark.parametrize("shape,size", ADAPTIVE)
def test_adaptive_pool2d(shape, size):
    x = arr(*shape)
    check_node(lambda m, x: fn(m).adaptive_avg_pool2d(x, size), x)
    check_node(lambda m, x: fn(m).adaptive_max_pool2d(x, size, return_indices=True), x)
    check(lambda m, x: fn(m).adaptive_avg_pool2d(x, size), x.astype("float32"), **F32)
    check(lambda m, x: fn(m).adaptive_max_pool2d(x, size), x.astype("float32"))


@pytest.mark.parametrize("shape,size", [((2, 3, 9), 4), ((3, 10), 1), ((2, 3, 5), 7)])
def test_adaptive_pool1d(shape, size):
    x = arr(*shape)
    check_node(lambda m, x: fn(m).adaptive_avg_pool1d(x, size), x)
    check_node(lambda m, x: fn(m).adaptive_max_pool1d(x, size, return_indices=True), x)
    check(lambda m, x: m.adaptive_avg_pool1d(x, size), x)



@pytest.mark.parametrize("shape,size", [((2, 3, 4, 5, 6), (2, 3, 4)), ((2, 3, 4, 5, 6), 1),
                                        ((3, 4, 5, 6), (None, 2, 7))])
def test_adaptive_avg_pool3d(shape, size):
    check_node(lambda m, x: fn(m).adaptive_avg_pool3d(x, size), arr(*shape))
    check_node(lambda m, x: m.nn.AdaptiveAvgPool3d(size)(x), arr(*shape))
    check_node(lambda m, x: fn(m).interpolate(x, size=(2, 3, 4), mode="area"), arr(2, 3, 4, 5, 6))
    gradcheck_op(lambda m, x: fn(m).adaptive_avg_pool3d(x, (2, 3, 4)), arr(1, 2, 4, 5, 6),
                 gradgrad=True)


def test_adaptive_gradcheck_and_empty():
    gradcheck_op(lambda m, x: fn(m).adaptive_avg_pool2d(x, (3, 4)), arr(2, 2, 7, 9),
                 gradgrad=True)
    gradcheck_op(lambda m, x: fn(m).adaptive_max_pool2d(x, (3, 4)), arr(2, 2, 7, 9),
                 gradgrad=True)
    check(lambda m, x: fn(m).adaptive_avg_pool2d(x, 0), arr(1, 2, 4, 4), grad=False)
    check(lambda m, x: fn(m).adaptive_avg_pool2d(x, 2), arr(0, 2, 4, 4))
    check(lambda m, x: fn(m).adaptive_max_pool2d(x, 2), arr(0, 2, 4, 4))


# ---------------------------------------------------------------- lp pooling, max_unpool


@pytest.mark.parametrize("name,shape,args", [
    ("lp_pool2d", (2, 3, 7, 8), (2, 3)), ("lp_pool2d", (2, 3, 7, 8), (1.5, (2, 3), 2, True)),
    ("lp_pool1d", (2, 3, 9), (2, 2)), ("lp_pool1d", (3, 9), (3.0, 3, 2))])
def test_lp_pool(name, shape, args):
    x = arr(*shape, positive=True)
    check_node(lambda m, x: getattr(fn(m), name)(x, *args), x)
    gradcheck_op(lambda m, x: getattr(fn(m), name)(x, *args), x)


@pytest.mark.parametrize("shape,kwargs,size", [
    ((2, 3, 8, 8), dict(kernel_size=2), None),
    ((2, 3, 7, 9), dict(kernel_size=3, stride=2, padding=1), None),
    ((3, 7, 9), dict(kernel_size=2), [7, 9]),
    ((2, 3, 7, 9), dict(kernel_size=2), [2, 3, 7, 9])])
def test_max_unpool2d(shape, kwargs, size):
    def call(m, x):
        values, indices = fn(m).max_pool2d(x, return_indices=True, **kwargs)
        return fn(m).max_unpool2d(values, indices, output_size=size, **kwargs)

    check_node(call, arr(*shape))
    if "stride" not in kwargs:  # overlapping windows may write one position twice
        gradcheck_op(call, arr(*shape), gradgrad=True)
    check(lambda m, x: m.nn.MaxUnpool2d(**kwargs)(*m.nn.MaxPool2d(
        return_indices=True, **kwargs)(x), output_size=size), arr(*shape))


def test_max_unpool1d():
    def call(m, x):
        values, indices = fn(m).max_pool1d(x, 3, 2, 1, return_indices=True)
        return fn(m).max_unpool1d(values, indices, 3, 2, 1, output_size=[9])

    check_node(call, arr(2, 3, 9))
    check(lambda m, x: m.nn.MaxUnpool1d(2)(*m.nn.MaxPool1d(2, return_indices=True)(x)),
          arr(3, 8))


# ---------------------------------------------------------------- interpolation

INTERPOLATE = [
    ((2, 3, 5, 6), dict(scale_factor=2)),
    ((2, 3, 5, 6), dict(scale_factor=1.7)),
    ((2, 3, 5, 6), dict(scale_factor=(0.5, 3))),
    ((2, 3, 5, 6), dict(size=(7, 4))),
    ((2, 3, 5, 6), dict(size=4, mode="nearest-exact")),
    ((2, 3, 5, 6), dict(scale_factor=1.5, mode="nearest-exact")),
    ((2, 3, 5, 6), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((2, 3, 7), dict(scale_factor=2.5)),
    ((2, 3, 7), dict(size=12, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
    ((2, 3, 5, 6), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 5, 6), dict(scale_factor=(1.5, 0.7), mode="bilinear")),
    ((2, 3, 5, 6), dict(size=(8, 3), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 6), dict(size=(1, 9), mode="bilinear", align_corners=True)),
    ((2, 3, 5, 6), dict(size=(9, 4), mode="bicubic")),
    ((2, 3, 5, 6), dict(scale_factor=2, mode="bicubic", align_corners=True)),
    ((2, 3, 9, 8), dict(size=(4, 3), mode="area")),
    ((2, 3, 9, 8), dict(scale_factor=0.5, mode="area")),
    ((2, 3, 9), dict(size=4, mode="area")),
    ((1, 2, 3, 4, 5), dict(scale_factor=(2, 1.5, 1), mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(2, 5, 3), mode="trilinear", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=2)),
    ((2, 3, 9, 10), dict(size=(4, 6), mode="bilinear", antialias=True)),
    ((2, 3, 9, 10), dict(scale_factor=(0.4, 1.5), mode="bicubic", antialias=True)),
    ((2, 3, 9, 10), dict(size=(5, 3), mode="bicubic", antialias=True, align_corners=True)),
    ((2, 3, 9, 10), dict(size=(4, 13), mode="lanczos", antialias=True)),
]


@pytest.mark.parametrize("shape,kwargs", INTERPOLATE)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_interpolate(shape, kwargs, dtype):
    tol = F32 if dtype == "float32" else {}
    check_node(lambda m, x: fn(m).interpolate(x, **kwargs), arr(*shape, dtype=dtype), **tol)


@pytest.mark.parametrize("row", [1, 4, 8, 11, 14, 16, 23])
def test_interpolate_gradcheck(row):
    shape, kwargs = INTERPOLATE[row]
    gradcheck_op(lambda m, x: fn(m).interpolate(x, **kwargs), arr(*shape),
                 gradgrad=row in (1, 11))


def test_interpolate_uint8_and_deprecated():
    check(lambda m, x: fn(m).interpolate(x, scale_factor=3), arr(1, 2, 3, 4, dtype="uint8"))
    for name, kwargs in (("upsample", dict(scale_factor=2, mode="bilinear")),
                         ("upsample_nearest", dict(size=7)),
                         ("upsample_bilinear", dict(size=(3, 9)))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check(lambda m, x: getattr(fn(m), name)(x, **kwargs), arr(2, 3, 5, 6))
        assert len(caught) == 2 and "deprecated" in str(caught[-1].message)


@pytest.mark.parametrize("shape,factor", [((2, 8, 3, 4), 2), ((2, 3, 18, 2, 3), 3),
                                          ((9, 1, 1), 3)])
def test_pixel_shuffle(shape, factor):
    x = arr(*shape)
    check_node(lambda m, x: fn(m).pixel_shuffle(x, factor), x)
    check(lambda m, x: m.pixel_shuffle(x, factor), x)
    shuffled = F_T.pixel_shuffle(torch.tensor(x), factor).numpy()
    check_node(lambda m, y: fn(m).pixel_unshuffle(y, factor), shuffled)
    check(lambda m, y: m.nn.PixelUnshuffle(factor)(m.nn.PixelShuffle(factor)(y)), x)
    gradcheck_op(lambda m, x: fn(m).pixel_shuffle(x, factor), x, gradgrad=True)
    check(lambda m, x: fn(m).pixel_shuffle(x, factor), x.astype("int64"), grad=False)


# ---------------------------------------------------------------- errors

POOL_ERRORS = [
    lambda m, x: fn(m).max_pool2d(x[0, 0], 2),
    lambda m, x: fn(m).max_pool2d(x, 3, padding=2),
    lambda m, x: fn(m).max_pool2d(x, 0),
    lambda m, x: fn(m).max_pool2d(x, 0, stride=1),
    lambda m, x: fn(m).max_pool2d(x, 2, stride=0),
    lambda m, x: fn(m).max_pool2d(x, 3, stride=-1),
    lambda m, x: fn(m).max_pool2d(x, 2, padding=-1),
    lambda m, x: fn(m).max_pool2d(x, 2, dilation=0),
    lambda m, x: fn(m).max_pool2d(x, 3, dilation=(0, 1)),
    lambda m, x: fn(m).max_pool2d(x, 8),
    lambda m, x: fn(m).max_pool2d(x, (2, 2, 2)),
    lambda m, x: fn(m).max_pool2d(x, 3, stride=(1, 2, 3)),
    lambda m, x: fn(m).max_pool2d(x, 3, padding=(1, 2, 3)),
    lambda m, x: fn(m).max_pool2d(x, 3, dilation=(1, 2, 3)),
    lambda m, x: fn(m).max_pool2d(x.unsqueeze(0), 3),
    lambda m, x: fn(m).max_pool2d(x[:, :0], 3),
    lambda m, x: fn(m).max_pool2d(x > 0, 3),
    lambda m, x: fn(m).max_pool1d(x, 2),
    lambda m, x: fn(m).max_pool1d(x[0, 0, 0], 2),
    lambda m, x: fn(m).max_pool1d(x[0], 8),
    lambda m, x: fn(m).max_pool1d(x[0], 3, padding=2),
    lambda m, x: fn(m).max_pool1d(x[0], 0),
    lambda m, x: fn(m).max_pool1d(x[0], 3, stride=0),
    lambda m, x: fn(m).max_pool1d(x[0], 3, padding=-1),
    lambda m, x: fn(m).max_pool1d(x[0], 3, dilation=0),
    lambda m, x: fn(m).max_pool1d(x[0], (3, 3)),
    lambda m, x: fn(m).max_pool1d(x[0, :, :0], 1),
    lambda m, x: fn(m).max_pool1d(x[0].requires_grad_(), 8),
    lambda m, x: fn(m).max_pool1d(x.requires_grad_(), 2),
    lambda m, x: fn(m).max_pool1d(x[0], 2, return_indices=True, padding=(1, 1)),
    lambda m, x: fn(m).avg_pool2d(x, 3, padding=2),
    lambda m, x: fn(m).avg_pool2d(x, 8),
    lambda m, x: fn(m).avg_pool2d(x, 0),
    lambda m, x: fn(m).avg_pool2d(x, 0, stride=1),
    lambda m, x: fn(m).avg_pool2d(x, -1, stride=1),
    lambda m, x: fn(m).avg_pool2d(x, 2, divisor_override=0),
    lambda m, x: fn(m).avg_pool2d(x, 3, stride=-1),
    lambda m, x: fn(m).avg_pool2d(x, 3, padding=-2),
    lambda m, x: fn(m).avg_pool2d(x[0, 0], 3),
    lambda m, x: fn(m).avg_pool2d(x.unsqueeze(0), 3),
    lambda m, x: fn(m).avg_pool2d(x, (3, 3, 3)),
    lambda m, x: fn(m).avg_pool2d(x, 3, stride=(1, 2, 3)),
    lambda m, x: fn(m).avg_pool2d(x, 3, padding=(1, 2, 3)),
    lambda m, x: fn(m).avg_pool2d(x.to(m.uint8), 3),
    lambda m, x: fn(m).avg_pool2d(x.to(m.int32), 3),
    lambda m, x: fn(m).avg_pool2d(x > 0, 3),
    lambda m, x: fn(m).avg_pool1d(x[0], 8),
    lambda m, x: fn(m).avg_pool1d(x[0, 0, 0], 3),
    lambda m, x: fn(m).avg_pool1d(x, 3),
    lambda m, x: fn(m).avg_pool1d(x[0], (3, 3)),
    lambda m, x: fn(m).avg_pool1d(x[0], 3, stride=-1),
    lambda m, x: fn(m).adaptive_avg_pool2d(x[0, 0], (4, 3)),
    lambda m, x: fn(m).adaptive_avg_pool2d(x[0, 0], 3),
    lambda m, x: fn(m).adaptive_avg_pool2d(x.unsqueeze(0), 3),
    lambda m, x: fn(m).adaptive_avg_pool2d(x, (2, 3, 4)),
    lambda m, x: fn(m).adaptive_avg_pool2d(x, -1),
    lambda m, x: fn(m).adaptive_avg_pool2d(x[:, :, :0], 2),
    lambda m, x: fn(m).adaptive_avg_pool2d(x.long(), 2),
    lambda m, x: fn(m).adaptive_avg_pool1d(x, 3),
    lambda m, x: fn(m).adaptive_avg_pool1d(x[0, 0, 0], 3),
    lambda m, x: fn(m).adaptive_avg_pool1d(x[0], (2, 3)),
    lambda m, x: fn(m).adaptive_avg_pool1d(x[0, ..., :0], 2),
    lambda m, x: fn(m).adaptive_avg_pool3d(x[0], 2),
    lambda m, x: fn(m).adaptive_avg_pool3d(x.unsqueeze(0), (2, 2)),
    lambda m, x: fn(m).adaptive_avg_pool3d(x.unsqueeze(0), -1),
    lambda m, x: fn(m).adaptive_avg_pool3d(x[:, :, :0].unsqueeze(0), 2),
    lambda m, x: fn(m).adaptive_avg_pool3d(x.long(), 2),
    lambda m, x: fn(m).adaptive_avg_pool3d(x.unsqueeze(0).unsqueeze(0), 2),
    lambda m, x: fn(m).adaptive_max_pool2d(x[0, 0], 3),
    lambda m, x: fn(m).adaptive_max_pool2d(x.unsqueeze(0), 3),
    lambda m, x: fn(m).adaptive_max_pool2d(x, (2, 3, 4)),
    lambda m, x: fn(m).adaptive_max_pool2d(x[:, :, :0], 2),
    lambda m, x: fn(m).adaptive_max_pool2d(x.long(), 2),
    lambda m, x: fn(m).adaptive_max_pool1d(x, 3),
    lambda m, x: fn(m).max_unpool2d(*fn(m).max_pool2d(x, 2, return_indices=True), 2,
                                    output_size=(9, 9)),
    lambda m, x: fn(m).max_unpool2d(*fn(m).max_pool2d(x, 2, return_indices=True), 2,
                                    output_size=(1, 2, 3)),
    lambda m, x: fn(m).max_unpool2d(fn(m).max_pool2d(x, 2), m.full((2, 3, 3, 3), 40), 2),
    lambda m, x: fn(m).max_unpool2d(fn(m).max_pool2d(x, 2), m.zeros(2, 3, 3, 2).long(), 2),
    lambda m, x: fn(m).interpolate(x, size=(3,)),
    lambda m, x: fn(m).interpolate(x, scale_factor=(2, 2, 2)),
    lambda m, x: fn(m).interpolate(x, size=0),
    lambda m, x: fn(m).interpolate(x, scale_factor=0.1),
    lambda m, x: fn(m).interpolate(x[0, 0], scale_factor=2),
    lambda m, x: fn(m).interpolate(x, size=4, scale_factor=2),
    lambda m, x: fn(m).interpolate(x),
    lambda m, x: fn(m).interpolate(x, size=4, mode="foo"),
    lambda m, x: fn(m).interpolate(x, size=4, align_corners=True),
    lambda m, x: fn(m).interpolate(x, size=4, mode="area", align_corners=False),
    lambda m, x: fn(m).interpolate(x[0], size=4, mode="bilinear"),
    lambda m, x: fn(m).interpolate(x, size=4, mode="linear"),
    lambda m, x: fn(m).interpolate(x, size=4, mode="trilinear"),
    lambda m, x: fn(m).interpolate(x.unsqueeze(0), size=4, mode="bicubic"),
    lambda m, x: fn(m).interpolate(x, size=4, mode="nearest", antialias=True),
    lambda m, x: fn(m).interpolate(x, size=4, mode="lanczos"),
    lambda m, x: fn(m).interpolate(x, size=4, mode="lanczos", antialias=True,
                                   align_corners=True),
    lambda m, x: fn(m).interpolate(x[0], size=4, mode="bilinear", antialias=True),
    lambda m, x: fn(m).interpolate(x, size=4, recompute_scale_factor=True),
    lambda m, x: fn(m).interpolate(x.long(), scale_factor=2),
    lambda m, x: fn(m).pixel_shuffle(x[0, 0, 0], 2),
    lambda m, x: fn(m).pixel_shuffle(x, 0),
    lambda m, x: fn(m).pixel_shuffle(x, 2),
    lambda m, x: fn(m).pixel_unshuffle(x, -1),
    lambda m, x: fn(m).pixel_unshuffle(x[0, 0], 2),
    lambda m, x: fn(m).pixel_unshuffle(x[..., :6], 2),
    lambda m, x: fn(m).pixel_unshuffle(x[..., :6, :], 2),
]


@pytest.mark.parametrize("call", POOL_ERRORS)
def test_pool_errors(call):
    check_error(call, arr(2, 3, 7, 7, dtype="float32"), match="same")


# ---------------------------------------------------------------- modules

MODULES = [
    ("MaxPool2d(2)", (2, 3, 8, 8)), ("MaxPool2d(3, 2, 1, ceil_mode=True)", (2, 3, 7, 9)),
    ("MaxPool2d(2, return_indices=True)", (3, 6, 6)), ("MaxPool1d(3, 2, 1)", (2, 3, 9)),
    ("MaxPool1d(2, return_indices=True)", (3, 8)),
    ("AvgPool2d(3, 2, 1, True, False)", (2, 3, 7, 8)),
    ("AvgPool2d((2, 3), divisor_override=2)", (2, 3, 6, 6)), ("AvgPool1d(3, 2)", (2, 3, 9)),
    ("AdaptiveAvgPool2d((1, 1))", (2, 3, 5, 6)), ("AdaptiveAvgPool2d((None, 2))", (3, 5, 6)),
    ("AdaptiveAvgPool1d(3)", (2, 3, 7)), ("AdaptiveMaxPool2d(3, return_indices=True)",
                                          (2, 3, 7, 8)),
    ("AdaptiveMaxPool1d(2)", (3, 7)), ("LPPool2d(2, 3, stride=2)", (2, 3, 7, 8)),
    ("LPPool1d(3, 2)", (2, 3, 7)), ("Upsample(scale_factor=2)", (2, 3, 4, 5)),
    ("Upsample(size=(5, 3), mode='bilinear')", (2, 3, 4, 5)),
    ("Upsample(scale_factor=(2, 1.5), mode='bicubic', align_corners=True)", (2, 3, 4, 5)),
    ("UpsamplingNearest2d(size=7)", (2, 3, 4, 5)),
    ("UpsamplingBilinear2d(scale_factor=3)", (2, 3, 4, 5)), ("PixelShuffle(2)", (2, 8, 3, 3)),
    ("PixelUnshuffle(2)", (2, 2, 4, 6)),
]


@pytest.mark.parametrize("source,shape", MODULES)
def test_pool_modules(source, shape):
    modules = {m: eval(source, vars(m.nn)) for m in (torch, disttorch)}
    check_node(lambda m, x: modules[m](x), arr(*shape, positive="LP" in source))
    assert repr(modules[disttorch]) == repr(modules[torch])


@pytest.mark.parametrize("source", [
    "MaxPool2d((2, 3), stride=1, padding=1, dilation=2, return_indices=True, ceil_mode=True)",
    "AvgPool2d(3, 2, 1, True, False, 5)", "AvgPool1d(3)", "AdaptiveAvgPool2d((None, 3))",
    "AdaptiveMaxPool2d(2, return_indices=True)", "LPPool1d(2, 3)", "MaxUnpool2d(2)",
    "AdaptiveAvgPool3d((1, None, 2))",
    "MaxUnpool1d(3, 2, 1)", "Upsample(size=4, mode='bilinear')",
    "Upsample(scale_factor=(2, 3))", "UpsamplingNearest2d(scale_factor=2)",
    "UpsamplingBilinear2d(size=(3, 4))", "PixelUnshuffle(3)",
    "Sequential(Conv2d(1, 32, 3, 1), MaxPool2d(2), AdaptiveAvgPool2d(1), Upsample(size=3))"])
def test_pool_repr(source):
    assert repr(eval(source, vars(disttorch.nn))) == repr(eval(source, vars(torch.nn)))


@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)])
def test_max_pool_gradient_with_infinite_values(kwargs):
    x = arr(1, 2, 6, 6)
    grads = []
    for m in (torch, disttorch):
        t = m.tensor(x, requires_grad=True)
        out = fn(m).max_pool2d(t, **kwargs)
        upstream = m.ones(out.shape, dtype=m.float64)
        upstream[0, 0, 1, 1] = float("inf")
        upstream[0, 1, 0, 0] = float("nan")
        out.backward(upstream)
        grads.append(t.grad.numpy())
    np.testing.assert_array_equal(grads[1], grads[0])


def test_max_pool_all_minus_infinity_windows():
    x = np.full((1, 2, 5, 6), -np.inf)
    x[0, 1, 2, 3] = 1.0
    check(lambda m, x: fn(m).max_pool2d(x, 3, 2, 1, return_indices=True), x, grad=False)
    check(lambda m, x: fn(m).max_pool2d(x, 3, 2, 1, dilation=2, ceil_mode=True,
                                        return_indices=True), x, grad=False)
    check(lambda m, x: fn(m).max_pool1d(x[0], 2, 2, 1, return_indices=True), x, grad=False)
    ints = np.full((1, 2, 5, 6), np.iinfo(np.int64).min)
    check(lambda m, x: fn(m).max_pool2d(x, 3, 2, 1, return_indices=True), ints, grad=False)

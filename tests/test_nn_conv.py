"""Convolutions (conv1d/2d/3d, conv_transpose1d/2d/3d, torch.convolution), fold/unfold and their
Modules against torch: outputs and gradients over strides, paddings ('same' and 'valid' too),
dilations, groups and batch shapes, gradchecks to second order, node names, default
initialisation, repr strings and errors."""

import math

import numpy as np
import pytest
import torch
from oracle import arr, assert_same, check, check_error, gradcheck_op

import disttorch

pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")

F_T = torch.nn.functional
F_D = disttorch.nn.functional


def fn(m):
    return F_T if m is torch else F_D


def node(out):
    return None if out.grad_fn is None else type(out.grad_fn).__name__


F32 = dict(rtol=1e-4, atol=1e-5)

# (function, input shape, weight shape, bias, keyword arguments)
CONV = [
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), True, {}),
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 2), False, dict(stride=2)),
    ("conv2d", (1, 3, 8, 9), (5, 3, 3, 3), True, dict(stride=(2, 3), padding=(1, 2))),
    ("conv2d", (2, 2, 9, 8), (3, 2, 3, 2), True, dict(dilation=(2, 3), padding=2)),
    ("conv2d", (2, 4, 6, 6), (6, 2, 3, 3), True, dict(groups=2, padding=1)),
    ("conv2d", (2, 4, 6, 5), (8, 1, 3, 3), True, dict(groups=4, stride=2)),  # depthwise
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), True, dict(padding="same")),
    ("conv2d", (2, 3, 7, 6), (4, 3, 2, 4), True, dict(padding="same")),
    ("conv2d", (2, 3, 7, 6), (4, 3, 2, 3), True, dict(padding="same", dilation=(3, 2))),
    ("conv2d", (2, 3, 7, 6), (4, 3, 3, 3), True, dict(padding="valid")),
    ("conv2d", (3, 7, 6), (4, 3, 3, 3), True, dict(padding=1)),  # unbatched
    ("conv2d", (2, 3, 5, 5), (4, 3, 1, 1), True, {}),
    ("conv2d", (2, 3, 5, 5), (4, 3, 5, 5), True, {}),
    ("conv2d", (0, 3, 5, 5), (4, 3, 3, 3), True, {}),
    ("conv2d", (2, 3, 5, 5), (4, 3, 3, 3), True, dict(stride=(2,), padding=[1], dilation=1)),
    ("conv1d", (2, 3, 9), (4, 3, 3), True, {}),
    ("conv1d", (2, 4, 10), (6, 2, 4), False, dict(stride=3, padding=2, dilation=2, groups=2)),
    ("conv1d", (3, 9), (4, 3, 4), True, dict(padding="same")),
    ("conv3d", (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), True, dict(stride=(1, 2, 1), padding=1)),
    ("conv3d", (2, 4, 4, 4, 3), (4, 2, 3, 1, 2), True, dict(groups=2, dilation=(1, 2, 1))),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 4, 3, 3), True, {}),
    ("conv_transpose2d", (2, 3, 4, 5), (3, 2, 3, 2), False,
     dict(stride=2, padding=1, output_padding=1)),
    ("conv_transpose2d", (2, 4, 4, 3), (4, 3, 2, 3), True,
     dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), groups=2, dilation=(2, 1))),
    ("conv_transpose2d", (3, 4, 5), (3, 2, 3, 3), True, dict(stride=2)),  # unbatched
    ("conv_transpose1d", (2, 3, 6), (3, 5, 4), True, dict(stride=3, output_padding=2)),
    ("conv_transpose1d", (2, 4, 6), (4, 1, 3), True, dict(groups=4, dilation=2, padding=2)),
    ("conv_transpose3d", (1, 2, 3, 2, 3), (2, 3, 2, 2, 3), True, dict(stride=2, padding=1)),
]


def _conv_inputs(xs, ws, bias, transposed, groups, dtype):
    inputs = [arr(*xs, dtype=dtype), arr(*ws, dtype=dtype)]
    if bias:
        out_channels = ws[1] * groups if transposed else ws[0]
        inputs.append(arr(out_channels, dtype=dtype))
    return inputs


def _call(name, kwargs, bias):
    if bias:
        return lambda m, x, w, b: getattr(fn(m), name)(x, w, b, **kwargs)
    return lambda m, x, w: getattr(fn(m), name)(x, w, **kwargs)


@pytest.mark.parametrize("name,xs,ws,bias,kwargs", CONV)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv(name, xs, ws, bias, kwargs, dtype):
    transposed = "transpose" in name
    inputs = _conv_inputs(xs, ws, bias, transposed, kwargs.get("groups", 1), dtype)
    call = _call(name, kwargs, bias)
    got = check(call, *inputs, **(F32 if dtype == "float32" else {}))
    expected = call(torch, *[torch.tensor(a, requires_grad=True) for a in inputs])
    assert node(got) == node(expected)


@pytest.mark.parametrize("row", [0, 3, 4, 8, 16, 21, 22, 25])
def test_conv_gradcheck(row):
    name, xs, ws, bias, kwargs = CONV[row]
    inputs = _conv_inputs(xs, ws, bias, "transpose" in name, kwargs.get("groups", 1), "float64")
    gradcheck_op(_call(name, kwargs, bias), *inputs, gradgrad=row in (4, 8, 25))


def test_conv_double_backward_nodes():
    for name, ws in (("conv2d", (4, 3, 3, 3)), ("conv_transpose2d", (3, 4, 3, 3))):
        names = []
        xa, wa = arr(2, 3, 5, 5), arr(*ws)
        for m in (torch, disttorch):
            x = m.tensor(xa, requires_grad=True)
            w = m.tensor(wa, requires_grad=True)
            y = getattr(fn(m), name)(x, w, stride=2)
            gx, gw = m.autograd.grad((y * y).sum(), (x, w), create_graph=True)
            names.append((node(y), node(gx), node(gw)))
            (hx, hw) = m.autograd.grad(gx.sum() + (gw * gw).sum(), (x, w))
            if m is torch:
                expected = (hx, hw)
        assert names[0] == names[1]
        assert_same(hx, expected[0], 1e-6, 1e-8)
        assert_same(hw, expected[1], 1e-6, 1e-8)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8", "bool"])
def test_conv_integer(dtype):
    kinds = [(lambda m, x, w: fn(m).conv2d(x, w, padding=1), (4, 3, 3, 3)),
             (lambda m, x, w: fn(m).conv1d(x[0], w[..., 0], stride=2), (4, 5, 3, 3)),
             (lambda m, x, w: fn(m).conv3d(x[:, :, None], w[:, :, None]), (4, 3, 3, 3)),
             (lambda m, x, w: fn(m).conv_transpose2d(x, w, stride=2), (3, 2, 3, 3)),
             (lambda m, x, w: fn(m).conv_transpose1d(x[0], w[..., 0]), (5, 2, 3, 3)),
             (lambda m, x, w: fn(m).conv_transpose3d(x[:, :, None], w[:, :, None]),
              (3, 2, 3, 3))]
    for call, ws in kinds:
        inputs = arr(2, 3, 5, 4, dtype=dtype, high=3), arr(*ws, dtype=dtype, high=3)
        try:
            call(torch, *[torch.tensor(a) for a in inputs])
        except NotImplementedError:  # (torch names another kernel for some bool 3-d shapes)
            check_error(call, *inputs, match=None if dtype == "bool" else "same")
        else:
            check(call, *inputs, grad=False)


def test_torch_namespace_and_convolution():
    x, w, b = arr(2, 4, 6, 6), arr(6, 2, 3, 3), arr(6)
    check(lambda m, x, w, b: m.conv2d(x, w, b, 1, 1, 1, 2), x, w, b)
    check(lambda m, x, w, b: m.convolution(x, w, b, [2, 1], [1, 0], [1, 1], False, [0, 0], 2),
          x, w, b)
    check(lambda m, x, w, b: m.convolution(x, w, b, [2], [1], [1], True, [1], 1), x,
          arr(4, 3, 3, 3), arr(3))
    check(lambda m, x: m.conv1d(x, m.ones(2, 4, 3, dtype=m.float64)), arr(2, 4, 7))
    check(lambda m, x: m.conv_transpose1d(x, m.ones(4, 2, 3, dtype=m.float64), stride=2),
          arr(2, 4, 7))


def test_same_padding_warns_once_like_torch():
    call = _call("conv2d", dict(padding="same"), False)
    check(call, arr(1, 2, 5, 5), arr(3, 2, 2, 2))


CONV_ERRORS = [
    lambda m: fn(m).conv2d(m.randn(64, 3, 28, 28), m.randn(32, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 2, 2), m.randn(32, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(1, 2, 2), m.randn(32, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 2), m.randn(32, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 2, 2, 2), m.randn(32, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(32, 1, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(32, 1, 3, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 4, 5, 5), m.randn(6, 2, 3, 3), groups=3),
    lambda m: fn(m).conv2d(m.randn(2, 6, 5, 5), m.randn(4, 2, 3, 3), groups=3),
    lambda m: fn(m).conv2d(m.randn(2, 3, 5, 5), m.randn(4, 3, 3, 3), groups=5),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=0),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), padding=-1),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), dilation=0),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), groups=0),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=(0, 1), groups=0),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=2, padding="same"),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), padding="foo"),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), bias=m.randn(4)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), bias=m.randn(3, 1)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=(1, 1, 1)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), padding=(1, 1, 1)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), dilation=(1, 1, 1)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=()),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), dilation=3),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 6, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5, dtype=m.float64), m.randn(3, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3, dtype=m.float64)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3),
                           m.randn(3, dtype=m.float64)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), m.randn(4, 2, 1)
                           .to(m.float64)),
    lambda m: fn(m).conv2d(m.ones(2, 3, 5, 5, dtype=m.int64), m.randn(4, 3, 3, 3)),
    lambda m: fn(m).conv2d(m.ones(2, 3, 5, 5, dtype=m.bool), m.ones(4, 3, 3, 3, dtype=m.bool)),
    lambda m: fn(m).conv1d(m.randn(2, 1, 5), m.randn(3, 1, 3), stride=(2, 2)),
    lambda m: fn(m).conv1d(m.randn(5), m.randn(3, 1, 3)),
    lambda m: fn(m).conv1d(m.randn(2, 3, 5), m.randn(4, 3)),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3),
                                     output_padding=1),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3), stride=2,
                                     output_padding=(0, 2)),
    lambda m: fn(m).conv_transpose1d(m.randn(2, 3, 5), m.randn(3, 2, 3), output_padding=1),
    lambda m: fn(m).conv_transpose3d(m.randn(1, 3, 2, 2, 2), m.randn(3, 2, 3, 3, 3),
                                     output_padding=1),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 4, 5, 5), m.randn(3, 2, 3, 3)),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 4, 5, 5), m.randn(4, 2, 3, 3), groups=3),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 4, 5, 5), m.randn(4, 2, 3, 3), m.randn(3)),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3), padding=-1),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3),
                                     output_padding=-1),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5, dtype=m.float64),
                                     m.randn(3, 2, 3, 3)),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3),
                                     m.randn(2, dtype=m.float64)),
    lambda m: fn(m).conv_transpose1d(m.randn(5), m.randn(1, 3, 4)),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 3, 3, 3), padding="same"),
]


@pytest.mark.parametrize("call", CONV_ERRORS)
def test_conv_errors(call):
    check_error(call, match="same")


@pytest.mark.parametrize("call", [
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), stride=1.5),
    lambda m: fn(m).conv2d([1.0], m.randn(3, 1, 3, 3)),
    lambda m: fn(m).conv2d(m.randn(2, 1, 5, 5), m.randn(3, 1, 3, 3), groups=1.0),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 5, 5), m.randn(3, 2, 3, 3), stride=1.0),
    lambda m: fn(m).conv_transpose2d(m.randn(2, 3, 1, 1), m.randn(3, 2, 3, 3), padding=3),
])
def test_conv_errors_type_only(call):
    check_error(call)


# ---------------------------------------------------------------- fold / unfold

UNFOLD = [((2, 3, 6, 7), dict(kernel_size=2)),
          ((2, 3, 6, 7), dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
          ((3, 5, 4), dict(kernel_size=3, padding=1)),
          ((0, 2, 4, 4), dict(kernel_size=2))]


@pytest.mark.parametrize("shape,kwargs", UNFOLD)
def test_unfold_fold(shape, kwargs):
    check(lambda m, x: fn(m).unfold(x, **kwargs), arr(*shape))
    blocks = fn(torch).unfold(torch.zeros(shape), **kwargs).shape[-2:]
    lead = blocks if len(shape) == 3 else (shape[0],) + tuple(blocks)
    check(lambda m, x: fn(m).fold(x, shape[-2:], **kwargs), arr(*lead))
    check(lambda m, x: m.nn.Unfold(**kwargs)(x), arr(*shape))
    check(lambda m, x: m.nn.Fold(shape[-2:], **kwargs)(x), arr(*lead))
    if shape[0]:
        gradcheck_op(lambda m, x: fn(m).unfold(x, **kwargs), arr(*shape), gradgrad=True)
        gradcheck_op(lambda m, x: fn(m).fold(x, shape[-2:], **kwargs), arr(*lead))


@pytest.mark.parametrize("call", [
    lambda m: fn(m).unfold(m.randn(6, 6), 2),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 8), 7),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 6), 2, stride=0),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 6), 0),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 6), 2, padding=-1),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 6), 2, dilation=0),
    lambda m: fn(m).unfold(m.randn(1, 1, 6, 6), (2, 2, 2)),
    lambda m: fn(m).unfold(m.randn(1, 4, 6, 6, 6), 2),
    lambda m: fn(m).unfold(m.ones(4, 6, 6, dtype=m.int64), 2),
    lambda m: fn(m).fold(m.randn(2, 12, 10), (4, 4), 2),
    lambda m: fn(m).fold(m.randn(2, 13, 9), (4, 4), 2),
    lambda m: fn(m).fold(m.randn(12), (4, 4), 2),
    lambda m: fn(m).fold(m.randn(2, 3, 12, 9), (4, 4), 2),
    lambda m: fn(m).fold(m.randn(1, 4, 6), (3, 4), 2, stride=0),
    lambda m: fn(m).fold(m.randn(1, 4, 6), (1, 1), 2),
    lambda m: fn(m).fold(m.randn(1, 4, 6), (3, 4, 5), 2),
    lambda m: fn(m).fold(m.ones(4, 6, dtype=m.int64), (3, 4), 2),
])
def test_fold_unfold_errors(call):
    check_error(call, match="same")


# ---------------------------------------------------------------- modules

MODULES = [
    ("Conv1d", (3, 4, 3), {}, (2, 3, 9)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, groups=2, bias=False), (5, 4, 10)),
    ("Conv1d", (3, 4, 4), dict(padding="same", padding_mode="circular"), (2, 3, 9)),
    ("Conv2d", (1, 32, 3), dict(stride=1), (4, 1, 10, 10)),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2)), (2, 3, 8, 7)),
    ("Conv2d", (4, 4, 3), dict(groups=4, padding="same", padding_mode="reflect"), (2, 4, 6, 5)),
    ("Conv2d", (3, 4, 3), dict(padding=2, padding_mode="replicate"), (2, 3, 5, 6)),
    ("Conv2d", (3, 4, 3), dict(padding=1, padding_mode="circular"), (3, 5, 6)),
    ("Conv2d", (3, 4, 2), dict(padding="same"), (3, 5, 6)),
    ("Conv3d", (2, 3, 2), dict(padding=1), (1, 2, 3, 4, 3)),
    ("ConvTranspose1d", (3, 4, 3), dict(stride=2, output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, groups=2, dilation=2), (2, 4, 4, 5)),
    ("ConvTranspose2d", (3, 2, 3), dict(bias=False), (3, 4, 4)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


def _copy_module(torch_module, cls, args, kwargs):
    module = getattr(disttorch.nn, cls)(*args, **kwargs)
    module.load_state_dict({k: disttorch.tensor(v.detach().numpy())
                            for k, v in torch_module.state_dict().items()})
    return module


@pytest.mark.parametrize("cls,args,kwargs,shape", MODULES)
def test_conv_modules(cls, args, kwargs, shape):
    torch_module = getattr(torch.nn, cls)(*args, **kwargs).double()
    module = _copy_module(torch_module, cls, args, kwargs).double()
    x = arr(*shape)
    check(lambda m, x: (torch_module if m is torch else module)(x), x)
    tx = torch.tensor(x, requires_grad=True)
    dx = disttorch.tensor(x, requires_grad=True)
    (torch_module(tx) ** 2).sum().backward()
    (module(dx) ** 2).sum().backward()
    for (name, p), (_, q) in zip(torch_module.named_parameters(), module.named_parameters()):
        assert_same(q.grad, p.grad, 1e-6, 1e-8, name)
    assert repr(module) == repr(torch_module)


def test_conv_transpose_output_size():
    torch_module = torch.nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1).double()
    module = _copy_module(torch_module, "ConvTranspose2d", (3, 2, 3), dict(stride=3, padding=1))
    module.double()
    x = arr(2, 3, 4, 4)
    for size in ([11, 12], [2, 2, 10, 11], torch.Size([12, 10])):
        check(lambda m, x: (torch_module if m is torch else module)(x, output_size=size), x)
    check_error(lambda m, x: (torch_module if m is torch else module)(x, output_size=[14, 10]),
                x, match="same")
    check_error(lambda m, x: (torch_module if m is torch else module)(x, output_size=[1, 2, 3]),
                x, match="same")


@pytest.mark.parametrize("cls,args,kwargs", [
    ("Conv2d", (6, 8, 3), dict(groups=2)), ("Conv1d", (3, 5, 4), dict(bias=False)),
    ("ConvTranspose2d", (6, 4, (3, 2)), dict(groups=2)), ("Conv3d", (2, 3, 2), {})])
def test_default_initialisation(cls, args, kwargs):
    disttorch.manual_seed(0)
    module = getattr(disttorch.nn, cls)(*args, **kwargs)
    reference = getattr(torch.nn, cls)(*args, **kwargs)
    assert module.weight.shape == reference.weight.shape
    assert (module.bias is None) == (reference.bias is None)
    fan_in = reference.weight.shape[1] * math.prod(reference.weight.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    weight = module.weight.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(weight).max() > 0.5 * bound
    if module.bias is not None:
        bias = module.bias.detach().numpy()
        assert np.abs(bias).max() <= bound and module.bias.dtype == disttorch.float32
    assert module.weight.requires_grad and module.weight.dtype == disttorch.float32
    assert list(module.state_dict()) == list(reference.state_dict())
    assert module._reversed_padding_repeated_twice == reference._reversed_padding_repeated_twice


REPRS = ["Conv2d(1, 32, 3)", "Conv2d(1, 32, (3, 5), stride=2, padding=1, dilation=2, bias=False)",
         "Conv2d(4, 8, 3, padding='same', padding_mode='reflect', groups=2)",
         "Conv1d(2, 3, 4, padding='valid')", "Conv1d(2, 3, 4, padding=(2,))",
         "ConvTranspose2d(2, 3, 3, stride=2, output_padding=1)",
         "ConvTranspose1d(2, 3, 3, dilation=2, padding=1)", "Conv3d(1, 2, 3)",
         "Fold((4, 5), 2)", "Unfold(2, stride=2)",
         "Sequential(Conv2d(1, 32, 3, 1), ReLU(), Conv2d(32, 64, 3, 1))"]


@pytest.mark.parametrize("source", REPRS)
def test_conv_repr(source):
    assert repr(eval(source, vars(disttorch.nn))) == repr(eval(source, vars(torch.nn)))


@pytest.mark.parametrize("source", [
    "Conv2d(4, 4, 3, groups=0)", "Conv2d(3, 4, 3, groups=2)", "Conv2d(4, 3, 3, groups=2)",
    "Conv2d(4, 4, 3, padding='full')", "Conv2d(4, 4, 3, stride=2, padding='same')",
    "Conv1d(4, 4, 3, padding_mode='zero')", "ConvTranspose2d(4, 4, 3, padding_mode='reflect')"])
def test_conv_module_errors(source):
    errors = []
    for nn in (torch.nn, disttorch.nn):
        with pytest.raises(ValueError) as info:
            eval(source, vars(nn))
        errors.append(str(info.value))
    if "{" not in errors[0]:  # torch prints a set there, in hash order
        assert errors[1] == errors[0]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_conv_half_precision(dtype):
    x, w, b = arr(2, 3, 6, 5), arr(4, 3, 3, 3), arr(4)

    def call(m, x, w, b):
        half = getattr(m, dtype)
        x, w, b = x.to(half), w.to(half), b.to(half)
        outs = (fn(m).conv2d(x, w, b, padding=1), fn(m).conv_transpose2d(x, w[:3], stride=2),
                fn(m).max_pool2d(x, 2), fn(m).avg_pool2d(x, 2))
        assert all(out.dtype == half for out in outs)
        return tuple(out.float() for out in outs)  # (the oracle reads float32)

    check(call, x, w, b, grad=False, rtol=2e-2, atol=5e-2)

"""Shape, rearranging, joining and splitting ops against torch: values, dtypes, shapes,
gradients, node names and error messages, plus float64 gradchecks."""

import warnings

import numpy as np
import pytest
import torch
from oracle import _wrap, arr, check, check_error, gradcheck_op

import disttorch

A34 = arr(3, 4)
A234 = arr(2, 3, 4)

# (name, fn, input shapes): every row is run through `check` (values, dtype, shape, grads)
ROWS = [
    ("view", lambda m, x: x.view(12), [(3, 4)]),
    ("view_tuple", lambda m, x: x.view((2, -1, 3)), [(3, 4)]),
    ("view_infer", lambda m, x: x.view(-1, 2), [(3, 4)]),
    ("view_0d", lambda m, x: x.view(1, 1), [()]),
    ("view_to_0d", lambda m, x: x.view(()), [(1,)]),
    ("view_transposed_ok", lambda m, x: x.t().view(4, 3, 1), [(3, 4)]),
    ("view_as", lambda m, x, y: x.view_as(y), [(3, 4), (2, 6)]),
    ("reshape", lambda m, x: m.reshape(x, (2, 6)), [(3, 4)]),
    ("reshape_copy", lambda m, x: x.t().reshape(-1), [(3, 4)]),
    ("reshape_as", lambda m, x, y: x.reshape_as(y), [(3, 4), (12,)]),
    ("flatten", lambda m, x: m.flatten(x), [(2, 3, 4)]),
    ("flatten_range", lambda m, x: x.flatten(1, -1), [(2, 3, 4)]),
    ("flatten_0d", lambda m, x: x.flatten(), [()]),
    ("flatten_same", lambda m, x: x.flatten(1, 1), [(2, 3)]),
    ("unflatten", lambda m, x: x.unflatten(1, (2, 2)), [(3, 4)]),
    ("unflatten_infer", lambda m, x: m.unflatten(x, -1, (-1, 2)), [(3, 4)]),
    ("ravel", lambda m, x: m.ravel(x.t()), [(3, 4)]),
    ("squeeze", lambda m, x: x.squeeze(), [(1, 3, 1, 2)]),
    ("squeeze_dim", lambda m, x: m.squeeze(x, 2), [(1, 3, 1, 2)]),
    ("squeeze_dim_noop", lambda m, x: x.squeeze(1), [(1, 3, 1, 2)]),
    ("squeeze_dims", lambda m, x: x.squeeze((0, -2, 1)), [(1, 3, 1, 2)]),
    ("squeeze_0d", lambda m, x: x.squeeze(0), [()]),
    ("unsqueeze", lambda m, x: m.unsqueeze(x, 1), [(3, 4)]),
    ("unsqueeze_neg", lambda m, x: x.unsqueeze(-1), [(3, 4)]),
    ("transpose", lambda m, x: m.transpose(x, 0, 2), [(2, 3, 4)]),
    ("swapaxes", lambda m, x: m.swapaxes(x, -1, 0), [(2, 3, 4)]),
    ("swapdims", lambda m, x: x.swapdims(1, 2), [(2, 3, 4)]),
    ("permute", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute_tuple", lambda m, x: m.permute(x, (1, -1, 0)), [(2, 3, 4)]),
    ("movedim", lambda m, x: m.movedim(x, 0, -1), [(2, 3, 4)]),
    ("movedim_tuple", lambda m, x: x.movedim((0, 1), (2, 0)), [(2, 3, 4, 5)]),
    ("moveaxis", lambda m, x: m.moveaxis(x, (0,), (1,)), [(2, 3, 4)]),
    ("t", lambda m, x: x.t(), [(3, 4)]),
    ("t_1d", lambda m, x: m.t(x), [(3,)]),
    ("T", lambda m, x: x.T, [(3, 4)]),
    ("mT", lambda m, x: x.mT, [(2, 3, 4)]),
    ("H", lambda m, x: x.H, [(3, 4)]),
    ("mH", lambda m, x: x.mH, [(2, 3, 4)]),
    ("adjoint", lambda m, x: m.adjoint(x), [(2, 3, 4)]),
    ("expand", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand_keep", lambda m, x: x.expand(-1, 4), [(3, 1)]),
    ("expand_same", lambda m, x: x.expand(3, 4), [(3, 4)]),
    ("expand_as", lambda m, x, y: x.expand_as(y), [(4,), (3, 4)]),
    ("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(1, 4)]),
    ("broadcast_tensors", lambda m, x, y, z: m.broadcast_tensors(x, y, z),
     [(3, 1), (4,), (2, 1, 1)]),
    ("repeat", lambda m, x: x.repeat(2, 3), [(3, 2)]),
    ("repeat_lead", lambda m, x: x.repeat(2, 1, 3), [(3, 2)]),
    ("repeat_0d", lambda m, x: x.repeat(3), [()]),
    ("tile", lambda m, x: m.tile(x, (2,)), [(3, 2)]),
    ("tile_more", lambda m, x: x.tile((2, 1, 2)), [(3, 2)]),
    ("repeat_interleave", lambda m, x: x.repeat_interleave(2), [(3, 2)]),
    ("repeat_interleave_dim", lambda m, x: m.repeat_interleave(x, 3, dim=1), [(3, 2)]),
    ("repeat_interleave_tensor",
     lambda m, x: x.repeat_interleave(m.tensor([1, 0, 2]), dim=0), [(3, 2)]),
    ("repeat_interleave_one", lambda m, x: x.repeat_interleave(m.tensor([2]), dim=1),
     [(3, 2)]),
    ("repeat_interleave_0d", lambda m, x: x.repeat_interleave(2), [()]),
    ("flip", lambda m, x: m.flip(x, (0, 2)), [(2, 3, 4)]),
    ("flip_varargs", lambda m, x: x.flip(-1), [(2, 3, 4)]),
    ("fliplr", lambda m, x: m.fliplr(x), [(3, 4)]),
    ("flipud", lambda m, x: x.flipud(), [(3, 4)]),
    ("roll", lambda m, x: m.roll(x, 2), [(3, 4)]),
    ("roll_dim", lambda m, x: x.roll(-1, 1), [(3, 4)]),
    ("roll_dims", lambda m, x: x.roll((1, 5), (0, 1)), [(3, 4)]),
    ("rot90", lambda m, x: m.rot90(x), [(3, 4)]),
    ("rot90_k2", lambda m, x: x.rot90(2, (1, 2)), [(2, 3, 4)]),
    ("rot90_neg", lambda m, x: x.rot90(-1, [0, 1]), [(3, 4)]),
    ("rot90_k5", lambda m, x: x.rot90(5), [(3, 4)]),
    ("narrow", lambda m, x: m.narrow(x, 1, 1, 2), [(3, 4)]),
    ("narrow_neg", lambda m, x: x.narrow(0, -2, 2), [(3, 4)]),
    ("narrow_tensor_start", lambda m, x: x.narrow(1, m.tensor(1), 3), [(3, 4)]),
    ("select", lambda m, x: m.select(x, 1, -1), [(3, 4)]),
    ("select_last", lambda m, x: x.select(0, 2), [(3,)]),
    ("unfold", lambda m, x: x.unfold(1, 2, 1), [(3, 5)]),
    ("unfold_step", lambda m, x: x.unfold(0, 2, 2), [(5, 2)]),
    ("unfold_0d", lambda m, x: x.unfold(0, 1, 1), [()]),
    ("as_strided", lambda m, x: m.as_strided(x, (2, 2), (1, 2)), [(3, 4)]),
    ("as_strided_offset", lambda m, x: x.as_strided((3,), (2,), 1), [(3, 4)]),
    ("as_strided_overlap", lambda m, x: x.as_strided((3, 3), (1, 1)), [(6,)]),
    ("contiguous", lambda m, x: x.t().contiguous(), [(3, 4)]),
    ("clone", lambda m, x: m.clone(x.t()), [(3, 4)]),
    ("atleast_1d", lambda m, x: m.atleast_1d(x), [()]),
    ("atleast_2d", lambda m, x, y: m.atleast_2d(x, y), [(), (3,)]),
    ("atleast_3d", lambda m, x, y, z: m.atleast_3d([x, y, z]), [(3,), (2, 3), (1, 2, 3)]),
    ("cat", lambda m, x, y: m.cat([x, y]), [(2, 3), (4, 3)]),
    ("cat_dim", lambda m, x, y: m.cat((x, y), dim=-1), [(2, 3), (2, 1)]),
    ("cat_legacy_empty", lambda m, x, y: m.cat([x, y, m.ones(0)], 1), [(2, 3), (2, 1)]),
    ("concat", lambda m, x, y: m.concat([x, y], 1), [(2, 3), (2, 1)]),
    ("concatenate", lambda m, x, y: m.concatenate([x, y], axis=0), [(2, 3), (1, 3)]),
    ("stack", lambda m, x, y: m.stack([x, y]), [(2, 3), (2, 3)]),
    ("stack_last", lambda m, x, y, z: m.stack((x, y, z), -1), [(2, 3), (2, 3), (2, 3)]),
    ("hstack", lambda m, x, y: m.hstack([x, y]), [(2, 3), (2, 1)]),
    ("hstack_1d", lambda m, x, y: m.hstack([x, y]), [(3,), ()]),
    ("vstack", lambda m, x, y: m.vstack([x, y]), [(3,), (2, 3)]),
    ("row_stack", lambda m, x, y: m.row_stack([x, y]), [(3,), (3,)]),
    ("dstack", lambda m, x, y: m.dstack([x, y]), [(3,), (1, 3)]),
    ("column_stack", lambda m, x, y, z: m.column_stack([x, y, z]), [(1,), (1, 3), ()]),
    ("split", lambda m, x: m.split(x, 2), [(5, 3)]),
    ("split_sizes", lambda m, x: x.split([1, 0, 2], 1), [(2, 3)]),
    ("split_big", lambda m, x: x.split(7), [(5, 3)]),
    ("chunk", lambda m, x: m.chunk(x, 3, 1), [(2, 7)]),
    ("chunk_uneven", lambda m, x: x.chunk(5), [(6,)]),
    ("unbind", lambda m, x: m.unbind(x, 1), [(2, 3)]),
    ("tensor_split", lambda m, x: m.tensor_split(x, 3), [(7, 2)]),
    ("tensor_split_idx", lambda m, x: x.tensor_split([1, 5, 2], 1), [(3, 4)]),
    ("tensor_split_tensor", lambda m, x: x.tensor_split(m.tensor([1, 2]), 0), [(4,)]),
    ("hsplit", lambda m, x: m.hsplit(x, 2), [(3, 4)]),
    ("hsplit_1d", lambda m, x: x.hsplit([1]), [(4,)]),
    ("vsplit", lambda m, x: m.vsplit(x, [1, 2]), [(3, 4)]),
    ("dsplit", lambda m, x: m.dsplit(x, 2), [(1, 2, 4)]),
    ("meshgrid", lambda m, x, y: m.meshgrid(x, y, indexing="ij"), [(2,), (3,)]),
    ("meshgrid_xy", lambda m, x, y, z: m.meshgrid([x, y, z], indexing="xy"),
     [(2,), (3,), ()]),
    ("cartesian_prod", lambda m, x, y: m.cartesian_prod(x, y), [(2,), (3,)]),
    ("cartesian_prod_one", lambda m, x: m.cartesian_prod(x), [(3,)]),
]


@pytest.mark.parametrize("name,fn,shapes", ROWS, ids=[r[0] for r in ROWS])
def test_op(name, fn, shapes):
    check(fn, *[arr(*s) for s in shapes])


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name,fn,shapes", [r for r in ROWS if r[0] in (
    "reshape_copy", "squeeze", "permute", "expand", "repeat", "repeat_interleave_tensor", "flip",
    "roll", "rot90", "unfold", "as_strided", "cat", "stack", "split", "unbind", "meshgrid",
    "tensor_split", "movedim", "clone")], ids=lambda v: v if isinstance(v, str) else "")
def test_dtypes(dtype, name, fn, shapes):
    check(fn, *[arr(*s, dtype=dtype) for s in shapes], grad=False)


@pytest.mark.parametrize("fn,inputs", [
    (lambda m, x, y: m.cat([x, y]), [arr(2, dtype="int64"), arr(3, dtype="float32")]),
    (lambda m, x, y: m.cat([x, y]), [arr(2, dtype="bool"), arr(3, dtype="uint8")]),
    (lambda m, x, y, z: m.cat([x, y, z], 1), [arr(1, 2), arr(1, 1, dtype="float32"),
                                              arr(1, 2, dtype="int32")]),
    (lambda m, x, y: m.stack([x, y]), [arr(2, dtype="int64"), arr(2, dtype="float32")]),
    (lambda m, x, y: m.hstack([x, y]), [arr(2, dtype="int8"), arr(2, dtype="int16")]),
])
def test_join_promotion(fn, inputs):
    check(fn, *inputs)


def _nodes(out):
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [type(o.grad_fn).__name__ if o.grad_fn is not None else None for o in outs]


@pytest.mark.parametrize("name,fn,shapes", ROWS, ids=[r[0] for r in ROWS])
def test_node_names(name, fn, shapes):
    inputs = [arr(*s) for s in shapes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _nodes(fn(torch, *[_wrap(torch, x, True) for x in inputs]))
        got = _nodes(fn(disttorch, *[_wrap(disttorch, x, True) for x in inputs]))
    assert got == expected


# every differentiable row, float64 finite differences; a representative set twice
GRADGRAD = {"view", "reshape_copy", "expand", "permute", "cat", "stack", "split", "unbind",
            "repeat", "flip", "unfold", "as_strided_overlap", "narrow", "tensor_split",
            "roll", "squeeze_dims", "repeat_interleave_tensor"}


def squared(fn):
    """fn with its outputs squared: a linear op's second derivative then runs through its
    backward (gradgradcheck holds the output gradients constant)."""

    def run(m, *xs):
        out = fn(m, *xs)
        if isinstance(out, (tuple, list)):
            return tuple(o * o for o in out)
        return out * out

    return run


@pytest.mark.parametrize("name,fn,shapes", ROWS, ids=[r[0] for r in ROWS])
def test_gradcheck(name, fn, shapes):
    inputs = [arr(*s) for s in shapes]
    gradcheck_op(fn, *inputs)
    if name in GRADGRAD:
        gradcheck_op(squared(fn), *inputs, gradgrad=True)


ERRORS = [
    (lambda m, x: x.view(5), [(3, 4)]),
    (lambda m, x: x.t().view(12), [(3, 4)]),
    (lambda m, x: x.view(-1, -1), [(3, 4)]),
    (lambda m, x: x.view(-2, 6), [(3, 4)]),
    (lambda m, x: x.view(-1, 0), [(0, 3)]),
    (lambda m, x: x.reshape(5, -1), [(3, 4)]),
    (lambda m, x: x.flatten(1, 0), [(3, 4)]),
    (lambda m, x: x.unflatten(1, (3, 2)), [(3, 4)]),
    (lambda m, x: x.unflatten(1, ()), [(3, 4)]),
    (lambda m, x: x.squeeze(5), [(3, 4)]),
    (lambda m, x: x.unsqueeze(3), [(3, 4)]),
    (lambda m, x: x.permute(0), [(3, 4)]),
    (lambda m, x: x.permute(0, 0), [(3, 4)]),
    (lambda m, x: x.transpose(0, 2), [(3, 4)]),
    (lambda m, x: x.movedim((0, 1), (0,)), [(3, 4)]),
    (lambda m, x: x.movedim((0, 0), (0, 1)), [(3, 4)]),
    (lambda m, x: x.movedim((0, 1), (1, 1)), [(3, 4)]),
    (lambda m, x: x.t(), [(2, 3, 4)]),
    (lambda m, x: x.mT, [(3,)]),
    (lambda m, x: x.mH, [(3,)]),
    (lambda m, x: x.H, [(2, 3, 4)]),
    (lambda m, x: x.H, [(3,)]),
    (lambda m, x: m.adjoint(x), [(3,)]),
    (lambda m, x: x.expand(3, 5), [(3, 4)]),
    (lambda m, x: x.expand(4), [(3, 4)]),
    (lambda m, x: x.expand(-1, 3, 4), [(3, 4)]),
    (lambda m, x, y: m.broadcast_tensors(x, y), [(3, 4), (5,)]),
    (lambda m, x: m.broadcast_shapes((3, 4), (5,)), [()]),
    (lambda m, x: m.broadcast_shapes((3, 1), (4,), 2), [()]),
    (lambda m, x: x.repeat(2), [(3, 4)]),
    (lambda m, x: x.repeat(-1, 2), [(3, 4)]),
    (lambda m, x: x.flip(0, 0), [(3, 4)]),
    (lambda m, x: x.fliplr(), [(3,)]),
    (lambda m, x: x.flipud(), [()]),
    (lambda m, x: x.roll((1, 2), 0), [(3, 4)]),
    (lambda m, x: x.rot90(1, (0, 0)), [(3, 4)]),
    (lambda m, x: x.rot90(), [(3,)]),
    (lambda m, x: x.rot90(1, (0, 1, 2)), [(3, 4)]),
    (lambda m, x: x.narrow(0, 2, 3), [(3, 4)]),
    (lambda m, x: x.narrow(0, 5, 0), [(3, 4)]),
    (lambda m, x: x.narrow(0, 0, -1), [(3, 4)]),
    (lambda m, x: x.select(0, 5), [(3, 4)]),
    (lambda m, x: x.select(1, -5), [(3, 4)]),
    (lambda m, x: x.unfold(1, 5, 1), [(3, 4)]),
    (lambda m, x: x.unfold(1, 2, 0), [(3, 4)]),
    (lambda m, x: x.as_strided((5, 5), (1, 2)), [(3, 4)]),
    (lambda m, x: x.repeat_interleave(m.tensor([1, 2]), dim=0), [(3, 4)]),
    (lambda m, x: x.repeat_interleave(-1), [(3, 4)]),
    (lambda m, x: m.cat([]), [()]),
    (lambda m, x, y: m.cat([x, y]), [(), ()]),
    (lambda m, x, y: m.cat([x, y]), [(2,), ()]),
    (lambda m, x, y: m.cat([x, y]), [(3, 4), (4,)]),
    (lambda m, x, y: m.cat([x, y]), [(3, 4), (3, 5)]),
    (lambda m, x, y: m.cat([x, y], 1), [(3, 4), (4, 5)]),
    (lambda m, x, y: m.cat([x, y], 2), [(3, 4), (3, 4)]),
    (lambda m, x: m.cat(x), [(3, 4)]),
    (lambda m, x: m.stack([]), [()]),
    (lambda m, x, y: m.stack([x, y]), [(3, 4), (4,)]),
    (lambda m, x, y: m.stack([x, y], 3), [(3, 4), (3, 4)]),
    (lambda m, x: x.split(0), [(3, 4)]),
    (lambda m, x: x.split(-1), [(3, 4)]),
    (lambda m, x: x.split([1, 1]), [(3, 4)]),
    (lambda m, x: x.split([-1, 4]), [(3, 4)]),
    (lambda m, x: x.chunk(0), [(3, 4)]),
    (lambda m, x: x.chunk(2), [()]),
    (lambda m, x: x.unbind(), [()]),
    (lambda m, x: x.tensor_split(0), [(3, 4)]),
    (lambda m, x: x.tensor_split(m.ones(2)), [(3, 4)]),
    (lambda m, x: x.tensor_split(m.ones(2, 2, dtype=m.long)), [(3, 4)]),
    (lambda m, x: x.hsplit(1), [()]),
    (lambda m, x: x.hsplit(3), [(3, 4)]),
    (lambda m, x: x.vsplit(2), [(4,)]),
    (lambda m, x: x.vsplit(2), [(3, 4)]),
    (lambda m, x: x.dsplit(2), [(3, 4)]),
    (lambda m, x, y: m.meshgrid(x, y, indexing="ab"), [(2,), (3,)]),
    (lambda m, x, y: m.meshgrid(x, y.long(), indexing="ij"), [(2,), (3,)]),
    (lambda m, x: m.cartesian_prod(x), [(2, 2)]),
]


@pytest.mark.parametrize("fn,shapes", ERRORS)
def test_errors(fn, shapes):
    check_error(fn, *[arr(*s) for s in shapes], match="same")


def test_meshgrid_warns_without_indexing():
    with pytest.warns(UserWarning, match="indexing argument"):
        out = disttorch.meshgrid(disttorch.ones(2), disttorch.ones(3))
    assert [tuple(o.shape) for o in out] == [(2, 3), (2, 3)]


@pytest.mark.parametrize("ndim,message", [(0, "Tensor.T is deprecated on 0-D"), (1, "The use of"),
                                          (3, "The use of"), (2, None)])
def test_T_warns_like_torch(ndim, message):
    # torch warns once per process, so the message is checked against its text only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = disttorch.tensor(np.ones((2,) * ndim)).T
    assert tuple(got.shape) == (2,) * ndim
    assert [str(w.message)[:len(message)] for w in caught] == ([message] if message else [])


def test_broadcast_shapes():
    for shapes in [((3, 1), (4,)), ((2, 1, 3), (1, 4, 1), 3), ((), (5,)), (4, (1,))]:
        assert disttorch.broadcast_shapes(*shapes) == torch.broadcast_shapes(*shapes)
    assert isinstance(disttorch.broadcast_shapes((2,), (1,)), disttorch.Size)


def test_repeat_interleave_indices_only():
    r = np.array([1, 2, 0, 3])
    check(lambda m, x: m.repeat_interleave(x), r)


def test_repeat_interleave_output_size():
    check(lambda m, x: x.repeat_interleave(2, dim=1, output_size=8), A34)


@pytest.mark.parametrize("fn", [
    lambda x: x.unsqueeze_(0), lambda x: x.squeeze_(), lambda x: x.squeeze_(0),
    lambda x: x.squeeze_((0,)), lambda x: x.t_(), lambda x: x.transpose_(0, 1),
    lambda x: x.swapaxes_(0, 1), lambda x: x.swapdims_(1, 0),
    lambda x: x.as_strided_((2,), (1,)),
])
def test_metadata_inplace(fn):
    data = arr(1, 3)
    results = []
    for m in (torch, disttorch):
        leaf = m.tensor(data, requires_grad=True)
        y = leaf * 2
        assert fn(y) is y
        projection = m.tensor(np.arange(y.numel(), dtype=np.float64).reshape(tuple(y.shape)))
        (y * projection).sum().backward()
        results.append((tuple(y.shape), y.stride(), version(y), type(y.grad_fn).__name__,
                        leaf.grad.numpy().tolist()))
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            fn(m.tensor(data, requires_grad=True))
    assert results[0] == results[1]


def version(t):
    """The version counter as an int (disttorch keeps it boxed in `_version`)."""
    return t._version if isinstance(t, torch.Tensor) else t._version_counter


def test_resize_():
    for m in (torch, disttorch):
        w = m.tensor(np.arange(6.0))
        assert w.resize_(2, 2) is w
        assert tuple(w.shape) == (2, 2) and w.tolist() == [[0.0, 1.0], [2.0, 3.0]]
        w.resize_(3, 3)
        assert w.view(-1)[:6].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        assert version(w) == 2
        w.resize_as_(m.ones(4))
        assert w.tolist() == [0.0, 1.0, 2.0, 3.0]
        m.resize_as_(w, m.ones(1, 2))
        assert tuple(w.shape) == (1, 2)
    check_error(lambda m, x: x.requires_grad_().resize_(5), A34, match="same")
    check_error(lambda m, x: x.resize_(-1), A34)


def test_clone_preserves_strides():
    for make in (lambda m: m.ones(3, 4).t(), lambda m: m.ones(3, 4)[:, ::2],
                 lambda m: m.ones(4).expand(3, 4), lambda m: m.ones(2, 3, 4).permute(2, 0, 1)):
        assert make(disttorch).clone().stride() == make(torch).clone().stride()
        assert make(disttorch).contiguous().stride() == make(torch).contiguous().stride()

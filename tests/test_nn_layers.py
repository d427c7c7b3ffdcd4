"""linear, bilinear, dropout, embedding, one_hot, normalize, pad and the distance functions
against torch, and their Modules (Linear, Bilinear, Identity, Flatten, Unflatten, Dropout*,
Embedding): outputs and gradients with torch's parameters copied in, default initialisation,
repr strings and errors."""

import math
import warnings

import numpy as np
import pytest
import torch
from oracle import RNG, arr, check, check_error, gradcheck_op

import disttorch

# torch's thread pool only slows these tiny oracle computations down (and spins on a
# busy machine)
torch.set_num_threads(1)
F_T = torch.nn.functional
F_D = disttorch.nn.functional


def fn(m):
    return F_T if m is torch else F_D


def node(out):
    fn_ = out.grad_fn
    return None if fn_ is None else (fn_.name() if hasattr(fn_, "name") else
                                     type(fn_).__name__)


def same_node(call, *inputs):
    outs = []
    for m in (torch, disttorch):
        args = [m.tensor(a.copy(), requires_grad=a.dtype.kind == "f") for a in inputs]
        outs.append(node(call(m, *args)))
    assert outs[1] == outs[0], f"node {outs[1]} != torch's {outs[0]}"


# ---------------------------------------------------------------- linear, bilinear

LINEAR = [((3, 4), (5, 4), (5,)), ((3, 4), (5, 4), None), ((2, 3, 4), (5, 4), (5,)),
          ((2, 2, 3, 4), (5, 4), (5,)), ((4,), (5, 4), (5,)), ((3, 4), (5, 4), ()),
          ((0, 4), (5, 4), (5,))]


@pytest.mark.parametrize("xs,ws,bs", LINEAR)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear(xs, ws, bs, dtype):
    inputs = [arr(*xs, dtype=dtype), arr(*ws, dtype=dtype)]
    if bs is not None:
        inputs.append(arr(*bs, dtype=dtype))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float64" else dict(rtol=1e-4, atol=1e-5)
    check(lambda m, *ts: fn(m).linear(*ts), *inputs, **tol)
    if xs[0] and len(xs) <= 3:
        gradcheck_op(lambda m, *ts: fn(m).linear(*ts), *[a.astype("float64") for a in inputs],
                     gradgrad=True)
    if len(xs) != 1 and (bs is not None or len(xs) == 2):
        same_node(lambda m, *ts: fn(m).linear(*ts), *inputs)


def test_linear_variants_and_errors():
    check(lambda m, x, w: fn(m).linear(x, w), arr(3, 4), arr(4))
    check(lambda m, x, w: fn(m).linear(x, w), arr(3, 4, dtype="int64"),
          arr(5, 4, dtype="int64"), grad=False)
    for call in (lambda m, x: fn(m).linear(x, m.randn(5, 3)),
                 lambda m, x: fn(m).linear(x.view(1, 3, 4), m.randn(5, 3)),
                 lambda m, x: fn(m).linear(x, m.randn(4), m.randn(())),
                 lambda m, x: fn(m).linear(x, m.randn(5, 4), m.randn(3)),
                 lambda m, x: fn(m).linear(x, m.randn(5, 4, dtype=m.float64))):
        check_error(call, arr(3, 4, dtype="float32"), match="same")


@pytest.mark.parametrize("s1,s2,bias", [((3, 2), (3, 4), True), ((3, 2), (3, 4), False),
                                        ((5, 3, 2), (5, 3, 4), True), ((2,), (4,), True)])
def test_bilinear(s1, s2, bias):
    inputs = [arr(*s1), arr(*s2), arr(6, s1[-1], s2[-1])] + ([arr(6)] if bias else [])
    check(lambda m, *ts: fn(m).bilinear(*ts), *inputs)
    check(lambda m, *ts: m.bilinear(*ts), *inputs)
    same_node(lambda m, *ts: fn(m).bilinear(*ts), *inputs)
    gradcheck_op(lambda m, *ts: fn(m).bilinear(*ts), *inputs)


@pytest.mark.parametrize("call", [
    lambda m: fn(m).bilinear(m.randn(3, 2), m.randn(2, 3), m.randn(4, 2, 3)),
    lambda m: fn(m).bilinear(m.randn(3, 3), m.randn(3, 3), m.randn(4, 2, 3)),
    lambda m: fn(m).bilinear(m.randn(3, 2), m.randn(3, 4), m.randn(4, 2, 3)),
    lambda m: fn(m).bilinear(m.randn(3, 2), m.randn(1, 3, 3), m.randn(4, 2, 3)),
    lambda m: fn(m).bilinear(m.randn(3, 2), m.randn(3, 3), m.randn(4, 2, 3), m.randn(3)),
])
def test_bilinear_errors(call):
    check_error(call, match="same")


# ---------------------------------------------------------------- dropout


def _fraction_zero(t):
    return float((t == 0).float().mean())


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    disttorch.manual_seed(0)
    x = disttorch.ones(200, 500, requires_grad=True)
    y = F_D.dropout(x, p)
    assert y.grad_fn.name() == "MulBackward0"
    zero = _fraction_zero(y)
    assert abs(zero - p) < 0.01
    kept = y[y != 0]
    np.testing.assert_allclose(kept.detach().numpy(), 1 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy(), rtol=1e-6)
    assert abs(float(y.mean()) - 1) < 0.03  # the expectation is kept


def test_dropout_modes():
    x = disttorch.randn(4, 5, requires_grad=True)
    assert F_D.dropout(x, 0.5, training=False) is x
    assert F_D.dropout(x, 0.0) is x
    assert F_D.alpha_dropout(x, 0.5) is x  # training defaults to False
    assert float(F_D.dropout(x, 1.0).abs().sum()) == 0
    assert F_D.dropout(x, 1.0).grad_fn.name() == "MulBackward0"
    y = x * 1
    assert F_D.dropout(y, 0.5, inplace=True) is y
    z = disttorch.dropout(x, 0.5, True)
    assert z.shape == x.shape and z.grad_fn.name() == "MulBackward0"
    ints = disttorch.arange(6)
    assert F_D.dropout(ints, 0.5, training=False) is ints
    check_error(lambda m, t: fn(m).dropout(t, 0.5), arr(3, dtype="int64"), match="same")
    check_error(lambda m, t: fn(m).alpha_dropout(t, 0.5, True), arr(3, dtype="int64"),
                match="same")
    for p in (-0.1, 1.5):
        for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                     "feature_alpha_dropout"):
            check_error(lambda m, t: getattr(fn(m), name)(t, p), arr(2, 3, 4, 5), match="same")


@pytest.mark.parametrize("name,shape,feature_dims", [
    ("dropout1d", (8, 16, 30), 2), ("dropout1d", (16, 30), 1), ("dropout2d", (8, 16, 5, 6), 2),
    ("dropout2d", (8, 16, 30), 2), ("dropout3d", (4, 16, 3, 4, 5), 2),
    ("dropout3d", (16, 3, 4, 5), 1), ("feature_alpha_dropout", (8, 16, 5, 6), 2)])
def test_channel_dropout(name, shape, feature_dims):
    disttorch.manual_seed(1)
    x = disttorch.ones(*shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = getattr(F_D, name)(x, 0.4, True)
    assert y.shape == x.shape
    flat = y.reshape(*shape[:feature_dims], -1).numpy()
    # each channel is either all dropped or all kept
    assert np.all(flat.max(-1) == flat.min(-1))
    if name != "feature_alpha_dropout":
        assert abs(float((flat[..., 0] == 0).mean()) - 0.4) < 0.12


def test_channel_dropout_errors_and_warnings():
    check_error(lambda m, t: fn(m).dropout1d(t), arr(2, 3, 4, 5), match="same")
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F_D.dropout2d(disttorch.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F_D.dropout2d(disttorch.ones(2, 3))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F_D.dropout3d(disttorch.ones(2, 3, 4))
    x = disttorch.ones(3, 4)
    assert F_D.dropout1d(x, training=False).shape == (3, 4)


def test_alpha_dropout_keeps_mean_and_variance():
    disttorch.manual_seed(3)
    x = disttorch.randn(400, 500)
    y = F_D.alpha_dropout(x, 0.3, True)
    assert y.grad_fn is None
    assert abs(float(y.mean())) < 0.02 and abs(float(y.std()) - 1) < 0.02
    x.requires_grad_()
    assert F_D.alpha_dropout(x, 0.3, True).grad_fn.name() == "AddBackward0"


def test_dropout_follows_manual_seed():
    disttorch.manual_seed(7)
    a = F_D.dropout(disttorch.ones(50))
    disttorch.manual_seed(7)
    b = F_D.dropout(disttorch.ones(50))
    assert disttorch.equal(a, b)


# ---------------------------------------------------------------- embedding, one_hot


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True}])
@pytest.mark.parametrize("index_dtype", ["int64", "int32"])
def test_embedding(kwargs, index_dtype):
    weight = arr(10, 3)
    idx = np.array([[1, 2, 4, 5], [4, 3, 2, 9]], dtype=index_dtype)
    call = lambda m, w: fn(m).embedding(m.tensor(idx), w, **kwargs)  # noqa: E731
    out = check(call, weight)
    assert out.grad_fn.name() == "EmbeddingBackward0"
    if not kwargs:  # padding rows and frequency scaling are not the derivative, by design
        gradcheck_op(call, weight, gradgrad=True)


def test_embedding_max_norm_and_errors():
    weight = arr(10, 3, low=-3, high=3)
    idx = np.array([1, 2, 1, 7])
    for norm_type in (2.0, 1.0):
        tw, dw = torch.tensor(weight), disttorch.tensor(weight)
        F_T.embedding(torch.tensor(idx), tw, max_norm=1.0, norm_type=norm_type)
        F_D.embedding(disttorch.tensor(idx), dw, max_norm=1.0, norm_type=norm_type)
        np.testing.assert_allclose(dw.numpy(), tw.numpy(), rtol=1e-6)
    for call in (lambda m, w: fn(m).embedding(m.tensor([0, 10]), w),
                 lambda m, w: fn(m).embedding(m.tensor([0, -1]), w),
                 lambda m, w: fn(m).embedding(m.tensor([0.0, 1.0]), w),
                 lambda m, w: fn(m).embedding(m.tensor([0, 1]), w, padding_idx=10),
                 lambda m, w: fn(m).embedding(m.tensor([0, 1]), w, padding_idx=-11),
                 lambda m, w: fn(m).embedding(m.tensor([0, 1]), w[0])):
        check_error(call, weight, match="same")


@pytest.mark.parametrize("call", [
    lambda m: fn(m).one_hot(m.tensor([0, 3])),
    lambda m: fn(m).one_hot(m.tensor([[0, 3], [1, 1]]), 5),
    lambda m: fn(m).one_hot(m.tensor(2), 4),
    lambda m: fn(m).one_hot(m.tensor([], dtype=m.int64), 5),
])
def test_one_hot(call):
    check(call, grad=False)


@pytest.mark.parametrize("call", [
    lambda m: fn(m).one_hot(m.tensor([0, 3]), 2),
    lambda m: fn(m).one_hot(m.tensor([0, -1])),
    lambda m: fn(m).one_hot(m.tensor([0, 1], dtype=m.int32)),
    lambda m: fn(m).one_hot(m.tensor([], dtype=m.int64)),
])
def test_one_hot_errors(call):
    check_error(call, match="same")


# ---------------------------------------------------------------- normalize and distances


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"dim": 0}, {"p": 3.0, "dim": -1},
                                    {"eps": 10.0}])
def test_normalize(kwargs):
    x = arr(4, 5)
    check(lambda m, t: fn(m).normalize(t, **kwargs), x)
    gradcheck_op(lambda m, t: fn(m).normalize(t, **kwargs), x)
    same_node(lambda m, t: fn(m).normalize(t, **kwargs), x)
    check_error(lambda m, t: fn(m).normalize(t), arr(3, 4, dtype="int64"), match="same")
    out = disttorch.empty(4, 5, dtype=disttorch.float64)
    F_D.normalize(disttorch.tensor(x), out=out, **kwargs)
    np.testing.assert_allclose(out.numpy(), F_T.normalize(torch.tensor(x), **kwargs).numpy())


@pytest.mark.parametrize("s1,s2,dim", [((3, 4), (3, 4), 1), ((3, 4), (1, 4), 1), ((4,), (4,), 0),
                                       ((2, 3, 4), (2, 3, 4), -1), ((3, 4), (3, 4), 0)])
def test_cosine_similarity(s1, s2, dim):
    a, b = arr(*s1), arr(*s2)
    for m_fn in (lambda m: fn(m).cosine_similarity, lambda m: m.cosine_similarity):
        check(lambda m, x, y: m_fn(m)(x, y, dim=dim), a, b)
    check(lambda m, x, y: fn(m).cosine_similarity(x, y, dim), a.astype("float32"), b)
    gradcheck_op(lambda m, x, y: fn(m).cosine_similarity(x, y, dim), a, b)
    same_node(lambda m, x, y: fn(m).cosine_similarity(x, y, dim), a, b)
    zero = np.zeros(s1)
    check(lambda m, x, y: fn(m).cosine_similarity(x, y, dim), zero, b)


@pytest.mark.parametrize("kwargs", [{}, {"p": 1.0}, {"p": 3.0, "keepdim": True},
                                    {"p": float("inf")}, {"eps": 0.1}])
def test_pairwise_distance(kwargs):
    for s1, s2 in (((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (4,))):
        a, b = arr(*s1), arr(*s2)
        check(lambda m, x, y: fn(m).pairwise_distance(x, y, **kwargs), a, b)
        check(lambda m, x, y: m.pairwise_distance(x, y, **kwargs), a, b)
        gradcheck_op(lambda m, x, y: fn(m).pairwise_distance(x, y, **kwargs), a, b)
    check(lambda m, x, y: fn(m).pairwise_distance(x, y), arr(3, 4, dtype="int64"),
          arr(3, 4, dtype="int64"), grad=False)


def test_distance_errors():
    check_error(lambda m, x: fn(m).cosine_similarity(x, m.randn(3, 5)), arr(3, 4), match="same")
    check_error(lambda m, x: fn(m).cosine_similarity(x, x), arr(3, 4, dtype="int64"),
                match="same")


# ---------------------------------------------------------------- pad

PADS = [((3, 4), (1, 2)), ((3, 4), (1, 1, 2, 0)), ((3, 4), (-1, 2)),
        ((2, 3, 4), (0, 1, 1, 0, 2, 1)),
        ((3, 4), (0, 0)), ((1, 3, 4), (-1, -2))]


@pytest.mark.parametrize("shape,pad", PADS)
def test_constant_pad(shape, pad):
    x = arr(*shape)
    for value in (None, 2.5):
        check(lambda m, t: fn(m).pad(t, pad, value=value), x)
    check(lambda m, t: m.constant_pad_nd(t, pad, 1.5), x)
    check(lambda m, t: fn(m).pad(t, list(pad), value=3), arr(*shape, dtype="int64"), grad=False)
    check(lambda m, t: fn(m).pad(t, pad), arr(*shape, dtype="bool"), grad=False)
    same_node(lambda m, t: fn(m).pad(t, pad), x)
    gradcheck_op(lambda m, t: fn(m).pad(t, pad, value=1.0), x, gradgrad=True)


INDEX_PADS = [((2, 5), (1, 2)), ((2, 3, 5), (2, 1)), ((2, 3, 5), (-1, 3)),
              ((2, 4, 5), (1, 2, 3, 1)), ((1, 2, 4, 5), (2, 1, 0, 3)),
              ((2, 3, 4, 5), (1, 1, 2, 1, 0, 2)), ((1, 2, 3, 4, 5), (1, 0, 2, 1, 1, 1))]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pad", INDEX_PADS)
def test_index_pad(mode, shape, pad):
    x = arr(*shape)
    check(lambda m, t: fn(m).pad(t, pad, mode=mode), x)
    if mode != "circular":
        same_node(lambda m, t: fn(m).pad(t, pad, mode=mode), x)
        check(lambda m, t: fn(m).pad(t, pad, mode=mode), arr(*shape, dtype="int64"),
              grad=False)
    if x.size <= 60:
        gradcheck_op(lambda m, t: fn(m).pad(t, pad, mode=mode), x, gradgrad=True)


@pytest.mark.parametrize("call", [
    lambda m, x: fn(m).pad(x, (1,)),
    lambda m, x: fn(m).pad(x, (1, 1, 1, 1, 1, 1)),
    lambda m, x: fn(m).pad(x, (-3, -2)),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (1, 1), mode="foo"),
    lambda m, x: fn(m).pad(x[0], (1, 1), mode="reflect"),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (4, 1), mode="reflect"),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (1, 1, 3, 1), mode="reflect"),
    lambda m, x: fn(m).pad(x.view(1, 1, 3, 4), (1, 1, 1, 1, 1, 1), mode="reflect"),
    lambda m, x: fn(m).pad(x, (1, 1, 1, 1), mode="replicate"),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (-5, 1), mode="replicate"),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (5, 2), mode="circular"),
    lambda m, x: fn(m).pad(x.view(1, 3, 4), (1, 2), mode="reflect", value=1.0),
    lambda m, x: fn(m).pad(x.view(1, 3, 4)[..., :0], (1, 2), mode="reflect"),
    lambda m, x: fn(m).pad(x, m.tensor([1, 1])),
])
def test_pad_errors(call):
    check_error(call, arr(3, 4), match="same")


# ---------------------------------------------------------------- modules


def _copy_parameters(t_mod, d_mod):
    d_mod.load_state_dict({k: disttorch.tensor(v.detach().numpy())
                           for k, v in t_mod.state_dict().items()})


@pytest.mark.parametrize("spec,shapes", [
    ("Linear(4, 3)", [(5, 4)]), ("Linear(4, 3, bias=False)", [(2, 5, 4)]),
    ("Linear(4, 3, dtype=m.float64)", [(5, 4)]), ("Bilinear(2, 3, 4)", [(5, 2), (5, 3)]),
    ("Bilinear(2, 3, 4, bias=False)", [(5, 2), (5, 3)]), ("Identity(3, a=1)", [(2, 3)]),
    ("Flatten()", [(2, 3, 4)]), ("Flatten(0, 1)", [(2, 3, 4)]),
    ("Unflatten(1, (2, 3))", [(4, 6)]), ("Unflatten(-1, [2, 2])", [(3, 4)]),
    ("Embedding(10, 3)", "index"), ("Embedding(10, 3, padding_idx=0)", "index"),
    ("Embedding(10, 3, padding_idx=-1)", "index"),
    ("Embedding(10, 3, max_norm=1.0, scale_grad_by_freq=True)", "index"),
    ("Embedding(10, 3, max_norm=1.0, norm_type=1., scale_grad_by_freq=True, sparse=True)",
     None), ("Dropout()", None), ("Dropout(0.2, True)", None), ("Dropout1d()", None),
    ("Dropout2d(0.1)", None), ("Dropout3d()", None), ("AlphaDropout()", None),
    ("FeatureAlphaDropout(0.3)", None),
])
def test_module_repr_and_forward(spec, shapes):
    t_mod = eval("torch.nn." + spec, {"torch": torch, "m": torch})
    d_mod = eval("disttorch.nn." + spec, {"disttorch": disttorch, "m": disttorch})
    assert repr(d_mod) == repr(t_mod)
    assert [(n, tuple(p.shape), str(p.dtype)) for n, p in d_mod.named_parameters()] == \
        [(n, tuple(p.shape), str(p.dtype)) for n, p in t_mod.named_parameters()]
    if shapes is None:
        return
    _copy_parameters(t_mod, d_mod)
    if shapes == "index":
        idx = np.array([[1, 2, 9], [0, 2, 2]])
        check(lambda m: (t_mod if m is torch else d_mod)(m.tensor(idx)))
        check(lambda m: (t_mod if m is torch else d_mod).weight)  # max_norm rescaled rows
        return
    dtype = str(next(iter(t_mod.parameters()), torch.ones(1)).dtype).split(".")[1]
    inputs = [arr(*s, dtype=dtype) for s in shapes]

    def run(m, *ts):
        module = t_mod if m is torch else d_mod
        out = module(*ts)
        if any(p.requires_grad for p in module.parameters()):
            return out, *module.parameters()  # parameters' gradients are compared too
        return out

    check(run, *inputs, rtol=1e-5, atol=1e-5)
    if not list(t_mod.parameters()):
        return
    tg = t_mod(*[torch.tensor(a) for a in inputs])
    tg.sum().backward()
    dg = d_mod(*[disttorch.tensor(a) for a in inputs])
    dg.sum().backward()
    for (name, p), (_, q) in zip(d_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5,
                                   err_msg=name)


def test_default_initialisation_statistics():
    disttorch.manual_seed(0)
    layer = disttorch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert w.dtype == np.float32 and w.shape == (300, 400)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert np.abs(b).max() <= bound and abs(b.mean()) < 0.1 * bound
    bil = disttorch.nn.Bilinear(50, 20, 30)
    assert np.abs(bil.weight.detach().numpy()).max() <= 1 / math.sqrt(50)
    emb = disttorch.nn.Embedding(1000, 50, padding_idx=3)
    e = emb.weight.detach().numpy()
    assert abs(e.std() - 1) < 0.02 and abs(e.mean()) < 0.02
    assert not e[3].any()
    assert disttorch.nn.PReLU(3).weight.tolist() == pytest.approx([0.25] * 3)
    assert disttorch.nn.Linear(3, 2, dtype=disttorch.float64).weight.dtype == disttorch.float64


def test_module_modes_and_errors():
    drop = disttorch.nn.Dropout(0.5)
    x = disttorch.ones(100, 100)
    assert 0.4 < _fraction_zero(drop(x)) < 0.6
    drop.eval()
    assert drop(x) is x
    check_error(lambda m: m.nn.Dropout(1.5), match="same")
    check_error(lambda m: m.nn.Unflatten(1, (2, 3.0)), match="same")
    check_error(lambda m: m.nn.Embedding(5, 2, padding_idx=5), match="same")
    emb = disttorch.nn.Embedding(4, 2, padding_idx=1)
    out = emb(disttorch.tensor([1, 1, 2]))
    out.sum().backward()
    assert emb.weight.grad[1].tolist() == [0.0, 0.0] and emb.weight.grad[2].tolist() == [1, 1]


def test_embedding_from_pretrained():
    weights = arr(5, 3, dtype="float32")
    for freeze in (True, False):
        t_mod = torch.nn.Embedding.from_pretrained(torch.tensor(weights), freeze=freeze,
                                                   padding_idx=2)
        d_mod = disttorch.nn.Embedding.from_pretrained(disttorch.tensor(weights), freeze=freeze,
                                                       padding_idx=2)
        assert repr(d_mod) == repr(t_mod)
        assert d_mod.weight.requires_grad == t_mod.weight.requires_grad
        check(lambda m: (t_mod if m is torch else d_mod)(m.tensor([[0, 2], [4, 1]])))
    check_error(lambda m: m.nn.Embedding.from_pretrained(m.ones(3)), match="same")


def test_linear_state_dict_round_trip():
    t_mod, d_mod = torch.nn.Linear(6, 2), disttorch.nn.Linear(6, 2)
    assert list(d_mod.state_dict()) == list(t_mod.state_dict())
    _copy_parameters(t_mod, d_mod)
    x = RNG.standard_normal((4, 6)).astype("float32")
    np.testing.assert_allclose(d_mod(disttorch.tensor(x)).detach().numpy(),
                               t_mod(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


PAD_MODULES = [("ConstantPad1d(2, 3.5)", (2, 3, 4)), ("ConstantPad2d((1, 2, 3, 4), 1)", (2, 3, 4)),
               ("ConstantPad3d(1, -1.0)", (1, 2, 3, 4)), ("ZeroPad1d(1)", (3, 4)),
               ("ZeroPad2d(1)", (1, 3, 4)), ("ZeroPad3d((1, 1, 1, 1, 1, 1))", (1, 2, 3, 4)),
               ("ReflectionPad1d((1, 2))", (2, 3, 4)), ("ReflectionPad2d(1)", (1, 2, 3, 4)),
               ("ReflectionPad3d(1)", (1, 2, 3, 4, 3)), ("ReplicationPad1d(3)", (3, 4)),
               ("ReplicationPad2d((1, 1, 2, 0))", (2, 3, 4)),
               ("ReplicationPad3d(1)", (2, 2, 3, 4)), ("CircularPad1d(2)", (2, 3, 4)),
               ("CircularPad2d((1, 1, 2, 0))", (1, 2, 3, 4)), ("CircularPad3d(1)", (2, 2, 3, 4))]


def _layer(m, spec):
    """torch.nn.<spec>, or disttorch's (from its module file until nn re-exports it)."""
    if m is torch:
        return eval("torch.nn." + spec)
    from disttorch.nn.modules import distance, padding

    namespace = {**vars(padding), **vars(distance)}
    return eval(spec, namespace)


@pytest.mark.parametrize("spec,shape", PAD_MODULES)
def test_padding_modules(spec, shape):
    t_mod, d_mod = _layer(torch, spec), _layer(disttorch, spec)
    assert repr(d_mod) == repr(t_mod)
    check(lambda m, x: (t_mod if m is torch else d_mod)(x), arr(*shape))


@pytest.mark.parametrize("spec", ["CosineSimilarity()", "CosineSimilarity(0, 1e-6)",
                                  "PairwiseDistance()", "PairwiseDistance(1, 1e-3, True)"])
def test_distance_modules(spec):
    t_mod, d_mod = _layer(torch, spec), _layer(disttorch, spec)
    assert repr(d_mod) == repr(t_mod)
    check(lambda m, x, y: (t_mod if m is torch else d_mod)(x, y), arr(3, 4), arr(3, 4))


def test_padding_module_errors():
    check_error(lambda m, x: _layer(m, "CircularPad1d(1)")(x), arr(1, 1, 1, 4), match="same")
    check_error(lambda m, x: _layer(m, "ReflectionPad1d(1)")(x), arr(1, 1, 1, 4), match="same")

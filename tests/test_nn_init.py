"""nn.init against torch (gains, fans, errors, and the statistics of every random
initialiser) and nn.utils: clip_grad_norm_ / clip_grad_value_ / get_total_norm /
clip_grads_with_norm_ and parameters_to_vector / vector_to_parameters."""

import math
import warnings

import numpy as np
import pytest
import torch
from oracle import RNG, check_error

import disttorch
import disttorch.nn.init  # noqa: F401 - until disttorch.nn imports them itself
import disttorch.nn.utils  # noqa: F401

# torch's thread pool only slows these tiny oracle computations down (and spins on a
# busy machine)
torch.set_num_threads(1)
INIT_T = torch.nn.init
INIT_D = disttorch.nn.init


@pytest.mark.parametrize("nonlinearity,param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 3), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain(nonlinearity, param):
    got = INIT_D.calculate_gain(nonlinearity, param)
    expected = INIT_T.calculate_gain(nonlinearity, param)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("call", [
    lambda m: m.nn.init.calculate_gain("softmax"),
    lambda m: m.nn.init.calculate_gain("leaky_relu", True),
    lambda m: m.nn.init.calculate_gain("leaky_relu", "0.1"),
    lambda m: m.nn.init._calculate_fan_in_and_fan_out(m.empty(5)),
    lambda m: m.nn.init.xavier_uniform_(m.empty(5)),
    lambda m: m.nn.init.kaiming_normal_(m.empty(3, 4), mode="fan_avg"),
    lambda m: m.nn.init.eye_(m.empty(2, 3, 4)),
    lambda m: m.nn.init.dirac_(m.empty(3, 4)),
    lambda m: m.nn.init.dirac_(m.empty(5, 4, 3), groups=2),
    lambda m: m.nn.init.orthogonal_(m.empty(4)),
    lambda m: m.nn.init.sparse_(m.empty(2, 3, 4), 0.1),
    lambda m: m.nn.init.uniform_(m.empty(3), 2.0, 1.0),
    lambda m: m.nn.init.normal_(m.empty(3), 0.0, -1.0),
])
def test_init_errors(call):
    check_error(call, match="same")


@pytest.mark.parametrize("shape", [(3, 4), (8, 3, 5), (6, 4, 3, 3), (2, 3, 2, 2, 2)])
def test_fans(shape):
    assert INIT_D._calculate_fan_in_and_fan_out(disttorch.empty(*shape)) == \
        INIT_T._calculate_fan_in_and_fan_out(torch.empty(*shape))


def _stats(values):
    values = np.asarray(values, dtype=np.float64)
    return values.mean(), values.std(), values.min(), values.max()


SHAPE = (400, 300)


@pytest.mark.parametrize("name,kwargs,std,bound", [
    ("uniform_", {}, 1 / math.sqrt(12), (0, 1)),
    ("uniform_", {"a": -2.0, "b": 3.0}, 5 / math.sqrt(12), (-2, 3)),
    ("normal_", {}, 1.0, None),
    ("normal_", {"mean": 2.0, "std": 0.5}, 0.5, None),
    ("xavier_uniform_", {}, math.sqrt(2 / 700), (-math.sqrt(6 / 700), math.sqrt(6 / 700))),
    ("xavier_uniform_", {"gain": 2.0}, 2 * math.sqrt(2 / 700), None),
    ("xavier_normal_", {}, math.sqrt(2 / 700), None),
    ("kaiming_uniform_", {}, math.sqrt(2 / 1.0001) / math.sqrt(300), None),
    ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(3 * 300),
     (-1 / math.sqrt(300), 1 / math.sqrt(300))),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 400), None),
    ("kaiming_normal_", {}, math.sqrt(2 / 1.0001) / math.sqrt(300), None),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 400), None),
    ("trunc_normal_", {}, None, (-2, 2)),
    ("trunc_normal_", {"mean": 0.5, "std": 0.1, "a": 0.3, "b": 0.9}, None, (0.3, 0.9)),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 3.0}, None, (2, 3)),
])
def test_random_initialisers_match_torch_statistics(name, kwargs, std, bound):
    disttorch.manual_seed(0)
    torch.manual_seed(0)
    d, t = disttorch.empty(*SHAPE), torch.empty(*SHAPE)
    out = getattr(INIT_D, name)(d, **kwargs)
    assert out is d and d.dtype == disttorch.float32
    getattr(INIT_T, name)(t, **kwargs)
    dm, ds, dlo, dhi = _stats(d.numpy())
    tm, ts, tlo, thi = _stats(t.numpy())
    scale = ts
    assert abs(dm - tm) < 0.02 * scale + 1e-3 and abs(ds - ts) < 0.02 * scale
    if std is not None:
        assert abs(ds - std) < 0.02 * std
    if bound is not None:
        assert bound[0] <= dlo and dhi <= bound[1]
        assert dlo - bound[0] < 0.01 * (bound[1] - bound[0]) or name.startswith("trunc")


def test_generator_argument_and_reproducibility():
    gen = disttorch.Generator().manual_seed(5)
    a = INIT_D.kaiming_uniform_(disttorch.empty(3, 4), generator=gen).clone()
    gen.manual_seed(5)
    b = INIT_D.kaiming_uniform_(disttorch.empty(3, 4), generator=gen)
    assert disttorch.equal(a, b)
    for name in ("uniform_", "normal_", "xavier_uniform_", "xavier_normal_", "kaiming_normal_",
                 "orthogonal_", "trunc_normal_"):
        gen.manual_seed(1)
        first = getattr(INIT_D, name)(disttorch.empty(4, 5), generator=gen).clone()
        gen.manual_seed(1)
        assert disttorch.equal(first, getattr(INIT_D, name)(disttorch.empty(4, 5),
                                                             generator=gen))


def test_deterministic_initialisers():
    for shape in ((3, 5), (5, 3), (4, 4)):
        d, t = disttorch.empty(*shape), torch.empty(*shape)
        INIT_D.eye_(d)
        INIT_T.eye_(t)
        np.testing.assert_array_equal(d.numpy(), t.numpy())
    for shape, groups in (((4, 3, 3), 1), ((6, 2, 3, 3), 2), ((4, 4, 3, 3, 3), 1),
                          ((6, 3, 5), 3)):
        d, t = disttorch.empty(*shape), torch.empty(*shape)
        INIT_D.dirac_(d, groups)
        INIT_T.dirac_(t, groups)
        np.testing.assert_array_equal(d.numpy(), t.numpy())
    for fill, args in (("constant_", (0.3,)), ("ones_", ()), ("zeros_", ())):
        d = getattr(INIT_D, fill)(disttorch.empty(2, 3), *args)
        t = getattr(INIT_T, fill)(torch.empty(2, 3), *args)
        np.testing.assert_array_equal(d.numpy(), t.numpy())


@pytest.mark.parametrize("shape,gain", [((6, 4), 1.0), ((4, 6), 1.0), ((5, 5), 2.0),
                                        ((4, 2, 3), 1.0)])
def test_orthogonal(shape, gain):
    w = INIT_D.orthogonal_(disttorch.empty(*shape), gain=gain).numpy()
    flat = w.reshape(shape[0], -1) / gain
    small = min(flat.shape)
    product = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(product, np.eye(small), atol=1e-5)


def test_sparse():
    disttorch.manual_seed(0)
    w = INIT_D.sparse_(disttorch.empty(10, 6), sparsity=0.3, std=0.5).numpy()
    assert ((w == 0).sum(0) >= 3).all()
    assert abs(w[w != 0].std() - 0.5) < 0.2


def test_in_place_under_no_grad_on_parameters():
    p = disttorch.nn.Parameter(disttorch.empty(3, 4))
    for name, args in (("uniform_", ()), ("normal_", ()), ("xavier_uniform_", ()),
                       ("kaiming_normal_", ()), ("orthogonal_", ()), ("trunc_normal_", ()),
                       ("eye_", ()), ("constant_", (0.5,)), ("zeros_", ()), ("ones_", ()),
                       ("sparse_", (0.5,))):
        before = p._version[0]
        assert getattr(INIT_D, name)(p, *args) is p
        assert p.is_leaf and p.requires_grad and p.grad_fn is None
        assert p._version[0] > before


def test_deprecated_names_and_empty_tensors():
    for old in ("uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
                "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"):
        args = {"constant": (0.1,), "sparse": (0.1,)}.get(old, ())
        shape = (3, 4, 3) if old == "dirac" else (3, 4)
        with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of "
                                               f"`nn.init.{old}_`"):
            getattr(INIT_D, old)(disttorch.empty(*shape), *args)
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        INIT_D.kaiming_uniform_(disttorch.empty(0, 3))
    with pytest.warns(UserWarning, match="mean is more than 2 std"):
        INIT_D.trunc_normal_(disttorch.empty(3), mean=10.0)
    assert INIT_D.orthogonal_(disttorch.empty(0, 3)).shape == (0, 3)


# ---------------------------------------------------------------- nn.utils

UTILS_T = torch.nn.utils
UTILS_D = disttorch.nn.utils


def _twin_parameters(shapes, dtype="float32", scale=1.0, missing=()):
    """The same parameters with the same gradients, in torch and disttorch."""
    pairs = []
    for i, shape in enumerate(shapes):
        value = RNG.standard_normal(shape).astype(dtype)
        grad = (RNG.standard_normal(shape) * scale).astype(dtype)
        t = torch.nn.Parameter(torch.tensor(value))
        d = disttorch.nn.Parameter(disttorch.tensor(value))
        if i not in missing:
            t.grad, d.grad = torch.tensor(grad), disttorch.tensor(grad)
        pairs.append((t, d))
    return [t for t, _ in pairs], [d for _, d in pairs]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), 0, "inf"])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 1.0), (100.0, 1.0), (0.5, 0.01)])
def test_clip_grad_norm(norm_type, max_norm, scale):
    tp, dp = _twin_parameters([(4, 3), (5,), (2, 2, 2)], scale=scale, missing=(1,))
    norm_type = float(norm_type) if norm_type == "inf" else norm_type
    t_total = UTILS_T.clip_grad_norm_(tp, max_norm, norm_type)
    d_total = UTILS_D.clip_grad_norm_(dp, max_norm, norm_type)
    assert isinstance(d_total, disttorch.Tensor) and d_total.dtype == disttorch.float32
    assert d_total.shape == () and not d_total.requires_grad
    np.testing.assert_allclose(d_total.numpy(), t_total.numpy(), rtol=1e-5)
    for t, d in zip(tp, dp):
        if t.grad is None:
            assert d.grad is None
            continue
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_variants():
    tp, dp = _twin_parameters([(3, 3)], dtype="float64")
    for t_arg, d_arg in ((tp[0], dp[0]), (iter(tp), iter(dp))):  # one tensor, a generator
        t_total = UTILS_T.clip_grad_norm_(t_arg, 0.3)
        d_total = UTILS_D.clip_grad_norm_(d_arg, 0.3)
        assert d_total.dtype == disttorch.float64
        np.testing.assert_allclose(d_total.numpy(), t_total.numpy(), rtol=1e-6)
    np.testing.assert_allclose(dp[0].grad.numpy(), tp[0].grad.numpy(), rtol=1e-6)
    empty = UTILS_D.clip_grad_norm_([], 1.0)
    assert empty.item() == 0.0 and empty.dtype == disttorch.float32
    with pytest.warns(UserWarning, match="empty generator"):
        UTILS_D.clip_grad_norm_((p for p in []), 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        UTILS_D.clip_grad_norm(dp, 1.0)
    tp, dp = _twin_parameters([(3,), (2, 2)])
    tp[0].grad[0] = float("nan")
    dp[0].grad[0] = float("nan")
    check_error(lambda m: m.nn.utils.clip_grad_norm_(tp if m is torch else dp, 1.0,
                                                     error_if_nonfinite=True), match="same")
    total = UTILS_D.clip_grad_norm_(dp, 1.0, foreach=True)
    assert math.isnan(total.item())


def test_total_norm_and_clip_with_norm():
    tp, dp = _twin_parameters([(4,), (3, 2)])
    t_total = UTILS_T.get_total_norm([p.grad for p in tp], 3.0)
    d_total = UTILS_D.get_total_norm([p.grad for p in dp], 3.0)
    np.testing.assert_allclose(d_total.numpy(), t_total.numpy(), rtol=1e-5)
    UTILS_T.clip_grads_with_norm_(tp, 0.1, t_total)
    UTILS_D.clip_grads_with_norm_(dp, 0.1, d_total)
    for t, d in zip(tp, dp):
        np.testing.assert_allclose(d.grad.numpy(), t.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("clip", [0.1, 1, 5.0])
def test_clip_grad_value(clip):
    tp, dp = _twin_parameters([(4, 3), (5,)], missing=(1,))
    assert UTILS_D.clip_grad_value_(dp, clip) is None
    UTILS_T.clip_grad_value_(tp, clip)
    np.testing.assert_array_equal(dp[0].grad.numpy(), tp[0].grad.numpy())
    UTILS_D.clip_grad_value_(dp[0], clip, foreach=False)


def test_parameters_vector_round_trip():
    t_mod = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 2))
    d_mod = disttorch.nn.Sequential(disttorch.nn.Linear(3, 4), disttorch.nn.Linear(4, 2))
    d_mod.load_state_dict({k: disttorch.tensor(v.numpy()) for k, v in t_mod.state_dict().items()})
    t_vec = UTILS_T.parameters_to_vector(t_mod.parameters())
    d_vec = UTILS_D.parameters_to_vector(d_mod.parameters())
    assert d_vec.shape == (26,) and d_vec.grad_fn.name() == type(t_vec.grad_fn).__name__
    np.testing.assert_array_equal(d_vec.detach().numpy(), t_vec.detach().numpy())
    new = RNG.standard_normal(26).astype("float32")
    UTILS_T.vector_to_parameters(torch.tensor(new), t_mod.parameters())
    UTILS_D.vector_to_parameters(disttorch.tensor(new), d_mod.parameters())
    for (name, t), (_, d) in zip(t_mod.named_parameters(), d_mod.named_parameters()):
        np.testing.assert_array_equal(d.detach().numpy(), t.detach().numpy(), err_msg=name)
        assert d.shape == t.shape
    for bad in ([1, 2], np.zeros(3)):
        check_error(lambda m: m.nn.utils.vector_to_parameters(
            bad, (t_mod if m is torch else d_mod).parameters()), match="same")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        UTILS_D.parameters_to_vector([disttorch.ones(2)])

"""Loss functions against torch: values, dtypes, gradients with respect to inputs and targets
(first and second order), every reduction, weights, ignore_index, label smoothing,
probability targets, torch's errors and warnings, and the loss Modules."""

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
REDUCTIONS = ["mean", "sum", "none"]


def fn(m):
    return F_T if m is torch else F_D


def probs(*shape, axis=-1):
    p = RNG.uniform(0.1, 1.0, size=shape)
    return p / p.sum(axis=axis, keepdims=True)


def labels(n, classes, *rest):
    return RNG.integers(0, classes, size=(n, *rest)).astype("int64")


def quiet(call):
    """Run call(m, ...) with warnings silenced (torch warns about kl_div's 'mean')."""
    def run(m, *args):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call(m, *args)
    return run


# ---------------------------------------------------------------- regression-style losses

# name, kwargs, input domain, target domain: gradients flow to input and target
PAIRED = [
    ("mse_loss", {}, (-2, 2), (-2, 2)),
    ("l1_loss", {}, (-2, 2), (-2, 2)),
    ("smooth_l1_loss", {}, (-2, 2), (-2, 2)),
    ("smooth_l1_loss", {"beta": 0.5}, (-2, 2), (-2, 2)),
    ("smooth_l1_loss", {"beta": 0.0}, (-2, 2), (-2, 2)),
    ("huber_loss", {}, (-2, 2), (-2, 2)),
    ("huber_loss", {"delta": 0.5}, (-2, 2), (-2, 2)),
    ("kl_div", {}, (-3, 0), (0.05, 1)),
    ("kl_div", {"log_target": True}, (-3, 0), (-3, 0)),
    ("binary_cross_entropy", {}, (0.05, 0.95), (0, 1)),
    ("binary_cross_entropy_with_logits", {}, (-3, 3), (0, 1)),
    ("poisson_nll_loss", {}, (-1, 1), (0, 3)),
    ("poisson_nll_loss", {"log_input": False}, (0.2, 3), (0, 3)),
    ("poisson_nll_loss", {"full": True}, (-1, 1), (0.5, 4)),
    ("multilabel_soft_margin_loss", {}, (-3, 3), (0, 1)),
]
PAIRED_IDS = [f"{n}{k}" for n, k, _, _ in PAIRED]


@pytest.mark.parametrize("name,kwargs,xdom,tdom", PAIRED, ids=PAIRED_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_paired_losses(name, kwargs, xdom, tdom, reduction, dtype):
    x = arr(4, 5, dtype=dtype, low=xdom[0], high=xdom[1])
    t = arr(4, 5, dtype=dtype, low=tdom[0], high=tdom[1])
    call = quiet(lambda m, a, b: getattr(fn(m), name)(a, b, reduction=reduction, **kwargs))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float64" else dict(rtol=2e-5, atol=1e-5)
    out = check(call, x, t, **tol)
    expected = call(torch, torch.tensor(x, requires_grad=True), torch.tensor(t))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__


@pytest.mark.parametrize("name,kwargs,xdom,tdom", PAIRED, ids=PAIRED_IDS)
def test_paired_gradcheck(name, kwargs, xdom, tdom):
    x, t = arr(3, 4, low=xdom[0], high=xdom[1]), arr(3, 4, low=tdom[0], high=tdom[1])
    for reduction in ("mean", "none"):
        call = quiet(lambda m, a, b: getattr(fn(m), name)(a, b, reduction=reduction, **kwargs))
        gradgrad = name in ("mse_loss", "kl_div", "binary_cross_entropy",
                            "binary_cross_entropy_with_logits", "multilabel_soft_margin_loss")
        gradcheck_op(call, x, t, gradgrad=gradgrad and reduction == "mean")


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_broadcast_and_mixed_dtypes(name):
    x, t = arr(3, 4), arr(4)
    with pytest.warns(UserWarning, match="Using a target size"):
        getattr(F_D, name)(disttorch.tensor(x), disttorch.tensor(t))
    check(quiet(lambda m, a, b: getattr(fn(m), name)(a, b)), x, t)
    check(quiet(lambda m, a, b: getattr(fn(m), name)(a, b, reduction="none")), x, t)
    # torch's huber backward fails on mixed dtypes: compare the forward there
    check(lambda m, a, b: getattr(fn(m), name)(a, b), x.astype("float32"), x,
          grad=name != "huber_loss")
    check_error(quiet(lambda m, a, b: getattr(fn(m), name)(a, b)), x, arr(5), match="same")


def test_soft_margin_and_weighted_losses():
    x, t = arr(4, 5), np.sign(arr(4, 5))
    for reduction in REDUCTIONS:
        out = check(lambda m, a, b: fn(m).soft_margin_loss(a, b, reduction=reduction), x, t,
                    grad=False)
        assert out.shape == ((4, 5) if reduction == "none" else ())
        check(lambda m, a: fn(m).soft_margin_loss(a, m.tensor(t), reduction=reduction), x)
        gradcheck_op(lambda m, a: fn(m).soft_margin_loss(a, m.tensor(t), reduction=reduction),
                     x, gradgrad=True)
        w = arr(4, 5, low=0.1, high=2)
        for name in ("mse_loss", "l1_loss", "huber_loss"):
            check(lambda m, a, b, c: getattr(fn(m), name)(a, b, reduction=reduction, weight=c),
                  x, arr(4, 5), w)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_weights(reduction):
    x, t = arr(4, 5, low=0.05, high=0.95), arr(4, 5, low=0, high=1)
    for w in (arr(4, 5, low=0.1, high=2), arr(5, low=0.1, high=2)):
        check(lambda m, a, b: fn(m).binary_cross_entropy(a, b, m.tensor(w), reduction=reduction),
              x, t)
    logits = arr(4, 5, low=-4, high=4)
    for w, pw in ((None, arr(5, low=0.5, high=3)), (arr(4, 5, low=0.1, high=2), arr(5)),
                  (arr(1, 5, low=0.1, high=2), None)):
        def call(m, a, b):
            return fn(m).binary_cross_entropy_with_logits(
                a, b, None if w is None else m.tensor(w), reduction=reduction,
                pos_weight=None if pw is None else m.tensor(pw))
        check(call, logits, t)
        gradcheck_op(call, logits, t)
    extreme = np.array([[-200.0, -30.0, 0.0, 30.0, 200.0]])
    check(lambda m, a: fn(m).binary_cross_entropy_with_logits(a, m.ones(1, 5), reduction="sum"),
          extreme)
    check(lambda m, a: fn(m).binary_cross_entropy_with_logits(a, m.ones(1, 5, dtype=a.dtype)),
          extreme)
    near = np.array([[0.0, 1e-50, 0.5, 1.0]])
    check(lambda m, a: fn(m).binary_cross_entropy(a, m.tensor([[0.0, 1.0, 1.0, 0.0]],
                                                           dtype=a.dtype),
                                                  reduction="none"), near, grad=False)


SIGNS = np.sign(arr(6))
VARS = arr(2, 1, low=0.5, high=2)
COMPOSITE = [
    ("margin_ranking_loss", lambda m, a, b, reduction: fn(m).margin_ranking_loss(
        a, b, m.tensor(SIGNS), margin=0.3, reduction=reduction)),
    ("hinge_embedding_loss", lambda m, a, b, reduction: fn(m).hinge_embedding_loss(
        a, m.tensor(SIGNS), margin=1.5, reduction=reduction)),
    ("cosine_embedding_loss", lambda m, a, b, reduction: fn(m).cosine_embedding_loss(
        a.view(2, 3), b.view(2, 3), m.tensor([1.0, -1.0]), margin=0.1, reduction=reduction)),
    ("gaussian_nll_loss", lambda m, a, b, reduction: fn(m).gaussian_nll_loss(
        a.view(2, 3), b.view(2, 3), m.tensor(VARS), reduction=reduction)),
    ("gaussian_nll_loss_full", lambda m, a, b, reduction: fn(m).gaussian_nll_loss(
        a.view(2, 3), b.view(2, 3), m.tensor(VARS[:, 0]), full=True, reduction=reduction)),
    ("gaussian_nll_loss_float_var", lambda m, a, b, reduction: fn(m).gaussian_nll_loss(
        a.view(2, 3), b.view(2, 3), 0.7, reduction=reduction)),
]


@pytest.mark.parametrize("name,call", COMPOSITE, ids=[c[0] for c in COMPOSITE])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_composite_losses(name, call, reduction):
    x, y = arr(6), arr(6)
    out = check(lambda m, a, b: call(m, a, b, reduction), x, y)
    expected = call(torch, torch.tensor(x, requires_grad=True), torch.tensor(y), reduction)
    assert out.grad_fn.name() == type(expected.grad_fn).__name__
    gradcheck_op(lambda m, a, b: call(m, a, b, reduction), x, y)
    var = arr(2, 3, low=0.5, high=2)
    if name == "gaussian_nll_loss":  # the variance is differentiable too
        check(lambda m, a, b, v: fn(m).gaussian_nll_loss(a, b, v, reduction=reduction),
              x.reshape(2, 3), y.reshape(2, 3), var)


def test_torch_level_loss_functions():
    x, y = arr(3, 4), arr(3, 4, low=0.05, high=1)
    check(lambda m, a, b: m.kl_div(a, b, 2), x, y)
    check(lambda m, a, b: m.binary_cross_entropy_with_logits(a, b, None, None, 1), x, y)
    check(lambda m, a, b: m.margin_ranking_loss(a, b, m.ones(3, 4), 0.5, 0), x, y)
    check(lambda m, a: m.hinge_embedding_loss(a, -m.ones(3, 4), 1.0, 2), x)
    check(lambda m, a, b: m.cosine_embedding_loss(a, b, m.ones(3), 0.0, 1), x, y)
    check(lambda m, a, b: m.poisson_nll_loss(a, b, True, False, 1e-8, 1), x, y)


@pytest.mark.parametrize("reduction", ["batchmean", "mean", "sum", "none"])
def test_kl_div_reductions(reduction):
    x, t = np.log(probs(3, 4)), probs(3, 4)
    out = check(quiet(lambda m, a, b: fn(m).kl_div(a, b, reduction=reduction)), x, t)
    expected = quiet(lambda m, a, b: fn(m).kl_div(a, b, reduction=reduction))(
        torch, torch.tensor(x, requires_grad=True), torch.tensor(t))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__
    if reduction == "mean":
        with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
            F_D.kl_div(disttorch.tensor(x), disttorch.tensor(t))


# ---------------------------------------------------------------- nll_loss, cross_entropy

CLASS_CASES = [
    ("2d", (6, 5), (6,)),
    ("1d", (5,), ()),
    ("3d", (3, 5, 4), (3, 4)),
    ("4d", (2, 5, 3, 2), (2, 3, 2)),
]


OPTIONS = [{}, {"weight": True}, {"ignore_index": 2}, {"weight": True, "ignore_index": 1},
           {"label_smoothing": 0.2},
           {"label_smoothing": 0.1, "weight": True, "ignore_index": 0}]
CLASS_ROWS = [(name, options) for name in ("cross_entropy", "nll_loss") for options in OPTIONS
              if name == "cross_entropy" or "label_smoothing" not in options]


@pytest.mark.parametrize("case,xshape,tshape", CLASS_CASES, ids=[c[0] for c in CLASS_CASES])
@pytest.mark.parametrize("name,options", CLASS_ROWS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_class_index_losses(case, xshape, tshape, name, reduction, options):
    classes = xshape[0] if len(xshape) == 1 else xshape[1]
    x = arr(*xshape, low=-3, high=3)
    t = RNG.integers(0, classes, size=tshape).astype("int64")
    w = arr(classes, low=0.2, high=2) if options.get("weight") else None
    kwargs = {k: v for k, v in options.items() if k != "weight"}

    def call(m, a):
        weight = None if w is None else m.tensor(w, dtype=a.dtype)
        return getattr(fn(m), name)(a, m.tensor(t), weight=weight, reduction=reduction,
                                    **kwargs)

    out = check(call, x)
    check(call, x.astype("float32"), rtol=1e-5, atol=1e-5)
    expected = call(torch, torch.tensor(x, requires_grad=True))
    assert out.grad_fn.name() == type(expected.grad_fn).__name__
    if case in ("2d", "3d"):
        gradcheck_op(call, x, gradgrad=reduction == "mean" and case == "2d")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(reduction, smoothing, weighted):
    for xshape, axis in (((4, 5), 1), ((2, 5, 3), 1), ((5,), 0)):
        x, t = arr(*xshape), probs(*xshape, axis=axis)
        w = arr(5, low=0.2, high=2) if weighted else None

        def call(m, a, b):
            return fn(m).cross_entropy(a, b, None if w is None else m.tensor(w, dtype=a.dtype),
                                       reduction=reduction, label_smoothing=smoothing)

        out = check(call, x, t)
        expected = call(torch, torch.tensor(x, requires_grad=True), torch.tensor(t))
        assert out.grad_fn.name() == type(expected.grad_fn).__name__
    gradcheck_op(call, x, t, gradgrad=True)


def test_cross_entropy_edge_cases():
    x = arr(3, 4)
    # every target ignored: mean of nothing is nan in both
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([-100, -100, -100])), x)
    check(lambda m, a: fn(m).nll_loss(a, m.tensor([1, -100, 3]), reduction="none"), x)
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([1, 0, 3], dtype=m.uint8)), x)
    big = np.array([[1000.0, -1000.0, 0.0], [-5e3, 5e3, 1.0]])
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([0, 0])), big)
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([1, 2]), label_smoothing=0.5), big)
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([2, 0]), size_average=False), x[:2])
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([2, 0]), reduce=False), x[:2])
    check(lambda m, a: fn(m).cross_entropy(a, m.tensor([2, 0]), label_smoothing=1.0), x[:2])


def test_cross_entropy_double_backward_through_fused_op():
    x = disttorch.tensor(arr(3, 4), requires_grad=True)
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    for m, t in ((disttorch, x), (torch, tx)):
        loss = fn(m).cross_entropy(t, m.tensor([0, 3, 1]), label_smoothing=0.1)
        (g,) = m.autograd.grad(loss, t, create_graph=True)
        (gg,) = m.autograd.grad((g * g).sum(), t)
        if m is disttorch:
            got = gg.numpy()
        else:
            np.testing.assert_allclose(got, gg.numpy(), rtol=1e-6, atol=1e-9)


LOSS_ERRORS = [
    lambda m, x: fn(m).nll_loss(x, m.tensor([0, 5, 1])),
    lambda m, x: fn(m).nll_loss(x, m.tensor([0, -5, 1]), reduction="none"),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 5, 1])),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 4, 1]), ignore_index=0),
    lambda m, x: fn(m).nll_loss(x, m.tensor([0.0, 1, 1])),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 1, 1], dtype=m.int32)),
    lambda m, x: fn(m).nll_loss(x, m.tensor([0, 1])),
    lambda m, x: fn(m).nll_loss(x.view(3, 2, 2), m.tensor([0, 1, 1])),
    lambda m, x: fn(m).nll_loss(x[0, 0], m.tensor(1)),
    lambda m, x: fn(m).nll_loss(x, m.tensor([0, 1, 1]), weight=m.ones(3)),
    lambda m, x: fn(m).nll_loss(x, m.tensor([0, 1, 1]), reduction="avg"),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 1, 1]), reduction="avg"),
    lambda m, x: fn(m).mse_loss(x, x, reduction="avg"),
    lambda m, x: fn(m).cross_entropy(x, m.rand(3, 5)),
    lambda m, x: fn(m).cross_entropy(x, m.rand(3, 4), ignore_index=1),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 1, 1]), label_smoothing=1.5),
    lambda m, x: fn(m).cross_entropy(x.long(), m.tensor([0, 1, 1])),
    lambda m, x: fn(m).cross_entropy(x, m.tensor([0, 1, 1]), weight=m.ones(4,
                                                                          requires_grad=True)),
    lambda m, x: fn(m).mse_loss(x.long(), x.long()),
    lambda m, x: fn(m).l1_loss(x.long(), x.long()),
    lambda m, x: fn(m).mse_loss(x, x, weight=m.ones(4)),
    lambda m, x: fn(m).binary_cross_entropy(x, m.rand(3, 4)),
    lambda m, x: fn(m).binary_cross_entropy(m.rand(3, 4), m.rand(4)),
    lambda m, x: fn(m).binary_cross_entropy(m.rand(3, 4), m.rand(3, 4),
                                            weight=m.ones(3, 4, requires_grad=True)),
    lambda m, x: fn(m).binary_cross_entropy_with_logits(x, m.rand(4)),
    lambda m, x: fn(m).soft_margin_loss(x, m.ones(3, 4, requires_grad=True)),
    lambda m, x: fn(m).smooth_l1_loss(x, x, beta=-1.0),
    lambda m, x: fn(m).huber_loss(x, x, delta=0.0),
    lambda m, x: fn(m).margin_ranking_loss(m.randn(3), m.randn(3), m.randn(3, 1)),
    lambda m, x: fn(m).cosine_embedding_loss(x, x, m.ones(3, 1)),
    lambda m, x: fn(m).cosine_embedding_loss(x, m.randn(3, 5), m.ones(3)),
    lambda m, x: fn(m).cosine_embedding_loss(m.randn(4), m.randn(4), m.ones(3)),
    lambda m, x: fn(m).cosine_embedding_loss(x, x, m.tensor(1.0)),
    lambda m, x: fn(m).gaussian_nll_loss(x, x, m.ones(3, 2)),
    lambda m, x: fn(m).gaussian_nll_loss(x, x, -m.ones(3, 4)),
    lambda m, x: fn(m).gaussian_nll_loss(x, x, -1.0),
    lambda m, x: fn(m).gaussian_nll_loss(x, x, m.ones(3, 4), reduction="avg"),
    lambda m, x: fn(m).poisson_nll_loss(x, x, reduction="avg"),
    lambda m, x: fn(m).kl_div(x, x, reduction="avg"),
]


@pytest.mark.parametrize("call", LOSS_ERRORS)
def test_loss_errors(call):
    check_error(call, arr(3, 4, dtype="float32"), match="same")


def test_legacy_reduction_arguments():
    x, t = arr(3, 4), arr(3, 4)
    for kwargs in ({"size_average": False}, {"reduce": False}, {"size_average": True},
                   {"size_average": False, "reduce": True}):
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            F_D.mse_loss(disttorch.tensor(x), disttorch.tensor(t), **kwargs)
        check(quiet(lambda m, a, b: fn(m).mse_loss(a, b, **kwargs)), x, t)
        check(quiet(lambda m, a, b: fn(m).l1_loss(a, b, **kwargs)), x, t)
        check(quiet(lambda m, a: fn(m).nll_loss(a, m.tensor([0, 1, 3]), **kwargs)), x)
        check(quiet(lambda m: m.nn.MSELoss(**kwargs)(m.ones(2), m.zeros(2))))


# ---------------------------------------------------------------- modules

LOSS_MODULES = [
    ("L1Loss()", 2), ("L1Loss(reduction='sum')", 2), ("MSELoss()", 2),
    ("MSELoss(reduction='none')", 2), ("SmoothL1Loss(beta=0.5)", 2), ("HuberLoss(delta=2.0)", 2),
    ("CrossEntropyLoss()", "class"), ("CrossEntropyLoss(label_smoothing=0.1)", "class"),
    ("CrossEntropyLoss(weight=m.tensor(W), ignore_index=1)", "class"),
    ("NLLLoss()", "class"), ("NLLLoss(weight=m.tensor(W), reduction='sum')", "class"),
    ("BCELoss()", "prob"), ("BCELoss(weight=m.tensor(W))", "prob"),
    ("BCEWithLogitsLoss()", "binary"),
    ("BCEWithLogitsLoss(pos_weight=m.tensor(W))", "binary"),
    ("KLDivLoss(reduction='batchmean')", "kl"), ("KLDivLoss(log_target=True)", "kl"),
    ("MarginRankingLoss(0.5)", "ranking"), ("HingeEmbeddingLoss()", "sign"),
    ("CosineEmbeddingLoss(margin=0.2)", "cosine"), ("SoftMarginLoss()", "sign"),
    ("MultiLabelSoftMarginLoss()", "binary"),
    ("MultiLabelSoftMarginLoss(weight=m.tensor(W))", "binary"),
    ("PoissonNLLLoss()", "poisson"), ("PoissonNLLLoss(log_input=False, full=True)", "poisson"),
    ("GaussianNLLLoss()", "gaussian"), ("GaussianNLLLoss(full=True, eps=1e-3)", "gaussian"),
    ("TripletMarginLoss()", "triplet"), ("TripletMarginLoss(0.5, p=1, swap=True)", "triplet"),
    ("NLLLoss2d()", "class"),
]
W = arr(4, low=0.2, high=2)


def _loss_inputs(kind):
    x = arr(3, 4, low=0.1, high=0.9) if kind in ("prob", "poisson") else arr(3, 4)
    if kind == 2:
        return [x, arr(3, 4)]
    if kind == "class":
        return [x, np.array([0, 3, 1])]
    if kind in ("prob", "binary"):
        return [x, arr(3, 4, low=0, high=1)]
    if kind == "kl":
        return [np.log(probs(3, 4)), probs(3, 4)]
    if kind == "ranking":
        return [arr(3), arr(3), np.sign(arr(3))]
    if kind == "sign":
        return [x, np.sign(arr(3, 4))]
    if kind == "cosine":
        return [x, arr(3, 4), np.sign(arr(3))]
    if kind == "poisson":
        return [x, arr(3, 4, low=0, high=3)]
    if kind == "triplet":
        return [x, arr(3, 4), arr(3, 4)]
    return [x, arr(3, 4), arr(3, 4, low=0.5, high=2)]


@pytest.mark.parametrize("spec,kind", LOSS_MODULES, ids=[s for s, _ in LOSS_MODULES])
def test_loss_modules(spec, kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        modules = {m: eval("m.nn." + spec, {"m": m, "W": W}) for m in (torch, disttorch)}
    assert repr(modules[disttorch]) == repr(modules[torch])
    assert list(modules[disttorch].state_dict()) == list(modules[torch].state_dict())
    assert modules[disttorch].reduction == modules[torch].reduction
    inputs = _loss_inputs(kind)
    if kind == "class":
        inputs[1] = inputs[1].astype("int64")

    def run(m, *args):
        args = list(args)
        if kind in ("sign", "cosine", "ranking") or kind == "class":
            args[-1] = args[-1].detach()
        return modules[m](*args)

    check(quiet(run), *inputs)


def test_loss_module_weight_buffers():
    module = disttorch.nn.CrossEntropyLoss(weight=disttorch.ones(3))
    assert [n for n, _ in module.named_buffers()] == ["weight"]
    assert list(module.state_dict()) == ["weight"]
    module = disttorch.nn.BCEWithLogitsLoss(pos_weight=disttorch.ones(3))
    assert [n for n, _ in module.named_buffers()] == ["pos_weight"]
    assert disttorch.nn.NLLLoss().weight is None
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert disttorch.nn.MSELoss(size_average=False).reduction == "sum"


@pytest.mark.parametrize("kwargs", [{}, {"margin": 0.5, "p": 1}, {"swap": True},
                                    {"reduction": "none", "eps": 0.1}, {"reduction": "sum"}])
def test_triplet_margin_loss(kwargs):
    a, p, n = arr(4, 5), arr(4, 5), arr(4, 5)
    out = check(lambda m, x, y, z: fn(m).triplet_margin_loss(x, y, z, **kwargs), a, p, n)
    expected = F_T.triplet_margin_loss(*(torch.tensor(v, requires_grad=True) for v in (a, p, n)),
                                       **kwargs)
    assert out.grad_fn.name() == type(expected.grad_fn).__name__
    gradcheck_op(lambda m, x, y, z: fn(m).triplet_margin_loss(x, y, z, **kwargs), a, p, n)
    check(lambda m, x, y, z: m.triplet_margin_loss(x, y, z, 1.0, 2, 1e-6, True, 0), a, p, n)
    for call in (lambda m, x: fn(m).triplet_margin_loss(x, x, x[0]),
                 lambda m, x: fn(m).triplet_margin_loss(x, x, x, margin=0),
                 lambda m, x: fn(m).triplet_margin_loss(x[:, :3], x, x),
                 lambda m, x: m.nn.TripletMarginLoss(margin=-1.0)):
        check_error(call, a, match="same")

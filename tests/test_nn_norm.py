"""Normalization against torch: batch/instance/layer/group/rms/local-response norm as functions
(values, gradients, running statistics, float64 gradchecks, errors, node names) and as modules
(outputs and gradients after loading torch's state_dict, running buffers over several steps,
repr strings, state_dict keys), plus the per-channel pieces SyncBatchNorm is built from."""

import warnings

import numpy as np
import pytest
import torch
from oracle import RNG, arr, assert_same, check, check_error, gradcheck_op

import disttorch
from disttorch._ops import nn_norm

FRAMEWORKS = (torch, disttorch)


def stats(m, n, dtype="float64", positive=False):
    values = RNG.uniform(0.5, 2.0, n) if positive else RNG.uniform(-1, 1, n)
    return m.tensor(values.astype(dtype))


# ---------------------------------------------------------------- functional oracle rows


def bn_train(shape, affine=True, dtype="float64"):
    c = shape[1]
    inputs = (arr(*shape, dtype=dtype), arr(c, dtype=dtype), arr(c, dtype=dtype))

    def fn(m, x, w, b):
        rm, rv = m.zeros(c, dtype=x.dtype), m.ones(c, dtype=x.dtype)
        out = m.nn.functional.batch_norm(x, rm, rv, w if affine else None,
                                         b if affine else None, training=True, momentum=0.3)
        return out, rm, rv
    return fn, inputs


def bn_eval(shape):
    c = shape[1]
    rm, rv = RNG.uniform(-1, 1, c), RNG.uniform(0.5, 2, c)

    def fn(m, x, w, b):
        return m.nn.functional.batch_norm(x, m.tensor(rm), m.tensor(rv), w, b, training=False,
                                          eps=1e-3)
    return fn, (arr(*shape), arr(c), arr(c))


F_ROWS = {
    "bn_2d": bn_train((6, 3)),
    "bn_3d": bn_train((4, 3, 5)),
    "bn_4d_f32": bn_train((4, 3, 2, 5), dtype="float32"),
    "bn_5d": bn_train((2, 3, 2, 2, 3)),
    "bn_no_affine": bn_train((4, 3, 5), affine=False),
    "bn_eval": bn_eval((4, 3, 5)),
    "bn_bias_only": (lambda m, x, b: m.nn.functional.batch_norm(x, None, None, None, b, True),
                     (arr(5, 4, 3), arr(4))),
    "bn_no_running": (lambda m, x, w: m.nn.functional.batch_norm(x, None, None, w, None, True),
                      (arr(5, 4, 3), arr(4))),
    "bn_f16": (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
               (arr(8, 3, 4, dtype="float16"),)),
    "bn_f16_f32_params": (lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.zeros(3), m.ones(3), w, b, training=True), (
        arr(8, 3, 4, dtype="float16"), arr(3, dtype="float32"), arr(3, dtype="float32"))),
    "bn_noncontiguous": (lambda m, x, w: m.nn.functional.batch_norm(
        x.transpose(0, 1), None, None, w, None, True), (arr(3, 5, 4), arr(3))),
    "instance": (lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b),
                 (arr(3, 4, 5), arr(4), arr(4))),
    "instance_running": (lambda m, x: (lambda rm, rv: (
        m.nn.functional.instance_norm(x, rm, rv, momentum=0.2), rm, rv))(
            m.zeros(4, dtype=x.dtype), m.ones(4, dtype=x.dtype)), (arr(3, 4, 2, 3),)),
    "instance_eval": (lambda m, x: m.nn.functional.instance_norm(
        x, m.zeros(4, dtype=x.dtype) + 0.5, m.ones(4, dtype=x.dtype) * 2,
        use_input_stats=False), (arr(3, 4, 5),)),
    "ln_last": (lambda m, x, w, b: m.nn.functional.layer_norm(x, (5,), w, b),
                (arr(3, 4, 5), arr(5), arr(5))),
    "ln_two_dims": (lambda m, x, w, b: m.nn.functional.layer_norm(x, [4, 5], w, b, 1e-3),
                    (arr(3, 4, 5), arr(4, 5), arr(4, 5))),
    "ln_plain": (lambda m, x: m.nn.functional.layer_norm(x, x.shape[1:]), (arr(6, 7),)),
    "ln_weight_only": (lambda m, x, w: m.nn.functional.layer_norm(x, (3,), w),
                       (arr(2, 5, 3, dtype="float32"), arr(3, dtype="float32"))),
    "ln_bias_only": (lambda m, x, b: m.nn.functional.layer_norm(x, (3,), None, b),
                     (arr(4, 3), arr(3))),
    "ln_f16": (lambda m, x: m.nn.functional.layer_norm(x, (8,)), (arr(4, 8, dtype="float16"),)),
    "gn_4d": (lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
              (arr(3, 4, 2, 3), arr(4), arr(4))),
    "gn_one_group": (lambda m, x, w, b: m.nn.functional.group_norm(x, 1, w, b),
                     (arr(2, 6, 5), arr(6), arr(6))),
    "gn_per_channel": (lambda m, x: m.nn.functional.group_norm(x, 6, eps=1e-2),
                       (arr(2, 6, 5, dtype="float32"),)),
    "gn_2d": (lambda m, x, w: m.nn.functional.group_norm(x, 3, w), (arr(4, 6), arr(6))),
    "gn_f16_f32_params": (lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b), (
        arr(2, 4, 3, dtype="float16"), arr(4, dtype="float32"), arr(4, dtype="float32"))),
    "rms": (lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), (arr(3, 4, 5), arr(5))),
    "rms_eps": (lambda m, x: m.nn.functional.rms_norm(x, [4, 5], eps=1e-2), (arr(3, 4, 5),)),
    "rms_f32": (lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w),
                (arr(3, 5, dtype="float32"), arr(5, dtype="float32"))),
    "lrn_3d": (lambda m, x: m.nn.functional.local_response_norm(x, 3), (arr(2, 5, 4),)),
    "lrn_4d": (lambda m, x: m.nn.functional.local_response_norm(x, 2, 1e-2, 0.5, 2.0),
               (arr(2, 6, 3, 3),)),
    "lrn_5d": (lambda m, x: m.nn.functional.local_response_norm(x, 4), (arr(2, 5, 2, 2, 2),)),
}


@pytest.mark.parametrize("name", list(F_ROWS))
def test_functional_matches_torch(name):
    fn, inputs = F_ROWS[name]
    half = any(getattr(x, "dtype", None) == np.float16 for x in inputs)
    tol = dict(rtol=2e-3, atol=2e-3) if half else {}
    check(fn, *inputs, **tol)


GRADCHECK_ROWS = {
    "bn_train": (lambda m, x, w, b: m.nn.functional.batch_norm(x, None, None, w, b, True),
                 (arr(4, 3, 2), arr(3), arr(3)), True),
    "bn_train_4d": (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True),
                    (arr(2, 2, 2, 3),), True),
    "bn_bias_only": (lambda m, x, b: m.nn.functional.batch_norm(x, None, None, None, b, True),
                     (arr(4, 3), arr(3)), True),
    "bn_eval": (lambda m, x, w, b: m.nn.functional.batch_norm(
        x, m.zeros(3, dtype=x.dtype) + 0.2, m.ones(3, dtype=x.dtype) * 1.5, w, b), (
        arr(4, 3, 2), arr(3), arr(3)), True),
    "layer_norm": (lambda m, x, w, b: m.nn.functional.layer_norm(x, (2, 3), w, b),
                   (arr(2, 2, 3), arr(2, 3), arr(2, 3)), True),
    "group_norm": (lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
                   (arr(2, 4, 3), arr(4), arr(4)), True),
    "instance_norm": (lambda m, x, w: m.nn.functional.instance_norm(x, weight=w),
                      (arr(2, 3, 4), arr(3)), False),
    "rms_norm": (lambda m, x, w: m.nn.functional.rms_norm(x, (3,), w),
                 (arr(2, 3), arr(3)), False),
    "local_response_norm": (lambda m, x: m.nn.functional.local_response_norm(x, 3, 0.1),
                            (arr(2, 4, 3),), False),
}


@pytest.mark.parametrize("name", list(GRADCHECK_ROWS))
def test_gradcheck(name):
    fn, inputs, gradgrad = GRADCHECK_ROWS[name]
    gradcheck_op(fn, *inputs, gradgrad=gradgrad)


NODE_ROWS = [
    (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True), (4, 3)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.zeros(3), m.ones(3)), (4, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, (3,)), (4, 3)),
    (lambda m, x: m.nn.functional.group_norm(x, 3), (4, 3, 2)),
    (lambda m, x: m.nn.functional.instance_norm(x), (4, 3, 2)),
    (lambda m, x: m.nn.functional.rms_norm(x, (3,)), (4, 3)),
    (lambda m, x: m.nn.functional.local_response_norm(x, 2), (4, 3, 2)),
]


@pytest.mark.parametrize("fn, shape", NODE_ROWS)
def test_node_names(fn, shape):
    data = arr(*shape, dtype="float32")
    names = [type(fn(m, m.tensor(data, requires_grad=True)).grad_fn).__name__
             for m in FRAMEWORKS]
    assert names[0] == names[1]


def test_running_stats_over_steps():
    """Running mean/var (unbiased) and the output after several momentum updates."""
    c = 3
    state = {m: (m.zeros(c, dtype=m.float64), m.ones(c, dtype=m.float64)) for m in FRAMEWORKS}
    for step in range(4):
        x = arr(5, c, 4) * (step + 1) + step
        outs = [m.nn.functional.batch_norm(m.tensor(x), *state[m], training=True,
                                           momentum=0.25) for m in FRAMEWORKS]
        assert_same(outs[1], outs[0])
        for t, d in zip(state[torch], state[disttorch]):
            assert_same(d, t)
    x = arr(5, c, 4)
    assert_same(*[m.nn.functional.batch_norm(m.tensor(x), *state[m]) for m in
                  (disttorch, torch)])


def test_empty_batch_keeps_running_stats():
    for m in FRAMEWORKS:
        rm, rv = m.zeros(3), m.ones(3)
        x, b = m.zeros(0, 3, 2, requires_grad=True), m.ones(3, requires_grad=True)
        out = m.nn.functional.batch_norm(x, rm, rv, None, b, training=True)
        out.sum().backward()
        assert tuple(out.shape) == (0, 3, 2) and tuple(x.grad.shape) == (0, 3, 2)
        assert rm.tolist() == [0.0] * 3 and rv.tolist() == [1.0] * 3
        assert b.grad.tolist() == [0.0] * 3


ERROR_ROWS = [
    (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True), (1, 3)),
    (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True), (1, 3, 1, 1)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.zeros(3), m.ones(3)), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.zeros(4), m.ones(5), training=True), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.zeros(4), m.ones(4), m.ones(3)), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.zeros(4), m.ones(4), None, m.ones(2)),
     (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, None, m.ones(4)), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.ones(4), None), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.ones(4), None, training=True), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True, eps=0), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.ones(4), m.ones(4), eps=-1.0), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x.long(), m.ones(4), m.ones(4)), (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, m.ones(4).double(), m.ones(4).double()),
     (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x.double(), None, None, m.ones(4), None, True),
     (2, 4)),
    (lambda m, x: m.nn.functional.batch_norm(x, None, None, training=True), (3,)),
    (lambda m, x: m.nn.functional.instance_norm(x), (2, 3)),
    (lambda m, x: m.nn.functional.instance_norm(x), (2, 3, 1)),
    (lambda m, x: m.nn.functional.layer_norm(x, (4,)), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, (2, 2)), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, ()), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, 3), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, (3,), m.ones(4)), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, (3,), None, m.ones(2)), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x.long(), (3,)), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x, (3,), m.ones(3).double()), (2, 3)),
    (lambda m, x: m.nn.functional.layer_norm(x.double(), (3,), m.ones(3)), (2, 3)),
    (lambda m, x: m.nn.functional.group_norm(x, 4), (2, 6, 4)),
    (lambda m, x: m.nn.functional.group_norm(x, 3, m.ones(5)), (2, 6, 4)),
    (lambda m, x: m.nn.functional.group_norm(x, 3, m.ones(6), m.ones(5)), (2, 6, 4)),
    (lambda m, x: m.nn.functional.group_norm(x, 3), (6,)),
    (lambda m, x: m.nn.functional.group_norm(x, 2), (1, 2)),
    (lambda m, x: m.nn.functional.group_norm(x.long(), 3), (2, 6)),
    (lambda m, x: m.nn.functional.rms_norm(x, (4,)), (2, 3)),
    (lambda m, x: m.nn.functional.rms_norm(x, (3,), m.ones(4)), (2, 3)),
    (lambda m, x: m.nn.functional.rms_norm(x, 3), (2, 3)),
    (lambda m, x: m.nn.functional.rms_norm(x.long(), (3,)), (2, 3)),
    (lambda m, x: m.nn.functional.local_response_norm(x, 2), (2, 3)),
    (lambda m, x: m.nn.BatchNorm2d(3)(x), (2, 3, 4)),
    (lambda m, x: m.nn.BatchNorm1d(3)(x), (2, 3, 4, 5)),
    (lambda m, x: m.nn.BatchNorm3d(3)(x), (2, 3, 4, 5)),
    (lambda m, x: m.nn.BatchNorm1d(3)(x), (2, 4)),
    (lambda m, x: m.nn.InstanceNorm1d(3)(x), (2, 3, 4, 5)),
    (lambda m, x: m.nn.InstanceNorm2d(3, affine=True)(x), (2, 4, 4, 5)),
    (lambda m, x: m.nn.InstanceNorm3d(3)(x), (2, 3)),
    (lambda m, x: m.nn.GroupNorm(4, 6), (1,)),
    (lambda m, x: m.nn.LayerNorm(4)(x), (2, 3)),
]


@pytest.mark.parametrize("fn, shape", ERROR_ROWS)
def test_errors_match_torch(fn, shape):
    check_error(fn, arr(*shape, dtype="float32"), match="same")


def test_instance_norm_feature_warning():
    for m in FRAMEWORKS:
        with pytest.warns(UserWarning, match="input's size at dim=1 does not match"):
            m.nn.InstanceNorm1d(3)(m.randn(2, 4, 5))


# ---------------------------------------------------------------- modules


def load_from_torch(torch_module, module):
    module.load_state_dict({k: disttorch.tensor(v.detach().numpy().copy())
                            for k, v in torch_module.state_dict().items()})


def run_steps(make, shape, steps=3, dtype="float32", rtol=1e-5, atol=1e-5):
    """Train-mode steps then an eval step: outputs, input/parameter gradients and buffers."""
    torch.manual_seed(0)
    modules = {torch: make(torch)}
    modules[disttorch] = make(disttorch)
    for p in modules[torch].parameters():  # non-trivial affine parameters
        with torch.no_grad():
            p.uniform_(0.5, 1.5)
    load_from_torch(modules[torch], modules[disttorch])
    for step in range(steps + 1):
        if step == steps:
            for module in modules.values():
                module.eval()
        x = arr(*shape, dtype=dtype) * (step + 1) + step
        projection = RNG.standard_normal(shape).astype(dtype)
        results = {}
        for m, module in modules.items():
            xt = m.tensor(x, requires_grad=True)
            out = module(xt)
            params = list(module.parameters())
            grads = m.autograd.grad((out * m.tensor(projection)).sum(), [xt] + params)
            results[m] = (out, grads, [b for b in module.buffers()])
        assert_same(results[disttorch][0], results[torch][0], rtol, atol)
        for g, e in zip(results[disttorch][1], results[torch][1]):
            assert_same(g, e, rtol * 10, atol * 10, what="grad")
        for g, e in zip(results[disttorch][2], results[torch][2]):
            assert_same(g, e, rtol, atol, what="buffer")


MODULE_ROWS = {
    "bn1d": (lambda m: m.nn.BatchNorm1d(4), (8, 4)),
    "bn1d_seq": (lambda m: m.nn.BatchNorm1d(4, momentum=None), (3, 4, 5)),
    "bn2d": (lambda m: m.nn.BatchNorm2d(3, eps=1e-3, momentum=0.3), (4, 3, 5, 5)),
    "bn2d_no_bias": (lambda m: m.nn.BatchNorm2d(3, bias=False), (4, 3, 2, 2)),
    "bn2d_untracked": (lambda m: m.nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 3, 2)),
    "bn2d_no_affine": (lambda m: m.nn.BatchNorm2d(3, affine=False), (4, 3, 3, 2)),
    "bn3d": (lambda m: m.nn.BatchNorm3d(2), (2, 2, 3, 2, 2)),
    "in1d": (lambda m: m.nn.InstanceNorm1d(3, affine=True), (2, 3, 6)),
    "in1d_unbatched": (lambda m: m.nn.InstanceNorm1d(3, track_running_stats=True), (3, 6)),
    "in2d_tracked": (lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
                     (2, 3, 4, 4)),
    "in3d": (lambda m: m.nn.InstanceNorm3d(2), (2, 2, 3, 2, 2)),
    "layer": (lambda m: m.nn.LayerNorm(6), (4, 5, 6)),
    "layer_2d_no_bias": (lambda m: m.nn.LayerNorm([5, 6], bias=False), (4, 5, 6)),
    "layer_plain": (lambda m: m.nn.LayerNorm(6, elementwise_affine=False), (4, 6)),
    "group": (lambda m: m.nn.GroupNorm(2, 4), (3, 4, 5)),
    "group_plain": (lambda m: m.nn.GroupNorm(4, 4, affine=False), (3, 4, 2, 2)),
    "rms": (lambda m: m.nn.RMSNorm(6), (4, 6)),
    "rms_eps": (lambda m: m.nn.RMSNorm([2, 3], eps=1e-3), (4, 2, 3)),
    "lrn": (lambda m: m.nn.LocalResponseNorm(3), (2, 5, 3)),
}


@pytest.mark.parametrize("name", list(MODULE_ROWS))
def test_module_matches_torch(name):
    make, shape = MODULE_ROWS[name]
    run_steps(make, shape)


def test_num_batches_tracked_and_cumulative_average():
    modules = [m.nn.BatchNorm1d(2, momentum=None) for m in FRAMEWORKS]
    for step in range(3):
        x = arr(6, 2, dtype="float32") + step
        for module, m in zip(modules, FRAMEWORKS):
            module(m.tensor(x))
    assert_same(modules[1].num_batches_tracked, modules[0].num_batches_tracked)
    assert_same(modules[1].running_mean, modules[0].running_mean)
    assert_same(modules[1].running_var, modules[0].running_var)


REPR_ROWS = [
    lambda m: m.nn.BatchNorm1d(3, momentum=None),
    lambda m: m.nn.BatchNorm2d(16),
    lambda m: m.nn.BatchNorm2d(4, eps=1e-3, affine=False, track_running_stats=False),
    lambda m: m.nn.BatchNorm3d(2, bias=False),
    lambda m: m.nn.InstanceNorm1d(3),
    lambda m: m.nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
    lambda m: m.nn.InstanceNorm3d(5, momentum=0.2),
    lambda m: m.nn.LayerNorm(64),
    lambda m: m.nn.LayerNorm((3, 4), eps=1e-6, bias=False),
    lambda m: m.nn.LayerNorm([4], elementwise_affine=False),
    lambda m: m.nn.GroupNorm(2, 4),
    lambda m: m.nn.GroupNorm(3, 6, affine=False, eps=0.1),
    lambda m: m.nn.RMSNorm(4),
    lambda m: m.nn.RMSNorm((3, 4), eps=1e-3, elementwise_affine=False),
    lambda m: m.nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0),
    lambda m: m.nn.Sequential(m.nn.BatchNorm2d(2), m.nn.GroupNorm(1, 2)),
]


@pytest.mark.parametrize("make", REPR_ROWS)
def test_repr_and_state_dict_keys(make):
    modules = [make(m) for m in FRAMEWORKS]
    assert repr(modules[1]) == repr(modules[0])
    keys = [list(module.state_dict()) for module in modules]
    assert keys[1] == keys[0]
    for t, d in zip(modules[0].state_dict().values(), modules[1].state_dict().values()):
        assert_same(d, t)
    assert [n for n, _ in modules[1].named_parameters()] == [
        n for n, _ in modules[0].named_parameters()]


def test_old_checkpoint_without_num_batches_tracked():
    module = disttorch.nn.BatchNorm1d(3)
    module.num_batches_tracked.fill_(5)
    state = module.state_dict()
    del state["num_batches_tracked"]
    state._metadata[""]["version"] = 1
    assert not module.load_state_dict(state).missing_keys
    with pytest.raises(RuntimeError, match="Missing key"):
        state._metadata[""]["version"] = 2
        module.load_state_dict(state)


def test_batch_norm_double_module_and_eval_without_running_stats():
    for m in FRAMEWORKS:
        module = m.nn.BatchNorm1d(3, track_running_stats=False).double().eval()
        out = module(m.tensor(arr(5, 3)))
        assert out.dtype == m.float64
    x = arr(5, 3)
    assert_same(*[m.nn.BatchNorm1d(3, track_running_stats=False).double().eval()(m.tensor(x))
                  for m in (disttorch, torch)])


# ---------------------------------------------------------------- the SyncBatchNorm pieces


def test_split_statistics_equal_whole_batch():
    """Two shards combined through the all_reduce hook give the whole batch's result."""
    x, w, b = arr(6, 3, 4), arr(3), arr(3)
    dy = arr(6, 3, 4)
    shards = (x[:2], x[2:])
    full = [disttorch.tensor(a, requires_grad=True) for a in (x, w, b)]
    expected = disttorch.nn.functional.batch_norm(full[0], None, None, full[1], full[2], True)
    expected_grads = disttorch.autograd.grad((expected * disttorch.tensor(dy)).sum(), full)
    mean = x.mean((0, 2))
    other = (nn_norm._pack_sums(*nn_norm.channel_sums(shards[1])),
             nn_norm._pack_sums(*nn_norm.backward_channel_sums(dy[2:], shards[1], mean)))
    calls = []

    def all_reduce(packed):
        calls.append(len(packed))
        return packed + other[len(calls) - 1]

    local = [disttorch.tensor(a, requires_grad=True) for a in (shards[0], w, b)]
    running = disttorch.zeros(3, dtype=disttorch.float64), disttorch.ones(3,
                                                                          dtype=disttorch.float64)
    out = nn_norm.BatchNorm.apply(local[0], local[1], local[2], *running, True, 0.1, 1e-5,
                                  all_reduce)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy()[:2], rtol=1e-6)
    grads = disttorch.autograd.grad((out * disttorch.tensor(dy[:2])).sum(), local)
    assert calls == [7, 6]
    np.testing.assert_allclose(grads[0].numpy(), expected_grads[0].numpy()[:2], rtol=1e-6)
    np.testing.assert_allclose(running[0].numpy(), 0.1 * mean, rtol=1e-6)
    np.testing.assert_allclose(running[1].numpy(), 0.9 + 0.1 * x.var((0, 2), ddof=1), rtol=1e-6)
    # weight and bias gradients stay local to the shard
    normalized = (shards[0] - mean[:, None]) / np.sqrt(x.var((0, 2))[:, None] + 1e-5)
    np.testing.assert_allclose(grads[1].numpy(), (dy[:2] * normalized).sum((0, 2)), rtol=1e-6)
    np.testing.assert_allclose(grads[2].numpy(), dy[:2].sum((0, 2)), rtol=1e-6)


def test_channel_sums_are_exact_for_offset_data():
    """Statistics about a large offset keep their precision (no cancellation)."""
    x = (arr(16, 2, 8, dtype="float32") + 1000.0).astype(np.float32)
    total, total_sq, count = nn_norm.channel_sums(x)
    mean, var, _ = nn_norm.stats_from_sums(total, total_sq, count, 0.0)
    exact = x.astype(np.float64)
    np.testing.assert_allclose(mean, exact.mean((0, 2)), rtol=1e-6)
    np.testing.assert_allclose(var, exact.var((0, 2)), rtol=1e-4)


@pytest.mark.parametrize("fn", [
    lambda m, x, w: m.nn.functional.batch_norm(x, None, None, w, None, True),
    lambda m, x, w: m.nn.functional.layer_norm(x, (3,), w),
    lambda m, x, w: m.nn.functional.group_norm(x, 3, w),
])
def test_half_input_double_backward_keeps_dtypes(fn):
    x = disttorch.tensor(arr(4, 3, dtype="float16"), requires_grad=True)
    w = disttorch.tensor(arr(3, dtype="float32"), requires_grad=True)
    out = fn(disttorch, x, w)
    grads = disttorch.autograd.grad((out.float() ** 2).sum(), [x, w], create_graph=True)
    assert [g.dtype for g in grads] == [disttorch.float16, disttorch.float32]
    second = disttorch.autograd.grad(grads[0].float().sum() + grads[1].sum(), [x, w])
    assert [g.dtype for g in second] == [disttorch.float16, disttorch.float32]


def test_no_numpy_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        disttorch.nn.functional.batch_norm(disttorch.zeros(4, 3), None, None, training=True)
        disttorch.nn.functional.layer_norm(disttorch.zeros(4, 3), (3,))

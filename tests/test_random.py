"""Random numbers: Generator and seeding (reproducible streams), sampler outputs (dtype, shape,
grad_fn) against torch, statistical checks of the distributions, and torch's errors."""

import pickle

import numpy as np
import pytest
import torch
from oracle import check, check_error

import disttorch

# every sampler as fn(module, generator); the values differ from torch's, the rest must not
SAMPLERS = [
    lambda m, g: m.rand(3, 4, generator=g),
    lambda m, g: m.rand((2, 3), generator=g, dtype=m.float64),
    lambda m, g: m.rand(5, generator=g, dtype=m.float16),
    lambda m, g: m.rand(5, generator=g, requires_grad=True),
    lambda m, g: m.randn(5, generator=g),
    lambda m, g: m.randn(2, 2, generator=g, dtype=m.float64),
    lambda m, g: m.randint(0, 10, (20,), generator=g),
    lambda m, g: m.randint(5, (3,), generator=g),
    lambda m, g: m.randint(-3, 3, (2, 2), generator=g, dtype=m.int8),
    lambda m, g: m.randint(0, 5, (3,), generator=g, dtype=m.float32),
    lambda m, g: m.randint(low=2, high=5, size=(3,), generator=g),
    lambda m, g: m.randint(high=5, size=(3,), generator=g),
    lambda m, g: m.randperm(10, generator=g),
    lambda m, g: m.randperm(6, generator=g, dtype=m.float32),
    lambda m, g: m.normal(0.0, 1.0, (4,), generator=g),
    lambda m, g: m.normal(2, 3, size=(2, 3), generator=g, dtype=m.float64),
    lambda m, g: m.normal(m.zeros(3), 2.0, generator=g),
    lambda m, g: m.normal(m.zeros(3, dtype=m.float64), generator=g),
    lambda m, g: m.normal(1.0, m.ones(3), generator=g),
    lambda m, g: m.normal(m.zeros(2, 1), m.ones(3), generator=g),
    lambda m, g: m.normal(m.zeros(2, dtype=m.float64), m.ones(2), generator=g),
    lambda m, g: m.bernoulli(m.full((6,), 0.5), generator=g),
    lambda m, g: m.bernoulli(m.zeros(4, dtype=m.float64), 0.3, generator=g),
    lambda m, g: m.bernoulli(m.zeros(4, dtype=m.int64), p=0.3, generator=g),
    lambda m, g: m.full((6,), 0.5).bernoulli(generator=g),
    lambda m, g: m.multinomial(m.ones(5), 3, generator=g),
    lambda m, g: m.multinomial(m.ones(2, 5), 7, True, generator=g),
    lambda m, g: m.ones(2, 5, dtype=m.float64).multinomial(2, generator=g),
    lambda m, g: m.poisson(m.full((4,), 3.0), g),
    lambda m, g: m.rand_like(m.zeros(3, dtype=m.float64), generator=g),
    lambda m, g: m.randn_like(m.zeros(3), generator=g, requires_grad=True),
    lambda m, g: m.randint_like(m.zeros(3), 10, generator=g),
    lambda m, g: m.randint_like(m.zeros(3, dtype=m.int32), 3, 10, generator=g),
    lambda m, g: m.randint_like(m.zeros(3), low=3, high=5, generator=g),
    lambda m, g: m.zeros(5).uniform_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.float64).uniform_(-2, 3, generator=g),
    lambda m, g: m.zeros(5).normal_(1, 2, generator=g),
    lambda m, g: m.zeros(4, 3).t().uniform_(-1, 1, generator=g),
    lambda m, g: m.zeros(4, 3).t().normal_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.float16).normal_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.bfloat16).uniform_(generator=g).float(),
    lambda m, g: m.zeros(5).random_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.int64).random_(10, generator=g),
    lambda m, g: m.zeros(5, dtype=m.int16).random_(2, 9, generator=g),
    lambda m, g: m.zeros(5, dtype=m.uint8).random_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.bool).random_(generator=g),
    lambda m, g: m.zeros(5).bernoulli_(0.4, generator=g),
    lambda m, g: m.zeros(5, dtype=m.int64).bernoulli_(m.full((5,), 0.4), generator=g),
    lambda m, g: m.zeros(5).exponential_(2.0, generator=g),
    lambda m, g: m.zeros(5, dtype=m.int32).geometric_(0.3, generator=g),
    lambda m, g: m.zeros(5).cauchy_(generator=g),
    lambda m, g: m.zeros(5, dtype=m.float64).log_normal_(generator=g),
]


def _meta(t):
    return (str(t.dtype), tuple(t.shape), t.requires_grad, type(t.grad_fn).__name__)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_matches_torch_metadata(sampler):
    assert _meta(sampler(disttorch, None)) == _meta(sampler(torch, None))


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_sampler_reproducible(sampler):
    disttorch.manual_seed(123)
    first = sampler(disttorch, None).tolist()
    disttorch.manual_seed(123)
    assert sampler(disttorch, None).tolist() == first
    g = disttorch.Generator().manual_seed(123)
    state = disttorch.get_rng_state()
    from_generator = sampler(disttorch, g).tolist()
    assert disttorch.get_rng_state().tolist() == state.tolist(), "generator= used the global"
    assert sampler(disttorch, disttorch.Generator().manual_seed(123)).tolist() == from_generator


def test_streams_differ_across_seeds_and_draws():
    disttorch.manual_seed(0)
    a, b = disttorch.rand(8).tolist(), disttorch.rand(8).tolist()
    disttorch.manual_seed(1)
    assert a != b and disttorch.rand(8).tolist() != a


# ---------------------------------------------------------------- Generator API


def test_generator_api():
    g = disttorch.Generator()
    assert g.device == disttorch.device("cpu") and disttorch.Generator("cpu").device.type == "cpu"
    assert g.initial_seed() == torch.Generator().initial_seed() == 67280421310721
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert g.manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert g.manual_seed(-2 ** 63).initial_seed() == 2 ** 63
    assert g.manual_seed(np.int64(7)).initial_seed() == 7
    fresh = g.seed()
    assert 0 <= fresh < 2 ** 64 and g.initial_seed() == fresh
    state = g.get_state()
    assert state.dtype is disttorch.uint8 and state.dim() == 1
    first = disttorch.rand(4, generator=g).tolist()
    assert g.set_state(state) is g and disttorch.rand(4, generator=g).tolist() == first
    assert g.initial_seed() == fresh
    g.set_state(state)
    twin = g.clone_state()
    assert disttorch.rand(3, generator=twin).tolist() == disttorch.rand(3, generator=g).tolist()
    copy = pickle.loads(pickle.dumps(g))
    assert disttorch.randn(3, generator=copy).tolist() == disttorch.randn(3, generator=g).tolist()


def test_global_seed_functions():
    for m in (torch, disttorch):
        assert m.manual_seed(3) is m.default_generator
        assert m.initial_seed() == 3
        m.manual_seed(2.5)  # the module function converts with int()
        m.manual_seed("4")
        m.manual_seed(m.tensor(5))
        assert m.initial_seed() == 5
    fresh = disttorch.seed()
    assert disttorch.initial_seed() == fresh
    state = disttorch.get_rng_state()
    first = disttorch.randn(5).tolist()
    disttorch.set_rng_state(state)
    assert disttorch.randn(5).tolist() == first
    assert isinstance(disttorch.default_generator, disttorch.Generator)


@pytest.mark.parametrize("fn", [
    lambda m: m.Generator().manual_seed(2 ** 64),
    lambda m: m.Generator().manual_seed(-2 ** 63 - 1),
    lambda m: m.Generator().manual_seed(2.5),
    lambda m: m.Generator().manual_seed("a"),
    lambda m: m.Generator().manual_seed(m.tensor(3)),
    lambda m: m.manual_seed(2 ** 64),
    lambda m: m.Generator().set_state(m.Generator().get_state().float()),
    lambda m: m.Generator().set_state([1, 2]),
    lambda m: m.set_rng_state(m.get_rng_state().float()),
    lambda m: m.set_rng_state([1]),
])
def test_generator_errors(fn):
    check_error(fn, match="same")


def test_generator_argument_type():
    check_error(lambda m: m.rand(2, generator=3))
    check_error(lambda m: m.ones(2).uniform_(generator=3), match="same")


def test_set_state_size_error():
    check_error(lambda m: m.Generator().set_state(m.Generator().get_state()[:10]),
                match="Expected a CPUGeneratorImplState of size")


# ---------------------------------------------------------------- statistics

N = 200_000


def _draw(fn):
    disttorch.manual_seed(2024)
    return fn().numpy().astype(np.float64)


@pytest.mark.parametrize("fn,mean,std,low,high", [
    (lambda: disttorch.rand(N), 0.5, (1 / 12) ** 0.5, 0, 1),
    (lambda: disttorch.rand(N, dtype=disttorch.float64), 0.5, (1 / 12) ** 0.5, 0, 1),
    (lambda: disttorch.rand(N, dtype=disttorch.float16), 0.5, (1 / 12) ** 0.5, 0, 1),
    (lambda: disttorch.rand(N, dtype=disttorch.bfloat16).float(), 0.5, (1 / 12) ** 0.5, 0, 1),
    (lambda: disttorch.randn(N), 0.0, 1.0, None, None),
    (lambda: disttorch.normal(3.0, 2.0, (N,)), 3.0, 2.0, None, None),
    (lambda: disttorch.normal(disttorch.full((N,), -1.0), 0.5), -1.0, 0.5, None, None),
    (lambda: disttorch.normal(2.0, disttorch.full((N,), 3.0)), 2.0, 3.0, None, None),
    (lambda: disttorch.zeros(N).uniform_(-2, 6), 2.0, 8 / 12 ** 0.5, -2, 6),
    (lambda: disttorch.zeros(N).normal_(5, 0.1), 5.0, 0.1, None, None),
    (lambda: disttorch.zeros(2, N // 2).t().uniform_(1, 2), 1.5, 1 / 12 ** 0.5, 1, 2),
    (lambda: disttorch.zeros(2, N // 2).t().normal_(-1, 3), -1.0, 3.0, None, None),
    (lambda: disttorch.zeros(N, dtype=disttorch.float16).normal_(), 0.0, 1.0, None, None),
    (lambda: disttorch.randint(0, 10, (N,)), 4.5, (99 / 12) ** 0.5, 0, 9),
    (lambda: disttorch.randint(-5, 5, (N,), dtype=disttorch.int8), -0.5, (99 / 12) ** 0.5,
     -5, 4),
    (lambda: disttorch.zeros(N).random_(3, 7), 4.5, (15 / 12) ** 0.5, 3, 6),
    (lambda: disttorch.zeros(N, dtype=disttorch.uint8).random_(), 127.5, (65535 / 12) ** 0.5,
     0, 255),
    (lambda: disttorch.zeros(N).bernoulli_(0.3), 0.3, (0.21) ** 0.5, 0, 1),
    (lambda: disttorch.bernoulli(disttorch.full((N,), 0.8)), 0.8, 0.16 ** 0.5, 0, 1),
    (lambda: disttorch.zeros(N).exponential_(4.0), 0.25, 0.25, 0, None),
    (lambda: disttorch.zeros(N).geometric_(0.25), 4.0, (0.75 / 0.0625) ** 0.5, 1, None),
    (lambda: disttorch.poisson(disttorch.full((N,), 6.0)), 6.0, 6 ** 0.5, 0, None),
    (lambda: disttorch.zeros(N).log_normal_(0.0, 0.25), np.exp(0.25 ** 2 / 2),
     ((np.exp(0.0625) - 1) * np.exp(0.0625)) ** 0.5, 0, None),
])
def test_distribution_moments(fn, mean, std, low, high):
    x = _draw(fn)
    assert abs(x.mean() - mean) < 5 * std / N ** 0.5 + 1e-3
    assert abs(x.std() - std) < 0.02 * std + 1e-3
    if low is not None:
        assert x.min() >= low
    if high is not None:
        assert x.max() <= high


def test_uniform_never_reaches_upper_bound():
    for dt in (disttorch.float16, disttorch.bfloat16, disttorch.float32):
        assert disttorch.rand(N, dtype=dt).float().max().item() < 1.0
        assert disttorch.zeros(N, dtype=dt).uniform_(0, 0.001).float().max().item() < 0.001


def test_cauchy_median_and_quartiles():
    x = _draw(lambda: disttorch.zeros(N).cauchy_(1.0, 2.0))
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    assert abs(median - 1.0) < 0.05 and abs(q1 + 1.0) < 0.06 and abs(q3 - 3.0) < 0.06


def test_randint_hits_every_value():
    counts = np.bincount(_draw(lambda: disttorch.randint(3, 8, (N,))).astype(int) - 3)
    assert len(counts) == 5 and counts.min() > N / 5 * 0.95


def test_randperm_is_a_permutation():
    for n in (0, 1, 7, 1000):
        p = disttorch.randperm(n)
        assert sorted(p.tolist()) == list(range(n))
    assert sorted(disttorch.randperm(256, dtype=disttorch.uint8).tolist()) == list(range(256))
    disttorch.manual_seed(0)
    assert disttorch.randperm(50).tolist() != list(range(50))


@pytest.mark.parametrize("replacement", [True, False])
def test_multinomial_frequencies(replacement):
    probs = disttorch.tensor([[0.1, 0.2, 0.0, 0.7], [1.0, 1.0, 1.0, 1.0]])
    disttorch.manual_seed(5)
    if replacement:
        draws = disttorch.multinomial(probs, 40_000, replacement=True).numpy()
        for row, p in zip(draws, probs.numpy()):
            freq = np.bincount(row, minlength=4) / row.size
            assert np.allclose(freq, p / p.sum(), atol=0.01)
    else:
        first = np.array([disttorch.multinomial(probs, 2)[0].tolist()
                          for _ in range(4000)])
        assert np.all(first[:, 0] != first[:, 1]) and not np.any(first == 2)
        freq = np.bincount(first[:, 0], minlength=4) / len(first)
        assert np.allclose(freq, [0.1, 0.2, 0.0, 0.7], atol=0.03)


def test_multinomial_without_replacement_is_distinct():
    disttorch.manual_seed(0)
    for _ in range(20):
        row = disttorch.multinomial(disttorch.rand(10) + 0.01, 10).tolist()
        assert sorted(row) == list(range(10))
    check(lambda m: m.multinomial(m.tensor([0.0, 1, 0]), 1), grad=False)
    check(lambda m: m.multinomial(m.zeros(0, 3) + 1, 1), grad=False)


def test_bernoulli_extremes_and_normal_with_zero_std():
    check(lambda m: m.bernoulli(m.tensor([0.0, 1.0, 1.0, 0.0])), grad=False)
    check(lambda m: m.zeros(3).bernoulli_(1.0), grad=False)
    check(lambda m: m.normal(m.tensor([1.0, 2.0]), 0.0), grad=False)
    check(lambda m: m.poisson(m.zeros(3)), grad=False)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("fn", [
    lambda m: m.rand(2, dtype=m.int64),
    lambda m: m.rand(2, dtype=m.bool),
    lambda m: m.randn(2, dtype=m.int64),
    lambda m: m.rand(-1),
    lambda m: m.rand(2.5),
    lambda m: m.randn(2, 2.5),
    lambda m: m.rand(2, requires_grad=True, dtype=m.float64).add_(1),
    lambda m: m.randint(5, 3),
    lambda m: m.randint(5, 5, (3,)),
    lambda m: m.randint(5, 3, (3,)),
    lambda m: m.randint(0, 5, (3,), dtype=m.bool),
    lambda m: m.randint(0, 300, (3,), dtype=m.uint8),
    lambda m: m.randint(-1, 3, (3,), dtype=m.uint8),
    lambda m: m.randint(0, 2 ** 40, (3,), dtype=m.int32),
    lambda m: m.randint(2.5, 5.5, (3,)),
    lambda m: m.randint(0, 5, (3,), requires_grad=True),
    lambda m: m.randint(0, 5),
    lambda m: m.randint(5),
    lambda m: m.randperm(-1),
    lambda m: m.randperm(5, dtype=m.bool),
    lambda m: m.randperm(257, dtype=m.uint8),
    lambda m: m.randperm(2050, dtype=m.float16),
    lambda m: m.randperm(5, requires_grad=True),
    lambda m: m.randperm(2.5),
    lambda m: m.normal(0.0, 1.0),
    lambda m: m.normal(0.0, -1.0, (2,)),
    lambda m: m.normal(m.zeros(2), -1.0),
    lambda m: m.normal(m.zeros(2), -m.ones(2)),
    lambda m: m.normal(0.0, -m.ones(2)),
    lambda m: m.normal(m.zeros(2), m.ones(3)),
    lambda m: m.normal(m.zeros(4), m.ones(2, 2)),
    lambda m: m.normal(m.zeros(2, dtype=m.int64), 1.0),
    lambda m: m.normal(0.0, 1.0, (2,), dtype=m.int64),
    lambda m: m.normal(m.zeros(2), 1.0, (2,)),
    lambda m: m.multinomial(m.tensor([1.0, 2, 3]), 4),
    lambda m: m.multinomial(m.tensor([1.0, 2, 3]), 0),
    lambda m: m.multinomial(m.tensor([1.0, 2, 3]), -1),
    lambda m: m.multinomial(m.tensor([1, 2, 3]), 2),
    lambda m: m.multinomial(m.tensor(1.0), 1),
    lambda m: m.multinomial(m.ones(2, 2, 2), 1),
    lambda m: m.multinomial(m.tensor([1.0, -2, 3]), 2),
    lambda m: m.multinomial(m.tensor([1.0, float("nan"), 3]), 2),
    lambda m: m.multinomial(m.tensor([1.0, float("inf"), 3]), 2),
    lambda m: m.multinomial(m.tensor([0.0, 0, 0]), 2),
    lambda m: m.multinomial(m.tensor([[0.0, 0, 0], [1, 1, 1]]), 2),
    lambda m: m.multinomial(m.zeros(2, 0), 1),
    lambda m: m.bernoulli(m.tensor([0.0, 1, 1.5])),
    lambda m: m.bernoulli(m.tensor([0.0, 1, -0.5])),
    lambda m: m.bernoulli(m.tensor([0.0, float("nan")])),
    lambda m: m.bernoulli(m.tensor([0, 1])),
    lambda m: m.bernoulli(m.tensor([0.0, 1]), p=1.5),
    lambda m: m.poisson(m.tensor([0.0, -1, 2])),
    lambda m: m.poisson(m.tensor([0, 1, 2])),
    lambda m: m.rand_like(m.ones(2, dtype=m.int64)),
    lambda m: m.randn_like(m.ones(2, dtype=m.int64)),
    lambda m: m.randint_like(m.ones(2), 5, 3),
    lambda m: m.ones(2).normal_(0, -1),
    lambda m: m.ones(2, dtype=m.int64).normal_(),
    lambda m: m.ones(2).uniform_(2, 1),
    lambda m: m.ones(2, dtype=m.int64).uniform_(),
    lambda m: m.ones(2, dtype=m.int64).uniform_(2, 1),
    lambda m: m.ones(2).uniform_(0, float("inf")),
    lambda m: m.ones(2).exponential_(-1),
    lambda m: m.ones(2).exponential_(0),
    lambda m: m.ones(2, dtype=m.int64).exponential_(),
    lambda m: m.ones(2).geometric_(0),
    lambda m: m.ones(2).geometric_(1.5),
    lambda m: m.ones(2).cauchy_(0, -1),
    lambda m: m.ones(2, dtype=m.int64).cauchy_(),
    lambda m: m.ones(2).log_normal_(1, -2),
    lambda m: m.ones(2, dtype=m.int64).log_normal_(),
    lambda m: m.ones(2).bernoulli_(1.5),
    lambda m: m.ones(2).bernoulli_(m.ones(3)),
    lambda m: m.ones(2, dtype=m.bool).bernoulli_(m.tensor([0.5, 2.0])),
    lambda m: m.ones(2).bernoulli_(m.tensor([1, 0])),
    lambda m: m.ones(2).random_(5, 3),
    lambda m: m.ones(2).random_(-3),
    lambda m: m.ones(2, dtype=m.uint8).random_(-3, 2),
    lambda m: m.ones(2, dtype=m.uint8).random_(0, 300),
    lambda m: m.ones(2, dtype=m.bool).random_(0, 5),
    lambda m: m.ones(2).random_(1.5, 3.5),
    lambda m: m.ones(2).geometric_(0.5, generator=5),
    lambda m: m.ones(2, requires_grad=True).uniform_(),
    lambda m: m.ones(2, requires_grad=True).normal_(),
    lambda m: m.ones(2, requires_grad=True).bernoulli_(),
])
def test_random_errors(fn):
    check_error(fn, match="same")


# ---------------------------------------------------------------- autograd


@pytest.mark.parametrize("fn", [
    lambda m, x: m.normal(x, 1.0),
    lambda m, x: m.normal(1.0, x),
    lambda m, x: m.normal(x, x * 2),
    lambda m, x: m.normal(x.view(2, 1) if x.dim() == 1 else x, m.ones(3)),
    lambda m, x: m.bernoulli(x * 0.1),
    lambda m, x: m.poisson(x),
    lambda m, x: (x * 2).uniform_(),
    lambda m, x: (x * 2).normal_(),
    lambda m, x: (x * 2).random_(),
    lambda m, x: (x * 2).random_(5),
    lambda m, x: (x * 2).random_(1, 5),
    lambda m, x: (x * 2).bernoulli_(),
    lambda m, x: (x * 2).bernoulli_(x * 0.1),
    lambda m, x: m.zeros(2).bernoulli_(x * 0.1),
    lambda m, x: (x * 2).exponential_(),
    lambda m, x: (x * 2).geometric_(0.5),
    lambda m, x: (x * 2).cauchy_(),
    lambda m, x: (x * 2).log_normal_(),
])
def test_random_ops_have_zero_gradients(fn):
    names, grads = [], []
    for m in (torch, disttorch):
        x = m.ones(2, requires_grad=True)
        out = fn(m, x)
        names.append(type(out.grad_fn).__name__)
        out.sum().backward()
        grads.append(None if x.grad is None else x.grad.tolist())
    assert names[0] == names[1]
    assert grads[0] == grads[1]


def test_init_pattern_under_no_grad():
    w = disttorch.empty(3, 4, requires_grad=True)
    with disttorch.no_grad():
        w.uniform_(-0.1, 0.1)
        w.normal_(0, 0.02)
    assert w.is_leaf and w.requires_grad and w._version_counter == 2
    assert abs(w.detach().numpy()).max() < 0.2

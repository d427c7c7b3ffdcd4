"""RNN / LSTM / GRU and their cells against torch: outputs, final states, gradients wrt inputs,
initial states and every parameter, parameter names and shapes, repr, node names, errors;
finite-difference checks in float64 and the refusal of double backward through fused layers.

torch's module is built first and its state_dict copied into disttorch's, so both compute
with the same weights.
"""

import itertools
import warnings

import numpy as np
import pytest
import torch
from oracle import arr, assert_same, check, check_error, gradcheck_op

import disttorch

RNG = np.random.default_rng(7)
T, N, I, H = 4, 3, 5, 6  # sequence length, batch, input size, hidden size


def twin(name, *args, dtype="float64", **kwargs):
    """The torch module and a disttorch one holding the same weights."""
    t_mod = getattr(torch.nn, name)(*args, **kwargs).to(getattr(torch, dtype))
    d_mod = getattr(disttorch.nn, name)(*args, **kwargs).to(getattr(disttorch, dtype))
    state = {k: disttorch.tensor(v.detach().numpy()) for k, v in t_mod.state_dict().items()}
    result = d_mod.load_state_dict(state)
    assert not result.missing_keys and not result.unexpected_keys
    return t_mod, d_mod


def leaves(module, values):
    """Tensors (requiring grad) of `module` from NumPy arrays, nested as `values`."""
    if values is None:
        return None
    if isinstance(values, tuple):
        return tuple(leaves(module, v) for v in values)
    return module.tensor(values.copy(), requires_grad=True)


def flat(value):
    if isinstance(value, (tuple, list)):
        return [x for v in value for x in flat(v)]
    return [] if value is None else [value]


def compare(t_mod, d_mod, x, hx=None, rtol=1e-7, atol=1e-9):
    """Run both modules on x (and hx); compare the outputs, then the gradients of a random
    projection of them wrt x, the initial states and every parameter."""
    t_in, d_in = leaves(torch, x), leaves(disttorch, x)
    t_hx, d_hx = leaves(torch, hx), leaves(disttorch, hx)
    args_t = (t_in,) if hx is None else (t_in, t_hx)
    args_d = (d_in,) if hx is None else (d_in, d_hx)
    expected, got = t_mod(*args_t), d_mod(*args_d)
    assert_same(got, expected, rtol, atol)
    t_outs, d_outs = flat(expected), flat(got)
    projections = [RNG.standard_normal(tuple(o.shape)) for o in t_outs]
    t_loss = sum((o * torch.tensor(p, dtype=o.dtype)).sum() for o, p in zip(t_outs, projections))
    d_loss = sum((o * disttorch.tensor(p, dtype=o.dtype)).sum()
                 for o, p in zip(d_outs, projections))
    t_wrt = [t_in, *flat(t_hx), *t_mod.parameters()]
    d_wrt = [d_in, *flat(d_hx), *d_mod.parameters()]
    t_grads = torch.autograd.grad(t_loss, t_wrt)
    d_grads = disttorch.autograd.grad(d_loss, d_wrt)
    names = ["input", *[f"hx{i}" for i in range(len(flat(t_hx)))],
             *[n for n, _ in t_mod.named_parameters()]]
    for name, g, e in zip(names, d_grads, t_grads):
        assert_same(g, e, rtol * 10, atol * 10, f"grad of {name}")
    return got


def sequence(batch_first, batched=True, size=I, dtype="float64"):
    shape = ((N, T) if batch_first else (T, N)) if batched else (T,)
    return arr(*shape, size, dtype=dtype)


def initial_state(name, layers, directions, batched=True, dtype="float64", proj=0):
    batch = (N,) if batched else ()
    h = arr(layers * directions, *batch, proj or H, dtype=dtype)
    if name == "LSTM":
        return h, arr(layers * directions, *batch, H, dtype=dtype)
    return h


MODES = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
GRID = list(itertools.product(range(len(MODES)), (1, 2), (False, True), (False, True),
                              (False, True), (True, False)))


@pytest.mark.parametrize("mode,layers,bidirectional,batch_first,with_state,bias", GRID)
def test_sequence_module_matches_torch(mode, layers, bidirectional, batch_first, with_state,
                                       bias):
    name, extra = MODES[mode]
    t_mod, d_mod = twin(name, I, H, layers, bias=bias, batch_first=batch_first,
                        bidirectional=bidirectional, **extra)
    hx = initial_state(name, layers, 2 if bidirectional else 1) if with_state else None
    compare(t_mod, d_mod, sequence(batch_first), hx)


@pytest.mark.parametrize("name,extra", MODES)
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(name, extra, with_state, batch_first):
    t_mod, d_mod = twin(name, I, H, 2, bidirectional=True, batch_first=batch_first, **extra)
    hx = initial_state(name, 2, 2, batched=False) if with_state else None
    compare(t_mod, d_mod, sequence(batch_first, batched=False), hx)


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True},
                                    {"bias": False, "batch_first": True}])
@pytest.mark.parametrize("name,extra", MODES)
def test_float32_matches_torch(name, extra, kwargs):
    t_mod, d_mod = twin(name, I, H, dtype="float32", **extra, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx = initial_state(name, layers, 1, dtype="float32")
    x = sequence(kwargs.get("batch_first", False), dtype="float32")
    compare(t_mod, d_mod, x, hx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"proj_size": 3}, {"proj_size": 2, "num_layers": 2,
                                                        "bidirectional": True, "bias": False}])
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_projections(kwargs, with_state):
    t_mod, d_mod = twin("LSTM", I, H, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx = initial_state("LSTM", layers, 1, proj=kwargs["proj_size"]) if with_state else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch: projections are not supported with oneDNN
        compare(t_mod, d_mod, sequence(False), hx)


def test_empty_batch():
    t_mod, d_mod = twin("LSTM", I, H)
    x = np.zeros((T, 0, I))
    assert_same(d_mod(disttorch.tensor(x)), t_mod(torch.tensor(x)))


# ---------------------------------------------------------------- dropout, eval and train


@pytest.mark.parametrize("name,extra", MODES)
def test_dropout_is_off_in_eval_mode(name, extra):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod, d_mod = twin(name, I, H, 3, dropout=0.5, **extra)
    t_mod.eval()
    d_mod.eval()
    compare(t_mod, d_mod, sequence(False))


def test_dropout_of_one_zeroes_the_next_layers_input():
    t_mod, d_mod = twin("GRU", I, H, 2, dropout=1.0)
    compare(t_mod, d_mod, sequence(False))


def test_training_dropout_statistics():
    """Two relu layers passing the input through: the output is dropout(x) exactly."""
    size, p = 64, 0.3
    rnn = disttorch.nn.RNN(size, size, 2, nonlinearity="relu", bias=False, dropout=p)
    with disttorch.no_grad():
        for name, param in rnn.named_parameters():
            param.copy_(disttorch.eye(size) if "ih" in name else disttorch.zeros(size, size))
    x = disttorch.tensor(RNG.uniform(0.5, 1.5, (20, 50, size)), dtype=disttorch.float32,
                         requires_grad=True)
    out, _ = rnn(x)
    kept = out.detach().numpy() != 0
    assert abs(1 - kept.mean() - p) < 0.02
    np.testing.assert_allclose(out.detach().numpy()[kept], x.detach().numpy()[kept] / (1 - p),
                               rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-6)
    again, _ = rnn(x)
    assert (again.detach().numpy() != 0).mean() != kept.mean() or not np.array_equal(
        again.detach().numpy() != 0, kept)


# ---------------------------------------------------------------- the functional forms


def _params(layers, directions, gates, bias, input_size=I, hidden=H):
    params = []
    for layer in range(layers):
        for _ in range(directions):
            size = input_size if layer == 0 else hidden * directions
            params += [arr(gates * hidden, size), arr(gates * hidden, hidden)]
            if bias:
                params += [arr(gates * hidden), arr(gates * hidden)]
    return params


FUNCTIONAL = [("lstm", 4), ("gru", 3), ("rnn_tanh", 1), ("rnn_relu", 1)]


@pytest.mark.parametrize("fn,gates", FUNCTIONAL)
@pytest.mark.parametrize("layers,bidirectional,bias", [(1, False, True), (2, True, False)])
def test_functional_matches_torch(fn, gates, layers, bidirectional, bias):
    directions = 2 if bidirectional else 1
    params = _params(layers, directions, gates, bias)
    h = arr(layers * directions, N, H)
    hx = [h, arr(layers * directions, N, H)] if fn == "lstm" else [h]

    def run(m, x, *rest):
        state = tuple(rest[:len(hx)]) if fn == "lstm" else rest[0]
        return getattr(m, fn)(x, state, list(rest[len(hx):]), bias, layers, 0.0, False,
                              bidirectional, False)

    check(run, arr(T, N, I), *hx, *params, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("fn,gates", FUNCTIONAL)
def test_gradcheck_sequence(fn, gates):
    params = _params(2, 2, gates, True, input_size=2, hidden=2)
    hx = [arr(4, 2, 2), arr(4, 2, 2)] if fn == "lstm" else [arr(4, 2, 2)]

    def run(m, x, *rest):
        state = tuple(rest[:len(hx)]) if fn == "lstm" else rest[0]
        return getattr(m, fn)(x, state, list(rest[len(hx):]), True, 2, 0.0, False, True,
                              False)

    gradcheck_op(run, arr(3, 2, 2), *hx, *params)


def test_gradcheck_lstm_projections():
    w = [arr(12, 2), arr(12, 2), arr(12), arr(12), arr(2, 3)]
    gradcheck_op(lambda m, x, h, c, *p: m.lstm(x, (h, c), list(p), True, 1, 0.0, False, False,
                                               False), arr(3, 2, 2), arr(1, 2, 2),
                 arr(1, 2, 3), *w)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_double_backward_raises_clearly(name):
    model = getattr(disttorch.nn, name)(3, 4).double()
    x = disttorch.randn(5, 2, 3, dtype=disttorch.float64, requires_grad=True)
    out = model(x)[0]
    (plain,) = disttorch.autograd.grad(out.pow(2).sum(), x, retain_graph=True)
    (grad,) = disttorch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
    np.testing.assert_array_equal(grad.detach().numpy(), plain.numpy())
    assert grad.requires_grad
    with pytest.raises(RuntimeError, match=f"double backward through disttorch's fused {name}"):
        grad.sum().backward()


@pytest.mark.parametrize("name,extra", MODES)
@pytest.mark.parametrize("wrt", ["input", "state"])
def test_gradients_with_frozen_weights(name, extra, wrt):
    t_mod, d_mod = twin(name, I, H, 2, bidirectional=True, **extra)
    t_mod.requires_grad_(False)
    d_mod.requires_grad_(False)
    hx = initial_state(name, 2, 2)

    def run(m, model, x, *state):
        if wrt == "input":
            x.requires_grad_(True)
        else:
            for s in state:
                s.requires_grad_(True)
        out = model(x, state if name == "LSTM" else state[0])
        leaves = [x] if wrt == "input" else list(state)
        loss = sum((o * o).sum() for o in flat(out))
        return m.autograd.grad(loss, leaves)

    x = sequence(False)
    t_state = [torch.tensor(h) for h in flat(hx)]
    d_state = [disttorch.tensor(h) for h in flat(hx)]
    assert_same(run(disttorch, d_mod, disttorch.tensor(x), *d_state),
                run(torch, t_mod, torch.tensor(x), *t_state), 1e-7, 1e-9)


def test_weight_modified_in_place_before_backward_raises():
    def run(m):
        model = m.nn.GRU(3, 4)
        out, _ = model(m.ones(2, 1, 3))
        with m.no_grad():
            model.weight_hh_l0.mul_(2)
        out.sum().backward()

    check_error(run, match="modified by an inplace operation")


def test_second_backward_without_retain_graph_raises():
    model = disttorch.nn.LSTM(3, 4)
    out, _ = model(disttorch.randn(5, 2, 3))
    out.sum().backward(retain_graph=True)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.sum().backward()


# ---------------------------------------------------------------- cells


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
         ("GRUCell", {})]


@pytest.mark.parametrize("name,extra", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_matches_torch(name, extra, batched, with_state, bias):
    t_mod, d_mod = twin(name, I, H, bias=bias, **extra)
    x = arr(N, I) if batched else arr(I)
    hx = None
    if with_state:
        hx = arr(N, H) if batched else arr(H)
        if name == "LSTMCell":
            hx = (hx, arr(*hx.shape))
    got = compare(t_mod, d_mod, x, hx)
    expected = t_mod(torch.tensor(x), leaves(torch, hx))
    for g, e in zip(flat(got), flat(expected)):
        assert g.grad_fn.name() == e.grad_fn.name()


@pytest.mark.parametrize("fn", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
def test_gradcheck_cells(fn):
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(fn, 1)
    hx = [arr(2, 3), arr(2, 3)] if fn == "lstm_cell" else [arr(2, 3)]

    def run(m, x, *rest):
        state = tuple(rest[:len(hx)]) if fn == "lstm_cell" else rest[0]
        return getattr(m, fn)(x, state, *rest[len(hx):])

    gradcheck_op(run, arr(2, 4), *hx, arr(gates * 3, 4), arr(gates * 3, 3), arr(gates * 3),
                 arr(gates * 3), gradgrad=True)


# ---------------------------------------------------------------- structure, repr, names


STRUCTURES = [
    ("RNN", (4, 5), {}), ("RNN", (4, 5, 2), {"nonlinearity": "relu", "bias": False}),
    ("RNN", (4, 5, 3, "relu", True, True), {}),
    ("LSTM", (4, 5), {}), ("LSTM", (4, 5, 2), {"bidirectional": True, "batch_first": True}),
    ("LSTM", (4, 5, 2, False, True, 0.5, True), {"proj_size": 2}),
    ("GRU", (4, 5), {"num_layers": 3, "dropout": 0.25}), ("GRU", (4, 5, 1, False), {}),
    ("RNNCell", (4, 5), {}), ("RNNCell", (4, 5, False, "relu"), {}),
    ("LSTMCell", (4, 5), {}), ("LSTMCell", (4, 5, False), {}), ("GRUCell", (4, 5), {}),
]


@pytest.mark.parametrize("name,args,kwargs", STRUCTURES)
def test_parameters_and_repr_match_torch(name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod = getattr(torch.nn, name)(*args, **kwargs)
        d_mod = getattr(disttorch.nn, name)(*args, **kwargs)
    assert repr(d_mod) == repr(t_mod)
    assert [(n, tuple(p.shape)) for n, p in d_mod.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t_mod.named_parameters()]
    assert list(d_mod.state_dict()) == list(t_mod.state_dict())
    bound = 1 / np.sqrt(args[1])
    values = np.concatenate([p.detach().numpy().ravel() for p in d_mod.parameters()])
    assert values.min() >= -bound and values.max() <= bound and values.std() > bound / 2
    assert all(p.dtype == disttorch.float32 for p in d_mod.parameters())
    if hasattr(t_mod, "all_weights"):
        assert [[tuple(p.shape) for p in ws] for ws in d_mod.all_weights] == [
            [tuple(p.shape) for p in ws] for ws in t_mod.all_weights]


@pytest.mark.parametrize("name,kwargs,dtype", [
    ("LSTM", {}, "float32"), ("LSTM", {}, "float64"), ("LSTM", {"proj_size": 2}, "float32"),
    ("LSTM", {"batch_first": True}, "float32"), ("LSTM", {"bidirectional": True}, "float32"),
    ("GRU", {"num_layers": 2}, "float32"), ("RNN", {}, "float64")])
def test_node_names_match_torch(name, kwargs, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod, d_mod = twin(name, I, H, dtype=dtype, **kwargs)
        x = sequence(kwargs.get("batch_first", False), dtype=dtype)
        for batched_x in (x, x[0]):
            got = flat(d_mod(disttorch.tensor(batched_x)))
            expected = flat(t_mod(torch.tensor(batched_x)))
            assert [g.grad_fn.name() for g in got] == [e.grad_fn.name() for e in expected]


def test_dtype_and_device_arguments():
    model = disttorch.nn.GRU(3, 4, dtype=disttorch.float64, device="cpu")
    assert all(p.dtype == disttorch.float64 for p in model.parameters())
    cell = disttorch.nn.LSTMCell(3, 4, dtype=disttorch.float64)
    assert cell.weight_ih.dtype == disttorch.float64


def test_dropout_warning_matches_torch():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, "
                      "but got dropout=0.5 and num_layers=1"):
        disttorch.nn.LSTM(3, 4, dropout=0.5)


# ---------------------------------------------------------------- errors


def _seq(m, shape):
    return m.zeros(*shape)


ERRORS = [
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 6))),
    lambda m: m.nn.GRU(4, 5, batch_first=True)(_seq(m, (2, 3, 3))),
    lambda m: m.nn.RNN(4, 5)(_seq(m, (3, 2, 4)), _seq(m, (2, 2, 5))),
    lambda m: m.nn.RNN(4, 5)(_seq(m, (3, 2, 4)), _seq(m, (1, 3, 5))),
    lambda m: m.nn.GRU(4, 5, 2)(_seq(m, (3, 2, 4)), _seq(m, (1, 2, 5))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 4)), (_seq(m, (1, 2, 5)), _seq(m, (2, 2, 5)))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 4)), (_seq(m, (1, 2, 4)), _seq(m, (1, 2, 5)))),
    lambda m: m.nn.LSTM(4, 5, proj_size=2)(_seq(m, (3, 2, 4)),
                                           (_seq(m, (1, 2, 5)), _seq(m, (1, 2, 5)))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 4)), (_seq(m, (2, 5)), _seq(m, (1, 2, 5)))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 4)), (_seq(m, (1, 1, 5)), _seq(m, (1, 1, 5)))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 4)), _seq(m, (1, 2, 5))),
    lambda m: m.nn.RNN(4, 5)(_seq(m, (3, 4)), _seq(m, (1, 1, 5))),
    lambda m: m.nn.GRU(4, 5)(_seq(m, (3, 2, 4)), _seq(m, (2, 5))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (2, 3, 2, 4))),
    lambda m: m.nn.GRU(4, 5)(_seq(m, (4,))),
    lambda m: m.nn.RNN(4, 5)(_seq(m, (4,))),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (3, 2, 4)).double()),
    lambda m: m.nn.LSTM(4, 5)(_seq(m, (0, 2, 4))),
    lambda m: m.nn.LSTM(4, 5, proj_size=5),
    lambda m: m.nn.LSTM(4, 5, proj_size=-1),
    lambda m: m.nn.GRU(4, 5, proj_size=2),
    lambda m: m.nn.RNN(4, 5, proj_size=2),
    lambda m: m.nn.LSTM(4, 5, dropout=1.5),
    lambda m: m.nn.LSTM(4, 5, dropout=True),
    lambda m: m.nn.LSTM(4.0, 5),
    lambda m: m.nn.LSTM(4, 5.0),
    lambda m: m.nn.LSTM(0, 5),
    lambda m: m.nn.LSTM(4, 0),
    lambda m: m.nn.LSTM(4, 5, 0),
    lambda m: m.nn.LSTM(4, 5, bias=1),
    lambda m: m.nn.LSTM(4, 5, batch_first=None),
    lambda m: m.nn.RNN(4, 5, nonlinearity="sigmoid"),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (3, 6))),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (3, 4)), (_seq(m, (2, 5)), _seq(m, (3, 5)))),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (3, 4)), (_seq(m, (3, 5)), _seq(m, (3, 6)))),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (3, 4)), _seq(m, (3, 5))),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (3, 4)), (_seq(m, (3, 5)), _seq(m, (1, 3, 5)))),
    lambda m: m.nn.LSTMCell(4, 5)(_seq(m, (1, 3, 4))),
    lambda m: m.nn.GRUCell(4, 5)(_seq(m, (3, 4)), _seq(m, (2, 5))),
    lambda m: m.nn.GRUCell(4, 5)(_seq(m, (3, 4)), _seq(m, (3, 7))),
    lambda m: m.nn.GRUCell(4, 5)(_seq(m, (3, 4)), _seq(m, (1, 3, 5))),
    lambda m: m.nn.GRUCell(4, 5)(_seq(m, (2, 3, 4))),
    lambda m: m.nn.RNNCell(4, 5)(_seq(m, (3, 4)).double()),
    lambda m: m.nn.RNNCell(4, 5)(_seq(m, (3, 4)), _seq(m, (3, 5)).double()),
    lambda m: m.nn.RNNCell(4, 5)(_seq(m, (4,)), _seq(m, (3, 5))),
    lambda m: m.nn.RNNCell(4, 5)(_seq(m, (2, 3, 4))),
    lambda m: m.lstm(_seq(m, (3, 2, 4)), (_seq(m, (1, 2, 5)),), [], True, 1, 0.0, False,
                     False, False),
    lambda m: m.lstm_cell(_seq(m, (3, 4)), (_seq(m, (3, 5)),), _seq(m, (20, 4)),
                          _seq(m, (20, 5))),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors_match_torch(index):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_error(ERRORS[index], match="same")


def test_nonlinearity_changed_after_construction():
    def run(m):
        cell = m.nn.RNNCell(4, 5)
        cell.nonlinearity = "gelu"
        return cell(m.zeros(2, 4))

    check_error(run, match="same")

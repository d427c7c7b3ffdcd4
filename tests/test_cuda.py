"""disttorch.cuda and tensors on GPUs, checked against torch (on CUDA where torch has it).

The first group runs everywhere and pins what a machine without CUDA sees. The GPU tests
are skipped only where no GPU works; they run each op on disttorch's CPU and CUDA and on
torch, comparing values, dtypes, devices and gradients.
"""

import io
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from oracle import arr

import disttorch
import disttorch.cuda

CUDA = disttorch.cuda.is_available()
TORCH_DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
gpu = pytest.mark.skipif(not CUDA, reason="needs a CUDA device")
no_gpu = pytest.mark.skipif(CUDA, reason="what a machine without CUDA sees")
NOT_COMPILED = "Torch not compiled with CUDA enabled"


def test_import_does_not_import_cupy():
    code = "import disttorch, disttorch.cuda, sys; print('cupy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- without CUDA

# rows run on torch's CPU wheel and on disttorch: same result or same error
CPU_ROWS = [
    ("is_available", lambda c: c.is_available()),
    ("device_count", lambda c: c.device_count()),
    ("is_initialized", lambda c: c.is_initialized()),
    ("current_device", lambda c: c.current_device()),
    ("set_device_negative", lambda c: c.set_device(-1)),
    ("set_device_cpu", lambda c: c.set_device("cpu")),
    ("set_device_no_index", lambda c: c.set_device("cuda")),
    ("set_device_none", lambda c: c.set_device(None)),
    ("synchronize", lambda c: c.synchronize()),
    ("manual_seed", lambda c: c.manual_seed(1)),
    ("manual_seed_all", lambda c: c.manual_seed_all(1)),
    ("seed", lambda c: c.seed()),
    ("seed_all", lambda c: c.seed_all()),
    ("initial_seed", lambda c: c.initial_seed()),
    ("get_rng_state", lambda c: c.get_rng_state()),
    ("get_rng_state_all", lambda c: c.get_rng_state_all()),
    ("memory_allocated", lambda c: c.memory_allocated()),
    ("memory_allocated_cpu", lambda c: c.memory_allocated("cpu")),
    ("max_memory_allocated", lambda c: c.max_memory_allocated()),
    ("memory_reserved", lambda c: c.memory_reserved()),
    ("max_memory_reserved", lambda c: c.max_memory_reserved()),
    ("reset_peak_cpu", lambda c: c.reset_peak_memory_stats("cpu")),
    ("empty_cache", lambda c: c.empty_cache()),
    ("get_device_name", lambda c: c.get_device_name()),
    ("get_device_properties", lambda c: c.get_device_properties(0)),
    ("get_device_capability", lambda c: c.get_device_capability()),
    ("mem_get_info", lambda c: c.mem_get_info()),
    ("init", lambda c: c.init()),
    ("event", lambda c: c.Event(enable_timing=True)),
    ("stream", lambda c: c.Stream()),
    ("current_stream", lambda c: c.current_stream()),
    ("default_stream", lambda c: c.default_stream()),
    ("device_enter", lambda c: c.device(0).__enter__()),
    ("device_negative", lambda c: c.device(-1).__enter__()),
    ("device_cpu", lambda c: c.device("cpu")),
    ("stream_none", lambda c: c.stream(None).__enter__()),
]


def _outcome(fn, module):
    try:
        return "value", fn(module)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e)


@no_gpu
@pytest.mark.skipif(torch.cuda.is_available(), reason="compares with torch's CPU wheel")
@pytest.mark.parametrize("name,fn", CPU_ROWS, ids=[r[0] for r in CPU_ROWS])
def test_without_cuda_matches_torch(name, fn):
    assert _outcome(fn, disttorch.cuda) == _outcome(fn, torch.cuda)


# torch's CPU wheel fails here with an AttributeError about its own internals; disttorch
# raises the error the rest of torch.cuda raises without CUDA
@no_gpu
@pytest.mark.parametrize("fn", [lambda c: c.set_device(0), lambda c: c.set_device("cuda:1"),
                                lambda c: c.reset_peak_memory_stats()])
def test_without_cuda_needing_a_device_raises(fn):
    with pytest.raises(AssertionError, match=NOT_COMPILED):
        fn(disttorch.cuda)


@no_gpu
@pytest.mark.parametrize("fn", [
    lambda m: m.zeros(2, device="cuda"), lambda m: m.zeros(2).cuda(),
    lambda m: m.zeros(2).to("cuda:0"), lambda m: m.nn.Linear(2, 2).cuda(),
])
def test_without_cuda_tensors_cannot_move(fn):
    with pytest.raises(AssertionError, match=NOT_COMPILED):
        fn(disttorch)


def test_default_generators_and_device_objects():
    assert len(disttorch.cuda.default_generators) == disttorch.cuda.device_count()
    assert disttorch.device("cuda") == disttorch.device("cuda")
    assert str(disttorch.device("cuda", 0)) == "cuda:0"
    with disttorch.cuda.device(-1), disttorch.cuda.device(None):
        pass
    with pytest.raises(AttributeError):
        disttorch.cuda.no_such_function  # noqa: B018


# ---------------------------------------------------------------- device management on a GPU


@gpu
def test_device_queries():
    cuda = disttorch.cuda
    assert cuda.device_count() >= 1 and cuda.current_device() == 0
    props = cuda.get_device_properties(0)
    assert props.total_memory > 0 and props.multi_processor_count > 0
    assert cuda.get_device_name() == props.name
    assert cuda.get_device_capability(0) == (props.major, props.minor)
    free, total = cuda.mem_get_info()
    assert 0 < free <= total
    if torch.cuda.is_available():
        theirs = torch.cuda.get_device_properties(0)
        for field in ("name", "major", "minor", "total_memory", "multi_processor_count"):
            assert getattr(props, field) == getattr(theirs, field), field
        assert cuda.device_count() == torch.cuda.device_count()


@gpu
def test_set_device_and_device_context():
    cuda = disttorch.cuda
    cuda.set_device(0)
    cuda.set_device("cuda:0")
    cuda.set_device(disttorch.device("cuda", 0))
    with cuda.device(0):
        assert cuda.current_device() == 0
    with cuda.device_of(disttorch.ones(1, device="cuda")):
        assert cuda.current_device() == 0
    cuda.init()
    assert cuda.is_initialized()


@gpu
def test_bad_device_indices_raise_torchs_errors():
    bad = disttorch.cuda.device_count()
    with pytest.raises(AssertionError, match="Invalid device id"):
        disttorch.cuda.get_device_properties(bad)
    with pytest.raises(AssertionError, match="Invalid device id"):
        disttorch.cuda.get_device_name(-1)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        disttorch.cuda.set_device(bad)
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        disttorch.cuda.set_device("cpu")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        disttorch.zeros(2, device=f"cuda:{bad}")


@gpu
def test_events_time_work_and_streams_order_it():
    cuda = disttorch.cuda
    x = disttorch.randn(512, 512, device="cuda")
    start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
    assert start.query() and "uninitialized" in repr(start)
    start.record()
    y = x @ x
    end.record()
    end.synchronize()
    assert end.query() and start.elapsed_time(end) > 0
    with pytest.raises(RuntimeError, match="enable_timing=True"):
        cuda.Event().elapsed_time(end)
    with pytest.raises(RuntimeError, match="must be recorded"):
        cuda.Event(enable_timing=True).elapsed_time(end)
    side = cuda.Stream()
    assert cuda.current_stream() == cuda.default_stream()
    assert cuda.default_stream().cuda_stream == 0
    side.wait_stream(cuda.current_stream())
    with cuda.stream(side):
        assert cuda.current_stream() == side
        z = y + 1
    assert cuda.current_stream() == cuda.default_stream()
    side.synchronize()
    cuda.synchronize()
    assert side.query()
    np.testing.assert_allclose(z.cpu().numpy(), y.cpu().numpy() + 1)


@gpu
def test_cuda_seeds_are_their_own():
    cuda = disttorch.cuda
    cuda.manual_seed(7)
    assert cuda.initial_seed() == 7
    state = cuda.get_rng_state()
    assert state.device.type == "cpu" and state.dtype == disttorch.uint8
    cuda.seed()
    assert cuda.initial_seed() != 7
    cuda.set_rng_state(state)
    assert cuda.initial_seed() == 7
    cuda.manual_seed_all(3)
    assert all(g.initial_seed() == 3 for g in cuda.default_generators)
    assert len(cuda.get_rng_state_all()) == cuda.device_count()


@gpu
def test_memory_statistics_follow_allocations():
    cuda = disttorch.cuda
    cuda.synchronize()
    before = cuda.memory_allocated()
    x = disttorch.zeros(1 << 20, device="cuda")  # 4 MiB
    after = cuda.memory_allocated()
    assert after >= before + 4 * 2 ** 20
    assert cuda.max_memory_allocated() >= after
    assert cuda.memory_reserved() >= after and cuda.max_memory_reserved() >= after
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == after
    y = disttorch.ones(1 << 21, device="cuda")  # 8 MiB more, then freed
    del y
    assert cuda.memory_allocated() == after
    assert cuda.max_memory_allocated() >= after + 8 * 2 ** 20
    del x
    assert cuda.memory_allocated() == before
    cuda.empty_cache()
    assert cuda.memory_reserved() <= cuda.max_memory_reserved()
    with pytest.raises(ValueError, match="Expected a cuda device"):
        cuda.memory_allocated("cpu")


# ---------------------------------------------------------------- tensors on a GPU


@gpu
def test_tensor_device_semantics():
    cuda0 = disttorch.device("cuda", 0)
    x = disttorch.tensor([1.0, 2.0], device="cuda")
    assert x.device == cuda0 and x.is_cuda and x.get_device() == 0
    assert repr(x) == "tensor([1., 2.], device='cuda:0')"
    for moved in (disttorch.tensor([1.0, 2.0]).cuda(), disttorch.tensor([1.0, 2.0]).to("cuda"),
                  disttorch.tensor([1.0, 2.0]).to(cuda0), disttorch.tensor([1.0, 2.0]).cuda(0)):
        assert moved.device == cuda0
    assert x.to("cuda") is x and x.cuda() is x
    back = x.cpu()
    assert back.device.type == "cpu" and back.tolist() == [1.0, 2.0]
    assert x.sum().item() == 3.0 and x.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        x.numpy()
    factories = [
        disttorch.zeros(2, 3, device="cuda"), disttorch.ones(2, device="cuda:0"),
        disttorch.full((2,), 3.0, device=cuda0), disttorch.arange(5, device="cuda"),
        disttorch.linspace(0, 1, 4, device="cuda"), disttorch.eye(3, device="cuda"),
        disttorch.rand(3, device="cuda"), disttorch.randn(3, device="cuda"),
        disttorch.randint(0, 5, (3,), device="cuda"), disttorch.empty(2, device="cuda"),
        disttorch.zeros_like(x), disttorch.ones_like(x), disttorch.randn_like(x),
        x.new_zeros(3), x.new_tensor([1, 2]), x.new_full((2,), 1.0),
    ]
    for t in factories:
        assert t.device == cuda0, t


@gpu
def test_gradient_flows_across_devices():
    leaf = disttorch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    on_gpu = leaf.to("cuda")
    assert type(on_gpu.grad_fn).__name__ == "ToCopyBackward0"
    (on_gpu * on_gpu).sum().backward()
    assert leaf.grad.device.type == "cpu" and leaf.grad.tolist() == [2.0, 4.0, 6.0]


@gpu
def test_module_moves_and_checkpoints_load_on_cpu():
    model = disttorch.nn.Sequential(disttorch.nn.Linear(3, 4), disttorch.nn.BatchNorm1d(4))
    assert model.cuda() is model
    assert all(t.is_cuda for t in list(model.parameters()) + list(model.buffers()))
    out = model(disttorch.randn(5, 3, device="cuda"))
    assert out.is_cuda
    buffer = io.BytesIO()
    disttorch.save(model.state_dict(), buffer)
    buffer.seek(0)
    on_cpu = disttorch.load(buffer, map_location="cpu")
    buffer.seek(0)
    on_gpu = disttorch.load(buffer)
    for name, value in model.state_dict().items():
        assert on_cpu[name].device.type == "cpu" and on_gpu[name].is_cuda
        np.testing.assert_array_equal(on_cpu[name].numpy(), value.cpu().numpy())
    model.to("cpu")
    assert all(not p.is_cuda for p in model.parameters())


MIXED_DEVICE_ROWS = [
    ("add", lambda m, a, b: a + b),
    ("mul_", lambda m, a, b: a.mul_(b)),
    ("matmul", lambda m, a, b: a @ b),
    ("cat", lambda m, a, b: m.cat([a, b])),
    ("where", lambda m, a, b: m.where(a > 0, a, b)),
    ("linear", lambda m, a, b: m.nn.functional.linear(a, b)),
]


@gpu
@pytest.mark.parametrize("first", ["cuda", "cpu"])
@pytest.mark.parametrize("name,fn", MIXED_DEVICE_ROWS, ids=[r[0] for r in MIXED_DEVICE_ROWS])
def test_mixing_devices_raises_torchs_error(name, fn, first):
    second = "cpu" if first == "cuda" else "cuda"
    a = disttorch.ones(3, 3, device=first)
    b = disttorch.ones(3, 3, device=second)
    expected = (f"Expected all tensors to be on the same device, but found at least two "
                f"devices, {'cuda:0' if first == 'cuda' else 'cpu'} and "
                f"{'cpu' if first == 'cuda' else 'cuda:0'}!")
    if torch.cuda.is_available():  # torch says which device it met first; take its word
        with pytest.raises(RuntimeError) as theirs:
            fn(torch, torch.ones(3, 3, device=first), torch.ones(3, 3, device=second))
        expected = str(theirs.value).split(" (when checking")[0]
    with pytest.raises(RuntimeError, match=re.escape(expected)):
        fn(disttorch, a, b)


@gpu
def test_cpu_scalar_tensor_mixes_with_gpu_tensor():
    # torch lets a 0-dim CPU tensor take part in a GPU op, as a Python number would
    out = disttorch.ones(2, device="cuda") * disttorch.tensor(3.0)
    assert out.is_cuda and out.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------- ops: CUDA vs CPU vs torch


def _ints(*shape, high=3):
    return np.random.default_rng(len(shape)).integers(0, high, size=shape)


def _f(m):
    return m.nn.functional


OP_ROWS = [
    ("add_broadcast", lambda m, x, y: x + y, [arr(3, 4), arr(4)]),
    ("sub_mul_scalar", lambda m, x: (x - 1) * 2.5, [arr(3, 4)]),
    ("div", lambda m, x, y: x / y, [arr(3, 4), arr(3, 4, positive=True)]),
    ("exp_log", lambda m, x: m.log(m.exp(x) + 1), [arr(3, 4)]),
    ("tanh_sigmoid", lambda m, x: m.tanh(x) * m.sigmoid(x), [arr(3, 4)]),
    ("pow", lambda m, x: x.pow(2.5), [arr(3, 4, positive=True)]),
    ("where", lambda m, x, y: m.where(x > 0, x, y), [arr(3, 4), arr(3, 4)]),
    ("clamp", lambda m, x: x.clamp(-0.5, 0.5), [arr(3, 4)]),
    ("int_arith", lambda m, x: (x * 3 + 1) // 2 % 5, [_ints(3, 4, high=9)]),
    ("float32", lambda m, x: m.sqrt(x.float() + 1), [arr(3, 4, positive=True)]),
    ("sum_dim", lambda m, x: x.sum(1), [arr(3, 4)]),
    ("mean", lambda m, x: x.mean(), [arr(3, 4)]),
    ("max_dim", lambda m, x: x.max(0), [arr(3, 4)]),
    ("var", lambda m, x: x.var(1), [arr(3, 4)]),
    ("logsumexp", lambda m, x: m.logsumexp(x, 1), [arr(3, 4)]),
    ("cumsum", lambda m, x: x.cumsum(0), [arr(3, 4)]),
    ("topk", lambda m, x: x.topk(2, dim=1), [arr(3, 5)]),
    ("sort", lambda m, x: x.sort(dim=1), [arr(3, 5)]),
    ("matmul", lambda m, x, y: x @ y, [arr(4, 5), arr(5, 3)]),
    ("bmm", lambda m, x, y: m.bmm(x, y), [arr(2, 3, 4), arr(2, 4, 5)]),
    ("linear", lambda m, x, w, b: _f(m).linear(x, w, b), [arr(4, 3), arr(5, 3), arr(5)]),
    ("index_tensor", lambda m, x, i: x[i], [arr(5, 3), np.array([4, 0, 2, 4])]),
    ("slice_step", lambda m, x: x[1:, ::2], [arr(4, 5)]),
    ("bool_mask", lambda m, x: x[x > 0], [arr(4, 5)]),
    ("gather", lambda m, x, i: x.gather(1, i), [arr(3, 4), _ints(3, 2)]),
    ("scatter_add", lambda m, x, i, s: x.scatter_add(0, i, s),
     [arr(3, 4), _ints(2, 4), arr(2, 4)]),
    ("masked_fill", lambda m, x: x.masked_fill(x < 0, 0.5), [arr(3, 4)]),
    ("cat_stack", lambda m, x, y: m.cat([x, m.stack([y, y])]), [arr(2, 4), arr(4)]),
    ("permute_reshape", lambda m, x: x.permute(2, 0, 1).reshape(4, -1).t(), [arr(2, 3, 4)]),
    ("softmax", lambda m, x: m.softmax(x, -1), [arr(3, 5)]),
    ("log_softmax", lambda m, x: _f(m).log_softmax(x, 1), [arr(3, 5)]),
    ("cross_entropy", lambda m, x, t: _f(m).cross_entropy(x, t),
     [arr(6, 5), np.array([0, 4, 2, 1, 3, 3])]),
    ("mse_loss", lambda m, x, y: _f(m).mse_loss(x, y), [arr(3, 4), arr(3, 4)]),
    ("relu_gelu", lambda m, x: _f(m).gelu(_f(m).relu(x) - 0.5), [arr(3, 4)]),
    ("conv2d", lambda m, x, w, b: _f(m).conv2d(x, w, b, padding=1, stride=2),
     [arr(2, 3, 7, 7), arr(4, 3, 3, 3), arr(4)]),
    ("max_pool2d", lambda m, x: _f(m).max_pool2d(x, 2), [arr(2, 3, 6, 6)]),
    ("avg_pool2d", lambda m, x: _f(m).avg_pool2d(x, 3, stride=2), [arr(2, 3, 7, 7)]),
    ("batch_norm", lambda m, x, w, b: _f(m).batch_norm(x, None, None, w, b, training=True),
     [arr(4, 3, 5, 5), arr(3), arr(3)]),
    ("layer_norm", lambda m, x, w, b: _f(m).layer_norm(x, (5,), w, b),
     [arr(3, 5), arr(5), arr(5)]),
    ("embedding", lambda m, i, w: _f(m).embedding(i, w), [_ints(2, 3, high=4), arr(4, 3)]),
]


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [item for v in value for item in _flatten(v)]
    return [value]


def _evaluate(module, fn, arrays, device):
    """Outputs and the gradients of a fixed random projection of them, as host arrays."""
    inputs = []
    for a in arrays:
        t = module.tensor(a, device=device)
        if a.dtype.kind == "f":
            t.requires_grad_(True)
        inputs.append(t)
    outs = _flatten(fn(module, *inputs))
    devices = {str(o.device) for o in outs}
    leaves = [t for t in inputs if t.requires_grad]
    differentiable = [o for o in outs if o.requires_grad]
    grads = []
    if leaves and differentiable:
        rng = np.random.default_rng(5)
        loss = sum((o * module.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                                      device=device)).sum() for o in differentiable)
        grads = module.autograd.grad(loss, leaves, allow_unused=True)
        devices |= {str(g.device) for g in grads if g is not None}
    host = [(str(o.dtype), o.detach().cpu().numpy()) for o in outs]
    host_grads = [None if g is None else g.detach().cpu().numpy() for g in grads]
    return host, host_grads, devices


def _assert_close(got, expected, what):
    (got_out, got_grads), (exp_out, exp_grads) = got, expected
    assert len(got_out) == len(exp_out), what
    for (gd, g), (ed, e) in zip(got_out, exp_out):
        assert gd == ed, f"{what}: dtype {gd} != {ed}"
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7, err_msg=what)
    assert len(got_grads) == len(exp_grads), what
    for g, e in zip(got_grads, exp_grads):
        if e is None or g is None:
            assert g is None and e is None or not np.any(g if e is None else e), what
        else:
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7, err_msg=what + " grad")


@gpu
@pytest.mark.parametrize("name,fn,arrays", OP_ROWS, ids=[r[0] for r in OP_ROWS])
def test_op_on_cuda_matches_cpu_and_torch(name, fn, arrays):
    out, grads, devices = _evaluate(disttorch, fn, arrays, "cuda")
    assert devices == {"cuda:0"}, devices
    cpu_out, cpu_grads, _ = _evaluate(disttorch, fn, arrays, "cpu")
    torch_out, torch_grads, _ = _evaluate(torch, fn, arrays, TORCH_DEVICE)
    _assert_close((out, grads), (cpu_out, cpu_grads), f"{name}: cuda vs cpu")
    _assert_close((out, grads), (torch_out, torch_grads), f"{name}: vs torch")


@gpu
def test_lstm_on_cuda_matches_torch():
    theirs = torch.nn.LSTM(4, 5, num_layers=2, batch_first=True).double().to(TORCH_DEVICE)
    ours = disttorch.nn.LSTM(4, 5, num_layers=2, batch_first=True).double()
    ours.load_state_dict({k: disttorch.tensor(v.detach().cpu().numpy())
                          for k, v in theirs.state_dict().items()})
    ours.cuda()
    x = arr(3, 6, 4)

    def run(m, model, device):
        inp = m.tensor(x, device=device, requires_grad=True)
        out, (h, c) = model(inp)
        (out.sum() + h.pow(2).sum() + c.sum()).backward()
        weight = dict(model.named_parameters())["weight_hh_l1"]
        return [v.detach().cpu().numpy() for v in (out, h, c, inp.grad, weight.grad)]

    for got, expected in zip(run(disttorch, ours, "cuda"), run(torch, theirs, TORCH_DEVICE)):
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)


def _train(module, device, steps=5):
    rng = np.random.default_rng(11)
    weights = [rng.standard_normal(s).astype(np.float32) * 0.3
               for s in ((16, 8), (16,), (3, 16), (3,))]
    model = module.nn.Sequential(module.nn.Linear(8, 16), module.nn.ReLU(),
                                 module.nn.Linear(16, 3))
    with module.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(module.tensor(w))
    model.to(device)
    optimizer = module.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        x = module.tensor(rng.standard_normal((32, 8)).astype(np.float32), device=device)
        y = module.tensor(rng.integers(0, 3, 32), device=device)
        optimizer.zero_grad()
        loss = module.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


@gpu
def test_training_loop_on_cuda_matches_cpu_and_torch():
    losses, params = _train(disttorch, "cuda")
    for reference in (_train(disttorch, "cpu"), _train(torch, TORCH_DEVICE)):
        np.testing.assert_allclose(losses, reference[0], rtol=1e-4, atol=1e-5)
        for got, expected in zip(params, reference[1]):
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_accelerator_api_on_a_cpu_only_install_matches_torch():
    """torch.accelerator picks the device in current PyTorch examples; on a CPU-only machine
    both libraries report no accelerator and refuse device calls the same way."""
    if disttorch.cuda.is_available():
        pytest.skip("an accelerator is present")
    import torch

    for m in (torch, disttorch):
        assert m.accelerator.is_available() is False
        assert m.accelerator.current_accelerator() is None
        assert m.accelerator.device_count() == 0
    for name, args in (("current_device_index", ()), ("synchronize", ()),
                       ("set_device_index", (0,))):
        messages = []
        for m in (torch, disttorch):
            with pytest.raises(RuntimeError) as info:
                getattr(m.accelerator, name)(*args)
            messages.append(str(info.value))
        assert messages[0] == messages[1]

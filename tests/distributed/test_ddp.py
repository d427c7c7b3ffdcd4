"""DistributedDataParallel over N ranks against one process on the whole batch.

Every rank computes the single-process reference itself (same seeds, whole batch), so each
test passes at any world size: `python -m pytest`, `mpirun -n 2`, `mpirun -n 3`.
"""

import copy

import numpy as np
import pytest

import disttorch as torch
import disttorch.distributed as dist
from disttorch import nn
from disttorch.distributed.algorithms.ddp_comm_hooks import default_hooks
from disttorch.nn.parallel import DistributedDataParallel as DDP

GLOBAL_BATCH = 12  # divisible by 1, 2 and 3 ranks


def rank_world():
    return dist.get_rank(), dist.get_world_size()


class Dense(nn.Module):
    """A user-written layer: DDP must work with any Module, not only nn's."""

    def __init__(self, n_in, n_out, activation=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) / n_in ** 0.5)
        self.bias = nn.Parameter(torch.randn(n_out) * 0.1)
        self.activation = activation

    def forward(self, x):
        y = x @ self.weight + self.bias
        return y.tanh() if self.activation else y


def mlp(seed=0, extra_unused=False):
    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(Dense(5, 16), Dense(16, 16))
            self.head = Dense(16, 3, activation=False)
            if extra_unused:
                self.unused = Dense(16, 3)

        def forward(self, x):
            return self.head(self.body(x))

    return Net().double()


def batch(step, n=GLOBAL_BATCH):
    rng = np.random.default_rng(100 + step)
    return (torch.tensor(rng.standard_normal((n, 5))), torch.tensor(rng.standard_normal((n, 3))))


def shard(t):
    rank, world = rank_world()
    per = len(t) // world
    return t[rank * per:(rank + 1) * per]


def mse(out, target):
    return ((out - target) ** 2).mean()


def assert_same_params(a, b, rtol=1e-10, atol=1e-12):
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


def train_pair(steps=10, ddp_kwargs=None, model_fn=mlp, hook=None):
    model = model_fn()
    reference = copy.deepcopy(model)
    ddp = DDP(model, **(ddp_kwargs or {}))
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for step in range(steps):
        x, y = batch(step)
        opt.zero_grad()
        mse(ddp(shard(x)), shard(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        mse(reference(x), y).backward()
        ref_opt.step()
    return ddp, reference


def test_ddp_mlp_matches_single_process():
    ddp, reference = train_pair()
    assert_same_params(ddp.module, reference)


def test_small_buckets_and_gradient_as_bucket_view():
    ddp, reference = train_pair(ddp_kwargs={"bucket_cap_mb": 0.0005,
                                            "gradient_as_bucket_view": True})
    assert len(ddp._buckets) > 2
    assert_same_params(ddp.module, reference)


def test_buckets_are_in_reverse_registration_order():
    ddp = DDP(mlp(), bucket_cap_mb=0.0001)
    order = [p for bucket in ddp._buckets for p in bucket.params]
    assert order == list(reversed(list(ddp.module.parameters())))


def test_parameters_broadcast_from_rank_zero():
    rank, _ = rank_world()
    model = mlp(seed=rank)  # different start on every rank
    ddp = DDP(model)
    expected = mlp(seed=0)
    assert_same_params(ddp.module, expected, rtol=0, atol=0)


def test_no_sync_accumulation_matches_full_batch():
    model = mlp()
    reference = copy.deepcopy(model)
    ddp = DDP(model)
    x, y = batch(0)
    xs, ys = shard(x), shard(y)
    half = len(xs) // 2
    with ddp.no_sync():
        mse(ddp(xs[:half]), ys[:half]).backward()
    mse(ddp(xs[half:]), ys[half:]).backward()
    # two half-batch means summed: compare with the reference doing the same on all shards
    _, world = rank_world()
    per = GLOBAL_BATCH // world
    for r in range(world):
        xr, yr = x[r * per:(r + 1) * per], y[r * per:(r + 1) * per]
        (mse(reference(xr[:half]), yr[:half]) / world).backward()
        (mse(reference(xr[half:]), yr[half:]) / world).backward()
    for p, q in zip(ddp.module.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unused_parameters_with_find_unused():
    ddp, reference = train_pair(ddp_kwargs={"find_unused_parameters": True},
                                model_fn=lambda: mlp(extra_unused=True))
    assert_same_params(ddp.module, reference)
    assert ddp.module.unused.weight.grad is None


def test_unused_parameters_without_find_unused_raises_on_next_forward():
    ddp = DDP(mlp(extra_unused=True))
    x, y = batch(0)
    mse(ddp(shard(x)), shard(y)).backward()  # completes: the unused bucket is zero-filled
    with pytest.raises(RuntimeError, match="find_unused_parameters=True"):
        ddp(shard(x))


def test_comm_hooks_allreduce_and_compression():
    ddp, reference = train_pair(hook=default_hooks.allreduce_hook)
    assert_same_params(ddp.module, reference)
    for hook in (default_hooks.fp16_compress_hook, default_hooks.bf16_compress_hook):
        ddp, reference = train_pair(steps=3, hook=hook)
        assert_same_params(ddp.module, reference, rtol=5e-2, atol=5e-3)
    with pytest.raises(RuntimeError, match="only be called once"):
        ddp.register_comm_hook(None, default_hooks.allreduce_hook)


def test_uneven_inputs_with_join():
    """Rank r has r + 1 batches; joined ranks contribute zero gradients (torch's default
    divides by the initial world size)."""
    rank, world = rank_world()
    model = mlp()
    reference = copy.deepcopy(model)
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05)
    per = 4
    with ddp.join():
        for step in range(rank + 1):
            x, y = batch(step, n=per * world)
            opt.zero_grad()
            mse(ddp(x[rank * per:(rank + 1) * per]), y[rank * per:(rank + 1) * per]).backward()
            opt.step()
    for step in range(world):
        x, y = batch(step, n=per * world)
        ref_opt.zero_grad()
        active = [r for r in range(world) if step < r + 1]
        loss = sum(mse(reference(x[r * per:(r + 1) * per]), y[r * per:(r + 1) * per])
                   for r in active) / world
        loss.backward()
        ref_opt.step()
    # a rank that joined early stopped stepping: compare on the last rank only, which ran all
    if rank == world - 1:
        assert_same_params(ddp.module, reference)


def test_state_dict_has_module_prefix():
    ddp = DDP(mlp())
    keys = list(ddp.state_dict())
    assert keys and all(k.startswith("module.") for k in keys)
    assert list(ddp.module.state_dict()) == [k[len("module."):] for k in keys]


def test_mismatched_models_raise_on_every_rank():
    rank, world = rank_world()
    if world == 1:
        pytest.skip("needs two ranks to disagree")
    torch.manual_seed(0)
    model = Dense(3, 2 + (rank == 1))
    with pytest.raises(RuntimeError, match="same model on every rank"):
        DDP(model.double())


def cnn_with_batchnorm(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3)).double()


def image_batch(step, n=GLOBAL_BATCH):
    rng = np.random.default_rng(200 + step)
    return (torch.tensor(rng.standard_normal((n, 1, 8, 8))),
            torch.tensor(rng.standard_normal((n, 3))))


def test_ddp_cnn_with_sync_batchnorm_matches_single_process():
    model = cnn_with_batchnorm()
    reference = copy.deepcopy(model)
    ddp = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(model))
    assert isinstance(ddp.module[1], nn.SyncBatchNorm)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    for step in range(10):
        x, y = image_batch(step)
        opt.zero_grad()
        mse(ddp(shard(x)), shard(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        mse(reference(x), y).backward()
        ref_opt.step()
    assert_same_params(ddp.module, reference)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ddp.module[1], name).numpy(),
                                   getattr(reference[1], name).numpy(), rtol=1e-10)


def test_sync_batchnorm_eval_and_single_rank_fall_back_to_batchnorm():
    """Eval mode uses the running statistics; in training, one rank's statistics are global
    only at world size 1, so compare eval outputs after each saw the same local batch."""
    bn = nn.SyncBatchNorm(3).double()
    ref = nn.BatchNorm1d(3).double()
    x = torch.randn(4, 3, 5).double()
    if dist.get_world_size() == 1:
        np.testing.assert_allclose(bn(x).detach().numpy(), ref(x).detach().numpy(),
                                   rtol=1e-12)
    else:
        bn(x)  # running statistics from every rank's batch
        ref.load_state_dict(bn.state_dict())
    with torch.no_grad():
        np.testing.assert_allclose(bn.eval()(x).numpy(), ref.eval()(x).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="expected at least 2D input"):
        bn(torch.randn(3))


class SequenceModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, batch_first=True)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def test_ddp_lstm_matches_single_process():
    def model_fn():
        torch.manual_seed(0)
        return SequenceModel().double()

    model = model_fn()
    reference = copy.deepcopy(model)
    ddp = DDP(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=0.01)
    ref_opt = torch.optim.Adam(reference.parameters(), lr=0.01)
    for step in range(10):
        rng = np.random.default_rng(300 + step)
        x = torch.tensor(rng.standard_normal((GLOBAL_BATCH, 6, 4)))
        y = torch.tensor(rng.standard_normal((GLOBAL_BATCH, 3)))
        opt.zero_grad()
        mse(ddp(shard(x)), shard(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        mse(reference(x), y).backward()
        ref_opt.step()
    assert_same_params(ddp.module, reference, rtol=1e-9, atol=1e-11)


def test_buckets_launch_during_backward_before_the_last_gradient():
    """Overlap: when the first-registered parameter (the last gradient of backward) is about
    to be accumulated, every other bucket's all-reduce has already been started."""
    ddp = DDP(mlp(), bucket_cap_mb=0.0005)
    first = next(ddp.module.parameters())
    seen = {}

    def hook(grad):
        seen["launched"] = ddp._next_bucket
        seen["pending_futures"] = sum(b.future is not None for b in ddp._buckets)
        return grad

    first.register_hook(hook)
    x, y = batch(0)
    mse(ddp(shard(x)), shard(y)).backward()
    assert len(ddp._buckets) > 2
    assert seen["launched"] == len(ddp._buckets) - 1
    assert seen["pending_futures"] == len(ddp._buckets) - 1

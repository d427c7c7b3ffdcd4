"""ZeroRedundancyOptimizer over N ranks against one plain optimizer in one process.

DDP averages the gradients of each rank's shard of the batch; every rank also trains the
reference (same seed, whole batch, plain optimizer) itself, so each test passes at any world
size: `python -m pytest`, `mpirun -n 2`, `mpirun -n 3 --oversubscribe`.

The expected partitions and error messages were produced by torch 2.13's
ZeroRedundancyOptimizer; importing torch.distributed.optim here would cost every rank seconds.
"""

import io
import logging
import re
from itertools import chain

import numpy as np
import pytest

import disttorch as torch
import disttorch.distributed as dist
from disttorch import nn
from disttorch.distributed.algorithms import Join
from disttorch.distributed.optim import ZeroRedundancyOptimizer as ZeRO
from disttorch.nn.parallel import DistributedDataParallel as DDP

GLOBAL_BATCH = 12  # divisible by 1, 2 and 3 ranks


class Dense(nn.Module):
    """A user-written layer (Parameter + matmul)."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) / n_in ** 0.5)
        self.bias = nn.Parameter(torch.randn(n_out) * 0.1)

    def forward(self, x):
        return (x @ self.weight + self.bias).tanh()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), Dense(8, 6))
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.body(x))


def net():
    torch.manual_seed(0)
    return Net().double()


def batch(step):
    rng = np.random.default_rng(100 + step)
    return (torch.tensor(rng.standard_normal((GLOBAL_BATCH, 5))),
            torch.tensor(rng.standard_normal((GLOBAL_BATCH, 3))))


def shard(t):
    rank, world = dist.get_rank(), dist.get_world_size()
    per = len(t) // world
    return t[rank * per:(rank + 1) * per]


def loss_of(model, x, y):
    return ((model(x) - y) ** 2).mean()


def train_step(model, opt, step, sharded):
    x, y = batch(step)
    if sharded:
        x, y = shard(x), shard(y)
    opt.zero_grad()
    loss_of(model, x, y).backward()
    return opt.step()


def assert_same_params(a, b):
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def assert_same_state(value, expected):
    if isinstance(expected, torch.Tensor):
        np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-10, atol=1e-14)
    elif isinstance(expected, dict):
        assert value.keys() == expected.keys()
        for key in expected:
            assert_same_state(value[key], expected[key])
    else:
        assert value == expected


def pair(optimizer_class, zero_params=None, ref_params=None, bucket_view=False, **kwargs):
    """(model, DDP, ZeRO) and (reference, plain optimizer) from the same start."""
    model, reference = net(), net()
    ddp = DDP(model)
    zero = ZeRO(zero_params(model) if zero_params else ddp.parameters(), optimizer_class,
                parameters_as_bucket_view=bucket_view, **kwargs)
    ref_opt = optimizer_class(ref_params(reference) if ref_params else reference.parameters(),
                              **kwargs)
    return model, ddp, zero, reference, ref_opt


OPTIMIZERS = [
    (torch.optim.Adam, {"lr": 0.01}),
    (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}),
    (torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize("bucket_view", [False, True])
@pytest.mark.parametrize("optimizer_class, kwargs", OPTIMIZERS)
def test_training_matches_single_process(optimizer_class, kwargs, bucket_view):
    model, ddp, zero, reference, ref_opt = pair(optimizer_class, bucket_view=bucket_view,
                                                **kwargs)
    for step in range(10):
        train_step(ddp, zero, step, sharded=True)
        train_step(reference, ref_opt, step, sharded=False)
    assert_same_params(model, reference)


def owned_indices(zero, rank):
    return sorted(zero._param_to_index[p] for g in zero._partition_parameters()[rank]
                  for p in g["params"])


@pytest.mark.parametrize("bucket_view", [False, True])
def test_more_ranks_than_parameters(bucket_view):
    # one parameter: at 2 and 3 ranks some ranks own nothing, yet take part in every step
    weight = nn.Parameter(torch.arange(4.0))
    zero = ZeRO([weight], torch.optim.SGD, parameters_as_bucket_view=bucket_view, lr=0.5,
                momentum=0.9)
    for _ in range(2):
        weight.grad = torch.ones(4)
        zero.step()
    np.testing.assert_allclose(weight.detach().numpy(), np.arange(4.0) - 0.5 - 0.95, rtol=1e-6)
    assert len(zero.optim.state) == (1 if dist.get_rank() == 0 else 0)
    zero.consolidate_state_dict()
    if dist.get_rank() == 0:
        assert_same_state(zero.state_dict()["state"],
                          {0: {"momentum_buffer": torch.full((4,), 1.9)}})


def state_indices(model, zero):
    """Indices (in model.parameters() order) of the parameters the local optimizer holds
    state for."""
    index = {id(p): i for i, p in enumerate(model.parameters())}
    return sorted(index[id(p)] for p in zero.optim.state)


def test_state_only_on_owning_rank():
    model, ddp, zero, _, _ = pair(torch.optim.Adam, lr=0.01)
    for step in range(2):
        train_step(ddp, zero, step, sharded=True)
    rank, world = dist.get_rank(), dist.get_world_size()
    mine = owned_indices(zero, rank)
    assert state_indices(model, zero) == mine
    assert sum(len(g["params"]) for g in zero.optim.param_groups) == len(mine)
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    assert sorted(chain.from_iterable(everyone)) == list(range(len(list(model.parameters()))))
    assert everyone == [owned_indices(zero, r) for r in range(world)]


# torch's partition (per rank, per group, parameter indices) at world sizes 1, 2 and 3
PARTITIONS = [
    ([[(3, 4), (5,), (4, 4), (5,), (2, 2), (7,), ()]],
     {1: [[[2, 0, 5, 1, 3, 4, 6]]],
      2: [[[2, 1, 4]], [[0, 5, 3, 6]]],
      3: [[[2, 6]], [[0, 3]], [[5, 1, 4]]]}),
    ([[(2, 3), (6,), (1,)], [(4, 4), (3,), (3,), (9,)]],
     {1: [[[0, 1, 2], [3, 6, 4, 5]]],
      2: [[[0, 2], [6, 4, 5]], [[1], [3]]],
      3: [[[0], [6]], [[1], [4, 5]], [[2], [3]]]}),
]


@pytest.mark.parametrize("group_shapes, expected", PARTITIONS)
def test_partition_matches_torch(group_shapes, expected):
    groups = [{"params": [nn.Parameter(torch.zeros(s)) for s in shapes]}
              for shapes in group_shapes]
    zero = ZeRO(groups, torch.optim.SGD, lr=0.1)
    index = {id(p): i for i, p in enumerate(chain.from_iterable(g["params"] for g in groups))}
    ours = [[[index[id(p)] for p in g["params"]] for g in rank_groups]
            for rank_groups in zero._partition_parameters()]
    world = dist.get_world_size()
    if world in expected:
        assert ours == expected[world]


def test_consolidated_state_dict_matches_plain_optimizer():
    _, ddp, zero, reference, ref_opt = pair(torch.optim.Adam, lr=0.01, amsgrad=True)
    for step in range(3):
        train_step(ddp, zero, step, sharded=True)
        train_step(reference, ref_opt, step, sharded=False)
    rank, world = dist.get_rank(), dist.get_world_size()
    for to in sorted({0, world - 1}):
        zero.consolidate_state_dict(to=to)
        if rank == to:
            state_dict, expected = zero.state_dict(), ref_opt.state_dict()
            assert list(state_dict["state"]) == list(expected["state"])
            assert_same_state(state_dict["state"], expected["state"])
            assert state_dict["param_groups"] == expected["param_groups"]
        else:
            with pytest.raises(RuntimeError, match=re.escape(
                    "Optimizer state has not been consolidated on this rank. Please call "
                    f"`consolidate_state_dict(to={rank})` on all ranks beforehand if you "
                    "meant to save the global state.")):
                zero.state_dict()


def test_load_state_dict_round_trip_continues_identically():
    model, ddp, zero, reference, ref_opt = pair(torch.optim.Adam, lr=0.01)
    for step in range(4):
        train_step(ddp, zero, step, sharded=True)
        train_step(reference, ref_opt, step, sharded=False)
    zero.consolidate_state_dict(to=0)
    blob = [None]
    if dist.get_rank() == 0:
        buffer = io.BytesIO()
        torch.save(zero.state_dict(), buffer)
        blob = [buffer.getvalue()]
    dist.broadcast_object_list(blob, src=0)
    checkpoint = torch.load(io.BytesIO(blob[0]))

    resumed = net()
    resumed.load_state_dict(model.state_dict())
    resumed_ddp = DDP(resumed)
    resumed_zero = ZeRO(resumed_ddp.parameters(), torch.optim.Adam, lr=0.5)
    resumed_zero.load_state_dict(checkpoint)
    assert resumed_zero.optim.param_groups[0]["lr"] == 0.01
    mine = owned_indices(resumed_zero, dist.get_rank())
    assert state_indices(resumed, resumed_zero) == mine
    # like torch, the entries this rank does not own are dropped from the loaded dict
    assert [i for i, v in checkpoint["state"].items() if v is not None] == mine

    for step in range(4, 8):
        train_step(resumed_ddp, resumed_zero, step, sharded=True)
        train_step(reference, ref_opt, step, sharded=False)
    assert_same_params(resumed, reference)


def two_groups(model):
    # a generator as a group's params: torch's ZeRO would empty it before its optimizer reads it
    return [{"params": model.body.parameters(), "lr": 0.02}, {"params": model.head.parameters()}]


def test_scheduler_lr_is_honoured():
    model, ddp, zero, reference, ref_opt = pair(torch.optim.SGD, two_groups, two_groups,
                                                lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(zero, step_size=3, gamma=0.5)
    ref_scheduler = torch.optim.lr_scheduler.StepLR(ref_opt, step_size=3, gamma=0.5)
    for step in range(10):
        train_step(ddp, zero, step, sharded=True)
        scheduler.step()
        train_step(reference, ref_opt, step, sharded=False)
        ref_scheduler.step()
    assert_same_params(model, reference)
    lrs = [g["lr"] for g in ref_opt.param_groups]
    assert [g["lr"] for g in zero.param_groups] == lrs
    assert [g["lr"] for g in zero.optim.param_groups] == lrs


def test_add_param_group_midway():
    model, ddp, zero, reference, ref_opt = pair(
        torch.optim.Adam, lambda m: m.body.parameters(), lambda m: m.body.parameters(),
        lr=0.01)
    for step in range(6):
        if step == 3:
            zero.add_param_group({"params": model.head.parameters(), "lr": 0.03})
            ref_opt.add_param_group({"params": reference.head.parameters(), "lr": 0.03})
            assert len(zero.optim.param_groups) == 2
        train_step(ddp, zero, step, sharded=True)
        train_step(reference, ref_opt, step, sharded=False)
    assert_same_params(model, reference)
    assert zero.param_groups[1]["betas"] == (0.9, 0.999)  # synced from the local optimizer


def test_closure_zero_grad_and_param_groups():
    model, ddp, zero, reference, ref_opt = pair(torch.optim.SGD, lr=0.05, momentum=0.9)
    assert zero.defaults == {"lr": 0.05, "momentum": 0.9}
    assert [{k: v for k, v in g.items() if k != "params"} for g in zero.param_groups] == \
        [{k: v for k, v in g.items() if k != "params"} for g in ref_opt.param_groups]
    for step in range(3):
        x, y = batch(step)

        def closure():
            zero.zero_grad()
            loss = loss_of(ddp, shard(x), shard(y))
            loss.backward()
            return loss

        loss = zero.step(closure)
        assert isinstance(loss, torch.Tensor)
        train_step(reference, ref_opt, step, sharded=False)
    assert_same_params(model, reference)
    zero.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_frozen_parameter_with_bucket_view(caplog):
    # gradients averaged by hand: DDP would require a gradient for the frozen parameter
    model, reference = net(), net()
    zero = ZeRO(model.parameters(), torch.optim.SGD, parameters_as_bucket_view=True, lr=0.05)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.05)
    for step in range(4):
        if step == 2:
            for m in (model, reference):
                m.head.bias.requires_grad_(False)
                m.head.bias.grad = None
        x, y = batch(step)
        zero.zero_grad()
        loss_of(model, shard(x), shard(y)).backward()
        for p in model.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.AVG)
        with caplog.at_level(logging.WARNING):
            zero.step()
        train_step(reference, ref_opt, step, sharded=False)
    assert "trainable parameters changed" in caplog.text
    assert_same_params(model, reference)


def test_join_with_uneven_inputs_keeps_replicas_identical():
    rank, world = dist.get_rank(), dist.get_world_size()
    model, ddp, zero, reference, ref_opt = pair(torch.optim.SGD, lr=0.05, momentum=0.9)
    with Join([ddp, zero]):
        for step in range(3 + rank):
            train_step(ddp, zero, step, sharded=True)
    mine = [p.detach().numpy().copy() for p in model.parameters()]
    everyone = [None] * world
    dist.all_gather_object(everyone, mine)
    for theirs in everyone:
        for a, b in zip(theirs, mine):
            np.testing.assert_array_equal(a, b)
    if world == 1:
        for step in range(3):
            train_step(reference, ref_opt, step, sharded=False)
        assert_same_params(model, reference)


CONSTRUCTOR_ERRORS = [
    (lambda ps: ps[0], TypeError,
     "`params` argument should be an iterable of Tensors, but got torch.FloatTensor"),
    (lambda ps: 5, TypeError,
     "`params` argument should be an iterable of Tensors or dicts, but got int"),
    (lambda ps: [], ValueError, "ZeroRedundancyOptimizer got an empty parameter list"),
    (lambda ps: [ps[0], {"params": [ps[1]]}], TypeError,
     "`params` argument should be an iterable of Tensors or dicts"),
    (lambda ps: [{"parameters": [ps[1]]}], ValueError,
     "Each parameter group passed-in via `params` must have a 'params' key mapping to the "
     "parameters in the group"),
    (lambda ps: ps, ValueError,
     "ZeroRedundancyOptimizer only supports using the same dense type for all parameters but "
     "got both torch.FloatTensor and torch.DoubleTensor"),
]


@pytest.mark.parametrize("params_of, error, message", CONSTRUCTOR_ERRORS)
def test_constructor_errors_match_torch(params_of, error, message):
    ps = [nn.Parameter(torch.ones(2, 3)), nn.Parameter(torch.ones(4)),
          nn.Parameter(torch.ones(4, dtype=torch.float64))]
    with pytest.raises(error) as info:
        ZeRO(params_of(ps), torch.optim.Adam)
    assert str(info.value) == message


def test_other_errors():
    params = list(net().parameters())
    with pytest.raises(ValueError, match=r"overlap_with_ddp=True\) is not supported"):
        ZeRO(params, torch.optim.Adam, overlap_with_ddp=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        ZeRO(params, torch.optim.Adam, lr=-1)
    zero = ZeRO(params, torch.optim.Adam)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        zero.load_state_dict({"state": {}, "param_groups": []})


def test_join_with_zero_alone_does_not_hang_and_keeps_ranks_identical():
    """Without DDP, ZeRO itself counts the active ranks; joined ranks shadow its broadcasts."""
    rank, world = dist.get_rank(), dist.get_world_size()
    model = net()
    zero = ZeRO(model.parameters(), torch.optim.SGD, lr=0.1)
    with Join([zero]):
        for step in range(rank + 1):
            x, y = batch(step)
            zero.zero_grad()
            loss_of(model, x, y).backward()
            zero.step()
    gathered = [None] * world
    dist.all_gather_object(gathered, [p.detach().numpy().copy() for p in model.parameters()])
    for other in gathered:
        for a, b in zip(other, gathered[0]):
            np.testing.assert_array_equal(a, b)

"""ZeroRedundancyOptimizer: optimizer state sharded across the ranks of a process group.

Stage 1 of ZeRO (https://arxiv.org/abs/1910.02054), with torch's public behaviour: each
parameter is owned by one rank (torch's sorted-greedy partition), each rank runs a local
optimizer over the parameters it owns only, so optimizer state exists only there, and after
the local step every rank broadcasts its parameters so that all replicas stay identical.
The full optimizer state is assembled on one rank on request (`consolidate_state_dict`).
"""

import logging
from itertools import chain

from ... import _backend as B
from ..._tensor import Tensor
from ...optim.optimizer import Optimizer, typename
from ..algorithms.join import Join, Joinable, JoinHook
from ..collectives import broadcast
from ..objects import gather_object
from ..process_group import GroupMember, get_global_rank, get_rank, get_world_size

__all__ = ["ZeroRedundancyOptimizer"]

logger = logging.getLogger(__name__)


def _is_trainable(param):
    return param.requires_grad


def _to_device(value, device):
    """Tensors inside lists, tuples and dicts moved to a device (Tensor.to: the same tensor
    where it is already there, like torch's)."""
    if isinstance(value, Tensor):
        return value.to(device)
    if isinstance(value, (list, tuple)):
        moved = [_to_device(v, device) for v in value]
        return moved if isinstance(value, list) else tuple(moved)
    if isinstance(value, dict):
        return {k: _to_device(v, device) for k, v in value.items()}
    return value


def _sync_param_groups(src_param_groups, dst_param_groups):
    """Copy every option but 'params' (lr, betas, ...) from one list of groups to another."""
    assert len(src_param_groups) == len(dst_param_groups)
    for src, dst in zip(src_param_groups, dst_param_groups):
        for key, value in src.items():
            if key != "params":
                dst[key] = value


class _ZeROJoinHook(JoinHook):
    """A rank that ran out of inputs keeps stepping, so it still broadcasts the parameters
    it owns to the ranks that are training."""

    def __init__(self, zero):
        self.zero = zero

    def main_hook(self):
        self.zero.step()


class ZeroRedundancyOptimizer(Optimizer, Joinable):
    """Wrap `optimizer_class` so that its state is sharded across the ranks of the group.

    `ZeroRedundancyOptimizer(model.parameters(), optimizer_class=optim.Adam, lr=0.01)`: the
    trailing keyword arguments go to the local optimizer. Every rank must call `step`,
    `add_param_group` and `consolidate_state_dict`, as they communicate.
    """

    def __init__(self, params, optimizer_class, process_group=None,
                 parameters_as_bucket_view=False, overlap_with_ddp=False, **defaults):
        params = self._verify_and_init_params(params)
        self._verify_same_dense_param_type()
        if overlap_with_ddp:
            # torch runs the step inside a DDP communication hook (ddp_zero_hook.py) with a
            # functional optimizer; neither exists here
            raise ValueError("ZeroRedundancyOptimizer(overlap_with_ddp=True) is not supported "
                             "by disttorch: it needs DDP communication hooks that run the "
                             "optimizer step (torch's ddp_zero_hook); pass "
                             "overlap_with_ddp=False and call step() after backward")
        # add_param_group repartitions only once the constructor is done
        self.initialized = False
        Optimizer.__init__(self, params, defaults)
        Joinable.__init__(self)

        self._clear_cache()
        self._is_trainable_mask = self._get_is_trainable_mask()
        self._default_device = self._all_params[0].device

        self.process_group = (process_group if process_group is not None
                              else GroupMember.WORLD)
        self.world_size = get_world_size(self.process_group)
        self.rank = get_rank(self.process_group)
        self.global_rank = get_global_rank(self.process_group, self.rank)

        self._optim_defaults = defaults
        self._optim_constructor = optimizer_class
        self._init_local_optimizer()

        self.parameters_as_bucket_view = parameters_as_bucket_view
        self._buckets = []
        self._build_param_buckets()

        # filled only on the rank that consolidate_state_dict sends the state to
        self._all_state_dicts = []
        self.initialized = True

    # ------------------------------------------------------------------ construction

    def _verify_and_init_params(self, params):
        """params as a list (it is iterated again); every parameter in self._all_params."""
        if isinstance(params, Tensor):
            raise TypeError("`params` argument should be an iterable of Tensors, but got "
                            f"{typename(params)}")
        try:
            all_params = list(params)
        except TypeError as e:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts, but "
                            f"got {typename(params)}") from e
        if len(all_params) == 0:
            raise ValueError("ZeroRedundancyOptimizer got an empty parameter list")
        if all(isinstance(p, Tensor) for p in all_params):
            self._all_params = all_params
        elif all(isinstance(p, dict) for p in all_params):
            self._all_params = []
            for group in all_params:
                if "params" not in group:
                    raise ValueError("Each parameter group passed-in via `params` must have a "
                                     "'params' key mapping to the parameters in the group")
                group_params = group["params"]
                if isinstance(group_params, Tensor):
                    self._all_params.append(group_params)
                    continue
                if not isinstance(group_params, (list, tuple, set)):
                    # read twice (here and by the optimizer): a generator would be empty the
                    # second time, leaving the group with no parameters (torch's ZeRO does)
                    group["params"] = group_params = list(group_params)
                self._all_params.extend(group_params)
        else:
            raise TypeError("`params` argument should be an iterable of Tensors or dicts")
        return all_params

    def _verify_same_dense_param_type(self):
        # one flat bucket per rank and one broadcast dtype need one tensor type
        first = typename(self._all_params[0])
        for param in self._all_params[1:]:
            other = typename(param)
            if other != first:
                raise ValueError("ZeroRedundancyOptimizer only supports using the same dense "
                                 f"type for all parameters but got both {first} and {other}")

    def _get_is_trainable_mask(self):
        return [_is_trainable(p) for p in self._all_params]

    def _init_local_optimizer(self):
        """This rank's optimizer, over the parameters it owns (every group, maybe empty)."""
        param_groups = self._partition_parameters()[self.rank]
        self.optim = self._optim_constructor(param_groups, **self._optim_defaults)
        _sync_param_groups(self.optim.param_groups, self.param_groups)

    def _clear_cache(self):
        self._partition_parameters_cache = []
        self._param_to_rank_cache = {}
        self._index_to_param_cache = []
        self._param_to_index_cache = {}

    # ------------------------------------------------------------------ partition

    def _partition_parameters(self):
        """Per rank, its param groups: each group of self.param_groups holding only the
        parameters that rank owns. Within a group, parameters go largest first to the rank
        with the fewest elements so far (counting earlier groups); ties go to the lower rank
        and keep registration order, so every rank computes the same partition."""
        if not self._partition_parameters_cache:
            per_rank = [[] for _ in range(self.world_size)]
            sizes = [0] * self.world_size
            for group in self.param_groups:
                owned = [[] for _ in range(self.world_size)]
                for param in sorted(group["params"], key=lambda p: p.numel(), reverse=True):
                    rank = sizes.index(min(sizes))
                    owned[rank].append(param)
                    sizes[rank] += param.numel()
                for rank, params in enumerate(owned):
                    rank_group = dict(group)
                    rank_group["params"] = params
                    per_rank[rank].append(rank_group)
            self._partition_parameters_cache = per_rank
        return self._partition_parameters_cache

    @property
    def _param_to_rank(self):
        if not self._param_to_rank_cache:
            for rank, groups in enumerate(self._partition_parameters()):
                for group in groups:
                    for param in group["params"]:
                        self._param_to_rank_cache[param] = rank
        return self._param_to_rank_cache

    @property
    def _index_to_param(self):
        """Parameters in state_dict index order (groups one after the other)."""
        if not self._index_to_param_cache:
            self._index_to_param_cache = list(
                chain.from_iterable(g["params"] for g in self.param_groups))
        return self._index_to_param_cache

    @property
    def _param_to_index(self):
        if not self._param_to_index_cache:
            self._param_to_index_cache = {p: i for i, p in enumerate(self._index_to_param)}
        return self._param_to_index_cache

    # ------------------------------------------------------------------ buckets

    def _build_param_buckets(self):
        """With parameters_as_bucket_view, one flat tensor per (device, rank) holding the
        trainable parameters that rank owns; their data become views into it, so a step
        broadcasts one bucket per rank instead of one tensor per parameter."""
        if not self.parameters_as_bucket_view:
            return
        per_device = {}
        for rank, groups in enumerate(self._partition_parameters()):
            for group in groups:
                for param in group["params"]:
                    per_rank = per_device.setdefault(
                        param.device, ([[] for _ in range(self.world_size)], param))[0]
                    per_rank[rank].append(param)
        self._buckets = [[self._bucket_of(params, like) for params in per_rank]
                         for per_rank, like in per_device.values()]

    @staticmethod
    def _bucket_of(params, like):
        """The flat bucket of one rank's parameters on one device (`like` is a parameter on
        that device). Frozen parameters get data of their own: they are not broadcast."""
        xp = B.get_array_module(like._data)
        trainable = []
        for param in params:
            if _is_trainable(param):
                trainable.append(param)
            else:
                param._data = param._data.copy()
        if not trainable:
            # every rank broadcasts a bucket for every rank, owned parameters or not
            return Tensor._wrap(xp.zeros(1, dtype=like._data.dtype))
        flat = xp.empty(sum(p.numel() for p in trainable), dtype=like._data.dtype)
        offset = 0
        for param in trainable:
            view = flat[offset:offset + param.numel()].reshape(param._data.shape)
            view[...] = param._data
            param._data = view
            offset += param.numel()
        return Tensor._wrap(flat)

    # ------------------------------------------------------------------ groups

    def add_param_group(self, param_group):
        """Add a group of parameters; call it on every rank, as the partition changes."""
        super().add_param_group(param_group)
        if not self.initialized:
            return
        # the greedy partition of the earlier groups does not change, so only the new
        # group's share reaches the local optimizer
        self._clear_cache()
        param_groups = self._partition_parameters()[self.rank]
        if len(param_groups) == len(self.optim.param_groups) + 1:
            self.optim.add_param_group(param_groups[-1])
        if self.parameters_as_bucket_view:
            self._build_param_buckets()

    # ------------------------------------------------------------------ step

    def _local_step(self, closure=None, **kwargs):
        """The local optimizer's step on this rank's parameters, with the options of
        self.param_groups (which a scheduler may have changed)."""
        Join.notify_join_context(self)
        is_trainable_mask = self._get_is_trainable_mask()
        if is_trainable_mask != self._is_trainable_mask:
            logger.warning("ZeroRedundancyOptimizer detected that the trainable parameters "
                           "changed; rebuilding the parameter buckets if enabled")
            self._build_param_buckets()
            self._is_trainable_mask = is_trainable_mask
        _sync_param_groups(self.param_groups, self.optim.param_groups)
        if closure is None:
            loss = self.optim.step(**kwargs)
        else:
            loss = self.optim.step(closure=closure, **kwargs)
        _sync_param_groups(self.optim.param_groups, self.param_groups)
        return loss

    def _sync_params(self):
        """Every rank broadcasts what it owns; all broadcasts start before any is waited on,
        in rank order, then parameter (or bucket) order, the same on every rank."""
        handles = []
        for rank in range(self.world_size):
            if self.parameters_as_bucket_view:
                tensors = [device_buckets[rank] for device_buckets in self._buckets]
            else:
                tensors = [p for group in self._partition_parameters()[rank]
                           for p in group["params"]]
            handles.extend(broadcast(t, group=self.process_group, async_op=True,
                                     group_src=rank) for t in tensors)
        for handle in handles:
            handle.wait()

    def step(self, closure=None, **kwargs):
        """Update this rank's parameters, then the others' from their owners; returns the
        closure's loss. Extra keyword arguments go to the local optimizer's step."""
        loss = self._local_step(closure=closure, **kwargs)
        self._sync_params()
        return loss

    # ------------------------------------------------------------------ state_dict

    def consolidate_state_dict(self, to=0):
        """Gather every rank's optimizer state on rank `to` (a rank of the process group),
        for state_dict() there. Call it on every rank."""
        _sync_param_groups(self.param_groups, self.optim.param_groups)
        self._all_state_dicts = []
        if not 0 <= to < self.world_size:
            return
        # kept on the host, like torch, so a checkpoint does not hold device memory
        local_state_dict = _to_device(self.optim.state_dict(), B.CPU)
        receiving = self.rank == to
        gathered = [None] * self.world_size if receiving else None
        gather_object(None if receiving else local_state_dict, gathered,
                      group=self.process_group, group_dst=to)
        if receiving:
            gathered[to] = local_state_dict
            self._all_state_dicts = gathered

    def state_dict(self):
        """The full optimizer state as consolidated on this rank, indexed like the state of
        one optimizer over all the parameters."""
        if not self._all_state_dicts:
            raise RuntimeError("Optimizer state has not been consolidated on this rank. Please "
                               f"call `consolidate_state_dict(to={self.rank})` on all ranks "
                               "beforehand if you meant to save the global state.")
        state_dict = super().state_dict()
        partition = self._partition_parameters()
        for rank, local_state_dict in enumerate(self._all_state_dicts):
            local_groups = local_state_dict["param_groups"]
            assert len(local_groups) == len(partition[rank])
            for local_group, group in zip(local_groups, partition[rank]):
                assert len(local_group["params"]) == len(group["params"])
                for local_index, param in zip(local_group["params"], group["params"]):
                    if local_index in local_state_dict["state"]:
                        state_dict["state"][self._param_to_index[param]] = (
                            local_state_dict["state"][local_index])
        state_dict["state"] = dict(sorted(state_dict["state"].items()))
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a state_dict() result: this rank keeps the state of the parameters it owns.

        Like torch, the other parameters' entries of state_dict['state'] are set to None.
        """
        for index, value in state_dict["state"].items():
            param = self._index_to_param[index]
            if self._param_to_rank[param] != self.rank:
                state_dict["state"][index] = None
                continue
            local_state = _to_device(value, param.device)
            # 0-d state (Adam's step) lives on the host
            for name, item in local_state.items():
                if isinstance(item, Tensor) and item.dim() == 0:
                    local_state[name] = item.to(B.CPU)
            self.optim.state[param] = local_state
        super().load_state_dict(state_dict)
        _sync_param_groups(state_dict["param_groups"], self.param_groups)
        _sync_param_groups(self.param_groups, self.optim.param_groups)

    # ------------------------------------------------------------------ Joinable

    def join_hook(self, **kwargs):
        """The hook that makes a joined rank keep stepping (and broadcasting) inside
        `Join([ddp_model, zero])`, until every rank has joined."""
        return _ZeROJoinHook(self)

    @property
    def join_device(self):
        return self._default_device

    @property
    def join_process_group(self):
        return self.process_group

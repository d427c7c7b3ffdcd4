"""DistributedDataParallel: gradient buckets all-reduced over MPI while backward runs.

Parameters are grouped into flat buckets of about `bucket_cap_mb` in reverse registration
order (the order backward produces gradients). A post-accumulate-grad hook copies each
gradient into its bucket; when a bucket is full its all-reduce starts (non-blocking) while
backward goes on. Buckets are launched strictly in index order on every rank, and a bucket
whose gradient never came is all-reduced zero-filled at the end of backward (as Horovod
does), so every rank issues the same collectives in the same order and none is left waiting.
"""

import contextlib

from ... import distributed as dist
from ..._backend import get_array_module
from ..._tensor import Tensor
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...distributed.algorithms.join import Join, Joinable, JoinHook
from ..module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # torch's first bucket is small so it starts early


class GradBucket:
    """What a comm hook sees: one flat buffer and the parameters whose gradients it holds."""

    def __init__(self, index, buffer, params, offsets, is_last):
        self._index = index
        self._buffer = buffer
        self._params = params
        self._offsets = offsets
        self._is_last = is_last

    def index(self):
        return self._index

    def buffer(self):
        return self._buffer

    def set_buffer(self, buffer):
        self._buffer._data[...] = buffer._data

    def parameters(self):
        return list(self._params)

    def gradients(self):
        return [self._buffer[start:start + p.numel()].view(p.shape)
                for p, start in zip(self._params, self._offsets)]

    def is_last(self):
        return self._is_last


class _Bucket:
    """Flat buffer and bookkeeping for one group of parameters of one dtype."""

    def __init__(self, index, params):
        self.index = index
        self.params = params
        self.offsets = []
        total = 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        xp = get_array_module(params[0]._data)
        self.buffer = Tensor._wrap(xp.zeros(total, dtype=params[0]._data.dtype))
        self.ready = [False] * len(params)
        self.pending = len(params)
        self.future = None

    def slot(self, i):
        p = self.params[i]
        start = self.offsets[i]
        return self.buffer._data[start:start + p._data.size].reshape(p._data.shape)

    def reset(self):
        self.ready = [False] * len(self.params)
        self.pending = len(self.params)
        self.future = None


def _build_buckets(params, cap_bytes):
    """Buckets in reverse registration order, split at dtype changes and at the size cap."""
    buckets, current, size = [], [], 0
    limit = min(_FIRST_BUCKET_BYTES, cap_bytes)
    for p in reversed(params):
        nbytes = p._data.nbytes
        if current and (size + nbytes > limit or p._data.dtype != current[0]._data.dtype):
            buckets.append(current)
            current, size = [], 0
            limit = cap_bytes
        current.append(p)
        size += nbytes
    if current:
        buckets.append(current)
    return [_Bucket(i, group) for i, group in enumerate(buckets)]


def _allreduce_future(bucket_buffer, group):
    work = dist.all_reduce(bucket_buffer, group=group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


class DistributedDataParallel(Module, Joinable):
    """torch.nn.parallel.DistributedDataParallel over disttorch.distributed (MPI)."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, process_group=None, bucket_cap_mb=None,
                 find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, **kwargs):
        super().__init__()
        Joinable.__init__(self)
        unknown = set(kwargs) - {"delay_all_reduce_named_params", "param_to_hook_all_reduce",
                                 "mixed_precision", "device_mesh", "skip_all_reduce_unused_params"}
        if unknown:
            raise TypeError(f"DistributedDataParallel got unexpected keyword arguments "
                            f"{sorted(unknown)}")
        if not dist.is_initialized():
            raise ValueError("Default process group has not been initialized, please make sure "
                             "to call init_process_group.")
        params = [p for p in dict.fromkeys(module.parameters()) if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        devices = {p.device for p in module.parameters()}
        if device_ids is not None and all(d.type == "cpu" for d in devices):
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{list(device_ids)}, output_device {output_device}, and module parameters "
                f"{devices}.")
        self.module = module
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 2 ** 20)
        self._params = params
        self._param_names = {id(p): n for n, p in module.named_parameters()}
        self._verify_and_broadcast(module)
        self._buckets = _build_buckets(params, self.bucket_bytes_cap)
        self._where = {}
        for bucket in self._buckets:
            for i, p in enumerate(bucket.params):
                self._where[id(p)] = (bucket, i)
        self._comm_hook = None
        self._comm_state = None
        self._in_backward = False
        self._next_bucket = 0
        self._unreduced_error = None
        self._join_config = None
        for p in params:
            p.register_post_accumulate_grad_hook(self._grad_ready)

    # ---------------------------------------------------------------- construction

    def _verify_and_broadcast(self, module):
        """Same parameter names, shapes and dtypes on every rank; then rank 0's values."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in module.named_parameters()]
        everyone = [None] * self.world_size
        dist.all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            if theirs == mine:
                continue
            for (name, shape, dtype), other in zip(mine, theirs):
                if (name, shape, dtype) != other:
                    raise RuntimeError(
                        f"DDP expects the same model on every rank: parameter '{name}' has "
                        f"shape {list(shape)} and dtype {dtype} on rank {dist.get_rank()} "
                        f"but '{other[0]}' has shape {list(other[1])} and dtype {other[2]} "
                        f"on rank {rank}")
            raise RuntimeError(
                f"DDP expects the same model on every rank: rank {dist.get_rank()} has "
                f"{len(mine)} parameters and rank {rank} has {len(theirs)}")
        src = dist.get_global_rank(self.process_group, 0) if self.process_group else 0
        with no_grad():
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t, src=src, group=self.process_group)

    # ---------------------------------------------------------------- forward

    def forward(self, *inputs, **kwargs):
        if self._unreduced_error is not None:
            message, self._unreduced_error = self._unreduced_error, None
            raise RuntimeError(message)
        if self._join_config is not None and self._join_config.enable:
            active = Join.notify_join_context(self)
            if active is not None:
                self._active_ranks = active
        if self.broadcast_buffers and self.require_forward_param_sync:
            self._sync_buffers()
        if is_grad_enabled() and self.require_backward_grad_sync:
            for bucket in self._buckets:
                bucket.reset()
            self._next_bucket = 0
            self._in_backward = False
        return self.module(*inputs, **kwargs)

    def _sync_buffers(self):
        src = dist.get_global_rank(self.process_group, 0) if self.process_group else 0
        with no_grad():
            for buf in self.module.buffers():
                dist.broadcast(buf, src=src, group=self.process_group)

    # ---------------------------------------------------------------- backward

    def _grad_ready(self, param):
        if not self.require_backward_grad_sync:
            return
        if not self._in_backward:
            self._in_backward = True
            queue_callback(self._finish_backward)
        bucket, i = self._where[id(param)]
        if bucket.ready[i]:
            return
        bucket.slot(i)[...] = param._grad._data
        bucket.ready[i] = True
        bucket.pending -= 1
        self._launch_ready()
        self._progress()

    def _launch_ready(self):
        while self._next_bucket < len(self._buckets):
            bucket = self._buckets[self._next_bucket]
            if bucket.pending:
                return
            self._launch(bucket)
            self._next_bucket += 1

    def _launch(self, bucket):
        grad_bucket = GradBucket(bucket.index, bucket.buffer, bucket.params, bucket.offsets,
                                 bucket.index == len(self._buckets) - 1)
        if self._comm_hook is not None:
            bucket.future = self._comm_hook(self._comm_state, grad_bucket)
        else:
            bucket.future = _allreduce_future(bucket.buffer, self.process_group)

    def _progress(self):
        """MPI moves non-blocking collectives on inside MPI calls: test the outstanding ones."""
        for bucket in self._buckets[:self._next_bucket]:
            if bucket.future is not None:
                bucket.future.done()

    def _finish_backward(self):
        """End of backward: launch what is left (zero-filled), wait, write averaged grads."""
        self._in_backward = False
        missing = []
        for bucket in self._buckets:
            for i, ready in enumerate(bucket.ready):
                if not ready:
                    missing.append(bucket.params[i])
                    bucket.slot(i)[...] = 0
                    bucket.ready[i] = True
            bucket.pending = 0
        self._launch_ready()
        used = self._globally_used(missing) if self.find_unused_parameters else None
        divide = self._comm_hook is None
        if self._join_config is not None and not self._join_config.divide_by_initial_world_size:
            divisor = self._active_ranks
        else:
            divisor = self.world_size
        with no_grad():
            for bucket in self._buckets:
                reduced = bucket.future.wait()
                if reduced is not bucket.buffer:
                    bucket.buffer._data[...] = reduced._data
                if divide:
                    bucket.buffer._data /= divisor
                for i, p in enumerate(bucket.params):
                    if used is not None and not used[id(p)]:
                        continue
                    self._write_grad(p, bucket.slot(i))
        if missing and not self.find_unused_parameters:
            names = ", ".join(self._param_names.get(id(p), "?") for p in missing)
            self._unreduced_error = (
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                "used in producing loss. You can enable unused parameter detection by passing "
                "the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` "
                "function outputs participate in calculating loss.\nParameters which did not "
                f"receive grad for rank {dist.get_rank()}: {names}")

    def _globally_used(self, missing):
        """Which parameters got a gradient on some rank (an extra all-reduce of flags)."""
        xp = get_array_module(self._params[0]._data)
        missing_ids = {id(p) for p in missing}
        flags = Tensor._wrap(xp.asarray([0 if id(p) in missing_ids else 1
                                         for p in self._params], dtype="int32"))
        dist.all_reduce(flags, group=self.process_group)
        return {id(p): bool(f) for p, f in zip(self._params, flags._data.tolist())}

    def _write_grad(self, param, averaged):
        if self.gradient_as_bucket_view:
            if param._grad is None or param._grad._data.base is not averaged.base:
                param._grad = Tensor._wrap(averaged)
            return
        if param._grad is None:
            param._grad = Tensor._wrap(averaged.copy())
        else:
            param._grad._data[...] = averaged
            param._grad._version[0] += 1

    # ---------------------------------------------------------------- user controls

    @contextlib.contextmanager
    def no_sync(self):
        """Accumulate gradients locally; the first backward after the block synchronises."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def register_comm_hook(self, state, hook):
        """hook(state, GradBucket) -> Future of the reduced flat buffer (torch's contract)."""
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be "
                               "called once.")
        if not callable(hook):
            raise TypeError(f"Communication hook must be callable, got {type(hook).__name__}")
        self._comm_hook = hook
        self._comm_state = state

    def join(self, divide_by_initial_world_size=True, enable=True,
             throw_on_early_termination=False):
        """Context manager for ranks with different numbers of batches (torch's DDP.join)."""
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)

    # ---------------------------------------------------------------- Joinable protocol

    def join_hook(self, **kwargs):
        return _DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return self._params[0].device

    @property
    def join_process_group(self):
        return self.process_group

    _active_ranks = 1


class _JoinConfig:
    def __init__(self, enable, divide_by_initial_world_size):
        self.enable = enable
        self.divide_by_initial_world_size = divide_by_initial_world_size


class _DDPJoinHook(JoinHook):
    """A joined rank shadows the collectives of the ranks still training."""

    def __init__(self, ddp, divide_by_initial_world_size):
        self.ddp = ddp
        ddp._join_config = _JoinConfig(True, divide_by_initial_world_size)

    def main_hook(self):
        """Called while this rank has joined: one iteration of shadow collectives."""
        ddp = self.ddp
        if ddp.broadcast_buffers:
            ddp._sync_buffers()
        with no_grad():
            for bucket in ddp._buckets:
                bucket.reset()
                bucket.buffer._data[...] = 0
            futures = [_allreduce_future(b.buffer, ddp.process_group) if ddp._comm_hook is None
                       else ddp._comm_hook(ddp._comm_state, GradBucket(
                           b.index, b.buffer, b.params, b.offsets,
                           b.index == len(ddp._buckets) - 1))
                       for b in ddp._buckets]
            if ddp.find_unused_parameters:
                xp = get_array_module(ddp._params[0]._data)
                flags = Tensor._wrap(xp.zeros(len(ddp._params), dtype="int32"))
                dist.all_reduce(flags, group=ddp.process_group)
            for future in futures:
                future.wait()

    def post_hook(self, is_last_joiner):
        self.ddp._join_config = None


DDP = DistributedDataParallel

"""nn.SyncBatchNorm: batch norm whose statistics are computed over every rank's batch.

In training, the per-channel sums (sum, sum of squares, count) are all-reduced before
normalising, and in backward the per-channel gradient sums are all-reduced before the input
gradient is formed, so N ranks with B/N samples each normalise exactly like one process with
B samples. It lives with DDP (above disttorch.distributed) rather than in nn.modules, which
must not import the distributed layer.
"""

from ... import distributed as dist
from ..._ops import nn_norm
from ..._tensor import Tensor
from ..modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm


class _SyncBatchNormOp(nn_norm.BatchNorm):
    node_name = "SyncBatchNormBackward"


class SyncBatchNorm(_BatchNorm):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None, *,
                 bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, input):
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def _all_reduce(self, packed):
        """Sum a packed float64 vector of per-channel statistics over the group's ranks."""
        t = Tensor._wrap(packed)
        dist.all_reduce(t, group=self.process_group)
        return t._data

    def forward(self, input):
        self._check_input_dim(input)
        need_sync = (self.training and dist.is_initialized()
                     and dist.get_world_size(self.process_group) > 1)
        if not need_sync:
            return super().forward(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        nn_norm.check_batch_norm_args(input, self.running_mean, self.running_var, self.weight,
                                      self.bias, True, self.eps)
        return _SyncBatchNormOp.apply(input, self.weight, self.bias, self.running_mean,
                                      self.running_var, True, factor, self.eps,
                                      self._all_reduce)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """Replace every BatchNorm*D in `module` by a SyncBatchNorm sharing its tensors."""
        converted = module
        if isinstance(module, (BatchNorm1d, BatchNorm2d, BatchNorm3d)):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group,
                            bias=module.bias is not None or not module.affine)
            if module.affine:
                converted.weight = module.weight
                converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
            if hasattr(module, "qconfig"):
                converted.qconfig = module.qconfig
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        del module
        return converted

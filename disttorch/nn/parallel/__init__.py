"""torch.nn.parallel: DistributedDataParallel (over disttorch.distributed)."""

from .distributed import DistributedDataParallel
from .sync_batchnorm import SyncBatchNorm

__all__ = ["DistributedDataParallel", "SyncBatchNorm"]

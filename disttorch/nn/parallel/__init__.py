"""torch.nn.parallel: DistributedDataParallel (over disttorch.distributed)."""

from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]

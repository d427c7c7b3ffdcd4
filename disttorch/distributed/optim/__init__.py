"""torch.distributed.optim: optimizers over a process group (ZeroRedundancyOptimizer)."""

from .zero_redundancy_optimizer import ZeroRedundancyOptimizer

__all__ = ["ZeroRedundancyOptimizer"]

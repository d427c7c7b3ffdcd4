"""torch.utils: data loading (`disttorch.utils.data`)."""

from . import data

__all__ = ["data"]

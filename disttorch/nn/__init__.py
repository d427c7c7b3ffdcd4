"""torch.nn: Module, Parameter, layers, functional, init and utils."""

from . import functional, modules, parallel
from .module import Module
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import SyncBatchNorm
from .parameter import Buffer, Parameter

__all__ = ["Module", "Parameter", "Buffer", "functional", "parallel", "SyncBatchNorm", *_modules_all]

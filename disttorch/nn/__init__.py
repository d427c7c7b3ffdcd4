"""torch.nn: Module, Parameter, layers, functional, init and utils."""

from . import functional, init, modules, parallel, utils
from .module import Module
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parallel import SyncBatchNorm
from .parameter import Buffer, Parameter

__all__ = ["Module", "Parameter", "Buffer", "functional", "init", "parallel", "utils",
           "SyncBatchNorm", *_modules_all]

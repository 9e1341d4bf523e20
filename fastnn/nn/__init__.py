"""Layers and the module system (``fn.nn``), same as torch.nn."""
from . import init                 # noqa: F401
from .module import Module, ModuleList, Parameter, Sequential  # noqa: F401
from .linear import Flatten, Identity, Linear                  # noqa: F401
from .activation import *          # noqa: F401,F403
from .loss import *                # noqa: F401,F403
from .dropout import *             # noqa: F401,F403
from .conv import AvgPool2d, Conv2d, MaxPool2d                  # noqa: F401
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: F401
from .sparse import Embedding                                   # noqa: F401

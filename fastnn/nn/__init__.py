"""Layers and the module system (``fn.nn``), same as torch.nn."""
from . import init                 # noqa: F401
from . import utils                # noqa: F401
from .module import Module, ModuleList, Parameter, Sequential  # noqa: F401
from .linear import Flatten, Identity, Linear, Unflatten       # noqa: F401
from .activation import *          # noqa: F401,F403
from .loss import *                # noqa: F401,F403
from .dropout import *             # noqa: F401,F403
from .conv import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, Conv1d,  # noqa: F401
                   Conv2d, MaxPool1d, MaxPool2d)
from .normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d, LayerNorm  # noqa: F401
from .sparse import Embedding                                   # noqa: F401
from .containers import ModuleDict, ParameterList               # noqa: F401
from .distance import CosineSimilarity                          # noqa: F401

# torch scripts import the functional interface as torch.nn.functional: the same module
# (fastnn.functional) answers to fastnn.nn.functional, so only the package name changes
import sys as _sys                                              # noqa: E402
from .. import functional                                       # noqa: E402,F401
_sys.modules[__name__ + ".functional"] = functional

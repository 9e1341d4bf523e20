"""Functional interface (``import fastnn.functional as F``), same as torch.nn.functional."""
from .layers import *        # noqa: F401,F403
from .activations import *   # noqa: F401,F403
from .losses import *        # noqa: F401,F403
from .dropout import *       # noqa: F401,F403
from .conv import *          # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .sparse import *        # noqa: F401,F403

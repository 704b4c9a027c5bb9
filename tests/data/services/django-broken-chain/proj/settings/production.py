from .base import *  # noqa: F403
from .secrets import *  # noqa: F403  (generated at deploy time: not in the repository)

DEBUG = False

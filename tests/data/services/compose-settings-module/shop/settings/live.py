from shop.settings.common import *  # noqa: F403

import logging.config

LOG = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "missing"}},
    "root": {"level": "INFO", "handlers": ["console"]},
}
logging.config.dictConfig(LOG)

import os

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
INSTALLED_APPS = []
LOGGING = {
    "version": 1,
    "formatters": {"verbose": {"format": "{asctime} {levelname} {name} {message}", "style": "{"}},
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "filename": os.path.join(BASE_DIR, "django.log"),
            "formatter": "verbose",
        }
    },
    "loggers": {"django": {"handlers": ["file"], "level": "INFO"}},
}

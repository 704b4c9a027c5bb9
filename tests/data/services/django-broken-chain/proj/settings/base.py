from .production import *  # noqa: F403  (a cycle back to production)

DEBUG = True
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]
ALLOWED_HOSTS = ["api.example.com"]

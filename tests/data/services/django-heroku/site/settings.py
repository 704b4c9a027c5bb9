import os

import django_heroku

DEBUG = False
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = ["shop.example.com"]
INSTALLED_APPS = ["django.contrib.sessions"]
MIDDLEWARE = ["django.middleware.security.SecurityMiddleware"]

# django-heroku sets ALLOWED_HOSTS = ['*'] (and the database, static files, logging)
django_heroku.settings(locals())

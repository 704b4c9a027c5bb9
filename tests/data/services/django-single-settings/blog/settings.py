# One settings module for everything, as `django-admin startproject` writes it.
DEBUG = True
SECRET_KEY = "django-insecure-not-for-production-0123456789abcdefghijklmn"
ALLOWED_HOSTS = []
ROOT_URLCONF = "blog.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
X_FRAME_OPTIONS = "SAMEORIGIN"
SESSION_COOKIE_HTTPONLY = False

import os

DEBUG = os.getenv("APP_DEBUG", "true")
SECRET_KEY = "django-insecure-k3$9vq!z7w@u2m#x8c1n6b4v0p5r2t9y-a7f"
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///data/app.sqlite3")
GITHUB_TOKEN = "ghp_R8sL2k9Xw3Vn7Tp4Bz6Ym0Qa5Cd1Ef2Gh3Jk"
UPLOAD_DIR = "/tmp/uploads"

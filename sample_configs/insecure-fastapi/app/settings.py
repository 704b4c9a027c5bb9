import os

DEBUG = os.getenv("APP_DEBUG", "true")
DATABASE_URL = os.getenv("DATABASE_URL", "sqlite:///data/app.sqlite3")
UPLOAD_DIR = "/tmp/uploads"

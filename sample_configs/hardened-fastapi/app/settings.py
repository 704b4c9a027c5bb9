import os

DEBUG = os.getenv("APP_DEBUG", "false").lower() == "true"
DATABASE_URL = os.environ["DATABASE_URL"]
FRONTEND_ORIGIN = os.getenv("FRONTEND_ORIGIN", "https://app.example.com")

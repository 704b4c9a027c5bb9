from fastapi import FastAPI
from starlette.middleware.base import BaseHTTPMiddleware  # noqa: F401

app = FastAPI()

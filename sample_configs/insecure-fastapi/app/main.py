"""Sample service with the mistakes hardcheck exists to catch. Do not deploy."""

from fastapi import FastAPI, Request, UploadFile
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

app = FastAPI(title="insecure sample", debug=True)

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)


@app.get("/")
async def index() -> JSONResponse:
    response = JSONResponse({"service": "insecure-fastapi"})
    response.headers["Server"] = "uvicorn/0.30.0 Python/3.11"
    response.set_cookie("sessionid", "demo-session", samesite="none")
    return response


@app.post("/upload")
async def upload(file: UploadFile) -> dict:
    data = await file.read()
    return {"filename": file.filename, "size": len(data)}


@app.get("/export")
async def export(token: str) -> dict:
    # the credential travels in the query string, so every access log records it
    return {"export": "ok", "authorised": bool(token)}


@app.post("/echo")
async def echo(request: Request) -> dict:
    body = await request.body()
    return {"size": len(body)}

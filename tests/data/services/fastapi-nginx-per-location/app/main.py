from fastapi import FastAPI, UploadFile

app = FastAPI()


@app.post("/upload/")
async def upload(file: UploadFile):
    return {"name": file.filename}

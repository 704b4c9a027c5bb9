"""A small Flask service whose upload settings hardcheck reads statically."""

from flask import Flask, request

app = Flask(__name__)
app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024  # above the 10 MiB policy: reported
app.config["MAX_FORM_PARTS"] = 500
app.config["SECRET_KEY_FILE"] = "/run/secrets/flask_key"


@app.post("/upload")
def upload():
    f = request.files["file"]
    return {"name": f.filename}

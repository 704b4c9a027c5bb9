from flask import Flask, request

app = Flask(__name__)


@app.post("/import")
def import_csv():
    return str(len(request.get_data()))

"""The hello-world baseline: the least a Flask app can answer, served exactly like the services.

``run.py`` serves it with gunicorn under the services' own settings (``hello_gunicorn.conf.py``) behind an nginx
of its own rendered from the gateway's templates, so every figure of a run can be given as a ratio to it.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def hello(path: str):
    return {"status": "ok", "hello": "world"}

"""The baseline for every ratio: a Flask app on the same gunicorn config that only decodes the JSON body.

Its one POST route (any path, so the same URLs work) reads the body, decodes it with the standard json module as
ALP Guard does, and answers `{"cards": []}`. `GET /` answers 200 for the readiness probe.

    .venv/bin/gunicorn --config gunicorn.conf.py --pythonpath bench baseline_app:app
"""

from __future__ import annotations

import json

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def ready():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


@app.post("/<path:_path>")
def no_cards(_path: str):  # type: ignore[no-untyped-def]
    body = json.loads(request.get_data(cache=False))
    if not isinstance(body, dict):
        return jsonify({"error": "the request body is not a JSON object"}), 400
    return jsonify({"cards": []})

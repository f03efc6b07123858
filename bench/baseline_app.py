"""The baseline for every ratio: a Flask app on the same gunicorn config that only decodes the JSON body.

Its POST route (any path, so the same URLs work) reads the body, decodes it with the standard json module as
ALP Guard does, and answers `{"cards": []}`. `GET /` answers 200 for the readiness probe.

A second, informative baseline sits under `/validating/…`: it also parses every prefetch resource with its
fhir.resources R4B model, whole, which is what "read the FHIR data with fhir.resources" costs before any rule.

    .venv/bin/gunicorn --config gunicorn.conf.py --pythonpath bench baseline_app:app
"""

from __future__ import annotations

import json

from fhir.resources.R4B import get_fhir_model_class
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/")
def ready():
    return jsonify({"status": "ok"})


@app.post("/<path:_path>")
def no_cards(_path: str):
    body = json.loads(request.get_data(cache=False))
    if not isinstance(body, dict):
        return jsonify({"error": "the request body is not a JSON object"}), 400
    return jsonify({"cards": []})


@app.post("/validating/<path:_path>")
def validated_no_cards(_path: str):
    body = json.loads(request.get_data(cache=False))
    if not isinstance(body, dict):
        return jsonify({"error": "the request body is not a JSON object"}), 400
    for value in (body.get("prefetch") or {}).values():
        if not isinstance(value, dict):
            continue
        entries = value.get("entry") or [] if value.get("resourceType") == "Bundle" else [{"resource": value}]
        for entry in entries:
            resource = entry["resource"]
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return jsonify({"cards": []})

"""The class server's guard on write requests (``guard``): MLflow's permission check and
its handler must read a request's fields from the same place, so a write to the REST API whose
body is not JSON, or that names fields both in its query string and in its body, is refused
(400) by a Flask before-request hook that runs before MLflow's permission check."""

from __future__ import annotations

import re

API_PATH = re.compile(r"/(ajax-)?api/\d+\.\d+/mlflow/")
# Not JSON by design, and read from one place by check and handler alike: MLflow's sign-up page
# posts a form; the UI's upload sends the file as the body, its run and path in the query.
RAW_BODIES = ("/mlflow/users/create-ui", "/mlflow/upload-artifact")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def refuse_two_readings():
    """Flask before-request hook (see the module's text); None lets the request go on."""
    from flask import jsonify, request

    problem = _two_readings(request)
    if problem is None:
        return None
    response = jsonify({"error_code": "INVALID_PARAMETER_VALUE", "message": problem})
    response.status_code = 400
    return response


def _two_readings(request) -> str | None:
    if request.method not in WRITES or not API_PATH.search(request.path):
        return None
    if request.path.endswith(RAW_BODIES):
        return None
    body = request.get_data(cache=True)
    if not body.strip():
        return None
    if not request.is_json:
        return (
            "A write request's body must be JSON (Content-Type: application/json): MLflow's "
            "permission check and its handler would read its fields from different places."
        )
    if not isinstance(request.get_json(silent=True), dict):
        return "A write request's body must be a JSON object."
    if request.args:
        return (
            "A write request names its fields in its JSON body only, not also in its query "
            f"string ({', '.join(sorted(request.args))[:200]})."
        )
    return None

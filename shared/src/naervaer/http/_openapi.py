"""OpenAPI that tells the truth about errors: problem documents, not FastAPI's defaults.

FastAPI documents 422 as ``HTTPValidationError`` in ``application/json`` on every route with
parameters; our handlers answer ``application/problem+json``. Contract tests (schemathesis) and
client generators read the document, so it is corrected here once for every service.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from naervaer.http._model import PROBLEM_MEDIA_TYPE, Problem

PROBLEM_SCHEMA_REF = "#/components/schemas/Problem"
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_SCHEMA_REF}}}
_BODY_ERRORS = {
    "400": "Malformed request body (not JSON).",
    "413": "Request body larger than the service accepts.",
}


def use_problem_schemas(app: FastAPI) -> None:
    """Patch ``app.openapi`` so errors are documented as problem documents."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    patched: list[dict[str, Any]] = []  # the document already rewritten, if any

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None and any(app.openapi_schema is p for p in patched):
            return app.openapi_schema
        schema = generate()
        _add_problem_components(schema)
        for operation in _operations(schema):
            _document_problems(operation)
        _drop_unused_validation_schemas(schema)
        app.openapi_schema = schema
        patched[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override hook


def _add_problem_components(schema: dict[str, Any]) -> None:
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema


def _operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
    return [
        operation
        for path_item in schema.get("paths", {}).values()
        for method, operation in path_item.items()
        if method in methods
    ]


def _document_problems(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for response in responses.values():
        content = response.get("content", {})
        json_schema = content.get("application/json", {}).get("schema", {})
        if json_schema.get("$ref", "").endswith("/HTTPValidationError"):
            response["content"] = dict(_PROBLEM_CONTENT)
    if "requestBody" in operation:
        for status, description in _BODY_ERRORS.items():
            responses.setdefault(status, {"description": description, "content": _PROBLEM_CONTENT})


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    # Only when no route documents them explicitly any more.
    if "/schemas/HTTPValidationError" in json.dumps(schema.get("paths", {})):
        return
    schemas = schema.get("components", {}).get("schemas", {})
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)

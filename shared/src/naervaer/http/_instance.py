"""A problem's ``instance``: the request's path, without the personal identifiers in it.

Problem documents are logged, traced and shown by clients, so they must not say whom a request
was about: a path such as ``/v1/employees/emp-4711/legal-hold`` is answered with the instance
``/v1/employees/{employee_id}/legal-hold``. Ids that name no person (case ids, random UUIDs;
document ids) stay, so the instance still points at the resource.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.convertors import PathConvertor
from starlette.types import Scope

PERSONAL_PATH_PARAMS = frozenset({"employee_id", "party_id", "manager_id"})
"""Path parameters that name a person (arbeidstaker, leder, mottaker): never echoed."""
_PERSONAL = re.compile(r"\{(" + "|".join(sorted(PERSONAL_PATH_PARAMS)) + r")\}")


def problem_instance(scope: Scope) -> str | None:
    """The request's path with each segment holding a personal parameter replaced by its name."""
    path: str | None = scope.get("path")
    if path is None:
        return None
    route = scope.get("route")
    template = getattr(route, "path_format", None) if route else _documented(scope, path)
    if not isinstance(template, str) or not _PERSONAL.search(template):
        return path
    return _masked(path, template, route)


def _documented(scope: Scope, path: str) -> str | None:
    """The documented path the request fits, for answers given before routing (a rate limit):
    one naming a person if any does, so an ambiguous path is masked rather than echoed."""
    openapi = getattr(scope.get("app"), "openapi", None)
    if not callable(openapi):
        return None
    root = scope.get("root_path", "")
    asked = path[len(root) :] if root and path.startswith(root) else path
    fitting = [t for t in openapi().get("paths", {}) if _fits(asked.split("/"), t.split("/"))]
    return next((t for t in fitting if _PERSONAL.search(t)), next(iter(fitting), None))


def _fits(segments: list[str], pattern: list[str]) -> bool:
    return len(segments) == len(pattern) and all(
        part == segment or (part.startswith("{") and part.endswith("}"))
        for part, segment in zip(pattern, segments, strict=True)
    )


def _masked(path: str, template: str, route: Any) -> str:
    segments, pattern = path.split("/"), template.split("/")
    convertors = getattr(route, "param_convertors", {}).values()
    if len(segments) < len(pattern) or any(isinstance(c, PathConvertor) for c in convertors):
        return template  # segments do not line up: give the template, never the values
    offset = len(segments) - len(pattern)  # the app's root path comes first
    for index, part in enumerate(pattern):
        if _PERSONAL.search(part):
            segments[offset + index] = part
    return "/".join(segments)

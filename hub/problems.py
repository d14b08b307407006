"""The one JSON error model of the API, documented on every operation (issue 13 item 11).

Every 4xx/5xx the API answers has the shape ``{"detail": "<reason>"}``; a 422 adds
``errors``, one per field, with the field's path, an error type and a message — never the
submitted value. The OpenAPI document declares exactly this model for 400, 401, 403, 404,
409, 413, 422, 429 and 503 on every operation, so that a client (and schemathesis) can rely on it.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field

from hub.auth import current_principal, get_store


class FieldError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="the field's path, e.g. `subject.cpr` or `<body>`")
    type: str = Field(description="a machine-readable error type")
    message: str = Field(description="what is wrong, never the submitted value")


class ErrorBody(BaseModel):
    """An error answer. ``detail`` is a reason that echoes no personal data."""

    model_config = ConfigDict(extra="forbid")

    detail: str
    errors: list[FieldError] | None = Field(
        None, description="422 only: one entry per invalid field")


_DESCRIPTIONS = {
    400: "Malformed request: a body that cannot be decoded or a bad Content-Length",
    401: "Missing, unknown or revoked bearer token",
    403: "The caller's role or agency may not do this",
    404: "Unknown (or not visible to the caller)",
    409: "Conflicts with an existing resource (e.g. an event id another agency used)",
    413: "The request body exceeds this route's cap",
    422: "Invalid request: one entry per field in `errors`, never the value",
    429: "Too many requests; see Retry-After",
    503: "A dependency (broker, disclosure log) or an upload slot is unavailable; "
         "see Retry-After",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries with :class:`ErrorBody` for ``codes``."""
    return {code: {"model": ErrorBody, "description": _DESCRIPTIONS[code]} for code in codes}


# Declared on every operation (FastAPI(responses=…)): the middleware can answer any of them
# before a route runs (401 without a token, 413, 429, 503 for a full upload slot).
COMMON_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)


def reject_unknown_query(request: Request) -> None:
    """Default deny for query strings (DESIGN §7): a parameter the operation does not declare
    is refused with 422 — never silently ignored — on every operation in the OpenAPI
    document. The answer counts them and never names them (a name is caller-chosen text).
    A parameter that takes one value and is given several (``?reason=a&reason=b``) is
    refused too, naming it: FastAPI would silently keep the last one."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    params = _query_params(route.dependant)
    declared = {p.alias for p in params}
    unknown = {name for name in request.query_params if name not in declared}
    repeated = sorted(name for name in _single_valued(params)
                      if len(request.query_params.getlist(name)) > 1)
    if unknown:
        _authenticate_first(request, route.dependant)
        raise RequestValidationError([{
            "loc": ("query",), "type": "unknown_parameter",
            "msg": f"{len(unknown)} query parameter(s) this operation does not take"}])
    if repeated:
        _authenticate_first(request, route.dependant)
        raise RequestValidationError([{
            "loc": ("query", name), "type": "repeated_parameter",
            "msg": "takes one value but was given more than once"} for name in repeated])


def _authenticate_first(request: Request, dependant: Dependant) -> None:
    """Who asks is settled before what they ask: on an operation that needs a principal, a
    missing or unknown token is the 401 the operation would answer (and is recorded as such),
    not a 422 for its query string."""
    if not _needs(dependant, current_principal):
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    creds = HTTPAuthorizationCredentials(scheme=scheme, credentials=token.strip()) \
        if scheme and token.strip() else None
    current_principal(request, get_store(request), creds)


def _needs(dependant: Dependant, call: Any) -> bool:
    return any(sub.call is call or _needs(sub, call) for sub in dependant.dependencies)


def _single_valued(params: list[Any]) -> set[str]:
    """The names of the query parameters that take one value (not a list, tuple or set)."""
    many = (list, tuple, set, frozenset)
    names = set()
    for p in params:
        annotation = p.field_info.annotation
        if not any(a in many or get_origin(a) in many
                   for a in (annotation, *get_args(annotation))):
            names.add(p.alias)
    return names


def _query_params(dependant: Dependant) -> list[Any]:
    """The operation's declared query parameters, its dependencies' included."""
    params = list(dependant.query_params)
    for sub in dependant.dependencies:
        params += _query_params(sub)
    return params

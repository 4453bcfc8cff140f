"""Turn domain errors and framework errors into one JSON shape; never leak a stack trace."""

from __future__ import annotations

import logging
import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from backend.core.errors import AppError, RateLimitedError

logger = logging.getLogger("backend.errors")

HTTP_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_file",
    429: "rate_limited",
}


def _body(code: str, message: str, field: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field, "details": details}


def app_error_handler(_request: Request[Any, Any, Any], error: AppError) -> Response[Any]:
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    return Response(
        _body(error.code, error.message, error.field, error.details),
        status_code=error.status_code,
        headers=headers,
    )


_BACKTICKED = re.compile(r"`([^`]+)`")


def validation_exception_handler(
    _request: Request[Any, Any, Any], error: ValidationException
) -> Response[Any]:
    # Litestar reports body and parameter problems as a list of {message, key, source}.
    problems = error.extra if isinstance(error.extra, list) else []
    parts = []
    field = None
    for problem in problems:
        if isinstance(problem, dict):
            key = problem.get("key")
            # A body problem has the key "data"; msgspec names the field itself in
            # backticks ("Object missing required field `password`"), which is more useful.
            named = _BACKTICKED.search(str(problem.get("message", "")))
            if key == "data" and named:
                key = named.group(1)
            field = field or key
            parts.append(f"{key}: {problem.get('message')}" if key else str(problem.get("message")))
    message = "Invalid request: " + ("; ".join(parts) if parts else str(error.detail))
    return Response(_body("validation_error", message, field, problems or None), status_code=400)


def http_exception_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    code = HTTP_CODES.get(error.status_code, "error")
    message = str(error.detail)
    if error.status_code == 404 and message == "Not Found":
        message = (
            f"Nothing is at {request.url.path}; check the address and the id in it (ids are UUIDs)."
        )
    elif error.status_code == 405 and message == "Method Not Allowed":
        message = f"{request.method} is not allowed on {request.url.path}."
    if isinstance(error.__cause__, SerializationException):
        # Litestar re-raises a body that msgspec cannot decode with msgspec's bare message,
        # such as "Input data was truncated", which does not say that the body was at fault.
        message = f"The request body is not valid JSON ({message}); send a JSON object."
    return Response(
        _body(code, message),
        status_code=error.status_code,
        headers=error.headers or None,
    )


def internal_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    logger.error(
        "unhandled error",
        exc_info=error,
        extra={"path": request.url.path, "error": type(error).__name__},
    )
    return Response(
        _body("internal_error", "Something went wrong on the server; the error was logged."),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    AppError: app_error_handler,
    ValidationException: validation_exception_handler,
    HTTPException: http_exception_handler,
    HTTP_500_INTERNAL_SERVER_ERROR: internal_error_handler,
    Exception: internal_error_handler,
}

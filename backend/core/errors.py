"""Domain errors raised by services and workers.

Services never import Litestar: they raise these, and one exception handler in the app
turns each into a JSON response ``{"code", "message", "field", "details"}`` with the
status below. Messages are written for the operator: they name the value and the fix.

    AppError                        500  base class, never raised directly
    ├── ValidationError             400  bad input; ``field`` names the input
    │   └── UnsupportedFileError    415  an upload that is not CSV, TSV, XLSX, XLS or ODS
    ├── AuthenticationError         401  no session, expired token, wrong password
    ├── PermissionDeniedError       403  CSRF or Origin check failed
    ├── NotFoundError               404  missing, or owned by another account
    ├── ConflictError               409  the object is in the wrong state for the action
    ├── PayloadTooLargeError        413  an upload above the configured limit
    ├── RateLimitedError            429  too many attempts; ``retry_after`` in seconds
    └── ServiceUnavailableError     503  a dependency (database, Redis) is down
"""

from __future__ import annotations

from typing import Any, ClassVar


class AppError(Exception):
    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class ValidationError(AppError):
    status_code = 400
    code = "validation_error"


class UnsupportedFileError(ValidationError):
    status_code = 415
    code = "unsupported_file"


class AuthenticationError(AppError):
    status_code = 401
    code = "not_authenticated"


class PermissionDeniedError(AppError):
    status_code = 403
    code = "permission_denied"


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"


class ConflictError(AppError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(AppError):
    status_code = 413
    code = "payload_too_large"


class RateLimitedError(AppError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field, details={"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "service_unavailable"

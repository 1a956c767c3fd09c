"""Errors are declared here once, by meaning; each provider renders them in its own envelope."""

from __future__ import annotations

from typing import Any, ClassVar


class MockError(Exception):
    """A client-visible failure. ``status`` and ``kind`` are class data; rendering is the provider's job."""

    status: ClassVar[int] = 400
    kind: ClassVar[str] = "invalid_request"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, message={self.message!r})"


class InvalidRequest(MockError):
    status = 400
    kind = "invalid_request"


class Unauthenticated(MockError):
    status = 401
    kind = "authentication"


class PaymentRequired(MockError):
    status = 402
    kind = "payment_required"


class PermissionDenied(MockError):
    status = 403
    kind = "permission"


class NotFound(MockError):
    status = 404
    kind = "not_found"


class MethodNotAllowed(MockError):
    status = 405
    kind = "method_not_allowed"


class RequestTimeout(MockError):
    """The client stopped sending the request body (see Timeouts.body_read)."""

    status = 408
    kind = "request_timeout"


class Conflict(MockError):
    status = 409
    kind = "conflict"


class PayloadTooLarge(MockError):
    """A body over the configured limit (checked while it streams in), or a storage quota that is full."""

    status = 413
    kind = "payload_too_large"


class Unprocessable(MockError):
    status = 422
    kind = "unprocessable"


class RateLimited(MockError):
    status = 429
    kind = "rate_limit"


class ServerError(MockError):
    status = 500
    kind = "server"


class BadGateway(MockError):
    status = 502
    kind = "server"


class ServiceUnavailable(MockError):
    status = 503
    kind = "server"


class GatewayTimeout(MockError):
    status = 504
    kind = "server"


class NotImplementedYet(MockError):
    status = 501
    kind = "not_implemented"


BY_STATUS: dict[int, type[MockError]] = {
    cls.status: cls
    for cls in (
        InvalidRequest, Unauthenticated, PaymentRequired, PermissionDenied, NotFound, MethodNotAllowed,
        RequestTimeout, Conflict, PayloadTooLarge, Unprocessable, RateLimited, ServerError, BadGateway, ServiceUnavailable, NotImplementedYet,
    )
}


def error_for_status(status: int, message: str, **kwargs: Any) -> MockError:
    """An error of the class declared for ``status`` (used by fault injection)."""
    return BY_STATUS.get(status, ServerError)(message, **kwargs)

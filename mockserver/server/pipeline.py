"""One request through one provider: route -> guard -> auth -> validate -> handler -> check the response."""

from __future__ import annotations

import logging
import traceback

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .. import __version__
from . import faults
from .logs import ACCESS_SCOPE_KEY
from ..core.engine import ContractViolation, Engine, JournalEntry, Violation
from ..core.errors import MockError, ServerError
from ..config.faults import Fault
from ..providers.base import Call, Provider
from ..spec.loader import Operation, Spec
from ..spec.routing import OperationRouter
from ..spec.validation import parse_request, response_problems

log = logging.getLogger("mockserver")


class StartupError(Exception):
    """The server cannot start: a spec operation has neither a handler nor an 'unsupported' entry."""


def check_coverage(provider: Provider, spec: Spec) -> None:
    ops = {op.operation_id for op in spec.operations}
    missing = sorted(ops - set(provider.handlers) - set(provider.unsupported))
    if missing:
        raise StartupError(f"{provider.name}: operations in {spec.path.name} without a handler: {', '.join(missing)}")
    unknown = sorted((set(provider.handlers) | set(provider.unsupported)) - ops)
    if unknown:
        raise StartupError(f"{provider.name}: handlers for operations not in {spec.path.name}: {', '.join(unknown)}")


class ProviderApp:
    """The ASGI app mounted at a provider's prefix."""

    def __init__(self, provider: Provider, spec: Spec, engine: Engine) -> None:
        check_coverage(provider, spec)
        self.provider = provider
        self.spec = spec
        self.engine = engine
        self.router = OperationRouter(spec.operations)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        path = scope["path"][len(scope.get("root_path", "")) :] if scope.get("root_path") else scope["path"]
        response, call, fault = await self._handle(request, path)
        access = scope.get(ACCESS_SCOPE_KEY)  # set by the access log (server/logs.py) when it is on
        if access is not None:
            access.update(provider=self.provider.name, operation=call.operation.operation_id if call else None)
        if response is None:  # a fault drops the connection: nothing is sent
            self._journal(request, path, call, 0, fault)
            await faults.drop_connection(receive)
            return
        response.headers.setdefault("X-Mock-Server", f"mockserver/{__version__}")
        if self.provider.decorate is not None:
            self.provider.decorate(call, response)
        if fault is None:  # a fault's answer is deliberate, not the fake breaking its spec
            self._check(call, response)
        self._journal(request, path, call, response.status_code, fault)
        await response(scope, receive, send)

    def _journal(self, request: Request, path: str, call: Call | None, status: int, fault: Fault | None) -> None:
        self.engine.record(
            JournalEntry(
                at=self.engine.now(), provider=self.provider.name,
                operation=call.operation.operation_id if call else None, method=request.method,
                path=path, query=request.url.query, status=status,
                namespace=call.namespace if call else None, fault=fault.id if fault else None,
            )
        )

    async def _handle(self, request: Request, path: str) -> tuple[Response | None, Call | None, Fault | None]:
        """The response, the call (None if routing failed) and the fault that answered instead (if any);
        no response means the fault drops the connection."""
        call: Call | None = None
        try:
            operation, path_params = self.router.match(request.method, path)
            call = Call(self.provider, operation, request, self.engine, path_params)
            call.request_id = self.engine.ids.hex("req_")
            hit = self.engine.faults.pick(self.provider.name, operation.operation_id, self.engine.settings.seed)
            for fault in hit:
                await faults.delay(fault, self.engine.settings.seed)
            if hit and hit[-1].drop:
                return None, call, hit[-1]
            if hit and hit[-1].status is not None:
                return faults.render(hit[-1], self.provider, self.engine.now()), call, hit[-1]
            if self.provider.guard is not None:
                self.provider.guard(call)
            call.namespace = self.provider.authenticate(request.headers, self.engine.settings)
            call.params = await parse_request(operation, request, path_params)
            if operation.operation_id in self.provider.unsupported:
                raise MockError(f"{operation.label} is not supported by the mock: {self.provider.unsupported[operation.operation_id]}")
            response = await self.provider.handlers[operation.operation_id](call)
            return response, call, None
        except MockError as error:
            return self.provider.render_error(error), call, None
        except ContractViolation:
            raise
        except Exception:
            log.error("unhandled error in %s %s:\n%s", request.method, path, traceback.format_exc())
            if self.engine.settings.response_validation == "strict":
                raise
            return self.provider.render_error(ServerError("An unexpected error occurred in the mock server.")), call, None

    def _check(self, call: Call | None, response: Response) -> None:
        if call is None or self.engine.settings.response_validation == "off":
            return
        operation: Operation = call.operation
        body = getattr(response, "body", b"")
        problems = response_problems(operation, response.status_code, dict(response.headers), body)
        if not problems:
            return
        violation = Violation(self.provider.name, operation.label, response.status_code, tuple(problems))
        self.engine.record_violation(violation)
        log.warning("response breaks %s spec: %s", self.provider.name, violation)
        if self.engine.settings.response_validation == "strict":
            raise ContractViolation(f"{self.provider.name} {operation.label} -> {response.status_code}: {'; '.join(problems)}")

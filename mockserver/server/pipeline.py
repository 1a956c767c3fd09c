"""One request through one provider: route -> guard -> auth -> validate -> handler -> check the response."""

from __future__ import annotations

import importlib
import logging
import traceback

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .. import __version__
from ..config.faults import Fault
from ..core.engine import ContractViolation, Engine, JournalEntry, Violation
from ..core.errors import MockError, ServerError
from ..core.hostile import MAX_MESSAGE, safe_text
from ..core.quota import check_quota
from ..providers.base import Call, Provider
from ..spec.loader import Operation, Spec
from ..spec.routing import OperationRouter
from ..spec.validation import NO_DATA, compile_operation, parse_request, response_problems
from . import faults
from .limits import MULTIPART_OVERHEAD, BodyBudget
from .logs import ACCESS_SCOPE_KEY

# the fake's own guards (body too large, too slow, storage full): deliberate answers, not checked against the spec
UNCHECKED_STATUSES = frozenset({408, 413})

log = logging.getLogger("mockserver")

# anyio imports its asyncio backend on the first call that runs work in a thread (an upload's spooled file):
# imported here, with the server, so the first upload does not spend ~0.15 s importing it on the event loop
try:
    importlib.import_module("anyio._backends._asyncio")
except ImportError:  # pragma: no cover - another anyio layout: it is imported on first use, as before
    pass


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
        self.server_header = f"mockserver/{__version__}"
        for operation in spec.operations:  # every schema compiled and every pointer resolved now, not per request
            compile_operation(operation)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        settings = self.engine.settings
        budget = BodyBudget(receive, self.provider.body_limit(settings), settings.timeouts.body_read)
        request = Request(scope, budget)
        path = scope["path"][len(scope.get("root_path", "")) :] if scope.get("root_path") else scope["path"]
        response, call, fault = await self._handle(request, path, budget)
        access = scope.get(ACCESS_SCOPE_KEY)  # set by the access log (server/logs.py) when it is on
        if access is not None:
            access.update(provider=self.provider.name, operation=call.operation.operation_id if call else None)
        try:
            await self._answer(request, path, response, call, fault, scope, receive, send)
        finally:
            # an upload's spooled temporary file is closed in a worker thread: left to the garbage collector it
            # is closed on the event loop, and closing a 512 MiB file blocks it for ~100 ms (issue 12)
            await request.close()

    async def _answer(self, request: Request, path: str, response: Response | None, call: Call | None, fault: Fault | None,
                      scope: Scope, receive: Receive, send: Send) -> None:
        if response is None:  # a fault drops the connection: nothing is sent
            self._journal(request, path, call, 0, fault)
            await faults.drop_connection(receive)
            return
        response.headers.setdefault("X-Mock-Server", self.server_header)
        if response.status_code in UNCHECKED_STATUSES and scope.get("type") == "http":
            response.headers["Connection"] = "close"  # the rest of a refused body is not read: end the connection
        if self.provider.decorate is not None:
            self.provider.decorate(call, response)
        if fault is None and response.status_code not in UNCHECKED_STATUSES:  # a fault's answer is deliberate
            self._check(call, response)
        self._journal(request, path, call, response.status_code, fault)
        await response(scope, receive, send)

    def _journal(self, request: Request, path: str, call: Call | None, status: int, fault: Fault | None) -> None:
        self.engine.record(
            JournalEntry(
                at=self.engine.now(), provider=self.provider.name,
                operation=call.operation.operation_id if call else None, method=request.method,
                path=path, query=request.scope.get("query_string", b"").decode("latin-1"), status=status,
                namespace=call.namespace if call else None, fault=fault.id if fault else None,
            )
        )

    async def _handle(self, request: Request, path: str, budget: BodyBudget) -> tuple[Response | None, Call | None, Fault | None]:
        """The response, the call (None if routing failed) and the fault that answered instead (if any);
        no response means the fault drops the connection."""
        call: Call | None = None
        try:
            operation, path_params = self.router.match(request.method, path)
            call = Call(self.provider, operation, request, self.engine, path_params)
            call.request_id = self.engine.ids.counted("req_")
            await self.engine.store.refresh()  # durable state: faults, scenarios, clock as another process left them
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
            await self._read_bounded(call, budget)
            if operation.operation_id in self.provider.unsupported:
                raise MockError(f"{operation.label} is not supported by the mock: {self.provider.unsupported[operation.operation_id]}")
            response = await self._run_handler(call, request.method)
            return response, call, None
        except MockError as error:
            return self.provider.render_error(tamed(error)), call, None
        except ContractViolation:
            raise
        except Exception:
            log.error("unhandled error in %s %s:\n%s", request.method, path, traceback.format_exc())
            if self.engine.settings.response_validation == "strict":
                raise
            return self.provider.render_error(ServerError("An unexpected error occurred in the mock server.")), call, None

    async def _read_bounded(self, call: Call, budget: BodyBudget) -> None:
        """Parse the request with its body under a budget: a multipart upload up to the provider's file limit,
        anything else up to the JSON body limit, refused while it streams in (issue 12); then the storage quota."""
        settings = self.engine.settings
        request = call.request
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "multipart/form-data":
            budget.expect(self.provider.upload_limit(settings) + MULTIPART_OVERHEAD, "upload (multipart body)")
        else:
            budget.expect(self.provider.body_limit(settings), "request body")
        declared = budget.check_declared(request.headers)
        # the quota is counted from the state; a durable store is read inside the handler's transaction instead
        storing = request.method in ("POST", "PUT", "PATCH") and not self.engine.store.durable
        if storing and declared:
            check_quota(self.engine, self.provider.name, call.namespace, declared)
        call.params = await parse_request(call.operation, request, call.path_params, max_depth=settings.limits.max_json_depth)
        call.body_bytes = budget.read
        if storing and budget.read:
            check_quota(self.engine, self.provider.name, call.namespace, budget.read)

    async def _run_handler(self, call: Call, method: str) -> Response:
        """The handler in one transaction of the state (a no-op in memory): a write is committed before its
        answer is sent, and only if the answer is a success; a GET writes nothing unless it draws an id."""
        handler = self.provider.handlers[call.operation.operation_id]
        if not self.engine.store.durable:
            return await handler(call)
        write = method not in ("GET", "HEAD", "OPTIONS")

        async def work() -> Response:
            if method in ("POST", "PUT", "PATCH") and call.body_bytes:
                check_quota(self.engine, self.provider.name, call.namespace, call.body_bytes)
            return await handler(call)

        return await self.engine.store.atomically(work, write, lambda response: response.status_code < 400)

    def _check(self, call: Call | None, response: Response) -> None:
        """The response against the spec: the object a JSON answer was made from (JSONBody.data), checked
        once by the compiled validator, else the body's bytes."""
        if call is None or self.engine.settings.response_validation == "off":
            return
        operation: Operation = call.operation
        body = getattr(response, "body", b"")
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in response.raw_headers}
        problems = response_problems(operation, response.status_code, headers, body, getattr(response, "data", NO_DATA))
        if not problems:
            return
        violation = Violation(self.provider.name, operation.label, response.status_code, tuple(problems))
        self.engine.record_violation(violation)
        log.warning("response breaks %s spec: %s", self.provider.name, violation)
        if self.engine.settings.response_validation == "strict":
            raise ContractViolation(f"{self.provider.name} {operation.label} -> {response.status_code}: {'; '.join(problems)}")


def tamed(error: MockError) -> MockError:
    """The error with a message and param that are short and always encodable (a hostile value never comes
    back whole, and a lone surrogate cannot break the envelope)."""
    error.message = safe_text(error.message, MAX_MESSAGE)
    if error.param is not None:
        error.param = safe_text(error.param, 200)
    return error

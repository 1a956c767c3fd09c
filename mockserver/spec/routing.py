"""Match a method and path against a spec's operations: static segments beat parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import MethodNotAllowed, NotFound
from .loader import Operation

_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass
class _Route:
    template: str
    regex: re.Pattern[str]
    names: list[str]
    operations: dict[str, Operation]

    @property
    def specificity(self) -> tuple[int, int]:
        static = len(_PARAM.sub("", self.template))
        return (-self.template.count("/"), -static)


class OperationRouter:
    def __init__(self, operations: list[Operation]) -> None:
        by_template: dict[str, _Route] = {}
        for op in operations:
            if op.path not in by_template:
                names = _PARAM.findall(op.path)
                pattern = "^" + "([^/]+)".join(re.escape(part) for part in _PARAM.split(op.path)[::2]) + "$"
                by_template[op.path] = _Route(op.path, re.compile(pattern), names, {})
            by_template[op.path].operations[op.method] = op
        self.routes = sorted(by_template.values(), key=lambda r: r.specificity)
        # a path without parameters, matched exactly, is the most specific route for it: one dict lookup
        self.static = {route.template: route.operations for route in self.routes if not route.names}

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]]:
        exact = self.static.get(path)
        if exact is not None:
            op = exact.get(method) or exact.get(method.upper())
            if op is not None:
                return op, {}
        allowed: set[str] | None = None
        for route in self.routes:
            m = route.regex.match(path)
            if not m:
                continue
            params = dict(zip(route.names, m.groups()))
            op = route.operations.get(method.upper())
            if op is None and method.upper() == "HEAD":
                op = route.operations.get("GET")
            if op is not None:
                return op, params
            if allowed is None:
                allowed = set(route.operations)
        if allowed is not None:
            allow = ", ".join(sorted(allowed))
            raise MethodNotAllowed(f"Method {method.upper()} not allowed on {path} (allowed: {allow}).", headers={"Allow": allow})
        raise NotFound(f"Invalid URL ({method.upper()} {path})")


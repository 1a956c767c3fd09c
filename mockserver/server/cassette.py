"""Cassettes: recorded exchanges as JSON lines, with large bodies stored beside them (issue 22).

One line per exchange::

    {"seq": 1, "provider": "anyapi", "operation": "createBatch", "started_at": "...Z", "duration_ms": 12.5,
     "request": {"method": "POST", "path": "/anyapi/v1/batches", "query": "", "headers": [[name, value]], "body": BODY},
     "response": {"status": 200, "headers": [[name, value]], "body": BODY},
     "upstream_error": null, "problems": []}

``BODY`` is ``{"text": "..."}`` (UTF-8 as sent), ``{"base64": "..."}`` (other bytes) or, from ``INLINE_LIMIT``
bytes on, ``{"file": "bodies/<sha256>.bin", "bytes": N, "sha256": "..."}`` beside the cassette. ``response`` is
what the client got: the upstream's answer, or the proxy's own error when the upstream could not answer
(``upstream_error`` says why). Secrets (credential headers, the spec's secret fields, and every value seen in
them) are replaced by ``REDACTED`` before anything is written, by one ``Redactor``; replay matches a request
by method, path, query and its body normalised by the same rules (``match_key``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from ..spec.loader import Spec

REDACTED = "[REDACTED]"
INLINE_LIMIT = 64 * 1024
BODIES = "bodies"
# always secret, whatever a spec says (a recorder adds its own prefixes: record/proxy.py)
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie"})
# body fields that are secret wherever they appear, besides those a spec marks (format: password, writeOnly, x-secret)
SECRET_FIELDS = frozenset({"secret", "api_key", "apikey", "password", "client_secret", "webhook_secret"})
# headers that describe one connection, not the answer: never recorded, never replayed
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length", "host"})
_MIN_SECRET = 8  # shorter values are not scrubbed elsewhere (they would hit ordinary words); their own field is still redacted
AUTH_SCHEMES = frozenset({"bearer", "basic", "token", "apikey", "key"})


def spec_secrets(spec: Spec) -> tuple[set[str], set[str], set[str]]:
    """What ``spec`` marks as secret: header names and query names of its apiKey security schemes, and the names of
    body properties whose schema is ``format: password``, ``writeOnly`` or ``x-secret``."""
    headers: set[str] = set()
    query: set[str] = set()
    for scheme in spec.document.get("components", {}).get("securitySchemes", {}).values():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey" and isinstance(scheme.get("name"), str):
            (headers if scheme.get("in") == "header" else query).add(scheme["name"].lower())
    fields: set[str] = set()
    stack: list[Any] = [spec.document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for name, schema in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
                if isinstance(schema, dict) and (schema.get("format") == "password" or schema.get("writeOnly") or schema.get("x-secret")):
                    fields.add(name)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return headers, query, fields


@dataclass
class Redactor:
    """Replaces secrets in what is written. Every secret value it redacts is remembered, and ``scrub`` replaces
    those values wherever they appear later (an upstream echoing a key, a key in a URL)."""

    headers: frozenset[str] = SECRET_HEADERS
    query: frozenset[str] = frozenset()
    fields: frozenset[str] = SECRET_FIELDS
    prefixes: tuple[str, ...] = ()  # header names starting with one of these are secret too
    seen: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_spec(cls, spec: Spec | None, prefixes: tuple[str, ...] = ()) -> Redactor:
        if spec is None:
            return cls(prefixes=prefixes)
        headers, query, fields = spec_secrets(spec)
        return cls(SECRET_HEADERS | headers, frozenset(query), SECRET_FIELDS | fields, prefixes)

    def secret_header(self, name: str) -> bool:
        lower = name.lower()
        return lower in self.headers or (bool(self.prefixes) and lower.startswith(self.prefixes))

    def remember(self, value: str) -> None:
        """Scrub ``value`` (and, for ``Scheme credentials``, the credentials) from everything written from now on."""
        scheme, _, credentials = value.strip().partition(" ")
        with self._lock:
            for part in (value.strip(), credentials.strip() if scheme.lower() in AUTH_SCHEMES else ""):
                if len(part) >= _MIN_SECRET and part != REDACTED:
                    self.seen.add(part)

    def redact_headers(self, headers: list[tuple[str, str]]) -> list[list[str]]:
        out = []
        for name, value in headers:
            if name.lower() in HOP_BY_HOP:
                continue
            if self.secret_header(name):
                if name.lower() in self.headers:  # a credential: its value is scrubbed wherever it shows up later
                    self.remember(value)  # (not a prefix match: x-portkey-provider: openai must not scrub "openai")
                value = REDACTED
            out.append([name, value])
        return [[name, self.scrub_text(value)] for name, value in out]

    def redact_query(self, query: str) -> str:
        if not query:
            return ""
        pairs = []
        for name, value in parse_qsl(query, keep_blank_values=True):
            if name.lower() in self.query or name in self.fields:
                self.remember(value)
                value = REDACTED
            pairs.append((name, value))
        return self.scrub_text(urlencode(pairs))

    def redact_json(self, value: Any) -> Any:
        """``value`` with every secret field's value replaced (and remembered)."""
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in self.fields and item not in (None, "", REDACTED):
                    if isinstance(item, str):
                        self.remember(item)
                    out[key] = REDACTED
                else:
                    out[key] = self.redact_json(item)
            return out
        if isinstance(value, list):
            return [self.redact_json(item) for item in value]
        return value

    def redact_body(self, body: bytes, content_type: str) -> bytes:
        """A JSON body with its secret fields redacted (re-serialised only if one was found), then scrubbed."""
        if body and _media(content_type) in ("application/json", "") and body.lstrip()[:1] in (b"{", b"["):
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if data is not None:
                redacted = self.redact_json(data)
                if redacted != data:
                    body = json.dumps(redacted, ensure_ascii=False, separators=(",", ":")).encode()
        return self.scrub(body)

    def scrub(self, data: bytes) -> bytes:
        with self._lock:
            secrets = sorted(self.seen, key=len, reverse=True)
        for secret in secrets:
            data = data.replace(secret.encode(), REDACTED.encode())
        return data

    def scrub_text(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self.seen, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text


def _media(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type, re.I)
    return match.group(1) if match else None


def normalised_body(body: bytes, content_type: str, redactor: Redactor) -> str:
    """What replay compares of a request body: JSON canonically (keys sorted, secrets redacted), a multipart body
    with its random boundary replaced, anything else as it is (hashed)."""
    if not body.strip():
        return ""
    media = _media(content_type)
    if media == "multipart/form-data":
        boundary = _boundary(content_type)
        if boundary:
            body = body.replace(boundary.encode(), b"BOUNDARY")
        return "multipart:" + hashlib.sha256(body).hexdigest()
    try:
        data = json.loads(body)
    except ValueError:
        return "bytes:" + hashlib.sha256(body).hexdigest()
    return json.dumps(redactor.redact_json(data), sort_keys=True, separators=(",", ":"))


def match_key(method: str, path: str, query: str, body: bytes, content_type: str, redactor: Redactor) -> str:
    """What a request is matched on: method, path, query (sorted, secrets redacted, as recorded) and body."""
    pairs = sorted(parse_qsl(redactor.redact_query(query), keep_blank_values=True))
    return "\n".join((method.upper(), path, urlencode(pairs), normalised_body(body, content_type, redactor)))


def header(headers: list[list[str]] | list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in headers if key.lower() == name), "")


# -- writing ----------------------------------------------------------------------------------------------------


class CassetteWriter:
    """Appends exchanges to ``<folder>/cassette.jsonl`` (flushed per line: a killed recorder leaves a whole
    cassette) and keeps bodies of ``INLINE_LIMIT`` bytes or more as ``<folder>/bodies/<sha256>.bin``."""

    def __init__(self, folder: Path, name: str = "cassette.jsonl") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / name
        self._lock = threading.Lock()
        self.seq = 0
        self.path.write_text("")

    def body(self, data: bytes) -> dict[str, Any]:
        if len(data) >= INLINE_LIMIT:
            digest = hashlib.sha256(data).hexdigest()
            target = self.folder / BODIES / f"{digest}.bin"
            if not target.exists():
                target.parent.mkdir(exist_ok=True)
                partial = target.with_suffix(f".{os.getpid()}.part")
                partial.write_bytes(data)
                partial.replace(target)
            return {"file": f"{BODIES}/{digest}.bin", "bytes": len(data), "sha256": digest}
        try:
            return {"text": data.decode("utf-8")}
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(data).decode("ascii")}

    def append(self, entry: dict[str, Any]) -> int:
        with self._lock:
            self.seq += 1
            entry = {"seq": self.seq, **entry}
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return self.seq


# -- reading ----------------------------------------------------------------------------------------------------


class CassetteError(ValueError):
    """A cassette that cannot be read: the message names the file and line."""


@dataclass
class Recorded:
    """One exchange of a cassette, bodies loaded."""

    seq: int
    provider: str
    operation: str | None
    method: str
    path: str
    query: str
    request_headers: list[list[str]]
    request_body: bytes
    status: int
    headers: list[list[str]]
    body: bytes
    upstream_error: str | None = None
    problems: list[str] = field(default_factory=list)


def read_body(folder: Path, ref: Any, where: str) -> bytes:
    if not isinstance(ref, dict):
        raise CassetteError(f"{where}: a body must be an object with text, base64 or file, got {type(ref).__name__}")
    if "text" in ref:
        return str(ref["text"]).encode("utf-8")
    if "base64" in ref:
        return base64.b64decode(str(ref["base64"]))
    if "file" in ref:
        path = (folder / str(ref["file"])).resolve()
        if folder.resolve() not in path.parents:
            raise CassetteError(f"{where}: body file {ref['file']!r} is outside the cassette's folder")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CassetteError(f"{where}: body file {ref['file']!r}: {exc.strerror or exc}") from None
        if "sha256" in ref and hashlib.sha256(data).hexdigest() != ref["sha256"]:
            raise CassetteError(f"{where}: body file {ref['file']!r} does not match its sha256 (changed since recorded?)")
        return data
    raise CassetteError(f"{where}: a body must have text, base64 or file, got keys {sorted(ref)}")


def load_cassette(path: str | Path) -> list[Recorded]:
    """Every exchange of a cassette, in order; a line that cannot be read raises CassetteError naming it."""
    path = Path(path)
    folder = path.parent
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CassetteError(f"{path}: {exc.strerror or exc}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            entry = json.loads(line)
            request, response = entry["request"], entry["response"]
            out.append(Recorded(
                seq=int(entry.get("seq", number)), provider=str(entry["provider"]), operation=entry.get("operation"),
                method=str(request["method"]).upper(), path=str(request["path"]), query=str(request.get("query", "")),
                request_headers=[[str(k), str(v)] for k, v in request.get("headers", [])],
                request_body=read_body(folder, request.get("body", {"text": ""}), f"{where} request"),
                status=int(response["status"]), headers=[[str(k), str(v)] for k, v in response.get("headers", [])],
                body=read_body(folder, response.get("body", {"text": ""}), f"{where} response"),
                upstream_error=entry.get("upstream_error"), problems=list(entry.get("problems") or []),
            ))
        except CassetteError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise CassetteError(f"{where}: not a cassette line ({type(exc).__name__}: {exc})") from None
    return out

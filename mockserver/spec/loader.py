"""Load a vendored OpenAPI document, resolve what routing needs, and build JSON-Schema validators."""

from __future__ import annotations

import copy
import functools
import importlib.resources
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jsonschema_rs
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


SPECS_ENV = "MOCKSERVER_SPECS_DIR"

# libyaml's parser where PyYAML was built with it (the wheels are): ten times the pure-Python one, which made
# loading the five specs most of the server's start-up time
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with the C parser when there is one."""
    return yaml.load(text, Loader=_YAML_LOADER)


def data_path(*parts: str) -> Path:
    """A data file or folder the package ships (``specs``, ``fixtures``, ``contract_tests/baselines``, ...).

    An installed wheel carries them as ``mockserver/_data/`` (copied there at build time from the repository's
    top-level folders, the one source of truth: see setup.py), found through ``importlib.resources``. A checkout
    installed editable (``pip install -e .``) has no copy: there they are the checkout's own folders.
    """
    shipped = importlib.resources.files("mockserver") / "_data"
    if shipped.is_dir():
        if not isinstance(shipped, Path):
            raise SpecError(f"mockserver's data files must be on the file system, not in {shipped!r}: install the wheel unzipped")
        return shipped.joinpath(*parts)
    checkout = Path(str(importlib.resources.files("mockserver"))).parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "specs").is_dir():
        return checkout.joinpath(*parts)
    raise SpecError("mockserver's data files (mockserver/_data) are missing from this installation: reinstall the package")


def find_data_file(path: str | Path) -> Path:
    """A file named on the command line: as given when it exists, else the one the package ships under that name
    (``fixtures/seed_examples.yaml``, ``contract_tests/baselines/anyapi.json`` work from any folder)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    for candidate in (data_path(*given.parts), data_path("fixtures", *given.parts)):
        if candidate.is_file():
            return candidate
    return given


def specs_dir() -> Path:
    """Where the vendored specs are read from: ``$MOCKSERVER_SPECS_DIR`` (set by ``--specs-dir``), else the
    specs the package ships."""
    env = os.environ.get(SPECS_ENV)
    return Path(env).expanduser() if env else data_path("specs")


class SpecError(Exception):
    """A spec the server cannot be built from; start-up stops on it."""


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema dialect -> JSON Schema 2020-12 (``nullable``, boolean exclusive bounds)."""
    if isinstance(node, list):
        return [_to_json_schema(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items()}
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if out.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
        elif out.get(flag) is False:
            out.pop(flag)
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        elif "$ref" in out or "oneOf" in out or "anyOf" in out or "allOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass
class Operation:
    spec: Spec
    operation_id: str
    method: str
    path: str
    pointer: str
    node: dict[str, Any]
    parameters: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    # what validation works out once per operation (spec.validation fills it at start-up)
    compiled: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @cached_property
    def request_body(self) -> tuple[dict[str, Any], str] | None:
        body = self.node.get("requestBody")
        return self.spec.resolve(body, f"{self.pointer}/requestBody") if body else None

    def response(self, status: int) -> tuple[dict[str, Any], str] | None:
        responses = self.node.get("responses", {})
        for key in (str(status), f"{status // 100}XX", f"{status // 100}xx", "default"):
            if key in responses:
                return self.spec.resolve(responses[key], f"{self.pointer}/responses/{_escape(key)}")
        return None

    def declared_statuses(self) -> list[str]:
        return list(self.node.get("responses", {}))


class Spec:
    def __init__(self, name: str, path: Path, document: dict[str, Any]) -> None:
        self.name = name
        self.path = path
        self.document = document
        self.title: str = document.get("info", {}).get("title", name)
        self.version: str = str(document.get("openapi", ""))
        if not self.version.startswith("3."):
            raise SpecError(f"{path}: only OpenAPI 3.x is supported, got {self.version!r}")
        self._schema_doc = _to_json_schema(copy.deepcopy(document)) if self.version.startswith("3.0") else document
        self.uri = f"urn:mockserver:spec:{name}"
        resource = Resource.from_contents(self._schema_doc, default_specification=DRAFT202012)
        self._registry: Registry = Registry().with_resource(self.uri, resource)
        self._validators: dict[str, Draft202012Validator] = {}
        self._fast_registry: jsonschema_rs.Registry | None = None
        self._fast: dict[str, Any] = {}
        self.operations = self._collect_operations()

    def resolve(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        """Follow local ``$ref``s; returns the node and its JSON pointer in the document."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise SpecError(f"{self.path}: only local $refs are supported, got {ref!r}")
            pointer = ref[1:]
            node = self.lookup(pointer)
            seen += 1
            if seen > 32:
                raise SpecError(f"{self.path}: $ref cycle at {ref}")
        return node, pointer

    def lookup(self, pointer: str) -> Any:
        node: Any = self.document
        for raw in pointer.lstrip("/").split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, ValueError) as exc:
                raise SpecError(f"{self.path}: unresolvable pointer #{pointer}") from exc
        return node

    def validator(self, pointer: str) -> Draft202012Validator:
        """A validator for the schema at ``pointer`` (refs resolve against the whole document)."""
        if pointer not in self._validators:
            schema = {"$ref": f"{self.uri}#{pointer}"}
            self._validators[pointer] = Draft202012Validator(
                schema, registry=self._registry, format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return self._validators[pointer]

    def fast_validator(self, pointer: str) -> Any:
        """The compiled (jsonschema-rs) validator for the schema at ``pointer``: it only says valid or not;
        ``validator(pointer)`` (python-jsonschema) explains a failure. Compiled once per spec and pointer."""
        fast = self._fast.get(pointer)
        if fast is None:
            if self._fast_registry is None:
                self._fast_registry = jsonschema_rs.Registry([(self.uri, self._schema_doc)])
            ref = f"{self.uri}#{quote(pointer, safe='/~$-_.')}"
            fast = jsonschema_rs.validator_for({"$ref": ref}, registry=self._fast_registry, validate_formats=True)
            self._fast[pointer] = fast
        return fast

    def _collect_operations(self) -> list[Operation]:
        operations: list[Operation] = []
        seen: set[str] = set()
        for path, item in self.document.get("paths", {}).items():
            item_pointer = f"/paths/{_escape(path)}"
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method not in item:
                    continue
                node = item[method]
                op_id = node.get("operationId")
                if not op_id:
                    raise SpecError(f"{self.path}: {method.upper()} {path} has no operationId")
                if op_id in seen:
                    raise SpecError(f"{self.path}: duplicate operationId {op_id!r}")
                seen.add(op_id)
                pointer = f"{item_pointer}/{method}"
                op = Operation(self, op_id, method.upper(), path, pointer, node)
                by_key: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
                for base, params in ((f"{item_pointer}/parameters", shared), (f"{pointer}/parameters", node.get("parameters", []))):
                    for i, raw in enumerate(params):
                        param, p_pointer = self.resolve(raw, f"{base}/{i}")
                        by_key[(param["in"], param["name"])] = (param, p_pointer)
                op.parameters = list(by_key.values())
                operations.append(op)
        return operations


def load_spec(name: str, path: Path | None = None) -> Spec:
    """The parsed spec; cached per file and modification time (specs are read-only once loaded)."""
    path = path or specs_dir() / f"{name}.yaml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise SpecError(f"cannot load spec {path}: {exc}") from exc
    return _load(name, path, stamp)


@functools.lru_cache(maxsize=32)
def _load(name: str, path: Path, stamp: int) -> Spec:
    try:
        document = load_yaml(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SpecError(f"cannot load spec {path}: {exc}") from exc
    if not isinstance(document, dict):
        raise SpecError(f"{path}: not an OpenAPI document")
    return Spec(name, path, document)

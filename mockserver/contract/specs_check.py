"""``mockserver specs check``: every vendored spec is valid OpenAPI, titles are unique, every example validates
against its schema, and every field a captured docs page (seed) shows is declared."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema.exceptions import best_match
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from ..spec.loader import Spec, SpecError, data_path, load_yaml, specs_dir
from .drift import SpecShapes


def default_seed_fields() -> Path:
    return data_path("contract_tests", "seed_fields.json")


@dataclass
class SpecProblem:
    spec: str
    check: str  # openapi | title | example | seed_field
    where: str
    message: str


@dataclass
class SpecsReport:
    checked: list[str] = field(default_factory=list)
    examples: int = 0
    seed_fields: int = 0
    problems: list[SpecProblem] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0

    def summary(self) -> str:
        lines = [f"mockserver specs check: {len(self.checked)} spec(s) ({', '.join(self.checked)}), "
                 f"{self.examples} example(s), {self.seed_fields} seed field(s)"]
        for p in self.problems:
            lines.append(f"  FAIL {p.spec} [{p.check}] {p.where}: {p.message}")
        lines.append("PASSED" if not self.problems else f"FAILED: {len(self.problems)} problem(s)")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": not self.problems, "checked": self.checked, "examples": self.examples, "seed_fields": self.seed_fields,
                "problems": [p.__dict__ for p in self.problems]}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def examples(document: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(where, JSON pointer of the schema, example value) for every example in the document."""

    def walk(node: Any, pointer: str) -> Iterator[tuple[str, str, Any]]:
        if isinstance(node, dict):
            if "schema" in node and isinstance(node["schema"], dict):
                # a media type, parameter or header object: `example` and `examples` belong to its schema
                if "example" in node:
                    yield pointer + "/example", pointer + "/schema", node["example"]
                for name, item in (node.get("examples") or {}).items():
                    if isinstance(item, dict) and "value" in item:
                        yield f"{pointer}/examples/{name}", pointer + "/schema", item["value"]
            elif "example" in node and ("type" in node or "$ref" in node or "properties" in node or "enum" in node):
                yield pointer + "/example", pointer, node["example"]  # a schema's own example
            for key, value in node.items():
                if key in ("example", "examples") or key.startswith("x-"):
                    continue
                yield from walk(value, f"{pointer}/{_escape(str(key))}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, f"{pointer}/{i}")

    yield from walk(document.get("paths", {}), "/paths")
    yield from walk(document.get("components", {}), "/components")


def check_specs(directory: Path | None = None, seed_fields: Path | None = None) -> SpecsReport:
    directory = directory or specs_dir()
    report = SpecsReport()
    titles: dict[str, str] = {}
    documents: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        name = path.stem
        report.checked.append(name)
        document = load_yaml(path.read_text())
        documents[name] = document
        try:
            validate(document)
        except OpenAPIValidationError as exc:
            report.problems.append(SpecProblem(name, "openapi", "/".join(str(p) for p in exc.path) or "(root)", exc.message))
        title = str(document.get("info", {}).get("title", ""))
        if title in titles:
            report.problems.append(SpecProblem(name, "title", "info.title", f"{title!r} is also the title of {titles[title]}.yaml"))
        titles[title] = name
        try:
            spec = Spec(name, path, document)
        except SpecError as exc:
            report.problems.append(SpecProblem(name, "openapi", "(root)", str(exc)))
            continue
        for where, schema_pointer, value in examples(document):
            report.examples += 1
            try:
                error = best_match(spec.validator(schema_pointer).iter_errors(value))
            except Exception as exc:
                report.problems.append(SpecProblem(name, "example", where, f"cannot check: {exc}"))
                continue
            if error is not None:
                at = "/".join(str(p) for p in error.absolute_path) or "(root)"
                report.problems.append(SpecProblem(name, "example", where, f"at {at}: {error.message}"))
    seeds = json.loads((seed_fields or default_seed_fields()).read_text()).get("seeds", [])
    for seed in seeds:
        document = documents.get(seed["provider"])
        if document is None:
            report.problems.append(SpecProblem(seed["provider"], "seed_field", seed["seed"], "no spec for this provider"))
            continue
        shapes = SpecShapes(document)
        schema = shapes.response_schema(seed["operation"], int(seed.get("status", 200)))
        if schema is None:
            report.problems.append(SpecProblem(seed["provider"], "seed_field", seed["seed"],
                                               f"operation {seed['operation']} has no {seed.get('status', 200)} JSON schema"))
            continue
        for name in seed["fields"]:
            report.seed_fields += 1
            if not shapes.declared(schema, name):
                report.problems.append(SpecProblem(seed["provider"], "seed_field", f"{seed['operation']} {name}",
                                                   f"{seed['seed']} shows {name!r}, the spec does not declare it"))
    return report

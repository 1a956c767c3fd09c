"""Request rules read from a vendored spec, for the independent servers (no mockserver import): a JSON body or a
form is valid when it matches the operation's request schema (JSON Schema 2020-12, the spec's components as the
registry), the way any server generated from an OpenAPI document would check it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPECS = Path(__file__).resolve().parents[3] / "specs"


class Rules:
    def __init__(self, spec: str) -> None:
        self.document: dict[str, Any] = yaml.safe_load((SPECS / f"{spec}.yaml").read_text())
        root = Resource.from_contents(self.document, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource("urn:spec", root)

    def schema(self, name: str) -> dict[str, Any]:
        return {"$ref": f"urn:spec#/components/schemas/{name}"}

    def problem(self, name: str, value: Any) -> str | None:
        """Why ``value`` does not match the component schema ``name`` (None when it does)."""
        validator = jsonschema.Draft202012Validator(self.schema(name), registry=self.registry)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "the body"
        return f"{where}: {error.message[:200]}"


def integer(text: Any) -> int | None:
    """A form or query value that is a whole number, else None."""
    if isinstance(text, str) and text.strip().lstrip("-").isdigit() and text.strip() == text:
        return int(text)
    return None

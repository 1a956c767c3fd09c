"""OpenAPI documents as the source of routes and of request/response validation. Knows no provider."""

from .loader import Operation, Spec, load_spec, specs_dir

__all__ = ["Operation", "Spec", "load_spec", "specs_dir"]

"""Spec hygiene: every vendored spec is valid OpenAPI, titles are unique, examples match, seed fields are declared."""

from __future__ import annotations

from mockserver.contract.specs_check import check_specs


def test_the_vendored_specs_are_sound() -> None:
    report = check_specs()
    assert report.checked and report.examples and report.seed_fields
    assert not report.problems, report.summary()

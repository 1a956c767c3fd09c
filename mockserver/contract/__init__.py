"""The contract-test kit: property-based checks of the fake and of real providers, drift reports.

``run_contract(provider)`` runs the suite against a fake it starts; ``run_contract(provider, base_url=...,
api_key=...)`` against any server with that provider's API. The CLI front door is ``mockserver contract``
(and ``drift``, ``specs check``); see ``cli.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .report import Report
    from .runner import ContractSetupError, Options, run_contract

__all__ = ["ContractSetupError", "Options", "Report", "run_contract"]


def __getattr__(name: str) -> Any:
    """The kit's names, imported on first use: schemathesis and hypothesis take seconds to import, and
    ``mockserver serve`` (which registers the kit's sub-commands) should not pay for them."""
    if name == "Report":
        from .report import Report

        return Report
    if name in ("ContractSetupError", "Options", "run_contract"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The contract-test kit: property-based checks of the fake and of real providers, drift reports.

``run_contract(provider)`` runs the suite against a fake it starts; ``run_contract(provider, base_url=...,
api_key=...)`` against any server with that provider's API. The CLI front door is ``mockserver contract``
(and ``drift``, ``specs check``); see ``cli.py``.
"""

from __future__ import annotations

from .report import Report
from .runner import ContractSetupError, Options, run_contract

__all__ = ["ContractSetupError", "Options", "Report", "run_contract"]

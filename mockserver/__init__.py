"""A stateful, spec-driven mock server for LLM and voice-AI batch APIs, with a contract-test kit."""

from __future__ import annotations

__version__ = "0.1.0"

"""A stateful, spec-driven mock server for LLM and voice-AI batch APIs, with a contract-test kit.

``with mockserver.running() as fake:`` starts one on a free loopback port (see ``mockserver.testing.running``).
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "running"]


def __getattr__(name: str) -> Any:
    # imported on first use: `import mockserver` stays cheap and free of import cycles (the server imports __version__)
    if name == "running":
        from .testing.running import running

        return running
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")

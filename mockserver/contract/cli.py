"""Sub-commands of the contract-test kit, registered on the main parser."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add the kit's sub-commands (contract, drift, specs) to ``mockserver``."""

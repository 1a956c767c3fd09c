"""Measure what the kit catches on the independent batches server vs plain schemathesis (README table).

    .venv/bin/python contract_tests/measure_foreign.py [--max-examples N]

For each planted bug (and the faithful server): the kit as tests/contract/test_foreign.py runs it, and plain
`schemathesis run specs/anyapi.yaml` (every phase, the documented refusals of specs/schemathesis.toml) against the
same server. A bug counts as caught by plain schemathesis when it reports a failure that the faithful server
does not get. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mockserver.contract.mutants import serve  # noqa: E402
from mockserver.contract.runner import run_contract  # noqa: E402
from tests.contract.foreign.server import BUGS, ForeignBatches  # noqa: E402
from tests.contract.test_foreign import CAUGHT_BY, FLOWS, KEY  # noqa: E402


def plain_run(spec: str, url: str, headers: list[str], max_examples: int) -> set[str]:
    """The failure codes plain `schemathesis run specs/<spec>.yaml` reports against ``url``."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(ROOT / "specs" / "schemathesis.toml"), "run",
         str(ROOT / "specs" / f"{spec}.yaml"), "--url", url, *headers, "--max-examples",
         str(max_examples), "--seed", "1", "--no-color"], capture_output=True, text=True, timeout=900,
        cwd=tempfile.gettempdir()).stdout  # schemathesis keeps a cache in the directory it runs in
    summary = out.rsplit("SUMMARY", 1)[-1]
    return set(re.findall(r"(ST\d{3}) ", summary))


def plain(url: str, max_examples: int) -> tuple[set[str], float]:
    started = time.monotonic()
    codes = plain_run("anyapi", url, ["-H", f"Authorization: Bearer {KEY}"], max_examples)
    return codes, time.monotonic() - started


def measure(bug: str | None, max_examples: int) -> tuple[str | None, bool, set[str], str, float]:
    options, expected = CAUGHT_BY[bug] if bug else (FLOWS, None)
    with serve(ForeignBatches(KEY, frozenset({bug}) if bug else frozenset()).app()) as root:
        report = run_contract("anyapi", base_url=root + "/v1", api_key=KEY, allow_writes=True, environ={}, options=options)
        codes, seconds = plain(root + "/v1", max_examples)
    caught = (expected in report.failing()) if expected else report.ok
    by = ", ".join(sorted({c for _, c in report.failing()})) or "-"
    return bug, caught, codes, by, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args()
    # one at a time: the kit's meter patches `requests` for the whole process while it runs
    results = [measure(bug, args.max_examples) for bug in [None, *sorted(BUGS)]]
    faithful_codes = results[0][2]
    print(f"faithful server: kit {'passes' if results[0][1] else 'FAILS'}; plain schemathesis reports "
          f"{', '.join(sorted(faithful_codes)) or 'nothing'}\n")
    print("| planted bug | the kit (check) | plain schemathesis |")
    print("|---|---|---|")
    for bug, caught, codes, by, _ in results[1:]:
        extra = codes - faithful_codes
        print(f"| {bug}: {BUGS[bug]} | {'caught' if caught else 'MISSED'} ({by}) | "
              f"{'caught (' + ', '.join(sorted(extra)) + ')' if extra else 'missed'} |")
    print(f"\nkit: {sum(r[1] for r in results[1:])} / {len(results) - 1}; plain schemathesis: "
          f"{sum(bool(r[2] - faithful_codes) for r in results[1:])} / {len(results) - 1} (--max-examples {args.max_examples}, seed 1)")


if __name__ == "__main__":
    main()

"""Measure what the kit catches on the independent Portkey-style and FormantAI-style servers vs plain schemathesis.

    .venv/bin/python contract_tests/measure_gateways.py [--max-examples N]

For each planted bug (and each faithful server): the kit as tests/contract/test_foreign_portkey.py and test_foreign_formant.py run it, and
plain `schemathesis run specs/<provider>.yaml` (every phase, the documented refusals of specs/schemathesis.toml)
against the same server. A bug counts as caught by plain schemathesis when it reports a failure that the faithful
server does not get. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract_tests.measure_foreign import plain_run  # noqa: E402
from mockserver.contract.mutants import serve  # noqa: E402
from mockserver.contract.runner import run_contract  # noqa: E402
from tests.contract.foreign import formant_server, portkey_server  # noqa: E402
from tests.contract.foreign.gateways import CAUGHT_BY, FLOWS, KEY  # noqa: E402

SERVERS = {
    "portkey": (portkey_server.PortkeyGateway, portkey_server.BUGS, "/v1",
                ["-H", f"x-portkey-api-key: {KEY}", "-H", "x-portkey-virtual-key: vk-measure"]),
    "formant": (formant_server.FormantCalls, formant_server.BUGS, "", ["-H", f"Authorization: Bearer {KEY}"]),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=10)
    args = parser.parse_args()
    rows, kit_total, plain_total, planted = [], 0, 0, 0
    for provider, (make, bugs, prefix, headers) in SERVERS.items():
        server = make(KEY)
        with serve(server.app()) as root:
            url = root + prefix
            faithful: set[str] = set()
            for bug in [None, *sorted(bugs)]:
                server.reset(*([bug] if bug else []))
                report = run_contract(provider, base_url=url, api_key=KEY, allow_writes=True, environ={}, options=FLOWS)
                server.reset(*([bug] if bug else []))
                codes = plain_run(provider, url, headers, args.max_examples)
                if bug is None:
                    faithful = codes
                    print(f"faithful {provider}: kit {'passes' if report.ok else 'FAILS'}; plain schemathesis reports "
                          f"{', '.join(sorted(codes)) or 'nothing'}")
                    continue
                planted += 1
                caught = CAUGHT_BY[provider][bug] in report.failing()
                extra = codes - faithful
                kit_total += caught
                plain_total += bool(extra)
                by = ", ".join(sorted({c for _, c in report.failing()}))
                rows.append(f"| {provider} | {bugs[bug]} | {'caught' if caught else 'MISSED'} ({by}) | "
                            f"{'caught (' + ', '.join(sorted(extra)) + ')' if extra else 'missed'} |")
    print("\n| server | planted bug | the kit (checks) | plain schemathesis |\n|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nkit: {kit_total} / {planted}; plain schemathesis: {plain_total} / {planted} (--max-examples {args.max_examples}, seed 1)")


if __name__ == "__main__":
    main()

"""Sub-commands of the contract-test kit, registered on the main parser: contract, drift, specs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .profiles import PROFILES
from .report import write_text


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the kit's sub-commands (contract, drift, specs) to ``mockserver``."""
    providers = sorted(PROFILES)

    p = sub.add_parser(
        "contract",
        help="run the contract suite against the fake, or against any server with a provider's API",
        description="Without --base-url: against a fake started here. With it: against that server (the base URL the "
        "provider's SDK takes), read-only unless --allow-writes. The key comes from --api-key or the provider's "
        "environment variable. Exits 1 when a check fails.",
    )
    p.add_argument("--provider", required=True, choices=[*providers, "all"], help="the provider ('all': every one, fake only)")
    p.add_argument("--base-url", help="run against this server instead of a fake")
    p.add_argument("--api-key", help="the key for --base-url (default: the provider's environment variable)")
    p.add_argument("--allow-writes", action="store_true", help="with --base-url: run bounded create -> poll -> cancel flows")
    p.add_argument("--budget", type=int, help="hard limit on the requests sent to the target (every phase, every probe)")
    p.add_argument("--max-examples", type=int, default=10, help="generated cases per operation and phase (default 10)")
    p.add_argument("--seed", type=int, default=0, help="generation seed (default 0; runs are deterministic)")
    p.add_argument("--phases", default="examples,coverage,fuzzing,stateful", help="schemathesis phases to run (comma list; '' for none)")
    p.add_argument("--flows", type=int, default=2, help="create flows when writes are allowed (default 2)")
    p.add_argument("--poll-timeout", type=float, help="seconds to poll a created resource (default 10 fake, 60 URL)")
    p.add_argument("--poll-interval", type=float, help="seconds between polls (default 0.05 fake, 2 URL)")
    p.add_argument("--max-wait", type=float, default=60.0, help="longest Retry-After honoured, in seconds (default 60)")
    p.add_argument("--operation", action="append", default=[], metavar="OPERATION_ID", help="send only this operation, in every phase: flows, list walks, schemathesis and its probes (repeatable)")
    p.add_argument("--no-shrink", action="store_true", help="do not minimise failing cases (fewer requests)")
    p.add_argument("--baseline", type=Path, help="accepted failures: a JSON file with a 'contract' list of {operation, check, why}")
    p.add_argument("--junit", type=Path, help="write a JUnit XML report here")
    p.add_argument("--json", type=Path, help="write a JSON report here")
    p.add_argument("--verbose", action="store_true", help="print every failure example, and passing checks")
    p.add_argument("--explore", action="store_true", help="with --base-url and --allow-writes, on a target you own: schemathesis' "
                   "fuzzing and stateful phases send generated writes too (uploads with broken lines, creates, cancels)")
    p.add_argument("--save-findings", type=Path, metavar="DIR", help="write each failure as finding-N.json (for --replay) and "
                   "finding-N.py (a runnable script; the key comes from the environment; it judges its answers with the kit "
                   "and exits 1 while the bug is there)")
    p.add_argument("--replay", type=Path, metavar="FILE", help="replay a saved finding (or every finding with steps of a --json "
                   "report) instead of the suite: the same steps, judged by the same checks (a probe's or list walk's finding: its "
                   "creates again, then the probe or walk afresh); exits 1 while the bug is there")
    p.add_argument("--no-sdk", action="store_true", help="do not hold answers to the official SDK's models")
    p.add_argument("--mutants", action="store_true", help="plant each catalogued fault in the fake and print the score (caught / planted)")
    p.set_defaults(func=contract_command)

    d = sub.add_parser(
        "drift",
        help="send the same requests to the fake and a target and report what differs",
        description="Compares status codes and bodies (after normalising ids, timestamps and request ids) step by step. "
        "Fields the target sends that the spec does not declare are warnings. Differences accepted in the baseline "
        "do not fail the run. Exits 1 on new drift.",
    )
    d.add_argument("--provider", required=True, choices=providers)
    d.add_argument("--base-url", help="the target (the base URL the provider's SDK takes); not with --cassette")
    d.add_argument("--record", type=Path, metavar="DIR", help="only record the target's answers into DIR/PROVIDER.json, "
                   "sanitised (no key, no prompt content), for --cassette")
    d.add_argument("--cassette", type=Path, metavar="DIR", help="compare the fake with the answers recorded in DIR "
                   "(offline: no request leaves the machine)")
    d.add_argument("--api-key", help="the target's key (default: the provider's environment variable)")
    d.add_argument("--allow-writes", action="store_true", help="also compare one create -> read -> cancel flow")
    d.add_argument("--budget", type=int, default=100, help="hard limit on the requests sent to the target (default 100)")
    d.add_argument("--baseline", type=Path, help="accepted differences (default: contract_tests/baselines/PROVIDER.json if it exists)")
    d.add_argument("--update-baseline", action="store_true", help="accept every current difference into the baseline file")
    d.add_argument("--markdown", type=Path, help="write the Markdown report here")
    d.add_argument("--json", type=Path, help="write the JSON report here")
    d.set_defaults(func=drift_command)

    s = sub.add_parser("specs", help="checks of the vendored specs")
    specs = s.add_subparsers(dest="specs_command", required=True)
    c = specs.add_parser("check", help="valid OpenAPI, unique titles, examples match schemas, seed fields declared")
    c.add_argument("--specs-dir", type=Path, help="the specs directory (default: the server's)")
    c.add_argument("--seed-fields", type=Path, help="the seed field lists (default: contract_tests/seed_fields.json)")
    c.add_argument("--json", type=Path, help="write a JSON report here")
    c.set_defaults(func=specs_check_command)


def _progress(line: str) -> None:
    print(f"  .. {line}", file=sys.stderr, flush=True)


def contract_command(args: argparse.Namespace) -> int:
    from ..spec.loader import find_data_file
    from .report import grand_total, load_baseline, write_junit
    from .runner import ContractInterrupted, ContractSetupError, Options, run_contract

    if args.mutants:
        return _mutants(args)
    if args.provider == "all" and args.base_url:
        print("mockserver contract: --provider all runs against the fake only; name one provider with --base-url", file=sys.stderr)
        return 2
    if args.explore and not (args.base_url and args.allow_writes):
        print("mockserver contract: --explore sends generated writes: it needs --base-url and --allow-writes", file=sys.stderr)
        return 2
    replay: tuple[dict[str, Any], ...] = ()
    if args.replay:
        from .reproduce import load_findings

        replay = tuple(f for f in load_findings(args.replay) if f.get("provider") in (None, args.provider))
        if not replay:
            print(f"mockserver contract: {args.replay} holds no finding of {args.provider} with steps", file=sys.stderr)
            return 2
        writes = sorted({s["label"] for f in replay for s in f["steps"] if s["method"] != "GET"})
        if args.base_url and writes and not args.allow_writes:
            print(f"mockserver contract: the finding sends writes ({', '.join(writes)}): add --allow-writes", file=sys.stderr)
            return 2
    names = sorted(PROFILES) if args.provider == "all" else [args.provider]
    reports = []
    interrupted = False
    for name in names:
        options = Options(
            max_examples=args.max_examples, seed=args.seed, phases=tuple(p for p in args.phases.split(",") if p),
            flows=args.flows, poll_timeout=args.poll_timeout, poll_interval=args.poll_interval, max_wait=args.max_wait,
            operations=tuple(args.operation), shrink=not args.no_shrink, explore=args.explore, sdk=not args.no_sdk,
            replay=replay,
            baseline=frozenset(load_baseline(find_data_file(args.baseline), name)) if args.baseline else frozenset(),
        )
        try:
            report = run_contract(name, base_url=args.base_url, api_key=args.api_key, allow_writes=args.allow_writes,
                                  budget=args.budget, options=options, progress=_progress)
        except ContractSetupError as exc:
            if args.provider == "all":
                print(f"mockserver contract: {name}: skipped: {exc}", file=sys.stderr)
                continue
            print(f"mockserver contract: {exc}", file=sys.stderr)
            return 2
        except ContractInterrupted as stop:
            report, interrupted = stop.report, True
        except KeyboardInterrupt:  # before the run had a report (while its fake started)
            interrupted = True
            break
        print(report.summary(verbose=args.verbose), flush=True)
        reports.append(report)
        if args.save_findings:
            from .profiles import get_profile
            from .reproduce import save_findings

            saved = save_findings(report, args.save_findings / name if args.provider == "all" else args.save_findings, get_profile(name))
            if saved:
                print(f"{len(saved)} finding(s) saved in {saved[0].parent} (replay: mockserver contract --provider {name} "
                      f"--replay {saved[0]} --base-url URL)")
        if interrupted:
            break
    if interrupted:
        skipped = [n for n in names if n not in {r.provider for r in reports}]
        print(f"mockserver contract: interrupted (Ctrl-C); not run: {', '.join(skipped) or 'nothing'}", file=sys.stderr)
    if len(names) > 1 and reports:
        print("\n" + grand_total(reports), flush=True)
    if args.junit:
        write_junit(reports, args.junit)
    if args.json:
        data = [r.as_dict() for r in reports]
        write_text(args.json, json.dumps(data[0] if len(data) == 1 else data, indent=2) + "\n")
    if interrupted:
        return 130
    return max((r.exit_code for r in reports), default=2)


def _mutants(args: argparse.Namespace) -> int:
    from .mutants import score, score_text
    from .report import load_baseline

    if args.base_url:
        print("mockserver contract --mutants plants faults in the fake; it takes no --base-url", file=sys.stderr)
        return 2
    names = sorted(PROFILES) if args.provider == "all" else [args.provider]
    worst = 0
    results = []
    for name in names:
        clean, verdicts = score(name)
        accepted = frozenset(load_baseline(args.baseline, name)) if args.baseline else frozenset()
        print(score_text(name, clean, verdicts), flush=True)
        unexplained = clean.failing() - accepted
        if unexplained:
            print(f"  the unmodified fake fails: {', '.join(f'{c} on {o}' for o, c in sorted(unexplained))}")
        missed = [v for v in verdicts if not v.caught]
        worst = max(worst, 1 if missed or unexplained else 0)
        results.append({"provider": name, "caught": len(verdicts) - len(missed), "planted": len(verdicts),
                        "clean_failures": sorted(f"{c} on {o}" for o, c in unexplained),
                        "mutants": [{"name": v.mutant, "caught": v.caught, "by": sorted(f"{c} on {o}" for o, c in v.by)} for v in verdicts]})
    if args.json:
        write_text(args.json, json.dumps(results, indent=2) + "\n")
    return worst


def drift_command(args: argparse.Namespace) -> int:
    from ..spec.loader import data_path, find_data_file
    from .drift import run_drift, update_baseline
    from .runner import ContractSetupError

    baseline = find_data_file(args.baseline) if args.baseline else data_path("contract_tests", "baselines", f"{args.provider}.json")
    if bool(args.base_url) == bool(args.cassette) or (args.record and not args.base_url):
        print("mockserver drift: give --base-url (to compare or --record) or --cassette DIR (offline), not both", file=sys.stderr)
        return 2
    try:
        if args.record:
            from .drift import record_cassette

            path = record_cassette(args.provider, args.base_url, args.api_key, args.record, allow_writes=args.allow_writes,
                                   budget=args.budget)
            print(f"recorded {len(json.loads(path.read_text())['steps'])} answers into {path}")
            return 0
        drift = run_drift(args.provider, args.base_url, args.api_key, allow_writes=args.allow_writes, budget=args.budget,
                          baseline=baseline, cassette=args.cassette)
    except ContractSetupError as exc:
        print(f"mockserver drift: {exc}", file=sys.stderr)
        return 2
    print(drift.markdown(), flush=True)
    if args.markdown:
        write_text(args.markdown, drift.markdown())
    if args.json:
        write_text(args.json, json.dumps(drift.as_dict(), indent=2) + "\n")
    if args.update_baseline:
        update_baseline(baseline, drift)
        print(f"baseline updated: {baseline}")
        return 0
    return drift.exit_code


def specs_check_command(args: argparse.Namespace) -> int:
    from .specs_check import check_specs

    report = check_specs(args.specs_dir, args.seed_fields)
    print(report.summary())
    if args.json:
        write_text(args.json, json.dumps(report.as_dict(), indent=2) + "\n")
    return report.exit_code

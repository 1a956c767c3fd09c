"""The command line: flags only; everything else is create_app and the libraries behind it.

``build_parser()`` builds the parser from one function per sub-command (``add_serve_parser`` here, the
contract kit's in ``contract/cli.py``); ``main()`` sets logging and the specs directory up, runs the command, and
turns the errors a user can fix into one line on stderr (exit 2) and Ctrl-C into exit 130.
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .config.settings import load_settings, validate_settings
from .core.settings import ConfigError, Settings

ENV_PREFIX = "MOCKSERVER_"
log = logging.getLogger("mockserver")


class UsageError(Exception):
    """A mistake on the command line or in the environment: one line on stderr, exit 2."""


# ---------------------------------------------------------------------------------------------------------- serve


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config) if args.config else Settings()
    changes: dict[str, object] = {}
    if args.api_key:
        from .config.settings import PROVIDER_NAMES

        changes["api_keys"] = {name: tuple(args.api_key) for name in PROVIDER_NAMES}
    for flag, field in (("seed", "seed"), ("clock_speed", "clock_speed"), ("phaseo_mode", "phaseo_mode"), ("phaseo_status", "phaseo_status"),
                        ("anyapi_cancel", "anyapi_cancel"),
                        ("formant_success_rate", "formant_success_rate"), ("response_validation", "response_validation")):
        value = getattr(args, flag, None)
        if value is not None:
            changes[field] = value
    if getattr(args, "state", None):
        changes["state"] = args.state
    settings = _hardening(args, settings.replace(**changes))
    validate_settings(settings, "command line")
    return settings


# --- hardening flags (issue 12): admin token, body limit, timeouts ---------------------------------------------
def _add_hardening_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--admin-token", metavar="TOKEN", help="every /_mock request but /_mock/health needs 'Authorization: Bearer TOKEN' (default: $MOCKSERVER_ADMIN_TOKEN)")
    p.add_argument("--max-body-bytes", type=int, metavar="N", help="largest JSON request body (default 4 MiB)")
    p.add_argument("--header-timeout", type=float, metavar="S", help="seconds a client has to send its request headers (default 10)")
    p.add_argument("--body-timeout", type=float, metavar="S", help="longest pause in a request body before a 408 (default 30)")
    p.add_argument("--keep-alive", type=float, metavar="S", help="idle keep-alive connections are closed after S seconds (default 5)")
    p.add_argument("--shutdown-grace", type=float, metavar="S", help="on SIGTERM, in-flight requests get S seconds, then are cut (default 10)")


def _hardening(args: argparse.Namespace, settings: Settings) -> Settings:
    token = getattr(args, "admin_token", None) or os.environ.get("MOCKSERVER_ADMIN_TOKEN") or settings.admin_token
    timeouts = {name: getattr(args, flag, None) for flag, name in (
        ("header_timeout", "header_read"), ("body_timeout", "body_read"), ("keep_alive", "keep_alive"), ("shutdown_grace", "graceful_shutdown"))}
    timeouts = {name: value for name, value in timeouts.items() if value is not None}
    limits = settings.limits if getattr(args, "max_body_bytes", None) is None else settings.limits.replace(max_json_body_bytes=args.max_body_bytes)
    return settings.replace(admin_token=token or None, timeouts=settings.timeouts.replace(**timeouts), limits=limits)


# -- state and workers (issue 11): --state PATH|postgresql://..., MOCKSERVER_STATE, --workers N ----------------
_WORKER_ARGS = "MOCKSERVER_WORKER_ARGS"  # how `serve --workers N` hands its flags to the worker processes


def _state_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--state", default=None, metavar="PATH|URL",
                   help="keep state in a SQLite file (created if missing) or a postgresql:// database; default: in memory "
                        "(also MOCKSERVER_STATE)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (needs --state: they share it)")


def _app(args: argparse.Namespace) -> Any:
    from .config.baseline import Baseline
    from .core.state import StateError
    from .server.app import create_app
    from .server.cassette import CassetteError

    settings = _settings(args)
    replay = getattr(args, "replay", None)
    if getattr(args, "replay_strict", False) and not replay:
        raise UsageError("--replay-strict needs --replay CASSETTE")
    try:
        app = create_app(settings, replay=data_file(replay) if replay else None, replay_strict=getattr(args, "replay_strict", False))
        Baseline.load([data_file(p) for p in args.scenarios], [data_file(p) for p in args.fixtures]).install(app.state.engine, app.state.providers)
    except (StateError, CassetteError) as exc:
        raise ConfigError(str(exc)) from exc
    return app


def worker_app() -> Any:
    """The app of one worker of ``serve --workers N`` (uvicorn imports this in every worker process)."""
    from .server.logs import AccessLog

    args = build_parser().parse_args(json.loads(os.environ[_WORKER_ARGS]))
    app = _app(args)
    return AccessLog(app) if args.access_log else app


def data_file(path: str) -> str:
    """A scenario or fixture file: as given, or the one the package ships under that name (see find_data_file)."""
    from .spec.loader import find_data_file

    return str(find_data_file(path))


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything says the server is up; a port in use is a UsageError."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is out of range: expected 0-65535 (0: any free port)")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(f"cannot listen on {host}:{port}: the port is in use (pick another with --port)") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server.logs import AccessLog
    from .server.serving import exposure_warning, prefer_the_event_loop, uvicorn_options

    if args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.workers > 1 and not args.state:
        raise UsageError(
            f"--workers {args.workers} needs a shared state: in memory every worker would keep its own, and a client "
            "would see objects vanish between calls. Add --state ./state.db (SQLite) or --state postgresql://..."
        )
    sock = bind(args.host, args.port)  # first: a port in use fails at once, and nothing says "serving" before it is bound
    try:
        app = _app(args)  # also checks the flags and the state before any worker starts
    except BaseException:
        sock.close()
        raise
    settings = app.state.engine.settings
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    urls = {name: base + provider.prefix for name, provider in app.state.providers.items()}
    store = app.state.engine.store
    state = store.target if store.durable else "in memory (lost when the server stops)"
    lines = [f"mockserver {__version__}: serving on {base}"] + [f"  {name:8s} {url}" for name, url in urls.items()]
    lines += [f"  admin    {base}/_mock", f"  state    {state}"] + ([f"  workers  {args.workers}"] if args.workers > 1 else [])
    log.info("\n".join(lines), extra={"url": base, "providers": urls, "admin": f"{base}/_mock"})
    warning = exposure_warning(settings, args.host)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    prefer_the_event_loop()
    options: dict[str, Any] = {"log_config": None, "log_level": args.log_level, "access_log": False, "lifespan": "on", **uvicorn_options(settings)}
    try:
        if args.workers == 1:  # uvicorn serves the socket bound above (fd=); its logs go through ours (log_config=None)
            asgi: Any = AccessLog(app) if args.access_log else app
            uvicorn.run(asgi, fd=sock.fileno(), **options)
        else:
            os.environ[_WORKER_ARGS] = json.dumps(args.argv)
            _run_workers(args, sock, options)
    finally:
        sock.close()
    return 0


def _run_workers(args: argparse.Namespace, sock: socket.socket, options: dict[str, Any]) -> None:
    """uvicorn's supervisor over the socket bound above: every worker builds its app (``worker_app``) on the
    shared state. (A socket made as TCP keeps TCP_NODELAY; the one uvicorn binds for workers adds ~40 ms.)"""
    import inspect

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("mockserver.cli:worker_app", factory=True, workers=args.workers, **options)
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn < 0.31
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()  # type: ignore[call-arg]
    else:
        Multiprocess(config, sockets=[sock]).run()


def add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve", help="serve every provider on one port",
        description="Every flag can also be set by an environment variable: MOCKSERVER_ and the flag's name in capitals "
        "(MOCKSERVER_PORT=9000, MOCKSERVER_API_KEY=k1,k2, MOCKSERVER_ACCESS_LOG=1); a flag wins over its variable.",
    )
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=8080, help="the port (default 8080; 0: any free port, shown at start)")
    p.add_argument("--config", help="a YAML settings file (see README: Configuration)")
    p.add_argument("--api-key", action="append", default=[], metavar="KEY", help="accept only this key (repeatable); default: any non-empty key")
    p.add_argument("--seed", type=int, help="seed for ids and simulated outcomes (default 0)")
    p.add_argument("--clock-speed", type=float, help="simulated seconds per real second (default 1; 0 freezes the clock)")
    p.add_argument("--phaseo-mode", choices=["working", "not_implemented"], help="Phaseo answers normally, or 501 as its docs say today")
    p.add_argument("--phaseo-status", choices=["documented", "upstream"], help="Phaseo batch status words: its docs' (default) or the OpenAI upstream's")
    p.add_argument("--anyapi-cancel", choices=["documented", "full"], help="AnyAPI's cancel answer: its docs' 3 fields (default) or the whole batch")
    p.add_argument(
        "--formant-success-rate", choices=["percent_of_recipients", "fraction_of_processed"],
        help="FormantAI metrics success_rate: 100 * success / recipients (default) or success / processed in [0, 1]",
    )
    p.add_argument("--response-validation", choices=["off", "warn", "strict"], help="check every response against its spec (default warn)")
    p.add_argument("--scenarios", action="append", default=[], metavar="FILE", help="a scenario file: scenarios, the default scenario, faults (repeatable)")
    p.add_argument("--fixtures", action="append", default=[], metavar="FILE", help="a fixture file, preloaded at start and on reset (repeatable)")
    p.add_argument("--access-log", action="store_true", help="log every request: method, path, status, duration, provider, operation")
    p.add_argument("--replay", metavar="CASSETTE", help="answer the exchanges of a cassette (mockserver record) exactly; the rest is simulated")
    p.add_argument("--replay-strict", action="store_true", help="with --replay: a request the cassette lacks is a 404 in the provider's envelope")
    _add_hardening_flags(p)
    _state_flags(p)
    p.set_defaults(func=serve)
    return p


# --------------------------------------------------------------------------------------------------------- record


def record(args: argparse.Namespace) -> int:
    import uvicorn

    from .providers.registry import PROVIDERS
    from .record import RecordingProxy
    from .server.serving import uvicorn_options

    provider = PROVIDERS.get(args.provider)
    if provider is None:
        raise UsageError(f"--provider {args.provider!r}: expected one of {', '.join(PROVIDERS)}")
    if not args.upstream.startswith(("http://", "https://")):
        raise UsageError(f"--upstream {args.upstream!r}: expected an http:// or https:// base URL, e.g. https://api.example.com/v1")
    if args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout}")
    out = Path(args.out)
    sock = bind(args.host, args.port)
    try:
        proxy = RecordingProxy(provider, args.upstream, out, timeout=args.timeout)
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()[:2]
    base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
    log.info("mockserver %s: recording %s on %s%s -> %s\n  writing  %s (cassette.jsonl, fixtures.yaml, drift.md)",
             __version__, provider.name, base, provider.prefix, args.upstream, out,
             extra={"url": base + provider.prefix, "upstream": args.upstream, "out": str(out)})
    settings = Settings()
    try:
        uvicorn.run(proxy, fd=sock.fileno(), log_config=None, log_level=args.log_level, access_log=False, lifespan="on",
                    **uvicorn_options(settings))
    finally:
        sock.close()
    return 0


def add_record_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "record", help="proxy one provider to its real API and record a cassette, fixtures and a drift report",
        description="Point a client at http://HOST:PORT<prefix> (e.g. /anyapi/v1); every request is forwarded to --upstream "
        "with its key, answered as the upstream answers, and written to --out without any secret: cassette.jsonl "
        "(for serve --replay), fixtures.yaml (for serve --fixtures) and drift.md/drift.json (answers the spec does not allow).",
    )
    p.add_argument("--provider", required=True, help="the provider whose surface is recorded (a name `mockserver serve` lists at start)")
    p.add_argument("--upstream", required=True, metavar="URL", help="the provider's real base URL (what the fake serves at its prefix)")
    p.add_argument("--out", default="recording", metavar="DIR", help="where to write (default ./recording; its cassette is replaced)")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8081, help="the port (default 8081; 0: any free port)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S", help="seconds to wait for the upstream (connect, each read) before a 504 (default 60)")
    p.set_defaults(func=record)
    return p


# ------------------------------------------------------------------------------------------- options of every command


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """--log-level, --log-format and --specs-dir on a command (unless it has its own)."""
    from .server.logs import FORMATS, LEVELS

    own = {option for action in parser._actions for option in action.option_strings}
    if "--log-level" not in own:
        parser.add_argument("--log-level", default="info", choices=LEVELS, help="the project's loggers and uvicorn's (default info)")
    if "--log-format" not in own:
        parser.add_argument("--log-format", default="text", choices=FORMATS, help="text, or json: one JSON object per line (default text)")
    if "--specs-dir" not in own:
        parser.add_argument("--specs-dir", type=Path, help="read the vendored specs from this folder (default: the package's; env MOCKSERVER_SPECS_DIR)")


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        return [parser]
    return [leaf for action in subs for child in dict.fromkeys(action.choices.values()) for leaf in _leaves(child)]


def _env_defaults(parser: argparse.ArgumentParser, environ: dict[str, str]) -> None:
    """MOCKSERVER_<FLAG> as the default of ``--flag`` (comma lists for repeatable flags, 1/true/yes for switches)."""
    for action in parser._actions:
        if not action.option_strings or action.dest in ("help", "version"):
            continue
        name = ENV_PREFIX + action.option_strings[-1].lstrip("-").replace("-", "_").upper()
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        convert: Callable[[str], Any] | None = action.type if callable(action.type) else None
        try:
            if isinstance(action, argparse._StoreTrueAction):
                value: Any = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(action, argparse._AppendAction):
                value = [convert(x.strip()) if convert else x.strip() for x in raw.split(",") if x.strip()]
            else:
                value = convert(raw) if convert is not None else raw
        except (TypeError, ValueError):
            raise UsageError(f"{name}={raw!r}: not a valid value for {action.option_strings[-1]}") from None
        if action.choices is not None and value not in action.choices:
            raise UsageError(f"{name}={raw!r}: expected one of {', '.join(map(str, action.choices))}")
        parser.set_defaults(**{action.dest: value})


def build_parser(environ: dict[str, str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="Stateful mock server and contract-test kit for batch APIs.")
    parser.add_argument("--version", action="version", version=f"mockserver {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve_parser(sub)
    add_record_parser(sub)

    from .contract.cli import register

    register(sub)
    for leaf in _leaves(parser):
        add_common_options(leaf)
    serve_parser = sub.choices["serve"]
    _env_defaults(serve_parser, dict(os.environ if environ is None else environ))
    return parser


def _use_specs_dir(path: Path | None) -> None:
    if path is None:
        return
    if not path.is_dir():
        raise UsageError(f"--specs-dir {path}: not a directory")
    from .spec.loader import SPECS_ENV

    os.environ[SPECS_ENV] = str(path.resolve())


def main(argv: Sequence[str] | None = None) -> int:
    from .server.logs import configure_logging
    from .spec.loader import SpecError

    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        args.argv = list(sys.argv[1:] if argv is None else argv)
        configure_logging(getattr(args, "log_level", "info"), getattr(args, "log_format", "text"))
        if args.command != "specs":  # `specs check --specs-dir` checks that folder itself
            _use_specs_dir(getattr(args, "specs_dir", None))
        return int(args.func(args))
    except (ConfigError, UsageError, SpecError) as exc:
        print(f"mockserver: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"mockserver: {exc.filename or exc}: no such file", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("mockserver: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

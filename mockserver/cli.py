"""The command line: flags only; everything else is create_app and the libraries behind it.

``build_parser()`` builds the parser from one function per sub-command (``add_serve_parser`` here, the
contract kit's in ``contract/cli.py``); ``main()`` sets logging and the specs directory up, runs the command, and
turns the errors a user can fix into one line on stderr (exit 2) and Ctrl-C into exit 130.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Any, Sequence

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
    for flag, field in (("seed", "seed"), ("clock_speed", "clock_speed"), ("phaseo_mode", "phaseo_mode"), ("response_validation", "response_validation")):
        value = getattr(args, flag, None)
        if value is not None:
            changes[field] = value
    settings = settings.replace(**changes)
    validate_settings(settings, "command line")
    return settings


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

    from .config.baseline import Baseline
    from .server.app import create_app
    from .server.logs import AccessLog

    settings = _settings(args)
    sock = bind(args.host, args.port)  # first: a port in use fails at once, and nothing says "serving" before it is bound
    try:
        app = create_app(settings)
        Baseline.load([data_file(p) for p in args.scenarios], [data_file(p) for p in args.fixtures]).install(app.state.engine, app.state.providers)
    except BaseException:
        sock.close()
        raise
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    urls = {name: base + provider.prefix for name, provider in app.state.providers.items()}
    lines = [f"mockserver {__version__}: serving on {base}"] + [f"  {name:8s} {url}" for name, url in urls.items()] + [f"  admin    {base}/_mock"]
    log.info("\n".join(lines), extra={"url": base, "providers": urls, "admin": f"{base}/_mock"})
    asgi: Any = AccessLog(app) if args.access_log else app
    try:  # uvicorn serves the socket bound above (fd=); its logs go through ours (log_config=None)
        uvicorn.run(asgi, fd=sock.fileno(), log_config=None, log_level=args.log_level, access_log=False, lifespan="off")
    finally:
        sock.close()
    return 0


def add_serve_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
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
    p.add_argument("--response-validation", choices=["off", "warn", "strict"], help="check every response against its spec (default warn)")
    p.add_argument("--scenarios", action="append", default=[], metavar="FILE", help="a scenario file: scenarios, the default scenario, faults (repeatable)")
    p.add_argument("--fixtures", action="append", default=[], metavar="FILE", help="a fixture file, preloaded at start and on reset (repeatable)")
    p.add_argument("--access-log", action="store_true", help="log every request: method, path, status, duration, provider, operation")
    p.set_defaults(func=serve)
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
        try:
            if isinstance(action, argparse._StoreTrueAction):
                value: Any = raw.strip().lower() in ("1", "true", "yes", "on")
            elif isinstance(action, argparse._AppendAction):
                value = [action.type(x.strip()) if action.type else x.strip() for x in raw.split(",") if x.strip()]
            else:
                value = action.type(raw) if callable(action.type) else raw
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

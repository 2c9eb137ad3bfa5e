"""`devstack run` (make run), `devstack stats-rebuild` (make stats-rebuild), `devstack smtp-sink`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the whole back office (make run)")
    rebuild = commands.add_parser("stats-rebuild", help="recount every rollup from the facts (make stats-rebuild)")
    rebuild.add_argument("--port", type=int, default=5433, help="make run's PostgreSQL")
    sink = commands.add_parser("smtp-sink", help="an SMTP server that saves each message as a file")
    sink.add_argument("--port", type=int, default=1025)
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--dir", type=Path, default=Path(".data/mail"))
    args = parser.parse_args(argv)
    if args.command == "run":
        from devstack.run import main as run

        return run()
    if args.command == "stats-rebuild":
        # Against make run's databases (it must be running); a service without rollups is skipped.
        from backoffice_common.rollups import main as rebuild_rollups
        from devstack import REPO_ROOT, SERVICES
        from devstack.postgres import Cluster

        cluster = Cluster(REPO_ROOT / ".data" / "pg", port=args.port)
        return rebuild_rollups([cluster.url(service) for service in SERVICES])
    if args.command == "smtp-sink":
        from devstack.smtp_sink import serve

        serve(args.dir, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())

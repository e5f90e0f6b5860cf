"""The command line: `serve` runs the emulator, `check FILE` validates a scenario."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence

from cloudsim.scenario import ScenarioError, load, with_profile
from cloudsim.store import StateError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cloudsim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9100)
    serve.add_argument("--scenario", help="scenario YAML (default: the seed's demo scenario)")
    serve.add_argument(
        "--profile",
        default="short",
        help="operation times: short (the scenario's, seconds: the default) or cloud (the "
        "cloud's own, from cloudsim/profiles/cloud.yaml)",
    )
    serve.add_argument("--state", help="keep the state in this JSON file across restarts")
    serve.add_argument(
        "--delay-scale", type=float, default=1.0, help="multiply every operation delay (0: instant)"
    )
    serve.add_argument(
        "--health-interval-scale",
        type=float,
        default=0.3,
        help="multiply health-check intervals (default 0.3: a 10 s interval checks every 3 s)",
    )
    serve.add_argument(
        "--allow-non-loopback",
        action="store_true",
        help="allow --host to be an address other than loopback",
    )
    serve.add_argument(
        "--fault", action="append", default=[], metavar="JSON", help="inject a fault (repeatable)"
    )
    serve.add_argument("--throttle-rate", type=float, help="throttle this share of all calls")
    serve.add_argument("--retry-after-ms", type=int, default=0, help="x-acs-retry-after of those")
    serve.add_argument("--unavailable-rate", type=float, help="answer 503 to this share of calls")
    serve.add_argument("--drop-rate", type=float, help="drop this share of connections")
    serve.add_argument("--latency-ms", type=int, help="add this latency to every call")
    serve.add_argument("--fault-seed", type=int, help="make injected faults repeatable")
    serve.add_argument("--access-log", action="store_true", help="log every request to stderr")

    check = commands.add_parser("check", help="validate a scenario file")
    check.add_argument("scenario")

    args = parser.parse_args(argv)
    if args.command == "check":
        try:
            scenario = load(args.scenario)
        except ScenarioError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(
            f"{args.scenario}: {len(scenario.accounts)} accounts, {len(scenario.zones)} zones: ok"
        )
        return 0
    return _serve(parser, args)


def _serve(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from cloudsim.server import CloudSim, is_loopback

    if not args.allow_non_loopback and not is_loopback(args.host):
        parser.error(
            f"--host {args.host} is not a loopback address; pass --allow-non-loopback to "
            "expose the emulator (it has no real security) beyond this machine"
        )
    if args.delay_scale < 0 or args.health_interval_scale <= 0:
        parser.error("--delay-scale must be >= 0 and --health-interval-scale > 0")
    faults = []
    try:
        faults.extend(json.loads(text) for text in args.fault)
    except (ValueError, RecursionError) as exc:
        parser.error(f"--fault is not JSON: {exc}")
    for kind, rate in (
        ("throttle", args.throttle_rate),
        ("unavailable", args.unavailable_rate),
        ("drop", args.drop_rate),
    ):
        if rate is not None:
            spec = {"kind": kind, "rate": rate}
            if kind == "throttle" and args.retry_after_ms:
                spec["retry_after_ms"] = args.retry_after_ms
            faults.append(spec)
    if args.latency_ms:
        faults.append({"kind": "latency", "latency_ms": args.latency_ms})
    try:
        sim = CloudSim(
            with_profile(load(args.scenario), args.profile),
            delay_scale=args.delay_scale,
            state_file=args.state,
            host=args.host,
            port=args.port,
            health_interval_scale=args.health_interval_scale,
            faults=faults,
            fault_seed=args.fault_seed,
            allow_non_loopback=args.allow_non_loopback,
            access_log=args.access_log,
        )
    except (ScenarioError, StateError) as exc:
        print(f"cloudsim: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"cloudsim: {exc}", file=sys.stderr)
        return 2
    # SIGTERM (honcho, docker) stops as cleanly as Ctrl-C: the state file is written on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        sim.serve_forever(ready=lambda: print(f"cloudsim ready on {sim.url}", flush=True))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(
            f"cloudsim: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr
        )
        return 1
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())

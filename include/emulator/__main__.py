"""``python -m include.emulator``: serve the emulator until killed.

Prints ``emulator ready at http://host:port`` once the port accepts connections.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from include.emulator.server import EmulatorServer
from include.emulator.state import EmulatorState


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m include.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ocds-scale", type=int, default=500, help="number of OCDS items")
    parser.add_argument("--ocds-user", default="ocds_user")
    parser.add_argument("--ocds-password", default="ocds_password")
    parser.add_argument("--ocds-client-id", default="ocds_client")
    parser.add_argument("--ocds-client-secret", default="ocds_secret")
    parser.add_argument("--ocds-token-ttl", type=float, default=3600.0)
    parser.add_argument("--retailnext-stores", type=int, default=10, help="number of RetailNext stores")
    parser.add_argument("--rn-access-key", default="rn_access_key", help="RetailNext API access key")
    parser.add_argument("--rn-secret-key", default="rn_secret_key", help="RetailNext API secret key")
    parser.add_argument("--log-level", default="warning")
    parser.add_argument("--access-log", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = EmulatorState(
        args.ocds_scale,
        args.seed,
        ocds_user=args.ocds_user,
        ocds_password=args.ocds_password,
        ocds_client_id=args.ocds_client_id,
        ocds_client_secret=args.ocds_client_secret,
        ocds_token_ttl=args.ocds_token_ttl,
        retailnext_stores=args.retailnext_stores,
        retailnext_access_key=args.rn_access_key,
        retailnext_secret_key=args.rn_secret_key,
    )
    server = EmulatorServer(state, args.host, args.port, log_level=args.log_level, access_log=args.access_log)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server.start()
    print(f"emulator ready at {server.url}", flush=True)
    try:
        while not stop.wait(0.5):
            if not server.running:
                return 1
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

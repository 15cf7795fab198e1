"""Entry point of the Marquez contract server in ``marquez_contract/``; re-exports the names the tests import."""

from __future__ import annotations

import argparse
import threading

from marquez_contract import (
    MarquezContractServer,
    RecordedRequest,
    java_double,
    marquez_api_view,
    marquez_stored_json,
)

__all__ = [
    "MarquezContractServer",
    "RecordedRequest",
    "java_double",
    "marquez_api_view",
    "marquez_stored_json",
]


def main(argv: list[str] | None = None) -> None:
    """``python tests/marquez_server.py --port 5000``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Marquez 0.51 contract server for provlineage tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--token", default=None, help="require Authorization: Bearer <token>")
    args = parser.parse_args(argv)
    server = MarquezContractServer(args.host, args.port, args.token).start()
    print(f"Marquez contract server on {server.url} (POST /api/v1/lineage, GET /api/v1/events/lineage)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

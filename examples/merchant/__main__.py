"""python -m examples.merchant --port 8700: the reference merchant system (see app.py)."""

from __future__ import annotations

import argparse

import uvicorn

from examples.merchant.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8700)
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

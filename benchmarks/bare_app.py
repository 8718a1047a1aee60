"""The browse benchmark's yardstick: a bare Falcon app answering one constant body (the bytes of a
file: JSON, or HTML when the file's name ends in .html) to every GET, served by gunicorn with
exactly the options `azctl serve` uses.

    python benchmarks/bare_app.py --body listing.json --workers 5 --bind 127.0.0.1:8001
"""

from __future__ import annotations

import argparse
from pathlib import Path

import falcon

from azctl.http.server import Server, gunicorn_options


def bare_app(body: bytes, media_type: str = falcon.MEDIA_JSON) -> falcon.App:
    def constant(_req: falcon.Request, resp: falcon.Response, **_params: object) -> None:
        resp.data = body
        resp.content_type = media_type

    app = falcon.App()
    app.add_sink(constant, "/")
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, required=True)
    arguments = parser.parse_args()
    options = gunicorn_options(bind=arguments.bind, workers=arguments.workers)
    body = arguments.body.read_bytes()
    media_type = falcon.MEDIA_HTML if arguments.body.suffix == ".html" else falcon.MEDIA_JSON
    Server(options, with_worker=False, load=lambda: bare_app(body, media_type)).run()


if __name__ == "__main__":
    main()

"""moto's server on a free loopback port: the emulator the stack and the pipeline build talk to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

WsgiApp = Any  # the WSGI application moto's server calls per request


class LocalServer:
    def __init__(self, server: ThreadedMotoServer):
        self._moto = server
        host, self.port = server.get_host_and_port()
        self.endpoint = f"http://{host}:{self.port}"

    @contextmanager
    def wrapped(self, wrap: Callable[[WsgiApp], WsgiApp]) -> Iterator[None]:
        """Requests go through `wrap(moto's app)` until the block ends."""
        wsgi_server: Any = self._moto._server  # werkzeug's server: its handler reads `.app` for each request
        original = wsgi_server.app
        wsgi_server.app = wrap(original)
        try:
            yield
        finally:
            wsgi_server.app = original


@contextmanager
def serving() -> Iterator[LocalServer]:
    """A moto server that runs until the block ends."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        yield LocalServer(server)
    finally:
        server.stop()

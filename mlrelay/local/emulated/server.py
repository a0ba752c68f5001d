"""moto's server on a free loopback port: the emulator the stack and the pipeline build talk to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer


@contextmanager
def serving() -> Iterator[tuple[str, int]]:
    """(endpoint URL, port) of a moto server that runs until the block ends."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}", port
    finally:
        server.stop()

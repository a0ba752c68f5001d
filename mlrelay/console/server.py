"""Serving the console: a socket bound first (so the address printed is the one served, port 0 included), then
uvicorn on it, in the foreground (the CLI) or on a thread (the browser tests and the benchmark)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp


class PortTakenError(OSError):
    """The address cannot be bound."""


def bind(host: str, port: int) -> socket.socket:
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart right after Ctrl-C gets its port back
    try:
        listener.bind((host, port))
    except OSError as err:
        listener.close()
        raise PortTakenError(f"cannot serve on {host}:{port}: {err.strerror}; choose another --port") from err
    listener.listen(128)  # from now on a browser's request waits for the server instead of being refused
    return listener


def address(listener: socket.socket) -> str:
    host, port = listener.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(app: ASGIApp, listener: socket.socket) -> None:
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])


@contextmanager
def serving_in_background(app: ASGIApp, host: str = "127.0.0.1") -> Iterator[str]:
    """The app served on a free port until the block ends; yields its address."""
    listener = bind(host, 0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start within 30 s")
        time.sleep(0.05)
    try:
        yield address(listener)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()

"""Who may reach the console: localhost by default; another address only when asked for, and then with a token.

Every form that changes something also carries the session's form key, and a post must come from the console's own
origin: a page of another site open in the same browser cannot post to it (cross-site request forgery). Requests are
answered only for the console's own host names, so another site's name pointed at 127.0.0.1 (DNS rebinding) does not
make that site the console's origin.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOKEN_COOKIE = "mlrelay_console_token"


class BindRefusedError(ValueError):
    """An address other than localhost without --allow-remote."""


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class Access:
    token: str | None  # None: localhost only, no token asked
    form_key: str
    hosts: tuple[str, ...] = LOOPBACK_NAMES  # the Host headers answered: another name pointed here is refused


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def access_for(host: str, allow_remote: bool) -> Access:
    """Localhost needs no token; any other address needs --allow-remote, and then a token the command prints."""
    if is_loopback(host):
        return Access(token=None, form_key=secrets.token_urlsafe(24))
    if not allow_remote:
        raise BindRefusedError(
            f"the console serves localhost only; {host} would expose it (and your AWS credentials' reach) to the network. "
            "Pass --allow-remote to serve it there anyway: it then asks for a token it prints")
    # Any name the others reach this machine by: the token, which another site's page never has, keeps them out.
    return Access(token=secrets.token_urlsafe(24), form_key=secrets.token_urlsafe(24), hosts=("*",))


def same(given: str, expected: str) -> bool:
    """A constant-time comparison that any text can take (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode(), expected.encode())


class TokenMiddleware:
    """Refuses a request without the token (`?token=` once, then the cookie it sets); lets all through when none."""

    def __init__(self, app: ASGIApp, access: Access):
        self.app = app
        self.access = access

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = self.access.token
        if scope["type"] != "http" or token is None:
            await self.app(scope, receive, send)
            return
        given = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        kept = cookie_parser(dict(scope.get("headers", [])).get(b"cookie", b"").decode("latin-1")).get(TOKEN_COOKIE, "")
        if same(given, token):
            async def send_with_cookie(message: Message) -> None:
                if message["type"] == "http.response.start":
                    cookie = f"{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
                    message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
                await send(message)
            await self.app(scope, receive, send_with_cookie)
            return
        if same(kept, token):
            await self.app(scope, receive, send)
            return
        body = b"This console needs its token: open the address `mlrelay console` printed (it ends in ?token=...).\n"
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
        await send({"type": "http.response.body", "body": body})

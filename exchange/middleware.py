"""Response headers every page carries, and a clear page when the database is away."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

log = logging.getLogger(__name__)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no script but the site's own files, no framing) and a
    Permissions-Policy; HSTS, nosniff, referrer policy and frame denial come from Django's
    SecurityMiddleware and clickjacking middleware with the settings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response


class DatabaseUnavailableMiddleware:
    """A database that went away mid-request (restart, failover, network) is answered with
    a 503 page saying nothing was recorded (every write is one transaction, rolled back),
    and the broken connection is dropped so the next request reconnects without a restart."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        log.error("Database unavailable during %s %s: %s", request.method, request.path, exception)
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
            if connection.connection is not None and not connection.is_usable():
                connection.close()
        body = render_to_string("database_unavailable.html", {"request": request})
        response = HttpResponse(body, status=503)
        response["Retry-After"] = "30"
        return response


def client_ip(request: HttpRequest) -> str:
    """The client's address, for the sign-in lockout and the sign-up and reset rate limits.

    Each proxy in front of us appends the address it saw to X-Forwarded-For, so only the
    last TRUSTED_PROXY_COUNT entries were written by machines we trust; anything to their
    left was written by the client and may be forged. The client is therefore the entry
    TRUSTED_PROXY_COUNT places from the right. A header with fewer entries, or an entry
    that is not an IP address, did not come through our proxies: the peer's address is used.
    """
    peer = str(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.TRUSTED_PROXY_COUNT
    if trusted <= 0:
        return peer
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < trusted:
        return peer
    candidate = forwarded[-trusted]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return peer

"""Response headers every page carries, a clear page when the database is away, the
client's address behind our proxies, and sessions that end."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

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
        return database_unavailable(request, exception)


def database_unavailable(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The 503 page, for the middleware above and for middleware that reads the database
    before any view runs (the session's user)."""
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


# --- sessions that end ----------------------------------------------------------------------

LAST_SEEN_KEY = "desk_last_seen"
LAST_SEEN_STEP = 60.0  # seconds, at most
SIGNED_IN_KEY = "desk_signed_in_at"


def idle_limit(user: Any) -> dt.timedelta:
    """Staff sessions end sooner: a desk left open in an office is the larger risk."""
    minutes = (
        settings.SESSION_IDLE_MINUTES_STAFF
        if user.is_staff
        else settings.SESSION_IDLE_MINUTES_HOLDER
    )
    return dt.timedelta(minutes=minutes)


def mark_signed_in(sender: object, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Connected to user_logged_in (exchange.apps): the absolute lifetime counts from here."""
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_KEY] = now
    request.session[LAST_SEEN_KEY] = now


class SessionTimeoutMiddleware:
    """Signs out a session idle longer than its role's limit (SESSION_IDLE_MINUTES_STAFF,
    _HOLDER), or older than SESSION_ABSOLUTE_HOURS however busy, and sends the person to
    the sign-in page of the room they were in with a message saying why.

    A password change signs out every other session by itself: Django keeps a hash of the
    password in each session and drops a session whose hash no longer matches."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        try:
            signed_in = user is not None and user.is_authenticated  # reads the session's user
        except (OperationalError, InterfaceError) as exc:
            return database_unavailable(request, exc)
        if signed_in:
            now = timezone.now()
            session = request.session
            last_seen = session.get(LAST_SEEN_KEY)
            started = session.get(SIGNED_IN_KEY, last_seen)
            reason = None
            if last_seen is not None and now >= _instant(last_seen) + idle_limit(user):
                minutes = int(idle_limit(user).total_seconds() // 60)
                reason = f"You were signed out after {minutes} minutes without activity."
            elif started is not None and now >= _instant(started) + dt.timedelta(
                hours=settings.SESSION_ABSOLUTE_HOURS
            ):
                reason = (
                    f"You were signed out: a session lasts at most "
                    f"{settings.SESSION_ABSOLUTE_HOURS} hours."
                )
            if reason is not None:
                return self._signed_out(request, reason)
            # The idle clock moves in steps (a minute, or a tenth of a shorter limit): a
            # session saved on every request is a write and a commit per page in a
            # deadline rush. A stamp up to a step old only ever signs out earlier, never
            # later, than the limit.
            step = min(LAST_SEEN_STEP, idle_limit(user).total_seconds() / 10)
            if last_seen is None or now.timestamp() - last_seen >= step:
                session[LAST_SEEN_KEY] = now.timestamp()
            session.setdefault(SIGNED_IN_KEY, now.timestamp())
        return self.get_response(request)

    def _signed_out(self, request: HttpRequest, reason: str) -> HttpResponse:
        desk = request.path.startswith(reverse("admin:index"))
        logout(request)
        messages.info(request, reason)
        login = reverse("admin:login" if desk else "portal:login")
        return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")


def _instant(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


# --- errors people understand ----------------------------------------------------------------

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _role(user: Any) -> str:
    if user is None or not user.is_authenticated:
        return "not signed in"
    if user.is_superuser:
        return "administrator"
    if user.is_staff:
        names = sorted(user.groups.values_list("name", flat=True))
        return " and ".join(n.rstrip("s").lower() for n in names) or "staff without a role"
    return "holder"


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: what this role may not do and whom to ask, logged once at INFO."""
    user = getattr(request, "user", None)
    what = str(exception or "").strip() or (
        "Your role may not open this page or take this step. Ask a supervisor of the desk "
        "if you need it."
    )
    log.info(
        "Forbidden %s %s for %s (%s)",
        request.method,
        request.path,
        user.get_username() if user is not None and user.is_authenticated else "anonymous",
        _role(user),
    )
    desk = request.path.startswith(reverse("admin:index"))
    response = render(
        request,
        "403.html",
        {"role": _role(user), "what": what, "desk": desk},
        status=403,
    )
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: the portal's page, logged once at INFO (no traceback: it is no fault)."""
    log.info("Not found %s %s", request.method, request.path)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: says nothing was recorded only when that is certain.

    A request that only reads (GET, HEAD) records nothing. A submission may have been
    recorded before the fault (the record commits, then something after it fails), so
    its page says to look before submitting again, never that nothing was recorded."""
    safe = request.method in SAFE_METHODS
    body = render_to_string("500.html", {"nothing_recorded": safe})
    return HttpResponse(body, status=500)

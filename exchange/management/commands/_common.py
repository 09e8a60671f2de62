"""Shared bits of the operator commands: --as-of, offer and series lookup."""

from __future__ import annotations

import datetime as dt
import re

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from exchange.models import ActorKind, ExchangeOffer, NoteSeries
from exchange.services.base import Actor
from exchange.terms import calendars


def add_as_of(parser: CommandParser) -> None:
    parser.add_argument(
        "--as-of",
        metavar='"YYYY-MM-DD HH:MM"',
        help="New York time to act as of (default: now). Replays the clock; never the future's.",
    )


def as_of(options: dict[str, object]) -> dt.datetime:
    raw = options.get("as_of")
    if not raw:
        return timezone.now()
    try:
        return calendars.parse_ny(str(raw))
    except ValueError as exc:
        raise CommandError(str(exc)) from None


_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,50}")


def _check_slug(slug: str, what: str) -> None:
    if not _SLUG.fullmatch(slug):
        raise CommandError(f"{slug!r} is not {what} slug (letters, digits, hyphens).")


def get_offer(slug: str) -> ExchangeOffer:
    _check_slug(slug, "an offer")
    try:
        return ExchangeOffer.objects.get(slug=slug)
    except ExchangeOffer.DoesNotExist:
        known = ", ".join(ExchangeOffer.objects.values_list("slug", flat=True)) or "none yet"
        raise CommandError(f"No exchange offer {slug!r}; offers: {known}.") from None


def get_series(slug: str, offer_slug: str | None) -> NoteSeries:
    _check_slug(slug, "a series")
    if offer_slug:
        _check_slug(offer_slug, "an offer")
    candidates = NoteSeries.objects.filter(slug=slug).select_related("offer")
    if offer_slug:
        candidates = candidates.filter(offer__slug=offer_slug)
    found = list(candidates[:2])
    if not found:
        known = ", ".join(sorted(set(NoteSeries.objects.values_list("slug", flat=True)))) or "none"
        raise CommandError(f"No note series {slug!r}; series: {known}.")
    if len(found) > 1:
        raise CommandError(f"Series {slug!r} exists in several offers; name one with --offer.")
    return found[0]


def issuer_decision_actor(options: dict[str, object], command: str) -> Actor:
    """Who records an issuer's decision: --user NAME (a supervisor, checked as the admin
    checks it), or the operator running the command."""
    from django.contrib.auth import get_user_model

    name = options.get("user")
    if not name:
        return Actor(kind=ActorKind.SUPERVISOR, label=f"operator (manage.py {command})")
    user_model = get_user_model()
    try:
        user = user_model.objects.get(username=name)
    except user_model.DoesNotExist:
        raise CommandError(f"No user {name!r}.") from None
    if not user.is_active or not user.has_perm("exchange.record_issuer_decision"):
        raise CommandError(f"{user} may not record the issuer's decisions.")
    return Actor.for_user(user, ActorKind.SUPERVISOR)


def add_user(parser: CommandParser) -> None:
    parser.add_argument(
        "--user", help="Username of the supervisor recording it (default: the operator)"
    )

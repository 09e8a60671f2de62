"""Redis down: the portal keeps taking tenders (nothing a holder does waits on the broker),
and the jobs catch up when it returns, because their due times live in the database."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from kombu.exceptions import OperationalError as BrokerUnavailable

from exchange.celery import app
from exchange.jobs.tasks import tick
from exchange.models import ExchangeOffer, OfferState, Tender
from tests.exchange.jobs.conftest import start_worker, wait_for
from tests.exchange.services.test_concurrency import _database_restored_after_the_module
from tests.factories import ny
from tests.holders.conftest import Cast, letter_data
from tests.holders.views.test_tender_views import post_letter

__all__ = ["_database_restored_after_the_module", "start_worker"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DEAD_BROKER = "redis://127.0.0.1:6399/9"  # nothing listens there


def _forget_broker_connections() -> None:
    """The producer pools are rebuilt from the broker URL on next use."""
    app._pool = None
    app.amqp._producer_pool = None


def test_the_portal_takes_tenders_with_redis_down_and_jobs_catch_up(
    cast: Cast, start_worker
) -> None:  # type: ignore[no-untyped-def]
    live_broker = app.conf.broker_url
    app.conf.broker_url = DEAD_BROKER
    _forget_broker_connections()
    try:
        # The broker really is unreachable: a task cannot even be sent.
        with pytest.raises(BrokerUnavailable):
            tick.apply_async(retry=False)
        with time_machine.travel(ny(2000, 6, 26, 10), tick=False):
            response = post_letter(cast.client(cast.ardsley), letter_data())
        assert response.status_code == 302
        assert Tender.objects.count() == 1
    finally:
        app.conf.broker_url = live_broker
        _forget_broker_connections()
    # Redis is back: the next tick (here replayed after the expiration instant) finds the
    # expiration due in the database and a worker closes the offer.
    start_worker()
    tick.delay((cast.seed.offer.expiration_at + dt.timedelta(minutes=1)).isoformat())
    wait_for(
        lambda: ExchangeOffer.objects.get(pk=cast.seed.offer.pk).state == OfferState.EXPIRED,
        timeout=60,
        what="the expiration job after Redis returned",
    )

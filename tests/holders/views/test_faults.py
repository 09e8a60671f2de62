"""Faults at the portal: the database going away mid-request, and the security headers
every page carries."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from exchange.models import Tender
from tests.exchange.services.test_concurrency import _database_restored_after_the_module
from tests.holders.conftest import Cast, letter_data
from tests.holders.views.test_tender_views import form_url, post_letter

__all__ = ["_database_restored_after_the_module"]


def _kill_the_web_connection() -> None:
    """What a database restart does to a live connection: the server ends it."""
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_database_gone_mid_request_gives_a_clear_page_and_recovers(
    cast: Cast, during: dt.datetime
) -> None:
    client = cast.client(cast.ardsley)
    assert client.get(form_url()).status_code == 200
    _kill_the_web_connection()
    response = post_letter(client, letter_data())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "Nothing from this request was recorded" in response.content.decode()
    assert Tender.objects.count() == 0  # (a fresh connection: recovered without a restart)
    again = post_letter(client, letter_data())
    assert again.status_code == 302
    assert Tender.objects.count() == 1


@pytest.mark.django_db
def test_every_page_carries_the_security_headers(
    cast: Cast, during: dt.datetime, admin_client
) -> None:  # type: ignore[no-untyped-def]
    for response in (
        cast.client(cast.ardsley).get(form_url()),
        cast.client(cast.ardsley).get("/"),
        admin_client.get("/admin/"),
    ):
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        page = response.content.decode()
        # No inline script anywhere: the policy would block it.
        assert "<script>" not in page and "javascript:" not in page

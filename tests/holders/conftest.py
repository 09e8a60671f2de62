"""The portal's test cast: the seed offer's holders, each with a login, on a day the offer
is open. Views read the server's clock, so tests travel to the offer's year (time_machine,
tick=False: every timezone.now() in the request is the same instant)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

from exchange.models import StateChange, Tender, WithdrawalNotice
from holders.models import Holder
from tests.factories import SeedOffer, ny

DURING = ny(2000, 6, 26, 10, 0)  # Monday; the seed offer (expiring 2000-07-12 17:00) is open
EXPIRATION = ny(2000, 7, 12, 17, 0)
PASSWORD = "a-Long-test-passphrase-7"


def login_for(holder: Holder, username: str) -> AbstractBaseUser:
    # No password (tests sign in with force_login): hashing one costs a third of a second.
    user = get_user_model().objects.create_user(username=username, email=f"{username}@example.com")
    holder.user = user
    holder.email = f"{username}@example.com"
    holder.save(update_fields=["user", "email"])
    return user


@dataclass
class Cast:
    seed: SeedOffer
    ardsley: AbstractBaseUser  # registered holder
    chen: AbstractBaseUser  # another registered holder
    bayside: AbstractBaseUser  # DTC participant (nominee)
    empire: AbstractBaseUser  # eligible guarantor institution

    def client(self, user: AbstractBaseUser) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def cast(seed: SeedOffer) -> Cast:
    return Cast(
        seed=seed,
        ardsley=login_for(seed.registered, "ardsley"),
        chen=login_for(seed.second_registered, "mchen"),
        bayside=login_for(seed.participant, "bayside"),
        empire=login_for(seed.guarantor, "empire"),
    )


@pytest.fixture
def during() -> Iterator[dt.datetime]:
    with time_machine.travel(DURING, tick=False):
        yield DURING


def counts() -> tuple[int, int, int]:
    """What a refused submission must leave unchanged."""
    return Tender.objects.count(), WithdrawalNotice.objects.count(), StateChange.objects.count()


def letter_data(**overrides: Any) -> dict[str, str]:
    """A properly completed paper letter for Ardsley's certificate R08-0002 ($1,000,000)."""
    data = {
        "amount": "1,000,000",
        "certificates": "R08-0002 1,000,000",
        "registered_names": "Ardsley Pension Trust",
        "signer_name": "Ardsley Pension Trust",
        "signer_capacity": "registered_holder",
        "signed": "on",
        "rep_full_authority": "on",
        "rep_not_affiliate": "on",
        "rep_not_broker_dealer_from_issuer": "on",
        "rep_ordinary_course": "on",
        "rep_no_distribution": "on",
        "tin": "123-45-6789",
        "w9_certified": "on",
    }
    data.update(overrides)
    # A None override leaves the box out of the POST, as an unticked checkbox is left out.
    return {k: v for k, v in data.items() if v is not None}


def book_entry_data(**overrides: Any) -> dict[str, str]:
    data = {
        "amount": "10,000,000",
        "book_entry_confirmation": "ATOP-000123",
        "agents_message": "on",
        "registered_names": "Cede & Co.",
        "signer_name": "R. Reorg",
        "signer_capacity": "dtc_participant",
        "signed": "on",
        "rep_full_authority": "on",
        "rep_not_affiliate": "on",
        "rep_not_broker_dealer_from_issuer": "on",
        "rep_ordinary_course": "on",
        "rep_no_distribution": "on",
        "is_broker_dealer": "on",
        "broker_dealer_prospectus_acknowledged": "on",
        "tin": "12-3456789",
        "w9_certified": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}

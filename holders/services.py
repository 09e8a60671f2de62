"""Portal accounts: a clerk invites a holder, or someone signs up and a clerk approves.

Either way a login acts for exactly one Holder row the desk already keeps (its holdings
come from the registrar and DTC, never from the person signing in), and the step is
recorded in the desk's history like every other change.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.contrib.auth.tokens import default_token_generator
from django.db import connection, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from exchange.models import OutboxMessage
from exchange.services.base import Actor, DeskError, record, require_aware
from holders.models import Holder, HolderKind, PortalSubmission, SignUpRequest, SignUpStatus


def _mail(notice: str, subject: str, body: str, to: str, holder: Holder | None = None) -> None:
    # Through the outbox, in this transaction: mail goes only for work that committed, and
    # a mail server that is slow or down neither holds up nor undoes it.
    OutboxMessage.objects.queue(
        notice=notice,
        subject=subject,
        body=body,
        to=[to],
        holder_id=holder.pk if holder is not None else None,
    )


def username_taken(username: str) -> bool:
    return get_user_model().objects.filter(username__iexact=username).exists()


def _free_username(base: str) -> str:
    """A login name from an e-mail's local part: ASCII letters, digits, dots, dashes."""
    ascii_base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9.\-]+", "", ascii_base.lower()).strip(".-")[:30] or "holder"
    candidate, n = stem, 1
    while username_taken(candidate):
        n += 1
        candidate = f"{stem}{n}"
    return candidate


def is_staff_account(user: AbstractBaseUser) -> bool:
    """Clerks, supervisors and superusers: never a portal login, never reached by a
    portal invitation or password link (a desk login is managed by a superuser only)."""
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def refuse_staff_login(user: AbstractBaseUser | None, holder_name: str) -> None:
    if user is not None and is_staff_account(user):
        raise DeskError(
            f"{holder_name} is linked to a desk login ({user.get_username()}); a staff "
            f"account is never a portal login. Ask a superuser to unlink it.",
            field="user",
        )


def invitation_path(user: AbstractBaseUser) -> str:
    """The one-time link that lets an invited holder choose a password.

    Django's password-reset token: it stops working once the password is set (the hash
    it covers changes) or after PASSWORD_RESET_TIMEOUT.
    """
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("portal:accept_invite", args=[uid, default_token_generator.make_token(user)])


@dataclass(frozen=True)
class Invitation:
    holder: Holder
    username: str
    link: str
    reset: bool = False  # a new password for a login that had one


@transaction.atomic
def invite_holder(holder_id: int, *, actor: Actor, now: dt.datetime, site_url: str) -> Invitation:
    """Create the holder's login (or use the one it has) and e-mail it a one-time link to
    choose a password.

    For a login that already has a password this is the desk's password reset: the link
    goes only to the address the register keeps for the holder, and the old password
    works until the new one is chosen.
    """
    require_aware(now)
    holder = Holder.objects.select_for_update().get(pk=holder_id)
    if not holder.email:
        raise DeskError(f"{holder.name} has no e-mail address: add one, then invite.")
    user = holder.user
    refuse_staff_login(user, holder.name)
    reset = user is not None and user.has_usable_password()
    if user is None:
        user = get_user_model().objects.create_user(
            username=_free_username(holder.email.split("@", 1)[0]), email=holder.email
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        holder.user = user
        holder.save(update_fields=["user"])
    link = site_url.rstrip("/") + invitation_path(user)
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    if reset:
        subject = "A new password for the exchange agent's tender portal"
        body = (
            f"The exchange agent was asked to let {holder.name} choose a new portal password.\n\n"
            f"Your login name: {user.get_username()}\n"
            f"Choose the new password here (the link works once, for {days} days):\n{link}\n\n"
            f"If you did not ask for this, ignore this e-mail: your password stays as it is."
        )
    else:
        subject = "Your access to the exchange agent's tender portal"
        body = (
            f"The exchange agent has opened a portal login for {holder.name}.\n\n"
            f"Your login name: {user.get_username()}\n"
            f"Choose your password here (the link works once, for {days} days):\n{link}\n\n"
            f"Through the portal you can tender original notes, follow your tenders and "
            f"withdraw them before the offer expires."
        )
    _mail("portal_reset" if reset else "portal_invitation", subject, body, holder.email, holder)
    record(
        holder,
        action="holders.holder.invited",
        from_state="",
        to_state="",
        actor=actor,
        now=now,
        reason=(
            f"New password link for login {user.get_username()} sent to {holder.email}."
            if reset
            else f"Login {user.get_username()} invited at {holder.email}."
        ),
    )
    return Invitation(holder=holder, username=user.get_username(), link=link, reset=reset)


@dataclass(frozen=True)
class SignUp:
    username: str
    email: str
    password: str
    contact_name: str
    holder_name: str
    kind: HolderKind
    address: str
    dtc_participant_number: str = ""
    medallion_program: str = ""
    note: str = ""


SIGN_UP_RECEIVED_BODY = (
    "We received a request for access to the exchange agent's tender portal with this "
    "e-mail address. The exchange agent checks every request against the register of "
    "holders and e-mails the decision to this address.\n\n"
    "If you did not ask for access, ignore this message: nothing can be seen or done "
    "with a request until the exchange agent has matched it to a holder."
)


@transaction.atomic
def request_sign_up(sign_up: SignUp, *, now: dt.datetime) -> SignUpRequest:
    """Record a request for a login; nothing can be seen with it until a clerk approves.

    The answer is the same whatever the login name: a name already in use (a holder's, or
    a clerk's) is recorded like any other and the clerk declines it at review, so the page
    never tells a stranger which names exist. The acknowledgment carries no text the
    requester wrote, so the form cannot be used to send our mail with a stranger's words.
    """
    require_aware(now)
    request = SignUpRequest.objects.create(
        username=sign_up.username,
        email=sign_up.email,
        # Only the hash is kept, and only until a clerk decides.
        password=make_password(sign_up.password),
        contact_name=sign_up.contact_name,
        holder_name=sign_up.holder_name,
        kind=sign_up.kind,
        address=sign_up.address,
        dtc_participant_number=sign_up.dtc_participant_number,
        medallion_program=sign_up.medallion_program,
        note=sign_up.note,
        requested_at=now,
    )
    _mail(
        "sign_up_received",
        "Your request for access to the tender portal",
        SIGN_UP_RECEIVED_BODY,
        sign_up.email,
    )
    return request


def login_name_in_use(request: SignUpRequest) -> bool:
    """For the clerk reviewing a request: is its login name taken (by a login, or by
    another request still pending)?"""
    return (
        username_taken(request.username)
        or SignUpRequest.objects.filter(
            username__iexact=request.username, status=SignUpStatus.PENDING
        )
        .exclude(pk=request.pk)
        .exists()
    )


def _check_match(request: SignUpRequest, holder: Holder) -> None:
    if holder.kind != request.kind:
        raise DeskError(
            f"The sign-up is for a {HolderKind(request.kind).label.lower()}; {holder.name} is "
            f"a {holder.get_kind_display().lower()}.",
            field="holder",
        )
    if (
        holder.kind == HolderKind.DTC_PARTICIPANT
        and request.dtc_participant_number.strip() != holder.dtc_participant_number
    ):
        raise DeskError(
            f"The sign-up gives DTC participant number "
            f"{request.dtc_participant_number or '(none)'}; {holder.name} is participant "
            f"{holder.dtc_participant_number}.",
            field="holder",
        )
    if holder.user_id is not None:
        raise DeskError(f"{holder.name} already has a portal login.", field="holder")


@transaction.atomic
def approve_sign_up(
    request_id: int,
    *,
    actor: Actor,
    now: dt.datetime,
    site_url: str,
    holder_id: int | None = None,
) -> SignUpRequest:
    """Create the login for the holder the clerk matched the request to."""
    require_aware(now)
    request = SignUpRequest.objects.select_for_update().get(pk=request_id)
    if request.status == SignUpStatus.APPROVED:
        return request
    if request.status != SignUpStatus.PENDING:
        raise DeskError(f"The sign-up of {request.username} was already declined.")
    chosen = holder_id or request.holder_id
    if chosen is None:
        raise DeskError(
            f"Choose the holder that {request.username} ({request.holder_name}) acts for "
            f"before approving.",
            field="holder",
        )
    holder = Holder.objects.select_for_update().get(pk=chosen)
    _check_match(request, holder)
    if username_taken(request.username):
        raise DeskError(
            f"The login name {request.username} was taken meanwhile; decline and ask for another.",
            field="username",
        )
    user = get_user_model().objects.create(
        username=request.username, email=request.email, password=request.password
    )
    holder.user = user
    fields = ["user"]
    if not holder.email:
        holder.email = request.email
        fields.append("email")
    holder.save(update_fields=fields)
    request.status = SignUpStatus.APPROVED
    request.holder = holder
    request.user = user
    request.password = ""  # the hash now lives on the login only
    request.decided_at = now
    request.decided_by = actor.user if actor.user is not None else None
    request.save()
    record(
        request,
        action="holders.sign_up.approved",
        from_state=SignUpStatus.PENDING,
        to_state=SignUpStatus.APPROVED,
        actor=actor,
        now=now,
        reason=f"Login {user.get_username()} acts for {holder.name}.",
    )
    _mail(
        "sign_up_approved",
        "Your portal access is approved",
        f"Your login {user.get_username()} now acts for {holder.name}. Sign in at "
        f"{site_url.rstrip('/')}{reverse('portal:login')} with the password you chose.",
        request.email,
        holder,
    )
    return request


@transaction.atomic
def decline_sign_up(
    request_id: int, *, actor: Actor, now: dt.datetime, reason: str
) -> SignUpRequest:
    require_aware(now)
    if not reason.strip():
        raise DeskError("Say why the sign-up is declined; the applicant is told.", field="reason")
    request = SignUpRequest.objects.select_for_update().get(pk=request_id)
    if request.status == SignUpStatus.DECLINED:
        return request
    if request.status != SignUpStatus.PENDING:
        raise DeskError(f"The sign-up of {request.username} was already approved.")
    request.status = SignUpStatus.DECLINED
    request.password = ""
    request.decided_at = now
    request.decided_by = actor.user if actor.user is not None else None
    request.decision_note = reason.strip()
    request.save()
    record(
        request,
        action="holders.sign_up.declined",
        from_state=SignUpStatus.PENDING,
        to_state=SignUpStatus.DECLINED,
        actor=actor,
        now=now,
        reason=reason.strip(),
    )
    _mail(
        "sign_up_declined",
        "Your request for portal access",
        f"Your request for a portal login was not approved: "
        f"{reason.strip()}\nContact the exchange agent if you believe this is wrong.",
        request.email,
    )
    return request


# --- one submission per page -------------------------------------------------------------------

Receipt = TypeVar("Receipt")


class AlreadySubmitted(Exception):
    """This page was submitted before: here is the receipt it got."""

    def __init__(self, receipt_url: str) -> None:
        super().__init__(receipt_url)
        self.receipt_url = receipt_url


def first_receipt(user: AbstractBaseUser, token: uuid.UUID | None) -> str | None:
    """The receipt a page with this token already got, if it was recorded."""
    if token is None:
        return None
    return (
        PortalSubmission.objects.filter(user=user, token=token)
        .exclude(receipt_url="")
        .values_list("receipt_url", flat=True)
        .first()
    )


def submit_once(
    *,
    user: AbstractBaseUser,
    token: uuid.UUID | None,
    form: str,
    now: dt.datetime,
    submit: Callable[[], Receipt],
    receipt_url: Callable[[Receipt], str],
) -> Receipt:
    """Run `submit` (one service call) at most once per page token.

    The token row is inserted in the same transaction as the document: a copy of the page
    that arrives meanwhile waits on the unique index, then finds the first copy committed
    and gets its receipt (AlreadySubmitted); if the first copy was refused, its token row
    went with it and the copy is taken on its own merits. Without a token (a client that is
    not the portal's page) nothing can be matched, and the submission is taken as it is.
    """
    require_aware(now)
    if token is None:
        return submit()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {PortalSubmission._meta.db_table} "
                "(user_id, token, form, receipt_url, received_at) VALUES (%s, %s, %s, '', %s) "
                "ON CONFLICT (user_id, token) DO NOTHING RETURNING id",
                [user.pk, token, form, now],
            )
            row = cursor.fetchone()
        if row is None:
            raise AlreadySubmitted(first_receipt(user, token) or "")
        result = submit()
        PortalSubmission.objects.filter(pk=row[0]).update(receipt_url=receipt_url(result))
        return result


def request_password_reset(email: str, *, now: dt.datetime, site_url: str) -> int:
    """A holder who forgot its password asks for a link by e-mail address.

    Whatever the address, the person asking is told the same thing; a link goes only to
    an address the register keeps for a holder whose login has a password. Staff logins
    never get one this way (their passwords are reset by an administrator), so the page
    reveals neither holders nor staff. The mail carries no text the requester wrote.
    Returns the number of links queued (for tests and the log, never for the page).
    """
    require_aware(now)
    address = email.strip()
    if not address:
        return 0
    holders = Holder.objects.filter(
        email__iexact=address,
        user__isnull=False,
        user__is_active=True,
        user__is_staff=False,
        user__is_superuser=False,
    ).select_related("user")
    queued = 0
    days = settings.PASSWORD_RESET_TIMEOUT // 86400
    with transaction.atomic():
        for holder in holders:
            user = holder.user
            if user is None or not user.has_usable_password():
                continue  # an invited login without a password: the clerk invites again
            link = site_url.rstrip("/") + invitation_path(user)
            _mail(
                "portal_reset",
                "A new password for the exchange agent's tender portal",
                f"Someone asked for a new portal password for {holder.name}.\n\n"
                f"Your login name: {user.get_username()}\n"
                f"Choose the new password here (the link works once, for {days} days):\n"
                f"{link}\n\n"
                f"If you did not ask for this, ignore this e-mail: your password stays as it is.",
                holder.email,
                holder,
            )
            queued += 1
    return queued

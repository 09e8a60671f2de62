"""An activity file uploaded in the admin: kept as received, previewed, then imported once
a clerk confirms. The preview and the import run in the worker (a file near expiration
has tens of thousands of lines); each step is idempotent and takes the import's id."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict

from django.contrib.auth import get_user_model
from django.db import transaction

from exchange.models import ActorKind, AtopImport, AtopImportState, ExchangeOffer
from exchange.services.atop.apply import ImportSummary, import_activity
from exchange.services.atop.files import read_activity_file
from exchange.services.base import Actor, DeskError, record, require_aware

MAX_FILE_BYTES = 64 * 1024 * 1024
PREVIEW_EXCEPTIONS_SHOWN = 500


def decode_upload(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise DeskError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MiB.", field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DeskError(
            "The file is not UTF-8 text: export the ATOP activity report as CSV (UTF-8).",
            field="file",
        ) from None


@transaction.atomic
def stage_upload(
    offer_id: int, *, file_name: str, text: str, actor: Actor, now: dt.datetime
) -> AtopImport:
    """Keep the file as received and ask for its preview. Refuses a file that is not an
    activity file (its header) with a message, recording nothing."""
    require_aware(now)
    offer = ExchangeOffer.objects.get(pk=offer_id)
    lines = read_activity_file(text)
    if not lines:
        raise DeskError("The file has its header but no instructions.", field="file")
    staged = AtopImport.objects.create(
        offer=offer,
        file_name=file_name[:255],
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        imported_at=now,
        imported_by=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label,
        lines=len(lines),
        state=AtopImportState.PREVIEWING,
        content=text,
    )
    record(
        staged,
        action="exchange.atop_import.uploaded",
        from_state="",
        to_state=staged.state,
        actor=actor,
        now=now,
        reason=f"{staged.file_name}: {len(lines)} lines, SHA-256 {staged.sha256[:12]}…",
        offer=offer,
    )
    return staged


def _summary_json(summary: ImportSummary) -> dict[str, object]:
    data = asdict(summary)
    data["exception_count"] = summary.exception_count
    data["exceptions"] = [list(e) for e in summary.exceptions[:PREVIEW_EXCEPTIONS_SHOWN]]
    return data


def preview_staged(import_id: int, *, now: dt.datetime) -> AtopImport:
    """What the import would do now: the import itself, rolled back (same checks, same
    locks while it runs)."""
    staged = AtopImport.objects.get(pk=import_id)
    if staged.state != AtopImportState.PREVIEWING:
        return staged
    try:
        summary = import_activity(
            staged.offer_id,
            file_name=staged.file_name,
            text=staged.content,
            actor=Actor(kind=ActorKind.CLERK, label=staged.actor_label),
            now=now,
            dry_run=True,
        )
    except DeskError as error:
        AtopImport.objects.filter(pk=import_id).update(
            state=AtopImportState.FAILED, detail=error.message
        )
        return AtopImport.objects.get(pk=import_id)
    AtopImport.objects.filter(pk=import_id, state=AtopImportState.PREVIEWING).update(
        state=AtopImportState.PREVIEWED, preview=_summary_json(summary), lines_done=0
    )
    return AtopImport.objects.get(pk=import_id)


@transaction.atomic
def confirm_staged(import_id: int, *, actor: Actor, now: dt.datetime) -> AtopImport:
    """The clerk has read the preview: import it (in the worker)."""
    require_aware(now)
    staged = AtopImport.objects.select_for_update().get(pk=import_id)
    if staged.state != AtopImportState.PREVIEWED:
        raise DeskError(
            f"{staged.file_name} is {staged.get_state_display().lower()}; only a previewed "
            f"file can be confirmed."
        )
    staged.state = AtopImportState.IMPORTING
    staged.confirmed_by = actor.user if actor.user is not None and actor.user.pk else None
    staged.confirmed_by_label = actor.label
    staged.save(update_fields=["state", "confirmed_by", "confirmed_by_label"])
    record(
        staged,
        action="exchange.atop_import.confirmed",
        from_state=AtopImportState.PREVIEWED,
        to_state=staged.state,
        actor=actor,
        now=now,
        reason=f"{staged.file_name}: import confirmed after its preview.",
        offer=staged.offer_id,
    )
    return staged


def import_staged(import_id: int, *, now: dt.datetime) -> AtopImport:
    """Import a confirmed file, telling its progress as it goes. Run again after a crash it
    finishes the file: every VOI already recorded is skipped."""
    staged = AtopImport.objects.get(pk=import_id)
    if staged.state != AtopImportState.IMPORTING:
        return staged
    user = (
        get_user_model().objects.filter(pk=staged.confirmed_by_id).first()
        if staged.confirmed_by_id
        else None
    )
    actor = (
        Actor.for_user(user, ActorKind.CLERK)
        if user is not None
        else Actor(kind=ActorKind.CLERK, label=staged.confirmed_by_label or staged.actor_label)
    )

    def progress(done: int, total: int) -> None:
        AtopImport.objects.filter(pk=import_id).update(lines_done=done)

    import_activity(
        staged.offer_id,
        file_name=staged.file_name,
        text=staged.content,
        actor=actor,
        now=require_aware(now),
        progress=progress,
        atop_import=staged,
    )
    AtopImport.objects.filter(pk=import_id).update(
        state=AtopImportState.IMPORTED, completed_at=now, lines_done=staged.lines
    )
    return AtopImport.objects.get(pk=import_id)


def process_staged(import_id: int, *, now: dt.datetime) -> AtopImport:
    """The worker's step for an import: its preview, or its import, whichever is due."""
    state = AtopImport.objects.values_list("state", flat=True).get(pk=import_id)
    if state == AtopImportState.PREVIEWING:
        return preview_staged(import_id, now=now)
    if state == AtopImportState.IMPORTING:
        return import_staged(import_id, now=now)
    return AtopImport.objects.get(pk=import_id)

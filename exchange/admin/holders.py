"""Holders of original notes, their nominees and guarantors, and what they hold."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from exchange.admin.base import money_column, ny_time
from exchange.models import ActorKind
from exchange.services.base import Actor, DeskError
from holders import services
from holders.models import (
    Holder,
    Holding,
    NotesKind,
    PortalSubmission,
    SignUpRequest,
    SignUpStatus,
)


class CurrentHoldingFilter(admin.SimpleListFilter):
    title = "in force"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Current (no end date)"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Holding]) -> QuerySet[Holding]:
        if self.value() == "yes":
            return queryset.filter(effective_until__isnull=True)
        if self.value() == "no":
            return queryset.filter(effective_until__isnull=False)
        return queryset


class HoldingInline(admin.TabularInline):  # type: ignore[type-arg]
    """A holder's holdings for context; each is changed on its own page."""

    model = Holding
    # Both series after the exchange: original notes (ended rows included, so the register
    # before the exchange date stays visible) and the new notes, each with its CUSIP.
    fields = (
        "series",
        "notes",
        "cusip",
        "form",
        "certificate_number",
        "registered_name",
        "amount_display",
        "beneficial_owner",
        "effective_from",
        "effective_until",
        "reissued_from",
    )
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True

    amount_display = money_column("amount", "Amount")

    @admin.display(description="CUSIP")
    def cusip(self, obj: Holding) -> str:
        return (
            obj.series.new_cusip if obj.notes == NotesKind.NEW else obj.series.original_cusip
        ) or "-"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Holding]:
        # Each row shows its series (and the change link its __str__, which names both).
        return (
            super()
            .get_queryset(request)
            .select_related("series", "holder", "reissued_from")
            .order_by("series", "notes", "effective_until", "certificate_number", "id")
        )

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


@admin.register(Holder)
class HolderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "name",
        "kind",
        "dtc_participant_number",
        "medallion_program",
        "tin_status",
        "is_broker_dealer",
        "is_affiliate",
        "user",
    )
    list_filter = ("kind", "tin_status", "medallion_program", "is_broker_dealer", "is_affiliate")
    search_fields = ("name", "email", "dtc_participant_number", "address")
    list_select_related = ("user",)
    # The portal login is never chosen by hand: a clerk who could pick any user id here
    # could link the supervisor's login to a holder and invite it to a password link at
    # the clerk's own address. Logins come only from an invitation or an approved sign-up
    # (holders.services), which create a fresh portal-only login.
    readonly_fields = ("user",)
    ordering = ("name",)
    inlines = (HoldingInline,)
    fieldsets = (
        (None, {"fields": ("kind", "name", "address", "email", "user")}),
        ("DTC and guarantees", {"fields": ("dtc_participant_number", "medallion_program")}),
        ("Status", {"fields": ("is_broker_dealer", "is_affiliate", "tin_status")}),
    )
    actions = ["invite_to_portal"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Holder | None = None
    ) -> tuple[str, ...]:
        # The address of a holder that already has a portal login is where its password
        # links go: a clerk who could change it and then *Invite to the portal* would
        # receive the link for the holder's login at an address of the clerk's choosing
        # (the take-over of a staff login, aimed at a holder instead). Only a superuser,
        # who manages logins anyway, corrects it.
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.user_id is not None and not request.user.is_superuser:
            readonly += ("email",)
        return readonly

    @admin.action(description="Invite to the portal", permissions=["change"])
    def invite_to_portal(self, request: HttpRequest, queryset: QuerySet[Holder]) -> None:
        """E-mail each holder a one-time link to choose the password of its portal login."""
        actor = Actor.for_user(request.user, ActorKind.CLERK)  # type: ignore[arg-type]
        site_url = request.build_absolute_uri("/")
        for holder in queryset.order_by("name"):
            try:
                invitation = services.invite_holder(
                    holder.pk, actor=actor, now=timezone.now(), site_url=site_url
                )
            except DeskError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                what = "Sent a new password link to" if invitation.reset else "Invited"
                self.message_user(
                    request,
                    f"{what} {holder.name} (login {invitation.username}) at {holder.email}.",
                    messages.SUCCESS,
                )


@admin.register(Holding)
class HoldingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "holder",
        "series",
        "notes",
        "form",
        "certificate_number",
        "amount_display",
        "beneficial_owner",
        "effective_from",
        "effective_until",
    )
    list_filter = (CurrentHoldingFilter, "notes", "form", "series", "holder__kind")
    search_fields = ("certificate_number", "holder__name", "beneficial_owner")
    list_select_related = ("holder", "series")
    autocomplete_fields = ("holder", "series")
    date_hierarchy = "effective_from"
    ordering = ("series", "holder__name", "certificate_number")
    fieldsets = (
        (None, {"fields": ("holder", "series", "form", "certificate_number", "amount")}),
        ("Period", {"fields": ("beneficial_owner", "effective_from", "effective_until")}),
        (
            "The exchange",
            {"fields": ("notes", "registered_name", "issued_for", "reissued_from")},
        ),
    )

    amount_display = money_column("amount", "Amount")
    # Entered only by the exchange date (services.exchange_date), never by hand: a clerk
    # adds original notes from the registrar's and DTC's records.
    EXCHANGE_ENTRIES = ("notes", "registered_name", "issued_for", "reissued_from")

    # Holdings are effective-dated: a transfer ends a row and starts another, so the
    # holders of record on any past date stay knowable. What a row says it held, and
    # from when, is never rewritten; only its end (and the beneficial owner a DTC
    # position is held for) may be recorded later.
    IMMUTABLE = ("holder", "series", "form", "certificate_number", "amount", "effective_from")

    def get_readonly_fields(
        self, request: HttpRequest, obj: Holding | None = None
    ) -> tuple[str, ...]:
        return (self.IMMUTABLE if obj is not None else ()) + self.EXCHANGE_ENTRIES


@admin.register(SignUpRequest)
class SignUpRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Portal sign-ups: the clerk matches each to a holder of the register, then decides.

    The buttons on the change form (and the list's actions) go through holders.services,
    which create the login only for a matching holder without one, and record the decision.
    """

    list_display = (
        "requested_at_ny",
        "username",
        "holder_name",
        "kind",
        "email",
        "status",
        "holder",
    )
    list_filter = ("status", "kind")
    search_fields = ("username", "holder_name", "contact_name", "email")
    list_select_related = ("holder",)
    autocomplete_fields = ("holder",)
    ordering = ("-requested_at",)
    change_form_template = "holders/admin/sign_up_change_form.html"
    actions = ["approve", "decline"]
    fieldsets = (
        (
            "The request",
            {
                "fields": (
                    "username",
                    "login_name_check",
                    "email",
                    "contact_name",
                    "holder_name",
                    "kind",
                    "address",
                    "dtc_participant_number",
                    "medallion_program",
                    "note",
                    "requested_at_ny",
                )
            },
        ),
        (
            "The decision",
            {
                "fields": (
                    "status",
                    "holder",
                    "decision_note",
                    "user",
                    "decided_at_ny",
                    "decided_by",
                )
            },
        ),
    )

    requested_at_ny = ny_time("requested_at", "Requested")
    decided_at_ny = ny_time("decided_at", "Decided")

    @admin.display(description="Login name")
    def login_name_check(self, obj: SignUpRequest) -> str:
        # The portal answers every request alike (no stranger learns which names exist);
        # the clerk is the one told, and declines a taken name asking for another.
        if obj.pk is None or obj.status != "pending":
            return "—"
        if services.login_name_in_use(obj):
            return "Taken: decline the request and ask for another login name."
        return "Free"

    def get_readonly_fields(
        self, request: HttpRequest, obj: SignUpRequest | None = None
    ) -> tuple[str, ...]:
        fields = (
            "username",
            "login_name_check",
            "email",
            "contact_name",
            "holder_name",
            "kind",
            "address",
            "dtc_participant_number",
            "medallion_program",
            "note",
            "requested_at_ny",
            "status",
            "user",
            "decided_at_ny",
            "decided_by",
        )
        # Once decided, the request is a record: nothing of it changes any more.
        if obj is not None and obj.status != SignUpStatus.PENDING:
            return (*fields, "holder", "decision_note")
        return fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # sign-ups come from the portal's form

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def _actor(self, request: HttpRequest) -> Actor:
        return Actor.for_user(request.user, ActorKind.CLERK)  # type: ignore[arg-type]

    def _approve(self, request: HttpRequest, sign_up: SignUpRequest) -> bool:
        try:
            services.approve_sign_up(
                sign_up.pk,
                actor=self._actor(request),
                now=timezone.now(),
                site_url=request.build_absolute_uri("/"),
            )
        except DeskError as exc:
            self.message_user(request, f"{sign_up.username}: {exc.message}", messages.ERROR)
            return False
        self.message_user(
            request,
            f"Approved: login {sign_up.username} now acts for {sign_up.holder}; the applicant "
            f"is told by e-mail.",
            messages.SUCCESS,
        )
        return True

    def _decline(self, request: HttpRequest, sign_up: SignUpRequest) -> bool:
        try:
            services.decline_sign_up(
                sign_up.pk,
                actor=self._actor(request),
                now=timezone.now(),
                reason=sign_up.decision_note,
            )
        except DeskError as exc:
            self.message_user(request, f"{sign_up.username}: {exc.message}", messages.ERROR)
            return False
        self.message_user(request, f"Declined the sign-up of {sign_up.username}.", messages.SUCCESS)
        return True

    @admin.action(description="Approve (each with the holder chosen on it)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[SignUpRequest]) -> None:
        for sign_up in queryset.select_related("holder"):
            self._approve(request, sign_up)

    @admin.action(
        description="Decline (each with its decision note as the reason)", permissions=["change"]
    )
    def decline(self, request: HttpRequest, queryset: QuerySet[SignUpRequest]) -> None:
        for sign_up in queryset:
            self._decline(request, sign_up)

    def response_change(self, request: HttpRequest, obj: SignUpRequest) -> HttpResponse:
        # The holder chosen and the note are saved first; then the button's decision.
        if "_approve" in request.POST or "_decline" in request.POST:
            obj.refresh_from_db()
            done = (
                self._approve(request, obj)
                if "_approve" in request.POST
                else self._decline(request, obj)
            )
            name = "changelist" if done else "change"
            args = [] if done else [obj.pk]
            return HttpResponseRedirect(reverse(f"admin:holders_signuprequest_{name}", args=args))
        return super().response_change(request, obj)


@admin.register(PortalSubmission)
class PortalSubmissionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Which portal page got which receipt (a page sent again gets the first): a record,
    read-only for everyone."""

    list_display = ("received_at_ny", "user", "form", "receipt_url")
    list_filter = ("form",)
    list_select_related = ("user",)
    search_fields = ("receipt_url",)
    readonly_fields = ("user", "token", "form", "receipt_url", "received_at_ny")
    fields = readonly_fields

    received_at_ny = ny_time("received_at", "Received")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

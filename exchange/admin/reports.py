"""Report views on the offer's admin: the tender report as of an instant (page and CSV),
final results, delivery and return lists, audit history (streamed CSV)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from exchange.models import ExchangeOffer
from exchange.reports.lists import audit_history, csv_lines, delivery_list, return_list
from exchange.reports.results import (
    final_results,
    preliminary_notice,
    press_release_text,
    tender_report,
    tender_report_csv_rows,
)
from exchange.terms import calendars


def _csv_response(rows: Iterable[list[str]], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class OfferReportsMixin:
    """Adds /<pk>/reports/... to the offer's ModelAdmin (clerks and supervisors: view perm)."""

    def report_urls(self) -> list[URLPattern]:
        site = self.admin_site  # type: ignore[attr-defined]
        opts = self.opts  # type: ignore[attr-defined]
        prefix = f"{opts.app_label}_{opts.model_name}"
        return [
            path(
                "<path:object_id>/reports/",
                site.admin_view(self.reports_index),
                name=f"{prefix}_reports",
            ),
            path(
                "<path:object_id>/reports/tender/",
                site.admin_view(self.report_tender),
                name=f"{prefix}_report_tender",
            ),
            path(
                "<path:object_id>/reports/final/",
                site.admin_view(self.report_final),
                name=f"{prefix}_report_final",
            ),
            path(
                "<path:object_id>/reports/deliveries.csv",
                site.admin_view(self.report_deliveries),
                name=f"{prefix}_report_deliveries",
            ),
            path(
                "<path:object_id>/reports/returns.csv",
                site.admin_view(self.report_returns),
                name=f"{prefix}_report_returns",
            ),
            path(
                "<path:object_id>/reports/audit.csv",
                site.admin_view(self.report_audit),
                name=f"{prefix}_report_audit",
            ),
        ]

    def _offer(self, request: HttpRequest, object_id: str) -> ExchangeOffer:
        if not self.has_view_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        return get_object_or_404(
            ExchangeOffer.objects.select_related("issuer"), pk=unquote(object_id)
        )

    def _context(self, request: HttpRequest, offer: ExchangeOffer, title: str) -> dict[str, object]:
        return {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.opts,  # type: ignore[attr-defined]
            "original": offer,
            "offer": offer,
            "title": title,
            "generated": calendars.format_ny(timezone.now()),
        }

    def reports_index(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        context = self._context(request, offer, f"Reports — {offer.name}")
        context["as_of_default"] = calendars.ny_localtime(timezone.now()).strftime("%Y-%m-%d %H:%M")
        return TemplateResponse(request, "admin/desk/reports_index.html", context)

    def report_tender(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        raw = request.GET.get("as_of", "").strip()
        try:
            moment: dt.datetime = calendars.parse_ny(raw) if raw else timezone.now()
        except ValueError as exc:
            context = self._context(request, offer, "Tender report")
            context["error"] = str(exc)
            context["as_of_default"] = raw
            return TemplateResponse(request, "admin/desk/reports_index.html", context, status=400)
        rows = tender_report(offer, moment)
        if request.GET.get("format") == "csv":
            stamp = calendars.ny_localtime(moment).strftime("%Y%m%d-%H%M")
            return _csv_response(tender_report_csv_rows(rows), f"{offer.slug}-tenders-{stamp}.csv")
        context = self._context(
            request, offer, f"Tender report as of {calendars.format_ny(moment)}"
        )
        context.update(rows=rows, as_of=calendars.format_ny(moment), as_of_raw=raw)
        return TemplateResponse(request, "admin/desk/report_tender.html", context)

    def report_final(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        results = final_results(offer)
        if request.GET.get("format") == "csv":
            rows = [["series", "accepted", "percent_of_outstanding", "tenders", "holders"]] + [
                [r.series.slug, f"{r.accepted:.2f}", f"{r.percent}", str(r.tenders), str(r.holders)]
                for r in results
            ]
            return _csv_response(rows, f"{offer.slug}-final-results.csv")
        context = self._context(request, offer, f"Final results — {offer.name}")
        context.update(
            results=results,
            press_release=press_release_text(offer, results),
            preliminary=preliminary_notice(offer),
        )
        return TemplateResponse(request, "admin/desk/report_final.html", context)

    def report_deliveries(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        return _csv_response(delivery_list(offer), f"{offer.slug}-new-notes-to-deliver.csv")

    def report_returns(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        return _csv_response(return_list(offer), f"{offer.slug}-notes-to-return.csv")

    def report_audit(self, request: HttpRequest, object_id: str) -> HttpResponse:
        offer = self._offer(request, object_id)
        return _csv_response(audit_history(offer), f"{offer.slug}-audit-history.csv")

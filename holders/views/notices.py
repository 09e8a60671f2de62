"""The notices the exchange agent sent to the signed-in holder: what and when, as sent."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from holders import selectors
from holders.models import Holder
from holders.views.common import portal_view


@portal_view
def notices(request: HttpRequest, holder: Holder) -> HttpResponse:
    page = Paginator(selectors.notices_sent(holder), 25).get_page(request.GET.get("page"))
    return render(request, "holders/notices.html", {"holder": holder, "page": page})

from typing import Any

from django import template
from django.utils import timezone

from exchange.admin.dashboard import offer_dashboards
from exchange.terms import calendars

register = template.Library()


@register.inclusion_tag("admin/desk/dashboard.html", takes_context=True)
def desk_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("exchange.view_tender"):
        return {"boards": [], "allowed": False}
    now = timezone.now()
    return {
        "allowed": True,
        "boards": offer_dashboards(now),
        "now_text": calendars.format_ny(now),
    }

from decimal import Decimal

from django import template

from exchange.terms.money import format_usd

register = template.Library()


@register.filter
def usd(value: Decimal | None) -> str:
    """$1,234,567.89, or an em dash for nothing."""
    return "—" if value is None else format_usd(Decimal(value))

import uuid

from django import template
from django.utils.html import format_html

from credshare.sharing.selectors import labelled_field_values

register = template.Library()


@register.simple_tag
def share_field_values(share):
    """The share's extra field values with their labels, for the inbox and the learner."""
    return labelled_field_values(share)


@register.filter
def bdi(value):
    """VALUE (text someone typed: a name, a reference, a title), escaped and isolated in
    <bdi>, so that right-to-left text in it cannot reorder the page's text around it."""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def isolate(value):
    """VALUE between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE (U+2068, U+2069): <bdi>
    for where HTML is not parsed (a page's <title>, a plain-text email)."""
    return f"\u2068{value}\u2069"


# Symbols shown for the currencies issuers use; any other currency shows its ISO code.
CURRENCY_SYMBOLS = {"CAD": "$", "USD": "US$", "EUR": "€", "GBP": "£"}


@register.filter
def money(cents, currency="CAD"):
    """An amount in integer cents, as people read it in the current language:
    1250 → "$12.50" in English, "12,50 $" in French (a no-break space before the symbol,
    and between thousands, so that an amount never wraps)."""
    from django.utils import translation

    if cents in (None, ""):
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    units, hundredths = divmod(abs(cents), 100)
    symbol = CURRENCY_SYMBOLS.get((currency or "CAD").upper(), (currency or "").upper())
    if (translation.get_language() or "").startswith("fr"):
        return f"{sign}{units:,}".replace(",", "\u00a0") + f",{hundredths:02d}\u00a0{symbol}"
    if len(symbol) > 1 and symbol.isalpha():
        return f"{sign}{symbol}\u00a0{units:,}.{hundredths:02d}"
    return f"{sign}{symbol}{units:,}.{hundredths:02d}"


@register.simple_tag
def submission_token_input():
    """The hidden one-time token of a bare form (credshare.core.submissions)."""
    return format_html('<input type="hidden" name="submission_token" value="{}">', uuid.uuid4())

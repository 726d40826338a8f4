"""A purchase's receipt: its lines, as a PDF, and the email sent when it is paid."""

import io
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas

from credshare.billing.models import Purchase
from credshare.core.templatetags.credshare import money


@dataclass(frozen=True)
class ReceiptLine:
    description: str
    amount_cents: int


def receipt_lines(purchase: Purchase) -> list[ReceiptLine]:
    """What was bought, in the current language. Needs the purchase's issuer and document
    loaded (select_related) to make no query."""
    if purchase.kind == Purchase.Kind.BUNDLE:
        description = ngettext(
            "%(count)d share of documents from %(issuer)s",
            "%(count)d shares of documents from %(issuer)s",
            purchase.credits,
        ) % {"count": purchase.credits, "issuer": purchase.issuer.name}
    else:
        title = purchase.document.title if purchase.document_id else ""
        description = _("Collection fee: %(title)s") % {"title": title}
    return [ReceiptLine(description, purchase.subtotal_cents)]


def _date(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATE_FORMAT") if value else ""


def receipt_pdf(purchase: Purchase) -> bytes:
    """A one-page receipt in the current language."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=True)
    pdf.setTitle(_("Receipt %(number)s") % {"number": purchase.receipt_number})
    width, height = LETTER
    left, right = 0.75 * inch, width - 0.75 * inch
    pdf.setFillColor(colors.HexColor("#1f4e8c"))
    pdf.rect(0, height - 1.1 * inch, width, 1.1 * inch, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(left, height - 0.7 * inch, purchase.issuer.name)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(
        left,
        height - 1.6 * inch,
        _("Receipt %(number)s") % {"number": purchase.receipt_number},
    )
    pdf.setFont("Helvetica", 11)
    y = height - 2.0 * inch
    facts = [
        (_("Issuer"), purchase.issuer.name),
        (_("Learner"), f"{purchase.learner.full_name} <{purchase.learner.email}>"),
        (_("Paid on"), _date(purchase.paid_at)),
        (_("Status"), purchase.get_status_display()),
        (_("Currency"), purchase.currency),
    ]
    if purchase.refunded_at:
        facts.append((_("Refunded on"), _date(purchase.refunded_at)))
    for label, value in facts:
        pdf.drawString(left, y, f"{label} : {value}" if _is_french() else f"{label}: {value}")
        y -= 0.25 * inch
    y -= 0.3 * inch
    pdf.setFont("Helvetica-Bold", 10)
    pdf.drawString(left, y, _("Item"))
    pdf.drawRightString(right, y, _("Amount"))
    pdf.setFont("Helvetica", 10)
    for line in receipt_lines(purchase):
        y -= 0.25 * inch
        pdf.drawString(left, y, line.description)
        pdf.drawRightString(right, y, money(line.amount_cents, purchase.currency))
    y -= 0.15 * inch
    pdf.line(left, y, right, y)
    for label, cents, bold in (
        (_("Subtotal"), purchase.subtotal_cents, False),
        (_("Tax"), purchase.tax_cents, False),
        (_("Total"), purchase.total_cents, True),
    ):
        y -= 0.25 * inch
        pdf.setFont("Helvetica-Bold" if bold else "Helvetica", 10)
        pdf.drawString(right - 2.5 * inch, y, label)
        pdf.drawRightString(right, y, money(cents, purchase.currency))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _is_french() -> bool:
    return (translation.get_language() or "").startswith("fr")


def _absolute(url_name: str, purchase: Purchase) -> str:
    return settings.CREDSHARE_BASE_URL.rstrip("/") + reverse(url_name, args=[purchase.public_id])


def receipt_email_queue(purchase: Purchase) -> None:
    """Email the learner the receipt of a purchase that was just paid, in their language, in
    the caller's transaction (if the payment rolls back, so does the email)."""
    from credshare.notifications.services import email_queue

    learner = purchase.learner
    language = translation.get_supported_language_variant(learner.language)
    with translation.override(language):
        lines = receipt_lines(purchase)
    email_queue(
        to=learner.email,
        template="billing/email/receipt",
        context={
            "purchase": purchase,
            "lines": lines,
            "receipt_url": _absolute("billing:receipt", purchase),
            "receipt_pdf_url": _absolute("billing:receipt_pdf", purchase),
        },
        language=language,
    )

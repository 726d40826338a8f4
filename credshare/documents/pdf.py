"""The bilingual transcript PDF: issued from structured data by the issuer portal, bulk jobs
and the API (transcript_from_record), with the issuer's name, logo and colours."""

import datetime
import functools
import io
import logging
from dataclasses import dataclass

from django.core.files.storage import default_storage
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from credshare.network.branding import (
    DEFAULT_ACCENT_COLOR,
    DEFAULT_PRIMARY_COLOR,
    MAX_LOGO_BYTES,
    logo_decode,
    logo_for_print,
    readable_text_color,
)

logger = logging.getLogger(__name__)

# reportlab wraps every stream in ASCII85 by default (text-safe, a quarter larger), encoded in
# pure Python: milliseconds a transcript for a small logo, tens for a detailed one, in every
# row of a bulk job. A PDF is a binary file anyway; the streams stay Flate-compressed.
rl_config.useA85 = 0

BAND_HEIGHT = 1.1 * inch
# The logo's white tile in the band, and the most room the logo takes in it.
LOGO_TILE_HEIGHT = 0.8 * inch
LOGO_MAX_WIDTH = 2.2 * inch
LOGO_PADDING = 4
# Printed at up to 300 dots an inch: more pixels would only make every transcript heavier.
LOGO_PIXELS = (int(LOGO_MAX_WIDTH / inch * 300), int(LOGO_TILE_HEIGHT / inch * 300))
LEFT = 0.75 * inch
RIGHT = LETTER[0] - 0.75 * inch
# Rows stop above the signature stamp, which signing.py puts in page 1's lower-right corner.
BOTTOM = 1.5 * inch
COLUMNS = ((0.75, "Code"), (1.75, "Cours / Course"), (5.5, "Crédits"), (6.5, "Note"))


@dataclass(frozen=True)
class Branding:
    primary_color: str = DEFAULT_PRIMARY_COLOR
    accent_color: str = DEFAULT_ACCENT_COLOR
    logo: ImageReader | None = None


def _fitted_font_size(pdf, text: str, font: str, *, width: float, largest: int, smallest: int):
    size = largest
    while size > smallest and pdf.stringWidth(text, font, size) > width:
        size -= 1
    return size


def _header(pdf, issuer_name: str, branding: Branding) -> None:
    """The band across the top in the primary colour, an accent stripe under it, the logo on
    a white tile at its left when there is one, and the issuer's name."""
    width, height = LETTER
    pdf.setFillColor(colors.HexColor(branding.primary_color))
    pdf.rect(0, height - BAND_HEIGHT, width, BAND_HEIGHT, stroke=0, fill=1)
    pdf.setFillColor(colors.HexColor(branding.accent_color))
    pdf.rect(0, height - BAND_HEIGHT - 4, width, 4, stroke=0, fill=1)
    text_x = LEFT
    if branding.logo is not None:
        pixels_wide, pixels_high = branding.logo.getSize()
        logo_height = LOGO_TILE_HEIGHT - 2 * LOGO_PADDING
        logo_width = min(logo_height * pixels_wide / pixels_high, LOGO_MAX_WIDTH)
        logo_height = logo_width * pixels_high / pixels_wide
        tile_x = 0.5 * inch
        tile_y = height - BAND_HEIGHT + (BAND_HEIGHT - LOGO_TILE_HEIGHT) / 2
        pdf.setFillColor(colors.white)
        pdf.roundRect(
            tile_x, tile_y, logo_width + 2 * LOGO_PADDING, LOGO_TILE_HEIGHT, 3, stroke=0, fill=1
        )
        pdf.drawImage(
            branding.logo,
            tile_x + LOGO_PADDING,
            tile_y + (LOGO_TILE_HEIGHT - logo_height) / 2,
            width=logo_width,
            height=logo_height,
        )
        text_x = tile_x + logo_width + 2 * LOGO_PADDING + 0.25 * inch
    size = _fitted_font_size(
        pdf, issuer_name, "Helvetica-Bold", width=RIGHT - text_x, largest=18, smallest=10
    )
    pdf.setFillColor(colors.HexColor(readable_text_color(branding.primary_color)))
    pdf.setFont("Helvetica-Bold", size)
    pdf.drawString(text_x, height - 0.62 * inch - size / 3, issuer_name)


def _rule(pdf, y: float, color: str, thickness: float) -> None:
    pdf.setStrokeColor(colors.HexColor(color))
    pdf.setLineWidth(thickness)
    pdf.line(LEFT, y, RIGHT, y)


def _table_heading(pdf, y: float, branding: Branding) -> float:
    """The courses' column headings between two accent rules; the y of the lower rule."""
    _rule(pdf, y + 0.17 * inch, branding.accent_color, 1.5)
    pdf.setFillColor(colors.HexColor(branding.primary_color))
    pdf.setFont("Helvetica-Bold", 10)
    for x, heading in COLUMNS:
        pdf.drawString(x * inch, y, heading)
    _rule(pdf, y - 0.08 * inch, branding.accent_color, 0.75)
    pdf.setFillColor(colors.black)
    return y - 0.05 * inch


def transcript_pdf(
    *,
    issuer_name: str,
    learner_name: str,
    program: str,
    courses: list[tuple[str, str, str, str]],
    issue_date: datetime.date,
    note: str = "",
    gpa: str = "",
    credential: str = "",
    title: str = "",
    branding: Branding = Branding(),
) -> bytes:
    """A one-page bilingual transcript: the issuer's header (name, logo, colours), the learner,
    then (code, title, credits, grade) rows (more pages when they do not fit), the GPA and
    the credential conferred when given."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=True)
    pdf.setTitle(f"{issuer_name} — {learner_name}")
    width, height = LETTER
    _header(pdf, issuer_name, branding)
    pdf.setFillColor(colors.HexColor(branding.primary_color))
    pdf.setFont("Helvetica-Bold", 14)
    heading = "Relevé de notes officiel / Official transcript"
    pdf.drawString(0.75 * inch, height - 1.6 * inch, heading)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica", 11)
    y = height - 2.0 * inch
    for label, value in (
        ("Étudiant·e / Student", learner_name),
        ("Programme / Program", program),
        ("Date d'émission / Issue date", issue_date.isoformat()),
        *((("Titre / Title", title),) if title else ()),
    ):
        pdf.drawString(0.75 * inch, y, f"{label} : {value}")
        y -= 0.25 * inch
    y -= 0.2 * inch
    y = _table_heading(pdf, y, branding)
    pdf.setFont("Helvetica", 10)
    for code, course, credits, grade in courses:
        y -= 0.22 * inch
        if y < BOTTOM:
            pdf.showPage()
            y = _table_heading(pdf, height - 1.0 * inch, branding) - 0.22 * inch
            pdf.setFont("Helvetica", 10)
        course = course if len(course) <= 60 else course[:59] + "…"
        for (x, _heading), value in zip(COLUMNS, (code, course, credits, grade), strict=True):
            pdf.drawString(x * inch, y, value)
    y -= 0.12 * inch
    _rule(pdf, y, branding.primary_color, 1)
    y -= 0.08 * inch
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica-Bold", 11)
    for label, value in (
        ("Moyenne / GPA", gpa),
        ("Diplôme conféré / Credential conferred", credential),
    ):
        if value:
            y -= 0.25 * inch
            pdf.drawString(0.75 * inch, y, f"{label} : {value}")
    if note:
        y -= 0.5 * inch
        pdf.setFont("Helvetica-Oblique", 10)
        pdf.drawString(0.75 * inch, y, note)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def issuer_heading(issuer) -> str:
    """The issuer's name as a bilingual transcript's header shows it: both names when they
    differ."""
    if issuer.name_fr == issuer.name_en:
        return issuer.name_fr
    return f"{issuer.name_fr} / {issuer.name_en}"


@functools.lru_cache(maxsize=64)
def _logo_reader(name: str) -> ImageReader:
    """The logo stored under NAME, ready to draw. Cached in the process by name: a bulk job
    reads and decodes it once, not once a row; a new logo gets a new name (never cached)."""
    with default_storage.open(name, "rb") as handle:
        data = handle.read(MAX_LOGO_BYTES + 1)
    _format, image = logo_decode(data)
    reader = ImageReader(logo_for_print(image, max_size=LOGO_PIXELS))
    # Decoded here, once: afterwards the reader is only read, so the threads of a job can share it.
    reader.getRGBData()
    return reader


def issuer_branding(issuer) -> Branding:
    """ISSUER's logo and colours for its transcripts."""
    logo = None
    if issuer.logo:
        try:
            logo = _logo_reader(issuer.logo.name)
        except FileNotFoundError:
            # Replaced (and its file removed) while a job that read the issuer before was
            # running: that job's remaining rows get the name and colours without it.
            logger.warning("issuer %s: logo %s is gone", issuer.pk, issuer.logo.name)
    return Branding(
        primary_color=issuer.primary_color or DEFAULT_PRIMARY_COLOR,
        accent_color=issuer.accent_color or DEFAULT_ACCENT_COLOR,
        logo=logo,
    )


def transcript_from_record(
    *, issuer, learner_name: str, title: str, issue_date: datetime.date, record: dict
) -> bytes:
    """The transcript of a structured record ({program, courses as [code, title, credits,
    grade], gpa, credential}), the same from the portal, bulk jobs and the API."""
    return transcript_pdf(
        issuer_name=issuer_heading(issuer),
        learner_name=learner_name,
        program=record["program"],
        courses=[tuple(course) for course in record["courses"]],
        issue_date=issue_date,
        gpa=record["gpa"],
        credential=record["credential"],
        title=title,
        branding=issuer_branding(issuer),
    )

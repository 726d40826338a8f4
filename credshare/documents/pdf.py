"""A simple bilingual transcript PDF, used for the demo's documents until the issuer portal
renders real ones."""

import datetime
import io

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas


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
) -> bytes:
    """A one-page bilingual transcript: the issuer's name in the header, the learner, then
    (code, title, credits, grade) rows (a second page when they do not fit), the GPA and the
    credential conferred when given."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=LETTER, invariant=True)
    pdf.setTitle(f"{issuer_name} — {learner_name}")
    width, height = LETTER
    pdf.setFillColor(colors.HexColor("#1f4e8c"))
    pdf.rect(0, height - 1.1 * inch, width, 1.1 * inch, stroke=0, fill=1)
    pdf.setFillColor(colors.white)
    pdf.setFont("Helvetica-Bold", 18)
    pdf.drawString(0.75 * inch, height - 0.7 * inch, issuer_name)
    pdf.setFillColor(colors.black)
    pdf.setFont("Helvetica-Bold", 14)
    heading = "Relevé de notes officiel / Official transcript"
    pdf.drawString(0.75 * inch, height - 1.6 * inch, heading)
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
    pdf.setFont("Helvetica-Bold", 10)
    for x, heading in ((0.75, "Code"), (1.75, "Cours / Course"), (5.5, "Crédits"), (6.5, "Note")):
        pdf.drawString(x * inch, y, heading)
    pdf.setFont("Helvetica", 10)
    for code, course, credits, grade in courses:
        y -= 0.22 * inch
        if y < 1.0 * inch:
            pdf.showPage()
            pdf.setFont("Helvetica", 10)
            y = height - 1.0 * inch
        course = course if len(course) <= 60 else course[:59] + "…"
        for x, value in ((0.75, code), (1.75, course), (5.5, credits), (6.5, grade)):
            pdf.drawString(x * inch, y, value)
    y -= 0.2 * inch
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
    )

"""Forms of the issuer staff's document pages: issue one document, find documents, add a new
version, withdraw or revoke."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credshare.core.ranges import (
    EARLIEST_DAY,
    AnyDayField,
    check_issue_date,
    check_valid_until,
    form_check,
)
from credshare.core.submissions import OneTimeFormMixin
from credshare.core.text import CleanTextFormMixin
from credshare.documents.models import Document

MAX_PDF_BYTES = 10 * 1024 * 1024
MAX_COURSES = 20


def pdf_bytes_of(upload) -> bytes:
    """The uploaded file's bytes when it is a PDF within the size limit; ValidationError else.
    Uses the stricter checks of `credshare.documents.pdf_checks` when they are installed."""
    if upload.size > MAX_PDF_BYTES:
        raise ValidationError(
            _("The file is too big: at most %(size)d MiB."),
            code="too_big",
            params={"size": MAX_PDF_BYTES // (1024 * 1024)},
        )
    data = upload.read()
    if len(data) > MAX_PDF_BYTES:
        raise ValidationError(
            _("The file is too big: at most %(size)d MiB."),
            code="too_big",
            params={"size": MAX_PDF_BYTES // (1024 * 1024)},
        )
    if not data.startswith(b"%PDF-"):
        raise ValidationError(_("This file is not a PDF."), code="not_pdf")
    try:
        from credshare.documents.pdf_checks import PdfRejected, check_uploaded_pdf
    except ImportError:
        return data
    try:
        check_uploaded_pdf(data)
    except PdfRejected as error:
        message = str(error) or _("This PDF cannot be accepted.")
        raise ValidationError(message, code="rejected") from error
    return data


class PdfField(forms.FileField):
    """An uploaded PDF; its cleaned value is the file's bytes."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("PDF file"))
        kwargs.setdefault("help_text", _("A PDF of at most 10 MiB."))
        super().__init__(**kwargs)
        self.widget.attrs.update({"accept": "application/pdf,.pdf"})

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload:
            return None
        return pdf_bytes_of(upload)


class IssueForm(CleanTextFormMixin, OneTimeFormMixin):
    SOURCE_UPLOAD = "upload"
    SOURCE_TRANSCRIPT = "transcript"

    email = forms.EmailField(
        label=_("Learner's email address"),
        help_text=_(
            "With no account at this address yet, the document waits for the learner, who is "
            "invited by email to open one."
        ),
    )
    full_name = forms.CharField(
        label=_("Learner's name"),
        max_length=200,
        required=False,
        help_text=_("As on your records. Needed when no account has the address yet."),
    )
    student_number = forms.CharField(
        label=_("Student number (optional)"), max_length=50, required=False
    )
    document_type = forms.ChoiceField(label=_("Type"), choices=Document.Type.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    issue_date = forms.DateField(
        label=_("Issue date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "For a document that expires, such as a certificate: after this day, verification "
            "reports it as expired."
        ),
    )
    source = forms.ChoiceField(
        label=_("The document"),
        choices=[
            (SOURCE_UPLOAD, _("Upload a PDF")),
            (SOURCE_TRANSCRIPT, _("Make a transcript from the data below")),
        ],
        initial=SOURCE_UPLOAD,
        widget=forms.RadioSelect,
    )
    pdf = PdfField(required=False)
    program = forms.CharField(label=_("Program"), max_length=200, required=False)
    gpa = forms.CharField(label=_("GPA"), max_length=20, required=False)
    credential = forms.CharField(label=_("Credential conferred"), max_length=200, required=False)
    courses = forms.CharField(
        label=_("Courses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "One course a line: code; title; credits; grade (separated by semicolons), "
            "at most 20 lines."
        ),
    )

    def clean_courses(self) -> list[tuple[str, str, str, str]]:
        rows = []
        for number, line in enumerate(self.cleaned_data["courses"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split(";")]
            if len(parts) != 4 or not parts[0] or not parts[1]:
                raise ValidationError(
                    _("Line %(line)d: write code; title; credits; grade."),
                    code="bad_course",
                    params={"line": number},
                )
            rows.append(tuple(parts))
        if len(rows) > MAX_COURSES:
            raise ValidationError(
                _("At most %(count)d courses."), code="too_many", params={"count": MAX_COURSES}
            )
        return rows

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["issue_date"].widget.attrs.update(
            {"min": EARLIEST_DAY.isoformat(), "max": today.isoformat()}
        )

    def clean_issue_date(self):
        return form_check(check_issue_date, self.cleaned_data["issue_date"])

    def clean(self):
        cleaned = super().clean()
        try:
            form_check(
                check_valid_until, cleaned.get("valid_until"), issue_date=cleaned.get("issue_date")
            )
        except ValidationError as error:
            self.add_error("valid_until", error)
        if cleaned.get("source") == self.SOURCE_UPLOAD:
            if not cleaned.get("pdf") and "pdf" not in self.errors:
                self.add_error("pdf", _("Choose the PDF to issue."))
        elif cleaned.get("source") == self.SOURCE_TRANSCRIPT:
            if not cleaned.get("program"):
                self.add_error("program", _("Give the program of the transcript."))
            if not cleaned.get("courses") and "courses" not in self.errors:
                self.add_error("courses", _("Give at least one course."))
        return cleaned


class FilterForm(CleanTextFormMixin, forms.Form):
    learner = forms.CharField(
        label=_("Learner (name, email or student number)"), required=False, max_length=200
    )
    document_type = forms.ChoiceField(
        label=_("Type"), required=False, choices=[("", _("Any"))] + Document.Type.choices
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any"))] + Document.Status.choices
    )
    issued_from = AnyDayField(
        label=_("Issued from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    issued_to = AnyDayField(
        label=_("Issued until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


class VersionForm(OneTimeFormMixin):
    pdf = PdfField(label=_("Corrected PDF"))


class WithdrawForm(CleanTextFormMixin, OneTimeFormMixin):
    WITHDRAW = "withdraw"
    REVOKE = "revoke"

    action = forms.ChoiceField(
        label=_("What to do"),
        choices=[
            (WITHDRAW, _("Withdraw: the document no longer applies")),
            (REVOKE, _("Revoke: the document should never have been issued")),
        ],
        initial=WITHDRAW,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only the learner and your organization's staff see this reason. Anyone who "
            "verifies the document sees that it was withdrawn or revoked, never why."
        ),
    )


class BulkUploadForm(OneTimeFormMixin):
    """A bulk issuance: a CSV with a ZIP of the PDFs it names, or JSON Lines of transcripts.
    The files' contents are checked by credshare.documents.bulk.issuance_job_create."""

    rows = forms.FileField(
        label=_("Rows"),
        help_text=_(
            "A CSV file (columns external_id, student_number, email, first_name, last_name, "
            "document_type, title, issue_date, file) or a JSON Lines file (.jsonl) of "
            "transcripts."
        ),
    )
    pdfs = forms.FileField(
        label=_("ZIP archive of the PDFs"),
        required=False,
        help_text=_("With a CSV file: the PDFs its “file” column names."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rows"].widget.attrs.update({"accept": ".csv,.jsonl,text/csv"})
        self.fields["pdfs"].widget.attrs.update({"accept": ".zip,application/zip"})

    def clean(self):
        cleaned = super().clean()
        rows = cleaned.get("rows")
        if rows is not None:
            name = rows.name.lower()
            if name.endswith(".csv") and not cleaned.get("pdfs"):
                self.add_error("pdfs", _("A CSV file comes with a ZIP archive of its PDFs."))
            elif not name.endswith((".csv", ".jsonl")):
                self.add_error("rows", _("Upload a CSV file (.csv) or a JSON Lines file (.jsonl)."))
        return cleaned

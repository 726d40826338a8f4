"""Bulk issuance: a CSV with a ZIP of PDFs, or JSON Lines of structured transcripts, issued
row by row in the background.

- `issuance_job_create` reads the file-level format (columns, encoding, the ZIP's safety, the
  number of rows) and refuses the whole upload with `BulkRejected` for a file-level fault; else
  it stores the files and one pending `IssuanceRow` a row. It does not start the job.
- `issuance_job_start` kicks processing off once the job is committed: a Celery task, or a
  thread of this process in the embedded default (`settings.CREDSHARE_TASKS`).
- `issuance_job_process` issues or rejects the pending rows in order, each in its own
  transaction, with the row locked (`SKIP LOCKED`: two workers never take the same row).
  Rows are idempotent on (issuer, external id): a document already issued under the row's
  external id marks the row issued with it, so a rerun of the same file, or a worker killed
  mid-row and resumed, never issues twice.
- `issuance_job_progress` and `issuance_rejections_csv` are what the pages and the command
  show.

A row's address with no account yet issues the document all the same, kept for the address
(the row then needs the learner's first or last name); the address gets one invitation to
claim it, in the row's `language` (an optional column or key: fr or en) or the job's.

Row numbers are what the issuer sees in their own tools: for a CSV, the spreadsheet row (the
header is row 1, the first document row 2); for JSON Lines, the line number.
"""

import csv
import datetime
import io
import json
import logging
import re
import threading
import zipfile
import zlib
from collections.abc import Callable
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from credshare.accounts.selectors import user_with_email
from credshare.core.csv_export import SafeCsvWriter
from credshare.core.ranges import DateOutOfRange, check_issue_date
from credshare.core.text import clean_text
from credshare.documents.models import Document, IssuanceJob, IssuanceRow
from credshare.documents.pdf import transcript_from_record
from credshare.documents.pdf_checks import PdfRejected, check_uploaded_pdf
from credshare.documents.services import document_issue

logger = logging.getLogger(__name__)

CSV_COLUMNS = (
    "external_id",
    "student_number",
    "email",
    "first_name",
    "last_name",
    "document_type",
    "title",
    "issue_date",
    "file",
)
JSONL_REQUIRED = ("external_id", "email", "document_type", "title", "issue_date")

# File-level limits (module constants so that a deployment or a test can change them).
MAX_ROWS = 50_000
MAX_ROWS_FILE_BYTES = 100 * 1024 * 1024
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 60_000
# The sum of the members' declared uncompressed sizes; one member may not exceed
# settings.CREDSHARE_MAX_UPLOAD_BYTES (the limit on one uploaded PDF).
MAX_ARCHIVE_UNCOMPRESSED_BYTES = 20 * 1024 * 1024 * 1024
# A member this many times smaller compressed than uncompressed (and over 1 MB) is a bomb.
MAX_COMPRESSION_RATIO = 200
MAX_COURSES = 300

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"
)


class BulkRejected(Exception):  # noqa: N818 -- a refusal, named as the callers read it
    """A bulk upload refused as a whole, with a code for programs and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class RowRejected(Exception):  # noqa: N818
    """One row refused, with its reason (internal: stored on the row)."""


# --- reading the files ------------------------------------------------------------------------


def _read_limited(upload, limit: int, *, code: str, message: str) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > limit:
        raise BulkRejected(code, message)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise BulkRejected(code, message)
    return data


def _decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _clean(value) -> str:
    # The same rule as the forms and the API (controls, bidirectional overrides, invisible
    # characters removed): a row's values are shown to learners as a form's would be.
    return "" if value is None else clean_text(str(value)).strip()


def _parse_csv(text: str) -> list[tuple[int, dict, str]]:
    """(row number, fields, reason if the row is malformed) for each document row."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise BulkRejected("empty", _("The file is empty."))
        columns = [_clean(name).lower().replace(" ", "_") for name in header]
        missing = [name for name in CSV_COLUMNS if name not in columns]
        if missing:
            raise BulkRejected(
                "missing_columns",
                _("The file has no column named %(columns)s. The columns are: %(expected)s.")
                % {"columns": ", ".join(missing), "expected": ", ".join(CSV_COLUMNS)},
            )
        rows = []
        number = 1
        for record in reader:
            number += 1
            if not any(_clean(cell) for cell in record):
                continue
            if len(rows) >= MAX_ROWS:
                raise _too_many_rows()
            reason = ""
            if len(record) > len(columns) and any(_clean(c) for c in record[len(columns) :]):
                reason = _("The row has %(count)s fields; the header has %(expected)s.") % {
                    "count": len(record),
                    "expected": len(columns),
                }
            fields = {
                name: _clean(record[index]) if index < len(record) else ""
                for index, name in enumerate(columns)
                if name
            }
            rows.append((number, fields, reason))
    except csv.Error as error:
        raise BulkRejected(
            "malformed",
            _("The CSV file cannot be read near row %(row)s: %(error)s")
            % {"row": reader.line_num, "error": error},
        ) from error
    return rows


def _parse_jsonl(text: str) -> list[tuple[int, dict, str]]:
    rows = []
    parsed = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) >= MAX_ROWS:
            raise _too_many_rows()
        reason = ""
        fields: dict = {}
        try:
            value = json.loads(line)
        except ValueError:
            reason = _("The line is not valid JSON.")
        else:
            if isinstance(value, dict):
                fields = value
                parsed += 1
                missing = [key for key in JSONL_REQUIRED if key not in value]
                if missing:
                    reason = _("The line has no %(keys)s.") % {"keys": ", ".join(missing)}
            else:
                reason = _("The line is not a JSON object.")
        rows.append((number, fields, reason))
    if rows and not parsed:
        raise BulkRejected(
            "malformed", _("The file is not JSON Lines: no line holds a JSON object.")
        )
    return rows


def _too_many_rows() -> BulkRejected:
    return BulkRejected(
        "too_many_rows",
        _("The file has more than %(limit)s rows; split it into several jobs.")
        % {"limit": f"{MAX_ROWS:,}"},
    )


def _unsafe_member_name(name: str) -> bool:
    name = name.replace("\\", "/")
    return (
        name.startswith("/")
        or "\x00" in name
        or re.match(r"^[A-Za-z]:", name) is not None
        or ".." in PurePosixPath(name).parts
    )


def _check_archive(upload) -> None:
    """Refuse a ZIP that is too large, damaged, encrypted, a ZIP bomb or has paths that leave
    the archive. The members are read one by one later (a damaged one rejects its row)."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_ARCHIVE_BYTES:
        raise BulkRejected(
            "archive_too_large",
            _("The ZIP archive is larger than %(limit)s MB.")
            % {"limit": MAX_ARCHIVE_BYTES // (1024 * 1024)},
        )
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise BulkRejected(
            "archive_corrupt", _("The ZIP archive is damaged or is not a ZIP archive.")
        ) from error
    finally:
        upload.seek(0)
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise BulkRejected(
            "archive_too_many",
            _("The ZIP archive has more than %(limit)s files.") % {"limit": MAX_ARCHIVE_MEMBERS},
        )
    bomb = BulkRejected(
        "zip_bomb",
        _(
            "The ZIP archive expands to far more than its size (a “ZIP bomb”) or holds a file "
            "larger than %(limit)s MB; it is refused."
        )
        % {"limit": settings.CREDSHARE_MAX_UPLOAD_BYTES // (1024 * 1024)},
    )
    total = 0
    for member in members:
        if _unsafe_member_name(member.filename):
            raise BulkRejected(
                "path_traversal",
                _("The ZIP archive holds a file with a path outside the archive: %(name)s")
                % {"name": member.filename[:200]},
            )
        if member.is_dir():
            continue
        if member.flag_bits & 0x1:
            raise BulkRejected(
                "archive_encrypted", _("The ZIP archive is encrypted; upload it unlocked.")
            )
        if member.file_size > settings.CREDSHARE_MAX_UPLOAD_BYTES:
            raise bomb
        if member.file_size > 1024 * 1024 and member.file_size > MAX_COMPRESSION_RATIO * max(
            member.compress_size, 1
        ):
            raise bomb
        total += member.file_size
        if total > MAX_ARCHIVE_UNCOMPRESSED_BYTES:
            raise bomb


def _source_of(rows_file) -> str:
    name = (getattr(rows_file, "name", "") or "").lower()
    if name.endswith((".jsonl", ".ndjson")):
        return IssuanceJob.Source.JSONL
    if name.endswith((".csv", ".txt")):
        return IssuanceJob.Source.CSV_ZIP
    raise BulkRejected(
        "unknown_format",
        _("Upload a CSV file (.csv) with a ZIP of PDFs, or a JSON Lines file (.jsonl)."),
    )


def _upload_name(upload, default: str) -> str:
    name = PurePosixPath((getattr(upload, "name", "") or "").replace("\\", "/")).name
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-")
    return name or default


def issuance_job_create(*, issuer, created_by, rows_file, pdf_archive=None) -> IssuanceJob:
    """A queued job with one pending row a row of ROWS_FILE (a CSV, with PDF_ARCHIVE a ZIP of
    the PDFs it names, or JSON Lines of structured transcripts). Raises BulkRejected, creating
    nothing, for a fault of the file as a whole. Does not start the job (issuance_job_start,
    after the transaction commits)."""
    if not issuer.is_issuer:
        raise ValueError(f"{issuer} does not issue documents")
    source = _source_of(rows_file)
    data = _read_limited(
        rows_file,
        MAX_ROWS_FILE_BYTES,
        code="too_large",
        message=_("The file is larger than %(limit)s MB.")
        % {"limit": MAX_ROWS_FILE_BYTES // (1024 * 1024)},
    )
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    if source == IssuanceJob.Source.CSV_ZIP:
        parsed = _parse_csv(text)
        if pdf_archive is None:
            raise BulkRejected(
                "archive_missing", _("A CSV file comes with a ZIP archive of the PDFs it names.")
            )
        _check_archive(pdf_archive)
    else:
        pdf_archive = None
        parsed = _parse_jsonl(text)
    if not parsed:
        raise BulkRejected("empty", _("The file has no rows."))

    now = timezone.now()
    seen: dict[str, int] = {}
    rows = []
    for number, fields, reason in parsed:
        external_id = _clean(fields.get("external_id"))[:100]
        if not reason and external_id:
            if external_id in seen:
                reason = _("The external id %(id)s is already on row %(row)s.") % {
                    "id": external_id,
                    "row": seen[external_id],
                }
            else:
                seen[external_id] = number
        rows.append(
            IssuanceRow(
                number=number,
                external_id=external_id,
                data=fields,
                status=IssuanceRow.Status.REJECTED if reason else IssuanceRow.Status.PENDING,
                reason=reason[:500],
                processed_at=now if reason else None,
            )
        )

    with transaction.atomic():
        job = IssuanceJob(
            issuer=issuer,
            created_by=created_by,
            source=source,
            total=len(rows),
            status=IssuanceJob.Status.QUEUED,
        )
        rows_file.seek(0)
        job.rows_file.save(
            _upload_name(rows_file, "rows.jsonl" if pdf_archive is None else "rows.csv"),
            rows_file,
            save=False,
        )
        if pdf_archive is not None:
            pdf_archive.seek(0)
            job.pdf_archive.save(_upload_name(pdf_archive, "pdfs.zip"), pdf_archive, save=False)
        job.save()
        for row in rows:
            row.job = job
        IssuanceRow.objects.bulk_create(rows, batch_size=1000)
    return job


# --- processing -------------------------------------------------------------------------------


class _Archive:
    """The job's ZIP, opened once for the rows of one processing call."""

    def __init__(self, job: IssuanceJob):
        self._file = job.pdf_archive.open("rb")
        self._zip = zipfile.ZipFile(self._file)
        self._by_name: dict[str, zipfile.ZipInfo] = {}
        by_basename: dict[str, list[zipfile.ZipInfo]] = {}
        for member in self._zip.infolist():
            if member.is_dir():
                continue
            name = member.filename.replace("\\", "/")
            self._by_name[name] = member
            by_basename.setdefault(PurePosixPath(name).name, []).append(member)
        for basename, members in by_basename.items():
            if len(members) == 1:
                self._by_name.setdefault(basename, members[0])

    def close(self) -> None:
        self._zip.close()
        self._file.close()

    def read(self, name: str) -> bytes:
        name = name.replace("\\", "/").removeprefix("./")
        if not name:
            raise RowRejected(_("The row names no PDF file."))
        if _unsafe_member_name(name):
            raise RowRejected(_("The PDF file name %(name)s is not allowed.") % {"name": name})
        member = self._by_name.get(name)
        if member is None:
            raise RowRejected(_("The ZIP archive has no file named %(name)s.") % {"name": name})
        limit = settings.CREDSHARE_MAX_UPLOAD_BYTES
        try:
            with self._zip.open(member) as stream:
                return stream.read(limit + 1)
        except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, NotImplementedError):
            raise RowRejected(
                _("The file %(name)s is damaged in the ZIP archive.") % {"name": name}
            ) from None


def _parse_date(value: str) -> datetime.date:
    value = _clean(value)
    try:
        if _DATE.fullmatch(value):
            return datetime.date.fromisoformat(value)
        if _ISO_DATETIME.fullmatch(value):
            return datetime.datetime.fromisoformat(value.replace(" ", "T")).date()
    except ValueError:
        pass
    raise RowRejected(
        _("The issue date “%(value)s” is not a date written YYYY-MM-DD.") % {"value": value[:40]}
    )


def _issue_date(value) -> datetime.date:
    """The row's issue date, within the range every issuing path takes."""
    issue_date = _parse_date(value)
    try:
        check_issue_date(issue_date)
    except DateOutOfRange as error:
        raise RowRejected(f"{error.message} ({issue_date.isoformat()})") from None
    return issue_date


def _text(fields: dict, key: str, *, limit: int, required: bool, label: str) -> str:
    value = fields.get(key)
    if value is not None and not isinstance(value, str | int | float):
        raise RowRejected(_("The %(field)s is not text.") % {"field": label})
    value = _clean(value)
    if required and not value:
        raise RowRejected(_("The %(field)s is missing.") % {"field": label})
    if len(value) > limit:
        raise RowRejected(
            _("The %(field)s is longer than %(limit)s characters.")
            % {"field": label, "limit": limit}
        )
    return value


def _courses(value) -> list[tuple[str, str, str, str]]:
    if value is None:
        return []
    message = _("The courses are not a list of [code, title, credits, grade].")
    if not isinstance(value, list) or len(value) > MAX_COURSES:
        raise RowRejected(message)
    courses = []
    for course in value:
        if not isinstance(course, list | tuple) or len(course) != 4:
            raise RowRejected(message)
        if any(isinstance(part, dict | list) for part in course):
            raise RowRejected(message)
        courses.append(tuple(_clean(part)[:100] for part in course))
    return courses


def _issue_row(job: IssuanceJob, row: IssuanceRow, archive: _Archive | None) -> Document:
    """The document the row issues (or issued before); RowRejected with the reason."""
    fields = row.data if isinstance(row.data, dict) else {}
    external_id = _text(fields, "external_id", limit=100, required=True, label=_("external id"))
    existing = Document.objects.filter(issuer=job.issuer, external_id=external_id).first()
    if existing is not None:
        return existing
    student_number = _text(
        fields, "student_number", limit=50, required=False, label=_("student number")
    )
    email = _text(fields, "email", limit=254, required=True, label=_("email address"))
    try:
        validate_email(email)
    except ValidationError:
        raise RowRejected(
            _("“%(email)s” is not a valid email address.") % {"email": email[:100]}
        ) from None
    learner = user_with_email(email)
    names = " ".join(
        part
        for part in (
            _text(fields, "first_name", limit=100, required=False, label=_("first name")),
            _text(fields, "last_name", limit=100, required=False, label=_("last name")),
        )
        if part
    )
    if learner is None and not names:
        raise RowRejected(
            _(
                "No one has an account with the email address %(email)s yet: give the "
                "learner's first and last name, for the document and the invitation to claim it."
            )
            % {"email": email}
        )
    # The invitation to an address with no account: in the row's language when it gives
    # one, else the job's (the translation active while it runs).
    language = _clean(fields.get("language")).lower()
    language = language if language in dict(settings.LANGUAGES) else None
    document_type = _text(
        fields, "document_type", limit=20, required=True, label=_("document type")
    ).lower()
    if document_type not in Document.Type.values:
        raise RowRejected(
            _("The document type “%(value)s” is not one of %(types)s.")
            % {"value": document_type[:40], "types": ", ".join(Document.Type.values)}
        )
    title = _text(fields, "title", limit=300, required=True, label=_("title"))
    issue_date = _issue_date(fields.get("issue_date"))

    record = {}
    if job.source == IssuanceJob.Source.CSV_ZIP:
        file_name = _text(fields, "file", limit=500, required=True, label=_("PDF file name"))
        pdf = archive.read(file_name)
        try:
            check_uploaded_pdf(pdf)
        except PdfRejected as error:
            raise RowRejected(f"{file_name}: {error.message}") from None
    else:
        record = {
            "program": _text(fields, "program", limit=200, required=False, label=_("program")),
            "courses": [list(course) for course in _courses(fields.get("courses"))],
            "gpa": _text(fields, "gpa", limit=20, required=False, label=_("GPA")),
            "credential": _text(
                fields, "credential", limit=200, required=False, label=_("credential")
            ),
        }
        pdf = transcript_from_record(
            issuer=job.issuer,
            learner_name=names or learner.full_name or learner.email,
            title=title,
            issue_date=issue_date,
            record=record,
        )
    try:
        with transaction.atomic():
            # The address is looked up again in the service, under its lock.
            return document_issue(
                issuer=job.issuer,
                learner_email=email,
                learner_name=names,
                language=language,
                document_type=document_type,
                title=title,
                issue_date=issue_date,
                pdf=pdf,
                external_id=external_id,
                student_number=student_number,
                record=record,
            )
    except IntegrityError:
        # Another worker issued the same external id meanwhile: that document is this row's.
        existing = Document.objects.filter(issuer=job.issuer, external_id=external_id).first()
        if existing is None:
            raise
        return existing


def _language_of(job: IssuanceJob) -> str:
    user = job.created_by
    return (user.language if user is not None else "") or settings.LANGUAGE_CODE


def issuance_job_process(
    *, job_id: int, max_rows: int | None = None, stop: Callable[[], bool] = lambda: False
) -> int:
    """Issue or reject the job's pending rows in order, each in its own transaction; at most
    MAX_ROWS of them, stopping early when STOP() says so. Returns how many were processed.
    A process killed mid-row leaves that row pending (its transaction rolled back): a later
    call resumes there, and rows already issued are never issued again."""
    job = IssuanceJob.objects.select_related("issuer", "created_by").get(pk=job_id)
    now = timezone.now()
    if job.status in (IssuanceJob.Status.QUEUED, IssuanceJob.Status.FAILED):
        IssuanceJob.objects.filter(pk=job.pk).update(
            status=IssuanceJob.Status.RUNNING, started_at=job.started_at or now, error=""
        )
    processed = 0
    archive = None
    try:
        if job.source == IssuanceJob.Source.CSV_ZIP:
            archive = _Archive(job)
        with translation.override(_language_of(job)):
            while max_rows is None or processed < max_rows:
                if stop():
                    break
                with transaction.atomic():
                    row = (
                        IssuanceRow.objects.select_for_update(skip_locked=True)
                        .filter(job_id=job.pk, status=IssuanceRow.Status.PENDING)
                        .order_by("number")
                        .first()
                    )
                    if row is None:
                        break
                    try:
                        row.document = _issue_row(job, row, archive)
                        row.status = IssuanceRow.Status.ISSUED
                        row.reason = ""
                    except RowRejected as error:
                        row.status = IssuanceRow.Status.REJECTED
                        row.reason = str(error)[:500]
                    except DatabaseError:
                        raise
                    except Exception:  # one row's failure never stops the others
                        logger.exception("Bulk issuance job %s, row %s", job.pk, row.number)
                        row.status = IssuanceRow.Status.REJECTED
                        row.reason = _("The document could not be issued (an internal error).")
                    row.processed_at = timezone.now()
                    row.save(update_fields=["document", "status", "reason", "processed_at"])
                processed += 1
    finally:
        if archive is not None:
            archive.close()
    if not IssuanceRow.objects.filter(job_id=job.pk, status=IssuanceRow.Status.PENDING).exists():
        IssuanceJob.objects.filter(pk=job.pk).exclude(status=IssuanceJob.Status.DONE).update(
            status=IssuanceJob.Status.DONE, finished_at=timezone.now()
        )
    return processed


def issuance_job_fail(*, job_id: int, error: str) -> None:
    """Mark a job failed (its worker crashed outside a row); processing it again resumes."""
    IssuanceJob.objects.filter(pk=job_id).exclude(status=IssuanceJob.Status.DONE).update(
        status=IssuanceJob.Status.FAILED, error=error[:500]
    )


def _run_in_thread(job_id: int) -> None:
    try:
        issuance_job_process(job_id=job_id)
    except Exception as error:
        logger.exception("Bulk issuance job %s failed", job_id)
        try:
            issuance_job_fail(job_id=job_id, error=str(error) or error.__class__.__name__)
        except DatabaseError:
            logger.exception("Bulk issuance job %s: cannot record the failure", job_id)
    finally:
        connection.close()


# A job still queued this long after it was made has lost the task that starts it: the process
# that queued it died between the commit and sending the task (the fault test caught a web
# process killed there; the client's retry, with the same Idempotency-Key, was told 202 and
# the job never ran). The scheduler starts such jobs again (issuance_jobs_restart_stalled).
# Long enough that a job merely waiting behind others in a busy queue is rarely sent twice
# (which would only start a few more chunk tasks: run_issuance_job sends none for a job
# already started).
STALLED_AFTER = datetime.timedelta(minutes=5)


def issuance_jobs_restart_stalled(
    *, now: datetime.datetime | None = None, limit: int = 100
) -> list[int]:
    """Start again every job still queued STALLED_AFTER after it was made (at NOW); returns
    their ids. Idempotent: rows are issued once whatever the number of tasks."""
    now = now or timezone.now()
    ids = list(
        IssuanceJob.objects.filter(
            status=IssuanceJob.Status.QUEUED, created__lte=now - STALLED_AFTER
        )
        .order_by("created", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for job in IssuanceJob.objects.filter(pk__in=ids).order_by("created", "pk"):
        logger.warning("Bulk issuance job %s was never started: starting it again", job.pk)
        issuance_job_start(job=job)
    return ids


def issuance_job_start(*, job: IssuanceJob) -> None:
    """Start processing JOB: a Celery task when settings.CREDSHARE_TASKS is "celery", a daemon
    thread of this process when it is "inline" (the embedded default); "none" starts nothing
    (tests call issuance_job_process themselves; `manage.py issue_bulk --resume` runs it)."""
    mode = settings.CREDSHARE_TASKS
    if mode == "celery":
        from credshare.documents.tasks import run_issuance_job

        run_issuance_job.delay(job.id)
    elif mode == "inline":
        threading.Thread(
            target=_run_in_thread, args=(job.id,), name=f"issuance-job-{job.id}", daemon=True
        ).start()
    elif mode != "none":
        logger.warning(
            "CREDSHARE_TASKS=%r is unknown: bulk issuance job %s not started", mode, job.id
        )


# --- progress and report ----------------------------------------------------------------------


def issuance_job_progress(*, job: IssuanceJob) -> dict:
    """Where JOB stands: rows done (issued + rejected), remaining, the rate in rows a second
    since it started, an estimate of the seconds left (None before there is a rate)."""
    counts = IssuanceRow.objects.filter(job_id=job.pk).aggregate(
        issued=Count("pk", filter=Q(status=IssuanceRow.Status.ISSUED)),
        rejected=Count("pk", filter=Q(status=IssuanceRow.Status.REJECTED)),
        pending=Count("pk", filter=Q(status=IssuanceRow.Status.PENDING)),
    )
    job.refresh_from_db(fields=["status", "started_at", "finished_at", "error", "total"])
    done = counts["issued"] + counts["rejected"]
    total = job.total or done + counts["pending"]
    remaining = counts["pending"]
    rate = 0.0
    if job.started_at is not None:
        elapsed = ((job.finished_at or timezone.now()) - job.started_at).total_seconds()
        if elapsed > 0:
            rate = done / elapsed
    if remaining == 0:
        seconds_left = 0
    elif rate > 0:
        seconds_left = round(remaining / rate)
    else:
        seconds_left = None
    return {
        "status": job.status,
        "done": done,
        "issued": counts["issued"],
        "rejected": counts["rejected"],
        "remaining": remaining,
        "total": total,
        "rate": round(rate, 2),
        "seconds_left": seconds_left,
        "percent": round(100 * done / total, 1) if total else 100.0,
        "finished": job.status == IssuanceJob.Status.DONE,
        "error": job.error,
    }


def issuance_rejections_csv(*, job: IssuanceJob) -> str:
    """The rejected rows of JOB as CSV: row number, external id, reason. A cell that a
    spreadsheet would read as a formula gets a leading apostrophe (SafeCsvWriter)."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(["row", "external_id", "reason"])
    rows = (
        IssuanceRow.objects.filter(job_id=job.pk, status=IssuanceRow.Status.REJECTED)
        .order_by("number")
        .values_list("number", "external_id", "reason")
    )
    for number, external_id, reason in rows.iterator():
        writer.writerow([number, external_id, reason])
    return buffer.getvalue()


def format_seconds(seconds: float | None) -> str:
    """A duration for people: 1:05:09, 5:09, or 0:09."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"

"""What the API takes and gives, as pydantic models (Ninja schemas); the OpenAPI schema is
made from them."""

import base64
import datetime
import uuid
from functools import partial
from typing import Annotated, Literal

from ninja import Field
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from credshare.core import ranges
from credshare.core.text import clean_text
from credshare.documents.bulk import MAX_COURSES

# PostgreSQL stores no NUL character, in text or in JSON: refused by the schema, not failed by
# the database.
NO_NUL = r"^[^\x00]*$"
# The same, with at least one character that is not white space.
VISIBLE = r"^[^\x00]*[^\x00\s][^\x00]*$"


def text(
    max_length: int,
    *,
    visible: bool = False,
    multiline: bool = False,
    description: str | None = None,
):
    """A string without NUL characters of at most MAX_LENGTH characters; VISIBLE: not blank.
    Cleaned first by the rule every form applies (credshare.core.text.clean_text): controls,
    bidirectional overrides and invisible characters removed; line breaks kept if MULTILINE."""
    return Annotated[
        str,
        BeforeValidator(partial(_clean_text_value, multiline=multiline)),
        Field(
            min_length=1 if visible else None,
            max_length=max_length,
            pattern=VISIBLE if visible else NO_NUL,
            description=description,
        ),
    ]


def _clean_text_value(value, *, multiline: bool):
    return clean_text(value, multiline=multiline) if isinstance(value, str) else value


def _utc_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


# A moment, written in UTC to the microsecond (as stored): a `created` used as `since` then
# excludes exactly the shares already seen.
Moment = Annotated[
    datetime.datetime,
    PlainSerializer(_utc_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


def in_range(check, value, **kwargs):
    """VALUE when CHECK (one of credshare.core.ranges' checks) passes; else a validation
    error whose type is the range's code (`issue_date_future`, …) and whose message is
    translated."""
    try:
        check(value, **kwargs)
    except ranges.DateOutOfRange as error:
        raise PydanticCustomError(error.code, "{message}", {"message": error.message}) from None
    return value


# A moment given in a query (`since`): between 1900 and a hundred years from now.
QueryMoment = Annotated[
    datetime.datetime, AfterValidator(lambda value: in_range(ranges.check_moment, value))
]


class Model(BaseModel):
    """Plain pydantic models, not Ninja's Schema: the API builds its answers itself, and
    Schema's reading of ORM objects costs a tenth of a millisecond a model (a page of 50
    shares is hundreds of models)."""


# --- errors -----------------------------------------------------------------------------------


class ErrorDetail(Model):
    """One fault of the request: where (`loc` for a field of the body, query or path; `field`
    for a rule about one field), a code, and a message."""

    loc: list[str | int] | None = None
    field: str | None = None
    scope: str | None = None
    code: str | None = None
    message: str | None = None


class ErrorBody(Model):
    code: str = Field(description="Stable, for programs: `invalid_key`, `not_found`, …")
    message: str = Field(description="For people, in the language of Accept-Language.")
    details: list[ErrorDetail] | None = Field(
        None, description="Present when the error is about parts of the request."
    )


class ErrorOut(Model):
    error: ErrorBody


# --- receiving: shares ------------------------------------------------------------------------

ShareState = Literal["active", "expired", "revoked"]
DocumentStatus = Literal["active", "withdrawn", "revoked"]
DocumentType = Literal["transcript", "diploma", "certificate", "letter"]


class LearnerOut(Model):
    name: str
    email: str


class ShareFieldOut(Model):
    key: str = Field(description="The field's key, as set by your organization.")
    label: str = Field(description="The field's label, in the language of Accept-Language.")
    value: str = Field(description="The value as the learner gave it.")
    display_value: str = Field(
        description="For a choice, the choice's label in the request's language; else the value."
    )


class IssuerOut(Model):
    slug: str
    name: str


class SharedDocumentOut(Model):
    id: uuid.UUID = Field(description="The document's public id (printed on its PDF).")
    type: DocumentType
    title: str
    issuer: IssuerOut
    issue_date: datetime.date
    status: DocumentStatus = Field(
        description="`withdrawn` and `revoked` documents are no longer served (410)."
    )
    version: int = Field(description="The number of the version served now (1, 2, …).")
    sha256: str = Field(description="SHA-256 of the PDF served now, in hex.")
    size: int = Field(description="Size in bytes of the PDF served now.")
    download_url: str


class ShareOut(Model):
    id: uuid.UUID = Field(description="The share's id in the API and in webhooks.")
    state: ShareState = Field(
        description="`active`: documents can be downloaded; `expired` or `revoked`: not any more."
    )
    reference: str = Field(description="The reference the learner gave (an application number…).")
    learner: LearnerOut
    fields: list[ShareFieldOut] = Field(
        description="Your organization's additional fields, in their order."
    )
    documents: list[SharedDocumentOut]
    created: Moment
    expires_on: datetime.date | None = Field(
        description="The last day the share gives access, or null for no expiry date."
    )
    expires_at: Moment | None = Field(
        description="The moment the share stops giving access (the end of `expires_on`)."
    )
    revoked_at: Moment | None
    processed_at: Moment | None = Field(
        description="When your organization marked the share processed, or null."
    )


class SharePage(Model):
    items: list[ShareOut]
    next_cursor: str | None = Field(
        description="Pass it as `cursor` to get the next page; null on the last page."
    )


# --- issuing: documents and jobs --------------------------------------------------------------

Course = Annotated[
    list[text(100)],
    Field(min_length=4, max_length=4, description="[code, title, credits, grade]"),
]


class TranscriptRecord(Model):
    """A transcript's data: credshare renders the PDF from it, and the document's credential
    carries it."""

    program: text(200, visible=True)
    courses: list[Course] = Field(min_length=1, max_length=MAX_COURSES)
    gpa: text(20) = ""
    credential: text(200) = Field("", description="The credential conferred, if any.")


PdfBase64 = Annotated[
    str,
    Field(
        description="The PDF, base64-encoded (RFC 4648, with padding).",
        min_length=4,
        pattern=r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$",
    ),
]


class PdfOrRecord(Model):
    """The document's PDF, or a transcript's data to render it from: one of the two."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["pdf_base64"]}, {"required": ["record"]}]}
    )

    pdf_base64: PdfBase64 | SkipJsonSchema[None] = None
    record: TranscriptRecord | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _one_source(self):
        if (self.pdf_base64 is None) == (self.record is None):
            raise ValueError("give either pdf_base64 or record, not both and not neither")
        return self

    def pdf_bytes(self) -> bytes | None:
        return base64.b64decode(self.pdf_base64) if self.pdf_base64 is not None else None


class DocumentIn(PdfOrRecord):
    learner_email: text(
        254,
        visible=True,
        description="The learner's address. With no account at it yet, the document waits "
        "for the learner, who is invited by email to open one (or add the address to theirs).",
    )
    learner_name: text(200) = Field(
        "", description="The learner's name as on your records; needed for a new address."
    )
    language: Literal["en", "fr"] | SkipJsonSchema[None] = Field(
        None,
        description="The language of the invitation sent to an address with no account; by "
        "default the request's (Accept-Language).",
    )
    student_number: text(50) = ""
    type: DocumentType
    title: text(300, visible=True)
    issue_date: datetime.date = Field(
        description="The day the document was issued: today or earlier, not before 1900-01-01 "
        "(`issue_date_future`, `issue_date_too_old`)."
    )
    valid_until: datetime.date | None = Field(
        None,
        description="The last day the document is valid, for documents that expire: on or "
        "after `issue_date`, at most 100 years from today (`valid_until_before_issue_date`, "
        "`valid_until_too_far`).",
    )
    external_id: text(100) = Field(
        "",
        description="Your own id for the document. Issuing the same external_id again returns "
        "the document already issued (200) instead of issuing it twice.",
    )

    @field_validator("issue_date")
    @classmethod
    def _issue_date_in_range(cls, value: datetime.date) -> datetime.date:
        return in_range(ranges.check_issue_date, value)

    @field_validator("valid_until")
    @classmethod
    def _valid_until_in_range(cls, value, info: ValidationInfo):
        return in_range(ranges.check_valid_until, value, issue_date=info.data.get("issue_date"))


class VersionIn(PdfOrRecord):
    pass


class WithdrawIn(Model):
    reason: text(500, visible=True, multiline=True, description="The learner sees it.")
    revoke: bool = Field(
        False,
        description="false: withdrawn (no longer applies); true: revoked (never should have "
        "been issued).",
    )


class VersionOut(Model):
    number: int
    sha256: str
    size: int
    created: Moment


class IssuedDocumentOut(Model):
    id: uuid.UUID
    external_id: str
    student_number: str
    learner: LearnerOut
    learner_has_account: bool = Field(
        description="false while the document waits for its learner to open an account."
    )
    type: DocumentType
    title: str
    issue_date: datetime.date
    valid_until: datetime.date | None
    status: DocumentStatus
    status_reason: str
    status_changed_at: Moment | None
    version: VersionOut = Field(description="The version served now.")
    versions_count: int
    created: Moment


class JobProgress(Model):
    done: int
    issued: int
    rejected: int
    remaining: int
    total: int
    percent: float
    rate: float = Field(description="Rows a second since the job started.")
    seconds_left: int | None = Field(description="An estimate; null before there is a rate.")
    finished: bool


class JobOut(Model):
    id: uuid.UUID
    status: Literal["queued", "running", "done", "failed"]
    source: Literal["csv_zip", "jsonl"]
    total: int
    error: str
    created: Moment
    started_at: Moment | None
    finished_at: Moment | None
    progress: JobProgress
    rejections_url: str

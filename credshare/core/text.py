"""The one cleaning rule for text people and clients type: `clean_text`.

Names, references, field answers, messages, descriptions and URLs are shown to other people
(a receiving organization's staff, a learner, a recipient of a link) beside text of ours. A
few characters in them change what those people see rather than what is written:

- bidirectional controls (U+202A-U+202E embeddings and overrides, U+2066-U+2069 isolates)
  reorder the text around them: "\u202eexe.fdp" reads as "pdf.exe", a reference can appear to
  be another one, a URL to point elsewhere;
- C0 and C1 control characters (and DEL) are invisible, or move the cursor, ring bells and
  colour terminals where the text is copied (logs, CSV opened in a terminal); a line break in
  a one-line field forges a second line (an email header, a CSV row, a log line);
- invisible format characters that serve no script (zero width space U+200B, word joiner
  U+2060, the byte order mark U+FEFF, invisible operators U+2061-U+2064, deprecated format
  characters U+206A-U+206F, interlinear annotations U+FFF9-U+FFFB, the Mongolian vowel
  separator U+180E, tag characters outside a flag's emoji sequence) make two strings that look
  the same differ, or hide text; noncharacters (U+FDD0-U+FDEF, U+xFFFE/U+xFFFF) are not text.

They are removed at input: in forms (CleanTextFormMixin) and in the API's schemas
(credshare.api.schemas.text). What is kept on purpose: the zero width joiner and non-joiner
(U+200D, U+200C: emoji sequences, Persian and Indic spelling) and the left-to-right and
right-to-left marks (U+200E, U+200F, U+061C: they place neutral characters in Arabic or Hebrew
text and cannot reorder letters). Multi-line fields keep tabs and line breaks (CR LF, CR and
the Unicode line and paragraph separators become LF); one-line fields get a space instead.
NUL is left for the forms and schemas to refuse, as they do, with their own message: it is
a sign of a broken client rather than of text to show.

Text shown beside other text is also isolated in the pages (`<bdi>`, `dir="auto"`), so that
right-to-left text typed before this rule, or legitimately right-to-left, cannot run into
ours.
"""

import re

from django import forms

# Bidirectional embeddings, overrides and isolates.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Invisible format characters that no script needs.
INVISIBLE_FORMATS = (
    "\u180e\u200b\u2060\u2061\u2062\u2063\u2064"
    "\u206a\u206b\u206c\u206d\u206e\u206f\ufeff\ufff9\ufffa\ufffb"
)
_ALWAYS_REMOVED = re.compile(
    "["
    + re.escape(BIDI_CONTROLS + INVISIBLE_FORMATS)
    + "\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    + "\ufdd0-\ufdef"
    + "]"
    # U+xFFFE and U+xFFFF of every plane.
    + "|[\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff"
    + "\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
# Tag characters: kept only inside a subdivision flag (U+1F3F4, tags, CANCEL TAG U+E007F).
_TAGS = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)|[\U000e0000-\U000e007f]")
_LINE_BREAKS = re.compile("\r\n|[\r\n\u2028\u2029\x85]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """VALUE without the characters that change what people see rather than what is written
    (the module's docstring names them). MULTILINE keeps tabs and line breaks (as LF); a
    one-line value gets a space for each."""
    if not value:
        return value
    value = _LINE_BREAKS.sub("\n" if multiline else " ", value)
    if not multiline:
        value = value.replace("\t", " ")
    value = _TAGS.sub(lambda match: match.group(1) or "", value)
    return _ALWAYS_REMOVED.sub("", value)


def adopt_clean_text(field: forms.Field) -> forms.Field:
    """FIELD, if it takes text (a CharField, but not a password), cleaned by clean_text before
    its own checks (required, length, format): text of only hostile characters is empty.
    A Textarea is multi-line. Returns FIELD."""
    if not isinstance(field, forms.CharField) or isinstance(field.widget, forms.PasswordInput):
        return field
    if getattr(field, "_cleans_text", False):
        return field
    multiline = isinstance(field.widget, forms.Textarea)
    to_python = field.to_python

    def cleaned_to_python(value):
        if isinstance(value, str):
            value = clean_text(value, multiline=multiline)
        return to_python(value)

    field.to_python = cleaned_to_python
    field._cleans_text = True
    return field


class CleanTextFormMixin:
    """Every text field of the form (those added in __init__ too) goes through clean_text.

    Put it first among a form's bases. A field whose text must reach us byte for byte (a
    credential pasted to verify: its proof signs those bytes) is named in
    `raw_text_fields`."""

    raw_text_fields: tuple[str, ...] = ()

    def full_clean(self):
        for name, field in self.fields.items():
            if name not in self.raw_text_fields:
                adopt_clean_text(field)
        super().full_clean()

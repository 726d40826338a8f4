"""Hostile text wherever people type it (share names, purposes, references and extra field
values; organization names, descriptions and field labels; learner names; document titles),
rendered through every page, email, CSV and JSON that shows it: pages and emails stay inert
(no script, no event handler, no javascript: link that we did not write), JSON stays valid
and round-trips the text, CSV cells never start a formula.

Each example rewrites the same few objects, so the examples stay cheap; derandomized, so a
run is the same every time."""

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credshare.api.models import ApiKey
from credshare.api.services import api_key_create
from credshare.core import testing
from credshare.core.csv_export import FORMULA_STARTS, SafeCsvWriter, formula_safe
from credshare.core.security import content_disposition
from credshare.documents.models import Document
from credshare.network.models import Membership, ShareField
from credshare.sharing.models import Share

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)' x='",
    "</textarea></title><svg onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "{{ request }}{% debug %}",
    '=HYPERLINK("https://evil.example","x")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\u202eexe.fdp",  # right-to-left override
    "e\u0301\u200b\ufeff\u00a0\u2028",  # combining mark, zero width, BOM, line separator
    "\U0001f600 \U00010348 \ufdd0",
    "\r\nBcc: evil@example.org\r\n",
    "\x07\x08\x1b[31m",
]

# Any text but NUL: no form of ours lets one through (Django's forms refuse it) and
# PostgreSQL cannot store it.
CHARACTERS = st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))
ANY_TEXT = st.text(CHARACTERS)
HOSTILE = st.one_of(
    st.builds(
        lambda before, payload, after: before + payload + after,
        st.text(CHARACTERS, max_size=12),
        st.sampled_from(PAYLOADS),
        st.text(CHARACTERS, max_size=12),
    ),
    # Very long: a payload over and over (each field keeps what its length allows).
    st.builds(lambda text, times: text * times, st.sampled_from(PAYLOADS), st.integers(5, 60)),
)
EXAMPLES = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class ActiveContent(HTMLParser):
    """What in an HTML page could run: inline scripts, event handler attributes, javascript:
    URLs, and (outside emails) style attributes."""

    def __init__(self, *, styles_allowed: bool = False):
        super().__init__(convert_charrefs=True)
        self.styles_allowed = styles_allowed
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self.found.append("inline <script>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=>")
            if name == "style" and not self.styles_allowed:
                self.found.append(f"<{tag} style=>")
            url = "".join((value or "").split()).lower()
            if name in URL_ATTRIBUTES and url.startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:>")


def test_the_checker_sees_what_could_run():
    assert active_content("<p title='&lt;script&gt;'>&lt;b onclick=x&gt;</p>") == []
    assert active_content("<script src='/static/x.js'></script>") == []
    assert active_content("<script>x()</script>") == ["inline <script>"]
    assert active_content('<img src=x onerror="x()">') == ["<img onerror=>"]
    assert active_content('<a href=" Java\tScript:x()">') == ["<a href=javascript:>"]
    assert active_content('<p style="color: red">') == ["<p style=>"]
    assert active_content('<p style="color: red">', styles_allowed=True) == []


def active_content(html: str, *, styles_allowed: bool = False) -> list[str]:
    parser = ActiveContent(styles_allowed=styles_allowed)
    parser.feed(html)
    parser.close()
    return parser.found


def assert_inert(response, text: str):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert active_content(html) == []
    if "<" in text:
        assert text not in html  # never raw


def fit(model, field: str, text: str) -> str:
    return text[: model._meta.get_field(field).max_length or len(text)]


@pytest.fixture
def world(client, zoe, zoe_transcript, ecole, camille, university, free_college):
    """A share from zoe to ecole, a link share, the people who see them, and an API key."""
    Membership.objects.filter(user=camille, organization=ecole).update(role=Membership.Role.ADMIN)
    testing.give_credits(zoe, university, 5)
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, field_values={"application_number": "A-1"}
    )
    link, token = testing.share_by_link(
        zoe, [zoe_transcript], expires_on=testing.days_from_today(365)
    )
    registrar = testing.make_issuer_staff(university, "registrar@example-university.org")
    _, key = api_key_create(
        organization=ecole, name="SIS", scopes=list(ApiKey.RECEIVING_SCOPES), by=None
    )
    return {
        "share": share,
        "link": link,
        "token": token,
        "registrar": registrar,
        "key": key,
        "field": ShareField.objects.get(organization=ecole, key="application_number"),
    }


def write_everywhere(text: str, *, zoe, zoe_transcript, ecole, world) -> None:
    """TEXT into every field people type that these pages show."""
    share = world["share"]
    Share.objects.filter(pk__in=[share.pk, world["link"].pk]).update(
        name=fit(Share, "name", text),
        purpose=fit(Share, "purpose", text),
        reference=fit(Share, "reference", text),
        message=text[:2000],
        field_values={"application_number": text},
    )
    type(ecole).objects.filter(pk=ecole.pk).update(
        name_en=fit(type(ecole), "name_en", text),
        name_fr=fit(type(ecole), "name_fr", text),
        description_en=text,
        description_fr=text,
    )
    ShareField.objects.filter(organization=ecole).update(
        label_en=fit(ShareField, "label_en", text),
        label_fr=fit(ShareField, "label_fr", text),
        help_en=fit(ShareField, "help_en", text),
    )
    type(zoe).objects.filter(pk=zoe.pk).update(full_name=fit(type(zoe), "full_name", text))
    type(zoe_transcript).objects.filter(pk=zoe_transcript.pk).update(
        title=fit(type(zoe_transcript), "title", text)
    )


@EXAMPLES
@given(text=HOSTILE)
def test_the_learners_pages_stay_inert(client, zoe, zoe_transcript, ecole, world, text):
    write_everywhere(text, zoe=zoe, zoe_transcript=zoe_transcript, ecole=ecole, world=world)
    client.force_login(zoe)
    share = world["share"]
    for url in [
        "/documents/",
        f"/documents/{zoe_transcript.pk}/",
        "/shares/",
        f"/shares/{share.pk}/",
        f"/shares/{world['link'].pk}/",
        reverse("sharing:with_organization") + f"?documents={zoe_transcript.pk}",
        reverse("sharing:fields") + f"?recipient={ecole.pk}",
    ]:
        assert_inert(client.get(url), text)


@EXAMPLES
@given(text=HOSTILE)
def test_the_organizations_pages_stay_inert(
    client, zoe, zoe_transcript, ecole, camille, university, world, text
):
    write_everywhere(text, zoe=zoe, zoe_transcript=zoe_transcript, ecole=ecole, world=world)
    share = world["share"]
    client.force_login(camille)
    for url in [
        reverse("inbox:list"),
        reverse("inbox:share", args=[share.pk]),
        reverse("network:profile", args=[ecole.slug]),
        reverse("network:fields", args=[ecole.slug]),
        reverse("network:field_edit", args=[ecole.slug, world["field"].pk]),
        reverse("network:staff", args=[ecole.slug]),
    ]:
        assert_inert(client.get(url), text)
    client.force_login(world["registrar"])
    for url in [
        reverse("issuer_documents:list", args=[university.slug]),
        reverse("issuer_documents:detail", args=[university.slug, zoe_transcript.pk]),
    ]:
        assert_inert(client.get(url), text)


@EXAMPLES
@given(text=HOSTILE)
def test_the_recipients_pages_stay_inert(client, zoe, zoe_transcript, ecole, world, text):
    write_everywhere(text, zoe=zoe, zoe_transcript=zoe_transcript, ecole=ecole, world=world)
    client.get(reverse("recipient:open", args=[world["token"]]))
    assert_inert(client.get(reverse("recipient:share", args=[world["link"].pk])), text)


@EXAMPLES
@given(text=HOSTILE)
def test_the_api_returns_valid_json_with_the_text_as_it_is(
    client, zoe, zoe_transcript, ecole, world, text
):
    write_everywhere(text, zoe=zoe, zoe_transcript=zoe_transcript, ecole=ecole, world=world)
    response = client.get(
        f"/api/v1/shares/{world['share'].public_id}",
        headers={"Authorization": f"Bearer {world['key']}"},
    )
    assert response.status_code == 200
    body = json.loads(response.content)  # strict: no raw control character, valid UTF-8
    assert response["Content-Type"].startswith("application/json")
    assert body["reference"] == fit(Share, "reference", text)
    assert body["learner"]["name"] == fit(type(zoe), "full_name", text)
    assert body["fields"][0]["label"] == fit(ShareField, "label_en", text)
    assert body["fields"][0]["value"] == text
    assert body["documents"][0]["title"] == fit(Document, "title", text)


@pytest.fixture
def free_college_document(zoe, free_college):
    # Free to share: every example shares it again without running out of credits.
    return testing.make_document(zoe, free_college, "Certificate")


@pytest.fixture
def email_shares_unlimited(settings):  # pytest-django's settings fixture, not hypothesis'
    # Every example shares by email again within the hour: more than a learner may.
    settings.CREDSHARE_EMAIL_SHARES_PER_HOUR = settings.CREDSHARE_EMAIL_SHARES_PER_DAY = 10_000


@EXAMPLES
@given(text=HOSTILE)
def test_emails_stay_inert_and_headers_stay_single_lines(
    zoe, free_college_document, email_shares_unlimited, django_capture_on_commit_callbacks, text
):
    type(zoe).objects.filter(pk=zoe.pk).update(full_name=fit(type(zoe), "full_name", text))
    zoe.refresh_from_db()
    document = free_college_document
    Document.objects.filter(pk=document.pk).update(title=fit(Document, "title", text))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        share = testing.share_by_email(
            zoe,
            [document],
            "recipient@example.org",
            name=fit(Share, "name", text),
            message=text[:2000],
            expires_on=testing.days_from_today(365),
        )
    assert mail.outbox, "the share's email went out"
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        assert message.to == ["recipient@example.org"] and not message.bcc
        assert "&lt;" not in message.body or "&lt;" in text  # plain text is not escaped
        for html, _ in getattr(message, "alternatives", []):
            assert active_content(html, styles_allowed=True) == []
            if "<" in text:
                assert text not in html
    assert share.channel == Share.Channel.EMAIL


@settings(max_examples=100, derandomize=True, deadline=None)
@given(cells=st.lists(st.one_of(HOSTILE, ANY_TEXT, st.integers(), st.none()), min_size=1))
def test_csv_cells_never_start_a_formula(cells):
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(cells)
    [read] = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert read == [str(formula_safe(cell)) for cell in cells]
    for cell, value in zip(read, cells, strict=True):
        if isinstance(value, str):
            assert not cell.startswith(FORMULA_STARTS)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(name=ANY_TEXT)
def test_a_served_file_name_never_breaks_its_header(name):
    header = content_disposition(name + ".pdf", as_attachment=True)
    assert header.isascii() and header.isprintable()
    assert header.count('"') == 2 and header.count(";") == 2


# Right-to-left text (legitimately Hebrew or Arabic, or forced by an override stored before
# input was cleaned) shown beside our text is isolated, so that it cannot reorder ours.
RTL_MARKER = "\u05e9\u05dc\u05d5\u05dd-marker"
RTL_TEXTS = [RTL_MARKER, "\u202e" + RTL_MARKER, "\u2067" + RTL_MARKER]
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


class NotIsolated(HTMLParser):
    """The text nodes holding RTL_MARKER that are neither in a <bdi> nor in an element with a
    dir attribute; in <title>, where HTML is not parsed, they must follow U+2068 (FSI)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, tag == "bdi" or "dir" in dict(attrs)))

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        if RTL_MARKER not in data:
            return
        if self.open and self.open[-1][0] == "title":
            before = data[: data.index(RTL_MARKER)]
            if "\u2068" not in before:
                self.found.append(f"<title>{data.strip()}")
        elif not any(isolated for _tag, isolated in self.open):
            tags = "/".join(tag for tag, _ in self.open[-3:])
            self.found.append(f"{tags}: {data.strip()}")


def not_isolated(html: str) -> list[str]:
    parser = NotIsolated()
    parser.feed(html)
    parser.close()
    return parser.found


def test_the_isolation_checker_sees_text_that_is_not_isolated():
    assert not_isolated(f"<p>Share from {RTL_MARKER}</p>") == [f"p: Share from {RTL_MARKER}"]
    assert not_isolated(f"<p>Share from <bdi>{RTL_MARKER}</bdi></p>") == []
    assert not_isolated(f'<td dir="auto">{RTL_MARKER}<br>x</td>') == []
    assert not_isolated(f"<title>Share from {RTL_MARKER}</title>") != []
    assert not_isolated(f"<title>Share from \u2068{RTL_MARKER}\u2069</title>") == []


@pytest.mark.parametrize("text", RTL_TEXTS)
def test_names_references_and_answers_are_isolated_where_receivers_and_learners_see_them(
    client, zoe, zoe_transcript, ecole, camille, world, text
):
    write_everywhere(text, zoe=zoe, zoe_transcript=zoe_transcript, ecole=ecole, world=world)
    share = world["share"]
    pages = {}
    client.force_login(camille)
    for url in [reverse("inbox:list"), reverse("inbox:share", args=[share.pk])]:
        pages[url] = client.get(url)
    client.force_login(zoe)
    for url in ["/shares/", f"/shares/{share.pk}/", f"/shares/{world['link'].pk}/"]:
        pages[url] = client.get(url)
    client.logout()
    client.get(reverse("recipient:open", args=[world["token"]]))
    url = reverse("recipient:share", args=[world["link"].pk])
    pages[url] = client.get(url)
    for url, response in pages.items():
        assert response.status_code == 200, url
        assert RTL_MARKER in response.content.decode(), url
    problems = {url: not_isolated(response.content.decode()) for url, response in pages.items()}
    assert {url: found for url, found in problems.items() if found} == {}


@pytest.mark.parametrize("text", RTL_TEXTS)
def test_names_and_titles_are_isolated_in_the_share_email(
    zoe, free_college_document, django_capture_on_commit_callbacks, text
):
    type(zoe).objects.filter(pk=zoe.pk).update(full_name=text)
    zoe.refresh_from_db()
    Document.objects.filter(pk=free_college_document.pk).update(title=text)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        testing.share_by_email(zoe, [free_college_document], "recipient@example.org", message=text)
    [message] = mail.outbox
    [(html, _)] = message.alternatives
    assert RTL_MARKER in html
    assert not_isolated(html) == []

"""Dates and numbers a learner types into the share pages have a sane range, and a share
whose expiry date is stored at either end of the calendar (before the range was checked, or
by the admin) still renders on every page of both parties. Out-of-range input gets a clear
message and a 4xx, never a 500.

The API list and detail of the same shares: credshare/api/tests/test_date_ranges.py."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from credshare.core import testing
from credshare.core.ranges import check_share_expiry, years_after
from credshare.sharing.forms import ShareExpiryForm
from credshare.sharing.models import Share
from credshare.sharing.services import share_revoke
from credshare.sharing.tests.test_share_window import (
    assert_nothing_shared,
    element_text,
    submission_for,
)

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
LAST_EXPIRY = years_after(TODAY, 2)
HUGE = "99999999999999999999"

# (typed expiry date, the message when refused; None when accepted)
EXPIRY_DATES = [
    ("", None),
    (TODAY.isoformat(), None),
    ((TODAY + DAY).isoformat(), None),
    (LAST_EXPIRY.isoformat(), None),
    ((LAST_EXPIRY + DAY).isoformat(), "can be at most 2 years from today"),
    ((TODAY - DAY).isoformat(), "cannot be in the past"),
    ("9999-12-31", "can be at most 2 years from today"),
    ("0001-01-01", "cannot be in the past"),
    ("10000-01-01", "Enter a valid date."),
    ("2026-02-30", "Enter a valid date."),
]


@pytest.fixture
def zoe_client(client, zoe):
    client.raise_request_exception = False  # a 500 is an answer to assert on, not a crash
    client.force_login(zoe)
    return client


def free_document(zoe, free_college):
    return testing.make_document(zoe, free_college, "Attestation")


CHANNEL_FIELDS = {
    "sharing:with_organization": {
        "recipient": "ecole-imaginaire",
        "field_application_number": "A-1",
    },
    "sharing:by_email": {"recipient_email": "zelda@example.org", "email_language": "en"},
    "sharing:by_link": {},
}


# Typed into the share window (every channel) and the share page's expiry form


@pytest.mark.parametrize("url_name", list(CHANNEL_FIELDS))
@pytest.mark.parametrize(("typed", "refused"), EXPIRY_DATES)
def test_every_share_window_takes_an_expiry_date_only_within_its_range(
    zoe_client, zoe, zoe_transcript, university, ecole, url_name, typed, refused
):
    url = reverse(url_name)
    data = submission_for(zoe_client, url, zoe_transcript, expires_on=typed)

    response = zoe_client.post(url, {**data, **CHANNEL_FIELDS[url_name]})

    if refused is None:
        assert response.status_code == 302
        share = Share.objects.get()
        assert share.expires_on == (datetime.date.fromisoformat(typed) if typed else None)
    else:
        assert response.status_code == 400
        assert refused in element_text(response, element_id="field-expires_on")
        assert_nothing_shared(zoe, university)


def test_the_expiry_fields_tell_the_browser_their_range(zoe_client, zoe_transcript):
    page = zoe_client.get(
        reverse("sharing:by_link"), {"documents": zoe_transcript.pk}
    ).content.decode()

    assert f'min="{TODAY.isoformat()}"' in page
    assert f'max="{LAST_EXPIRY.isoformat()}"' in page


@pytest.mark.parametrize(("typed", "refused"), EXPIRY_DATES)
def test_the_share_pages_expiry_form_takes_a_date_only_within_its_range(
    zoe_client, zoe, zoe_transcript, typed, refused
):
    share, _token = testing.share_by_link(zoe, [zoe_transcript], expires_on=TODAY + 30 * DAY)

    response = zoe_client.post(reverse("sharing:expiry", args=[share.pk]), {"expires_on": typed})

    share.refresh_from_db()
    if refused is None:
        assert response.status_code == 302
        assert share.expires_on == (datetime.date.fromisoformat(typed) if typed else None)
    else:
        assert response.status_code == 400
        assert refused in element_text(response, element_id="field-expires_on")
        assert share.expires_on == TODAY + 30 * DAY


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (TODAY - DAY, "expiry_past"),
        (LAST_EXPIRY + DAY, "expiry_too_far"),
        (datetime.date.max, "expiry_too_far"),
    ],
)
def test_the_share_services_refuse_an_expiry_date_out_of_range_too(zoe, zoe_transcript, day, code):
    from credshare.sharing.services import ShareError, share_expiry_change

    with pytest.raises(ShareError) as refused:
        testing.share_by_link(zoe, [zoe_transcript], expires_on=day)
    assert refused.value.code == code
    share, _token = testing.share_by_link(zoe, [zoe_transcript])
    with pytest.raises(ShareError) as refused:
        share_expiry_change(share=share, expires_on=day)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("typed", "refused"),
    [
        ("2001-02-03", None),
        ("9999-12-31", "Enter a date between"),
        ("0001-01-01", "Enter a date between"),
        ("10000-01-01", "Enter a valid date."),
    ],
)
def test_an_organizations_date_field_takes_only_a_sane_day(
    zoe_client, zoe, zoe_transcript, university, ecole, typed, refused
):
    testing.make_share_field(ecole, "start_date", field_type="date", position=4)
    url = reverse("sharing:with_organization")
    data = submission_for(zoe_client, url, zoe_transcript, field_start_date=typed)

    response = zoe_client.post(url, {**data, **CHANNEL_FIELDS["sharing:with_organization"]})

    if refused is None:
        assert response.status_code == 302
        assert Share.objects.get().field_values["start_date"] == typed
    else:
        assert response.status_code == 400
        assert refused in element_text(response, element_id="field-field_start_date")
        assert_nothing_shared(zoe, university)


@given(st.one_of(st.dates().map(datetime.date.isoformat), st.text(max_size=30)))
def test_the_expiry_form_answers_any_input_with_a_date_in_range_or_an_error(typed):
    form = ShareExpiryForm({"expires_on": typed})

    if form.is_valid():
        check_share_expiry(form.cleaned_data["expires_on"])  # in range, or this raises
    else:
        assert form.errors["expires_on"]


# Numbers: document ids, share ids, page numbers


@pytest.mark.parametrize("url_name", ["sharing:start", *CHANNEL_FIELDS])
@pytest.mark.parametrize("ids", [[HUGE], [str(2**63)], ["TRANSCRIPT", HUGE]])
def test_a_document_id_no_row_can_have_is_a_404_on_every_share_window(
    zoe_client, zoe_transcript, url_name, ids
):
    ids = [str(zoe_transcript.pk) if i == "TRANSCRIPT" else i for i in ids]

    response = zoe_client.get(reverse(url_name), {"documents": ids})

    assert response.status_code == 404


@pytest.mark.parametrize("url_name", list(CHANNEL_FIELDS))
def test_posting_a_document_id_no_row_can_have_says_to_choose_a_document(
    zoe_client, zoe, zoe_transcript, university, ecole, url_name
):
    url = reverse(url_name)
    data = submission_for(zoe_client, url, zoe_transcript, documents=[zoe_transcript.pk, HUGE])

    response = zoe_client.post(url, {**data, **CHANNEL_FIELDS[url_name]})

    assert response.status_code == 400
    assert "Select a valid choice" in element_text(response, css_class="share-documents")
    assert_nothing_shared(zoe, university)


@pytest.mark.parametrize(
    "url",
    [
        f"/shares/{HUGE}/",
        f"/shares/{HUGE}/done/",
        f"/shares/{HUGE}/expiry/",
        f"/shares/{HUGE}/revoke/",
        f"/inbox/shares/{HUGE}/",
    ],
)
def test_a_share_id_no_row_can_have_is_a_404(zoe_client, url):
    method = zoe_client.post if url.endswith(("/expiry/", "/revoke/")) else zoe_client.get

    assert method(url).status_code == 404


@pytest.mark.parametrize("page", [HUGE, "-1", "0", "1e9", str(2**63)])
def test_a_page_number_past_any_list_shows_a_page(zoe_client, zoe, zoe_transcript, page):
    testing.share_by_link(zoe, [zoe_transcript], name="Lien")

    response = zoe_client.get(reverse("sharing:list"), {"page": page})

    assert response.status_code == 200
    assert "Lien" in response.content.decode()


# A share whose expiry date was stored at either end of the calendar


@pytest.fixture(params=[datetime.date.max, datetime.date.max - DAY, datetime.date.min])
def stored_extreme(request, zoe, zoe_transcript, ecole):
    """A share to École Imaginaire whose expiry date was written straight to the database."""
    share = testing.share_with(
        zoe, [zoe_transcript], ecole, name="Extrême", field_values={"application_number": "A-9"}
    )
    Share.objects.filter(pk=share.pk).update(expires_on=request.param)
    share.refresh_from_db()
    return share


@pytest.mark.parametrize("revoked", [False, True], ids=["live", "revoked"])
def test_a_share_stored_with_an_extreme_expiry_renders_on_every_page_of_both_parties(
    client, zoe, camille, stored_extreme, revoked
):
    client.raise_request_exception = False
    if revoked:
        share_revoke(share=stored_extreme)
    share = stored_extreme
    expired = share.expires_on < TODAY
    state = "Revoked" if revoked else "Expired" if expired else "Active"

    client.force_login(zoe)
    for url in [reverse("sharing:list"), reverse("sharing:detail", args=[share.pk])]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Extrême" in response.content.decode(), url
    done = client.get(reverse("sharing:done", args=[share.pk]))
    assert done.status_code == 200
    assert "Ecole Imaginaire" in done.content.decode()
    detail = client.get(reverse("sharing:detail", args=[share.pk]))
    assert state in element_text(detail, element_id="main")
    if not revoked and not expired:
        # The expiry form still works on it: moved back into the range.
        moved = client.post(
            reverse("sharing:expiry", args=[share.pk]), {"expires_on": LAST_EXPIRY.isoformat()}
        )
        assert moved.status_code == 302
        assert client.get(moved.url).status_code == 200

    client.force_login(camille)
    inbox = client.get(reverse("inbox:list"))
    assert inbox.status_code == 200
    assert "A-9" in inbox.content.decode()
    opened = client.get(reverse("inbox:share", args=[share.pk]))
    assert opened.status_code == (200 if state == "Active" else 410)


def test_a_link_share_stored_with_the_calendars_last_day_opens_for_its_recipient(
    zoe, zoe_transcript
):
    share, token = testing.share_by_link(zoe, [zoe_transcript])
    Share.objects.filter(pk=share.pk).update(expires_on=datetime.date.max)
    recipient = Client(raise_request_exception=False)

    opened = recipient.get(reverse("recipient:open", args=[token]))
    page = recipient.get(opened.url)

    assert opened.status_code == 302
    assert page.status_code == 200
    assert "Official transcript" in page.content.decode()

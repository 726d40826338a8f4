"""The database side of test_faults.py, run in a `manage.py shell` on the fault test's own
database (the processes under test use it, not pytest-django's test database): the data the
clients start from (seed), the passes that let the system settle once every process has
stopped (settle), and the invariants, checked with the ORM against what the SMTP server and
the webhook receiver got (report). Each prints one JSON line for the test to read."""

import json
from collections import Counter, defaultdict

from django.db.models import Count, Q, Sum
from django.utils import timezone

ISSUER = "chaos-university"
RECEIVER = "chaos-employer"
LEARNER_EMAIL = "chaos-learner-{}@example.org"
# Bulk rows go to addresses with no account: each gets one invitation, however many rows.
NEWCOMER_EMAIL = "chaos-newcomer-{}@example.org"
BUNDLE_QUANTITY = 2
FIRST_CREDITS = 1


def seed(*, webhook_url: str, learners: int) -> dict:
    from credshare.api.services import api_key_create
    from credshare.core import testing
    from credshare.webhooks.models import Event
    from credshare.webhooks.services import endpoint_create

    university = testing.make_organization(ISSUER, issuer=True)
    testing.set_fee_policy(university, sharing_is_free=False, free_shares=0)
    bundle = testing.make_bundle(university, quantity=BUNDLE_QUANTITY, price_cents=1000)
    employer = testing.make_organization(RECEIVER, receiver=True)
    endpoint_create(organization=employer, url=webhook_url, events=list(Event.values), by=None)
    _key, shares_key = api_key_create(
        organization=employer, name="Chaos reader", scopes=["shares:read"], by=None
    )
    _key, jobs_key = api_key_create(
        organization=university, name="Chaos jobs", scopes=["jobs:run"], by=None
    )
    people = []
    for number in range(learners):
        learner = testing.make_user(LEARNER_EMAIL.format(number), f"Chaos Learner {number}")
        document = testing.make_document(learner, university, f"Transcript {number}")
        testing.give_credits(learner, university, FIRST_CREDITS)
        people.append({"email": learner.email, "document": document.pk})
    return {
        "learners": people,
        "receiver": employer.pk,
        "issuer_slug": university.slug,
        "bundle": bundle.pk,
        "shares_key": shares_key,
        "jobs_key": jobs_key,
    }


def bulk_rows(*, prefix: str, rows: int, newcomers: int) -> str:
    """A JSON Lines bulk file of ROWS transcripts spread over NEWCOMERS new addresses."""
    lines = []
    for number in range(1, rows + 1):
        newcomer = number % newcomers
        lines.append(
            json.dumps(
                {
                    "external_id": f"{prefix}-{number:04}",
                    "student_number": f"C{newcomer:05}",
                    "email": NEWCOMER_EMAIL.format(newcomer),
                    "first_name": "Chaos",
                    "last_name": f"Newcomer {newcomer}",
                    "document_type": "transcript",
                    "title": f"Transcript {prefix} {number}",
                    "issue_date": "2026-06-01",
                    "program": "Fault tolerance",
                    "courses": [["FLT100", "Crashing", "3", "A"]],
                }
            )
        )
    return "\n".join(lines) + "\n"


def settle(*, rounds: int = 6) -> dict:
    """Once every process has stopped: what a killed worker had claimed (an email, a webhook
    delivery) is retried when its claim runs out (15 and 10 minutes); rather than wait, make
    every pending one due now and run the email worker's and the scheduler's passes, until
    nothing is pending or ROUNDS passes were made."""
    from credshare.notifications.models import OutgoingEmail
    from credshare.notifications.services import email_deliver_due
    from credshare.webhooks.models import WebhookDelivery
    from credshare.webhooks.services import deliver_due

    made_due = Counter()
    for _round in range(rounds):
        now = timezone.now()
        emails = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING)
        deliveries = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        if not emails.exists() and not deliveries.exists():
            break
        made_due["emails"] += emails.filter(next_attempt_at__gt=now).update(next_attempt_at=now)
        made_due["webhooks"] += deliveries.filter(next_attempt_at__gt=now).update(
            next_attempt_at=now
        )
        email_deliver_due()
        deliver_due(limit=1000, now=timezone.now())
    return {
        "emails_made_due": made_due["emails"],
        "webhooks_made_due": made_due["webhooks"],
        "emails_pending": OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING).count(),
        "webhooks_pending": WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING
        ).count(),
    }


def report(*, sinks: dict, observed: dict) -> dict:
    """The counts, and every invariant that does not hold (`violations`), from the database,
    what the sinks received (SINKS: `emails` [{message_id, at}], `webhooks` [{event_id,
    delivery, type, at}], `kills` [{kind, at}]) and what the clients saw (OBSERVED)."""
    violations: list[str] = []
    counts: dict = {}
    _ledgers(counts, violations, observed)
    _bulk(counts, violations, observed)
    _emails(counts, violations, sinks)
    _webhooks(counts, violations, sinks)
    _openings(counts, violations, observed)
    return {"counts": counts, "violations": violations}


def _ledgers(counts, violations, observed) -> None:
    from credshare.billing.models import CreditEntry, PaymentEvent, Purchase
    from credshare.sharing.models import Share

    entries = CreditEntry.objects.all()
    # Every ledger (learner, issuer) adds up from its own entries, and never goes below 0.
    for row in entries.values("learner_id", "issuer_id").annotate(balance=Sum("amount")):
        if row["balance"] < 0:
            violations.append(f"ledger {row} is below zero")
    for row in (
        entries.values("learner_id", "issuer_id")
        .annotate(
            granted=Sum("amount", filter=Q(kind=CreditEntry.Kind.GRANT)),
            bought=Sum("amount", filter=Q(kind=CreditEntry.Kind.PURCHASE)),
            spent=Sum("amount", filter=Q(kind=CreditEntry.Kind.SPEND)),
            balance=Sum("amount"),
        )
        .order_by()
    ):
        shares = Share.objects.filter(owner_id=row["learner_id"]).count()
        paid = Purchase.objects.filter(
            learner_id=row["learner_id"],
            issuer_id=row["issuer_id"],
            status=Purchase.Status.PAID,
        ).aggregate(credits=Sum("credits"))["credits"]
        expected = (row["granted"] or 0) + (paid or 0) - shares
        if row["balance"] != expected or -(row["spent"] or 0) != shares:
            violations.append(
                f"ledger of learner {row['learner_id']}: balance {row['balance']}, expected "
                f"{expected} (granted {row['granted']}, paid bundles {paid}, shares {shares}, "
                f"spent {row['spent']})"
            )
    # One credit a share, from its one issuer that charges; none without a share.
    spends = entries.filter(kind=CreditEntry.Kind.SPEND)
    for row in spends.values("share_id").annotate(n=Count("id")).filter(n__gt=1):
        violations.append(f"share {row['share_id']} spent {row['n']} credits")
    unspent = Share.objects.exclude(credit_entries__kind=CreditEntry.Kind.SPEND).count()
    if unspent:
        violations.append(f"{unspent} share(s) spent no credit")
    if spends.filter(share__isnull=True).exists():
        violations.append("a spent credit names no share")
    # A paid bundle adds its credits once; an unpaid one adds none.
    purchases = Purchase.objects.annotate(
        added=Count("credit_entries", filter=Q(credit_entries__kind=CreditEntry.Kind.PURCHASE))
    )
    for purchase in purchases:
        wanted = 1 if purchase.status == Purchase.Status.PAID else 0
        if purchase.added != wanted:
            violations.append(
                f"purchase {purchase.public_id} ({purchase.status}) added credits "
                f"{purchase.added} time(s)"
            )
    for public_id in observed["paid_purchases"]:
        if not Purchase.objects.filter(public_id=public_id, status=Purchase.Status.PAID).exists():
            violations.append(f"purchase {public_id}, paid at the checkout, is not paid")
    for pk in observed["shares_made"]:
        if not Share.objects.filter(pk=pk).exists():
            violations.append(f"share {pk}, shown done to its learner, does not exist")
    statuses = Counter(Purchase.objects.values_list("status", flat=True))
    counts["shares"] = dict(Counter(Share.objects.values_list("channel", flat=True)))
    counts["shares_revoked"] = Share.objects.filter(revoked_at__isnull=False).count()
    counts["purchases"] = dict(statuses)
    counts["payment_events"] = PaymentEvent.objects.count()
    counts["credit_entries"] = dict(Counter(entries.values_list("kind", flat=True)))


def _bulk(counts, violations, observed) -> None:
    from credshare.documents.models import Document, IssuanceJob, IssuanceRow

    jobs = IssuanceJob.objects.all()
    counts["bulk_jobs"] = jobs.count()
    if sorted(str(job.public_id) for job in jobs) != sorted(observed["jobs"]):
        violations.append(
            f"bulk jobs {sorted(str(job.public_id) for job in jobs)}, the API client started "
            f"{sorted(observed['jobs'])} (one per Idempotency-Key)"
        )
    rows = IssuanceRow.objects.filter(job__in=jobs)
    counts["bulk_rows"] = dict(Counter(rows.values_list("status", flat=True)))
    for job in jobs:
        if job.status != IssuanceJob.Status.DONE:
            violations.append(f"bulk job {job.public_id} is {job.status}, not done")
        if job.rows.count() != observed["job_rows"].get(str(job.public_id)):
            violations.append(f"bulk job {job.public_id} has {job.rows.count()} rows")
    not_issued = rows.exclude(status=IssuanceRow.Status.ISSUED).count()
    if not_issued:
        violations.append(f"{not_issued} bulk row(s) not issued")
    documents = Document.objects.filter(issuer__slug=ISSUER).exclude(external_id="")
    for row in documents.values("external_id").annotate(n=Count("id")).filter(n__gt=1):
        violations.append(f"external id {row['external_id']} issued {row['n']} times")
    issued_ids = set(rows.values_list("document_id", flat=True))
    if len(issued_ids) != rows.filter(status=IssuanceRow.Status.ISSUED).count():
        violations.append("two bulk rows name the same document")
    if documents.count() != len(issued_ids - {None}):
        violations.append(
            f"{documents.count()} documents with an external id, {len(issued_ids)} issued rows"
        )
    for document in documents.annotate(versions_n=Count("versions")).filter(versions_n__gt=1):
        violations.append(f"document {document.external_id} has {document.versions_n} versions")
    counts["bulk_documents"] = documents.count()


def _emails(counts, violations, sinks) -> None:
    from credshare.billing.models import Purchase
    from credshare.notifications.models import OutgoingEmail
    from credshare.notifications.services import message_id
    from credshare.sharing.models import Share

    received = defaultdict(list)
    for message in sinks["emails"]:
        received[message["message_id"]].append(message["at"])
    emails = list(OutgoingEmail.objects.all())
    ours = {message_id(email): email for email in emails}
    duplicates = explained = 0
    for email in emails:
        times = sorted(received.get(message_id(email), []))
        if email.status == OutgoingEmail.Status.SENT and not times:
            violations.append(f"email {email.pk} is marked sent but never arrived")
        elif email.status == OutgoingEmail.Status.FAILED:
            violations.append(f"email {email.pk} failed: {email.last_error}")
        elif email.status == OutgoingEmail.Status.PENDING and not times:
            violations.append(f"email {email.pk} is still pending: {email.last_error}")
        if len(times) > 1:
            duplicates += len(times) - 1
            # The one window delivery cannot close (notifications/services.py): the email
            # worker killed after the SMTP server took the message, before it was marked sent.
            if _killed_right_after(sinks["kills"], "emails", times[0]):
                explained += len(times) - 1
            else:
                violations.append(f"email {email.pk} arrived {len(times)} times")
    strangers = set(received) - set(ours)
    if strangers:
        violations.append(f"{len(strangers)} email(s) arrived that the outbox never held")
    # What each email is for, by its (English) subject: one of each kind per cause.
    subjects = Counter()
    for email in emails:
        if email.to.startswith("chaos-newcomer-"):
            # In the language of the job's worker: known by its address, not its subject.
            subjects["invitation"] += 1
            continue
        for kind, start in EMAIL_KINDS.items():
            if email.subject.startswith(start) or start in email.subject:
                subjects[kind] += 1
                break
        else:
            subjects["other"] += 1
    expected = {
        "receipt": Purchase.objects.filter(status=Purchase.Status.PAID).count(),
        "share_received": Share.objects.filter(channel=Share.Channel.EMAIL).count(),
        "first_opened": Share.objects.filter(owner_notified_at__isnull=False).count(),
        "invitation": OutgoingEmail.objects.filter(to__startswith="chaos-newcomer-")
        .values("to")
        .distinct()
        .count(),
    }
    for kind, number in expected.items():
        if subjects[kind] != number:
            violations.append(f"{subjects[kind]} {kind} email(s), expected {number}")
    newcomers = Counter(
        OutgoingEmail.objects.filter(to__startswith="chaos-newcomer-").values_list("to", flat=True)
    )
    for address, number in newcomers.items():
        if number > 1:
            violations.append(f"{address} was invited {number} times")
    counts["emails"] = {
        "outbox": len(emails),
        "by_kind": dict(subjects),
        "arrived": sum(len(times) for times in received.values()),
        "sent_twice": duplicates,
        "sent_twice_in_the_crash_window": explained,
        "statuses": dict(Counter(email.status for email in emails)),
    }


EMAIL_KINDS = {
    "receipt": "Your receipt ",
    "share_received": " shared documents with you on credshare",
    "first_opened": "Your share was opened",
}


def _killed_right_after(kills: list[dict], kind: str, at: float, window: float = 3.0) -> bool:
    return any(kill["kind"] == kind and 0 <= kill["at"] - at <= window for kill in kills)


def _webhooks(counts, violations, sinks) -> None:
    from credshare.sharing.models import Share
    from credshare.webhooks.models import Event, WebhookDelivery

    received = defaultdict(list)
    delivery_events = defaultdict(set)
    for hook in sinks["webhooks"]:
        received[hook["event_id"]].append(hook)
        delivery_events[hook["delivery"]].add(hook["event_id"])
    deliveries = list(WebhookDelivery.objects.all())
    for delivery in deliveries:
        if delivery.status != WebhookDelivery.Status.SUCCEEDED:
            violations.append(f"webhook delivery {delivery.pk} is {delivery.status}")
        if str(delivery.event_id) not in received:
            violations.append(f"webhook event {delivery.event_id} never arrived")
        events = delivery_events.get(str(delivery.public_id), set())
        if events - {str(delivery.event_id)}:
            violations.append(f"webhook delivery {delivery.pk} came with event ids {events}")
    known = {str(delivery.event_id) for delivery in deliveries}
    if set(received) - known:
        violations.append(f"{len(set(received) - known)} webhook event(s) nobody published")
    # One event per change: share.received per organization share, share.revoked per
    # revocation, each published once (one event id).
    by_share = defaultdict(Counter)
    for delivery in deliveries:
        by_share[delivery.payload["data"]["share"]["id"]][delivery.event_type] += 1
    organization_shares = Share.objects.filter(channel=Share.Channel.ORGANIZATION)
    for share in organization_shares:
        events = by_share.get(str(share.public_id), Counter())
        wanted = {Event.SHARE_RECEIVED: 1, Event.SHARE_REVOKED: int(share.revoked_at is not None)}
        for event_type, number in wanted.items():
            if events[event_type] != number:
                violations.append(
                    f"share {share.pk}: {events[event_type]} {event_type} event(s), "
                    f"expected {number}"
                )
    attempts = sum(len(hooks) for hooks in received.values())
    counts["webhooks"] = {
        "events": len(deliveries),
        "by_type": dict(Counter(delivery.event_type for delivery in deliveries)),
        "arrivals": attempts,
        "duplicates": attempts - len(received),
        "attempts_made": sum(delivery.attempts for delivery in deliveries),
    }


def _openings(counts, violations, observed) -> None:
    from credshare.audit.models import AuditEntry, Event
    from credshare.audit.selectors import chain_verify
    from credshare.sharing.models import Share, ShareAccess

    accesses = ShareAccess.objects.filter(action=ShareAccess.Action.OPENED)
    by_share = Counter(accesses.values_list("share_id", flat=True))
    # An audit entry names a share by its public id.
    share_pks = {
        str(public_id): pk for pk, public_id in Share.objects.values_list("pk", "public_id")
    }
    audited = Counter(
        share_pks.get(object_id, object_id)
        for object_id in AuditEntry.objects.filter(
            event=Event.SHARE_OPENED, object_type="share"
        ).values_list("object_id", flat=True)
    )
    if by_share != audited:
        violations.append(f"openings with an access row {by_share}, audited {audited}")
    for share_id, seen in observed["link_openings"].items():
        if by_share[int(share_id)] < seen:
            violations.append(
                f"share {share_id} was opened {seen} time(s), {by_share[int(share_id)]} recorded"
            )
    counts["openings"] = {
        "recorded": sum(by_share.values()),
        "shares_opened": len(by_share),
        "seen_by_link_visitors": sum(observed["link_openings"].values()),
        "by_the_organization": accesses.filter(organization__isnull=False).count(),
    }
    # The audit log's chain still holds, every entry after the one before it.
    verdict = chain_verify()
    if not verdict.intact:
        violations.append(f"the audit chain breaks at {verdict.broken}")
    counts["audit_entries"] = verdict.checked

import datetime

from credshare.notifications.models import OutgoingEmail


def email_ids_due(*, now: datetime.datetime, after_id: int = 0, limit: int = 100) -> list[int]:
    """Ids of pending emails whose next attempt may start at `now`, in id order from after
    `after_id` (so a pass over the outbox visits each email once, even one it cannot claim)."""
    return list(
        OutgoingEmail.objects.filter(
            status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=now, pk__gt=after_id
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )

from django.db import transaction

from credshare.accounts.models import User
from credshare.billing.models import CreditEntry
from credshare.network.models import Organization


@transaction.atomic
def credit_grant(
    *, learner: User, issuer: Organization, amount: int, note: str = ""
) -> CreditEntry:
    """Staff give a learner free share credits for one issuer's documents."""
    if amount < 1:
        raise ValueError("A grant adds at least one credit")
    return CreditEntry.objects.create(
        learner=learner, issuer=issuer, kind=CreditEntry.Kind.GRANT, amount=amount, note=note
    )

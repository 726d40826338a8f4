from credshare.accounts.models import User


def user_with_email(email: str) -> User | None:
    """The account with this address, however it is capitalized. Addresses are stored
    lowercased, so this is an exact match on the unique index (no full scan for UPPER())."""
    return User.objects.filter(email=email.strip().lower()).first()

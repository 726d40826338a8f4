"""Events of the accounts app that higher apps act on (they subscribe in their apps.py).

Both are sent inside the transaction of the change, with the invitation locked: a receiver's
writes commit with it, and an ApplicationError it raises undoes the whole answer."""

from django.dispatch import Signal

# invitation (accounts.Invitation, just accepted), user (who accepted it)
invitation_accepted = Signal()
# invitation (just declined), user (who declined it; None when signed out)
invitation_declined = Signal()

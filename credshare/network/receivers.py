"""What the network app does when an invitation to join an organization is answered
(accounts.signals): the answer and its effect commit together."""

from django.dispatch import receiver

from credshare.accounts.models import Invitation
from credshare.accounts.signals import invitation_accepted, invitation_declined
from credshare.network.services import membership_from_invitation, staff_invitation_declined


@receiver(invitation_accepted, dispatch_uid="credshare_network_invitation_accepted")
def _join_on_acceptance(sender, invitation, user, **kwargs):
    if invitation.purpose == Invitation.Purpose.JOIN_ORGANIZATION:
        membership_from_invitation(invitation=invitation, user=user)


@receiver(invitation_declined, dispatch_uid="credshare_network_invitation_declined")
def _record_a_refusal(sender, invitation, user, **kwargs):
    if invitation.purpose == Invitation.Purpose.JOIN_ORGANIZATION:
        staff_invitation_declined(invitation=invitation, user=user)

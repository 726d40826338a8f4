from django.contrib import admin

from credshare.billing.models import CreditEntry, FeePolicy


@admin.register(FeePolicy)
class FeePolicyAdmin(admin.ModelAdmin):
    list_display = ["issuer", "sharing_is_free", "currency"]


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger is append-only; staff add credits through grants."""

    list_display = ["created", "learner", "issuer", "kind", "amount", "share"]
    list_filter = ["kind", "issuer"]
    list_select_related = ["learner", "issuer", "share"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

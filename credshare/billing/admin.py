from django.contrib import admin

from credshare.billing.models import CreditEntry, FeePolicy, Purchase, ShareBundle


@admin.register(FeePolicy)
class FeePolicyAdmin(admin.ModelAdmin):
    list_display = [
        "issuer",
        "sharing_is_free",
        "free_shares",
        "collection_fee_cents",
        "currency",
        "tax_rate_basis_points",
    ]
    list_select_related = ["issuer"]


@admin.register(ShareBundle)
class ShareBundleAdmin(admin.ModelAdmin):
    """Bundles belong to the organization (not to its fee policy), so they have their own
    list rather than an inline. Not deleted: purchases point at them; stop offering instead."""

    list_display = ["issuer", "quantity", "price_cents", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "issuer"]
    list_select_related = ["issuer"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(admin.ModelAdmin):
    """Read-only: a purchase changes only through payment events."""

    list_display = [
        "created",
        "receipt_number",
        "learner",
        "issuer",
        "kind",
        "total_cents",
        "currency",
        "status",
    ]
    list_filter = ["status", "kind", "provider", "issuer"]
    list_select_related = ["learner", "issuer"]
    search_fields = ["learner__email", "provider_session_id", "public_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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

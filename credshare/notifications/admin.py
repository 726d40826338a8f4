from django.contrib import admin

from credshare.notifications.models import OutgoingEmail


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """Read-only: the outbox is written by the services. The bodies are never shown: they may
    hold a share's secret link or access code."""

    list_display = ["to", "subject", "status", "attempts", "created", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to"]
    date_hierarchy = "created"
    fields = [
        "to",
        "subject",
        "language",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "created",
        "sent_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

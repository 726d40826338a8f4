from django.contrib import admin

from credshare.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Platform admins read the log; no one adds, changes or deletes an entry here (and the
    database would refuse the last two anyway)."""

    list_display = (
        "sequence",
        "at",
        "event",
        "actor_kind",
        "actor_label",
        "object_type",
        "object_id",
        "ip",
    )
    list_filter = ("event", "actor_kind", "object_type")
    search_fields = ("=object_id", "actor_label", "=ip", "=request_id")
    date_hierarchy = "at"
    list_select_related = ("actor_user",)
    ordering = ("-sequence",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

from django.contrib import admin

from credshare.sharing.models import Share, ShareAccess


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin):
    list_display = ["pk", "owner", "channel", "recipient_organization", "created", "expires_on"]
    list_filter = ["channel"]
    list_select_related = ["owner", "recipient_organization"]
    raw_id_fields = ["owner", "documents"]
    # The name and purpose are the learner's private notes.
    exclude = ["name", "purpose"]


@admin.register(ShareAccess)
class ShareAccessAdmin(admin.ModelAdmin):
    list_display = ["at", "share", "action", "organization", "user"]
    list_select_related = ["share", "organization", "user"]

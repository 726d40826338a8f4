from django.contrib import admin

from credshare.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class _ReadOnly(admin.ModelAdmin):
    """Written by the services (organizations manage their endpoints themselves)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(_ReadOnly):
    # The secret is not shown: the organization's admins see it in their own pages.
    list_display = ["url", "organization", "is_active", "created"]
    list_filter = ["is_active"]
    search_fields = ["url", "organization__slug"]
    fields = ["organization", "url", "events", "description", "is_active", "created_by"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["number", "started_at", "duration_ms", "status_code", "error", "response_body"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(_ReadOnly):
    list_display = ["event_type", "endpoint", "status", "attempts", "created", "delivered_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["endpoint__url", "endpoint__organization__slug"]
    date_hierarchy = "created"
    fields = [
        "endpoint",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "created",
        "delivered_at",
        "payload",
    ]
    inlines = [WebhookAttemptInline]

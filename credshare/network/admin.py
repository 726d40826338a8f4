from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from credshare.core.errors import ApplicationError
from credshare.network.models import Membership, Organization, ShareField
from credshare.network.services import organization_names_check, organizations_approve


class ShareFieldInline(admin.TabularInline):
    model = ShareField
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


class OrganizationAdminForm(forms.ModelForm):
    """The admin's organization form: its names go through the same rule as an
    organization's own profile page (services.organization_names_check). Its model and
    fields are the ModelAdmin's."""

    def clean(self):
        data = super().clean()
        if "name_en" in data and "name_fr" in data:
            try:
                organization_names_check(
                    name_en=data["name_en"], name_fr=data["name_fr"], organization=self.instance
                )
            except ApplicationError as error:
                self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


class ApprovalFilter(admin.SimpleListFilter):
    title = _("approved by the platform")
    parameter_name = "approved"

    def lookups(self, request, model_admin):
        return [("yes", _("Approved")), ("no", _("Waiting for approval"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(approved_at=None)
        if self.value() == "no":
            return queryset.filter(approved_at=None)
        return queryset


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = [
        "name_en",
        "name_fr",
        "is_issuer",
        "is_receiver",
        "listed_in_directory",
        "approved_at",
    ]
    list_filter = [ApprovalFilter, "is_issuer", "is_receiver", "listed_in_directory"]
    search_fields = ["name_en", "name_fr", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [ShareFieldInline, MembershipInline]
    actions = ["approve"]

    @admin.action(description=_("Approve the selected organizations (they enter the directory)"))
    def approve(self, request, queryset):
        count = organizations_approve(organizations=queryset, by=request.user)
        self.message_user(
            request,
            ngettext("%(count)d organization approved.", "%(count)d organizations approved.", count)
            % {"count": count},
            messages.SUCCESS,
        )

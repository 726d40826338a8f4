from django.contrib import admin

from credshare.network.models import Membership, Organization, ShareField


class ShareFieldInline(admin.TabularInline):
    model = ShareField
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name_en", "name_fr", "is_issuer", "is_receiver", "listed_in_directory"]
    list_filter = ["is_issuer", "is_receiver", "listed_in_directory"]
    search_fields = ["name_en", "name_fr", "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [ShareFieldInline, MembershipInline]

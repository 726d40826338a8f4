from django.contrib import admin

from credshare.documents.models import Document, DocumentVersion


class VersionInline(admin.TabularInline):
    model = DocumentVersion
    extra = 0
    readonly_fields = ["number", "file", "sha256", "size", "created"]
    can_delete = False


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "issuer", "learner", "document_type", "issue_date", "status"]
    list_filter = ["document_type", "status", "issuer"]
    search_fields = ["title", "learner__email", "learner__full_name"]
    list_select_related = ["issuer", "learner"]
    raw_id_fields = ["learner"]
    inlines = [VersionInline]

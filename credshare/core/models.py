from django.conf import settings
from django.db import models


class FormSubmission(models.Model):
    """A form posted with a one-time token (`credshare.core.submissions`): the action it asked
    for was done once, and a second post of the same form (a double click, a reload, two tabs)
    is sent to the result instead of doing it again. Kept a day (`ops.cleanup`)."""

    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    result_url = models.CharField(max_length=500, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return str(self.token)

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """One email in the outbox: rendered when queued, sent later (with retries) by
    services.email_deliver. The row is written in the transaction of whatever caused the
    email, so the email exists exactly when that change does, whatever SMTP is doing."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    to = models.EmailField(_("recipient"))
    subject = models.CharField(_("subject"), max_length=255)
    text_body = models.TextField(_("text version"))
    html_body = models.TextField(_("HTML version"), blank=True)
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # While pending: when the next attempt may start (also pushed forward while an attempt
    # runs, so no other worker starts one).
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # The latest failure, without the SMTP password: the admin shows it.
    last_error = models.CharField(_("last error"), max_length=200, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

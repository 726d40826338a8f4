from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "credshare.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from credshare.audit import receivers

        user_logged_in.connect(receivers.signed_in, dispatch_uid="audit_signed_in")
        user_login_failed.connect(receivers.sign_in_failed, dispatch_uid="audit_sign_in_failed")
        # Two-factor methods exist only with allauth's MFA app; importing its signals without
        # the app installed would load its settings and adapter for nothing.
        if apps.is_installed("allauth.mfa"):
            from allauth.mfa import signals as mfa_signals

            for signal, receiver in (
                (mfa_signals.authenticator_added, receivers.mfa_added),
                (mfa_signals.authenticator_removed, receivers.mfa_removed),
                (mfa_signals.authenticator_reset, receivers.mfa_reset),
                (mfa_signals.authentication_failed, receivers.mfa_failed),
            ):
                signal.connect(receiver, dispatch_uid=f"audit_{receiver.__name__}")

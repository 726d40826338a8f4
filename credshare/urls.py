from allauth.account import views as allauth_views
from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from credshare.api.api import api
from credshare.core import views as core_views

# The admin signs in through the same page as everyone (lockout, MFA), not its own form.
admin.site.login = secure_admin_login(admin.site.login)
urlpatterns = [
    path("", core_views.home, name="home"),
    path("help/", core_views.help_page, name="help"),
    path("terms/", core_views.terms, name="terms"),
    path("privacy/", core_views.privacy, name="privacy"),
    path("language/", core_views.language_switch, name="language_switch"),
    # Sign-in is allauth's, at /accounts/login/; "login" names it too (LOGIN_URL, templates).
    path("accounts/login/", allauth_views.login, name="login"),
    path("accounts/", include("credshare.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("documents/", include("credshare.documents.urls")),
    path("shares/", include("credshare.sharing.urls")),
    path("inbox/", include("credshare.inbox.urls")),
    path("billing/", include("credshare.billing.urls")),
    path("payments/", include("credshare.billing.provider_urls")),
    path("issuer/", include("credshare.billing.issuer_urls")),
    path("issuer/", include("credshare.documents.issuer_urls")),
    path("s/", include("credshare.sharing.recipient_urls")),
    path("api/v1/", api.urls),
    path("org/", include("credshare.network.urls")),
    path("org/", include("credshare.audit.urls")),
    path("", include("credshare.verification.urls")),
    path("", include("credshare.credentials.urls")),
    path("account/privacy/", include("credshare.accounts.privacy_urls")),
    path("admin/", admin.site.urls),
    path("", include("credshare.ops.urls")),
]

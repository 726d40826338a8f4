from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from credshare.accounts.views import LoginView
from credshare.api.api import api
from credshare.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("help/", core_views.help_page, name="help"),
    path("terms/", core_views.terms, name="terms"),
    path("privacy/", core_views.privacy, name="privacy"),
    path("language/", core_views.language_switch, name="language_switch"),
    path("login/", LoginView.as_view(), name="login"),
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
    path("", include("credshare.verification.urls")),
    path("", include("credshare.credentials.urls")),
    path("account/privacy/", include("credshare.accounts.privacy_urls")),
    path("admin/", admin.site.urls),
    path("", include("credshare.ops.urls")),
]

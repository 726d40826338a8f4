from django.urls import path

from credshare.billing import provider_views

app_name = "payments"

urlpatterns = [
    path("sandbox/<uuid:public_id>/", provider_views.sandbox_checkout, name="sandbox"),
    path("webhooks/stripe/", provider_views.stripe_webhook, name="stripe_webhook"),
]

from django.urls import path

from credshare.billing import issuer_views as views

app_name = "issuer_billing"
urlpatterns = [
    path("<slug:slug>/billing/", views.billing_settings, name="settings"),
    path("<slug:slug>/billing/bundles/", views.bundle_add, name="bundle_add"),
    path("<slug:slug>/billing/bundles/<int:pk>/active/", views.bundle_active, name="bundle_active"),
    path("<slug:slug>/payments/", views.payments, name="payments"),
    path("<slug:slug>/payments/<int:pk>/refund/", views.purchase_refund, name="refund"),
    path("<slug:slug>/credits/grant/", views.credit_grant, name="grant"),
]

from django.urls import path

from credshare.billing import views

app_name = "billing"
urlpatterns = [
    path("shares/<slug:issuer_slug>/", views.buy_shares, name="buy_shares"),
    path("documents/<int:pk>/pay/", views.pay_collection, name="pay_collection"),
    path("purchases/<uuid:public_id>/", views.purchase_detail, name="purchase"),
    path("payments/", views.payments, name="payments"),
    path("receipts/<uuid:public_id>/", views.receipt, name="receipt"),
    path("receipts/<uuid:public_id>/pdf/", views.receipt_pdf, name="receipt_pdf"),
]

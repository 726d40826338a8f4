"""Forms of the issuer staff's billing pages. Amounts are typed in dollars and cents (or a
percentage) and come out as integer cents (or basis points)."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from credshare.billing import services
from credshare.billing.models import FeePolicy
from credshare.core.submissions import OneTimeFormMixin
from credshare.core.text import CleanTextFormMixin

SHARING_FREE = "free"
SHARING_PAID = "paid"


def cents_of(amount: Decimal) -> int:
    """Dollars and cents (at most two decimals, checked by the field) as integer cents."""
    return int(amount * 100)


def amount_of(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


class DecimalCommaField(forms.DecimalField):
    """A decimal number typed with a point or, as French writes it, a comma ("5,5")."""

    widget = forms.TextInput

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


class MoneyField(DecimalCommaField):
    """An amount in dollars and cents: no negatives, at most two decimals, a maximum."""

    def __init__(self, *, max_cents: int, min_cents: int = 0, **kwargs):
        super().__init__(
            max_digits=12,
            decimal_places=2,
            min_value=amount_of(min_cents),
            max_value=amount_of(max_cents),
            **kwargs,
        )
        self.widget.attrs.update({"inputmode": "decimal", "step": "0.01"})


class FeePolicyForm(forms.Form):
    sharing = forms.ChoiceField(
        label=_("Sharing your documents"),
        choices=[
            (SHARING_FREE, _("Free and unlimited")),
            (SHARING_PAID, _("A number of free shares per learner, then paid shares")),
        ],
        widget=forms.RadioSelect,
    )
    free_shares = forms.IntegerField(
        label=_("Free shares per learner"),
        min_value=0,
        max_value=services.MAX_FREE_SHARES,
        initial=0,
        help_text=_("With paid shares: each learner's first shares of your documents are free."),
    )
    collection_fee = MoneyField(
        label=_("Collection fee"),
        max_cents=services.MAX_COLLECTION_FEE_CENTS,
        initial=Decimal("0.00"),
        help_text=_(
            "In dollars and cents, for example 15.00. When above 0, a document's contents and "
            "sharing stay locked until the learner pays it."
        ),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[(code, code) for code in services.CURRENCIES],
        initial="CAD",
    )
    tax_rate = DecimalCommaField(
        label=_("Tax rate (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal(services.MAX_TAX_RATE_BASIS_POINTS) / 100,
        initial=Decimal("0"),
        help_text=_("A percentage with up to 2 decimals, for example 13 or 5.5."),
    )

    @classmethod
    def for_policy(cls, policy: FeePolicy, **kwargs) -> "FeePolicyForm":
        initial = {
            "sharing": SHARING_FREE if policy.sharing_is_free else SHARING_PAID,
            "free_shares": policy.free_shares,
            "collection_fee": amount_of(policy.collection_fee_cents),
            "currency": policy.currency,
            "tax_rate": amount_of(policy.tax_rate_basis_points),
        }
        return cls(initial=initial, **kwargs)

    def clean_free_shares(self) -> int:
        return self.cleaned_data.get("free_shares") or 0

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {
            "sharing_is_free": data["sharing"] == SHARING_FREE,
            "free_shares": data["free_shares"],
            "collection_fee_cents": cents_of(data["collection_fee"]),
            "currency": data["currency"],
            "tax_rate_basis_points": int(data["tax_rate"] * 100),
        }


class BundleForm(forms.Form):
    prefix = "bundle"

    quantity = forms.IntegerField(
        label=_("Number of shares"), min_value=1, max_value=services.MAX_BUNDLE_QUANTITY
    )
    price = MoneyField(
        label=_("Price"),
        min_cents=1,
        max_cents=services.MAX_BUNDLE_PRICE_CENTS,
        help_text=_("In dollars and cents, before tax, in the currency of your fee policy."),
    )

    def service_values(self) -> dict:
        return {
            "quantity": self.cleaned_data["quantity"],
            "price_cents": cents_of(self.cleaned_data["price"]),
        }


class GrantForm(CleanTextFormMixin, OneTimeFormMixin):
    email = forms.EmailField(
        label=_("Learner's email address"),
        max_length=254,
        help_text=_("The address the learner signs in with."),
    )
    shares = forms.IntegerField(label=_("Number of shares"), min_value=1, max_value=100)
    note = forms.CharField(
        label=_("Note"),
        max_length=300,
        required=False,
        help_text=_("Why these shares are given; kept in the learner's ledger."),
    )

"""The public verification forms: a PDF, or a credential (a .json file or pasted text).

A form is valid once its input has been verified: `form.verdict` then holds the result. Input
that cannot be verified at all (not a PDF, not JSON, not a credential, too large) is a field
error with the verifier's own translated message."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from credshare.verification.credential import verify_credential
from credshare.verification.pdf import verify_pdf
from credshare.verification.verdicts import VerificationInputError


def _input_error(error: VerificationInputError) -> forms.ValidationError:
    return forms.ValidationError(error.message, code=error.code)


class PdfVerifyForm(forms.Form):
    file = forms.FileField(
        label=_("PDF document"),
        help_text=_(
            "The signed PDF you received from a learner or an institution. We check its "
            "signature and compare it with the documents issued through credshare."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )

    verdict = None

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refused before reading it into memory.
        if upload.size > settings.CREDSHARE_MAX_VERIFY_BYTES:
            raise forms.ValidationError(
                _("The file is too large to be one of our documents."), code="too_large"
            )
        try:
            self.verdict = verify_pdf(upload.read())
        except VerificationInputError as error:
            raise _input_error(error) from None
        return upload


class DocumentCopyForm(PdfVerifyForm):
    """The same check on the page of one document, where the question is "is my copy this
    document?"."""

    file = forms.FileField(
        label=_("Check a copy of this document"),
        help_text=_("Choose the PDF you received: we compare it with the versions we issued."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )


class CredentialVerifyForm(forms.Form):
    file = forms.FileField(
        label=_("Credential file"),
        required=False,
        help_text=_("A Verifiable Credential saved as a .json file."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".json,.jsonld,application/json,application/ld+json"}
        ),
    )
    text = forms.CharField(
        label=_("Or paste the credential"),
        required=False,
        help_text=_('The credential\'s JSON, from "{" to "}".'),
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
    )

    verdict = None

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        text = cleaned.get("text")
        if self.errors:
            return cleaned
        if upload and text:
            raise forms.ValidationError(
                _("Choose a credential file or paste a credential, not both."), code="both"
            )
        if not upload and not text:
            raise forms.ValidationError(
                _("Choose a credential file or paste a credential."), code="required"
            )
        if upload:
            field = "file"
            if upload.size > settings.CREDSHARE_MAX_CREDENTIAL_BYTES:
                self.add_error(
                    field,
                    forms.ValidationError(
                        _("The credential is too large to be one of ours."), code="too_large"
                    ),
                )
                return cleaned
            data = upload.read()
        else:
            field, data = "text", text
        try:
            self.verdict = verify_credential(data)
        except VerificationInputError as error:
            self.add_error(field, _input_error(error))
        return cleaned

"""Prepare document signing: the network's CA and each issuer's signing key.

    manage.py signing_setup
        Embedded default (idempotent): creates the demo CA in CREDSHARE_KEY_DIR if it is
        missing, and a key with a certificate from that CA for every issuer without one.

    manage.py signing_setup --issuer SLUG --import-key KEY.pem --import-cert CERT.pem \
            [--import-ca CA.pem]
        Production: make an externally issued key and certificate the issuer's active signing
        key (the key is copied into the key store, 0600); --import-ca installs the network
        CA's certificate, embedded in every signature's chain.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from credshare.documents import signing
from credshare.network.models import Organization


class Command(BaseCommand):
    help = "Create or import the document signing CA and issuer keys (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--issuer", help="slug of the issuer whose key is imported")
        parser.add_argument("--import-key", type=Path, help="the issuer's private key (PEM)")
        parser.add_argument("--import-cert", type=Path, help="the issuer's certificate (PEM)")
        parser.add_argument("--import-ca", type=Path, help="the network CA's certificate (PEM)")

    def handle(self, *args, issuer=None, import_key=None, import_cert=None, import_ca=None, **o):
        if import_ca:
            signing.import_ca_certificate(import_ca.read_bytes())
            self.stdout.write(f"CA certificate installed in {signing.key_dir()}")
        if import_key or import_cert:
            if not (issuer and import_key and import_cert):
                raise CommandError("--import-key needs --import-cert and --issuer")
            try:
                organization = Organization.objects.get(slug=issuer, is_issuer=True)
            except Organization.DoesNotExist as error:
                raise CommandError(f"No issuer {issuer!r}") from error
            try:
                key = signing.import_issuer_key(
                    organization,
                    key_pem=import_key.read_bytes(),
                    certificate_pem=import_cert.read_bytes(),
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"{organization.slug}: imported key {key.key_name}")
            return
        ca = signing.ensure_ca()
        self.stdout.write(f"CA: {ca.certificate.subject.rfc4514_string()} in {signing.key_dir()}")
        for organization in Organization.objects.filter(is_issuer=True).order_by("slug"):
            key = signing.ensure_issuer_key(organization)
            self.stdout.write(f"{organization.slug}: {key.key_name}")

"""PAdES signatures on every issued PDF.

Each issuer signs with its own key (ECDSA P-256) under an X.509 certificate issued by the
network's CA; the certificate is kept in `IssuerKey.certificate_pem`, the private key in the
server's key store, named by `IssuerKey.key_name`. It never enters the database.

The embedded default (demo, tests, small installations): the key store is a directory,
`settings.CREDSHARE_KEY_DIR` (default `var/keys`, files 0600). On first use, or through
`manage.py signing_setup` (idempotent), it holds a demo CA (`ca-key.pem`, `ca.pem`, ten years)
and one key file per issuer key, `issuers/<slug>-<n>.pem`, whose certificate the demo CA
issues.

Production: the network's real CA issues the issuers' certificates outside credshare and the
keys are imported with `manage.py signing_setup --issuer SLUG --import-key KEY.pem
--import-cert CERT.pem [--import-ca CA.pem]`; the CA's private key never needs to be on the
server, only its certificate (`ca.pem`), which is embedded in every signature's chain. Keys held
in an HSM would go through pyHanko's PKCS#11 signer (`pyhanko.sign.pkcs11`); that path is not
built here.

Signing cost: pyHanko's `SimpleSigner` re-parses the private key for every signature; the
signer below keeps the loaded key, and signers are cached per key in this process.
"""

import asyncio
import concurrent.futures
import datetime
import fcntl
import io
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.db import transaction
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import init_xobject_dictionary
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.stamp import QRStamp, QRStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from credshare.documents.models import IssuerKey

CA_KEY_FILE = "ca-key.pem"
CA_CERT_FILE = "ca.pem"
ISSUERS_DIR = "issuers"
FIELD_NAME = "CredshareSignature"
CA_YEARS = 10
ISSUER_CERT_YEARS = 5
# Room for the CMS signature (the file holds it hex-encoded, twice the size): an ECDSA P-256
# signature with the issuer's and the CA's certificates takes about 1.3 KB; a timestamp token
# adds the TSA's signature and certificates.
BYTES_RESERVED = 3 * 1024
BYTES_RESERVED_TIMESTAMP = 12 * 1024
# The stamp, in PDF points: its size, and its margins from the first page's lower-right corner.
STAMP_SIZE = (252, 72)
STAMP_MARGINS = (30, 24)


def key_dir() -> Path:
    return Path(getattr(settings, "CREDSHARE_KEY_DIR", Path(settings.VAR_DIR) / "keys"))


def verification_url(document) -> str:
    return f"{settings.CREDSHARE_BASE_URL.rstrip('/')}/verify/{document.public_id}/"


# ---------------------------------------------------------------------------------------------
# The key store (embedded default: a directory)


def _write_private(path: Path, data: bytes) -> None:
    """Write DATA to PATH readable by the owner only, failing if it already exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@contextmanager
def _store_lock(directory: Path):
    """Serialize key-store changes between processes (web workers, job workers)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ski(public_key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _make_ca() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "credshare"),
            x509.NameAttribute(NameOID.COMMON_NAME, "credshare demo document CA"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | None  # None when only the CA's certificate was imported

    @property
    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


_ca_cache: dict[str, CertificateAuthority] = {}
_signer_cache: dict[tuple[str, str, str], signers.Signer] = {}
_cache_lock = threading.Lock()


def ensure_ca() -> CertificateAuthority:
    """The network's CA: loaded from the key store, or created there (embedded default)."""
    directory = key_dir()
    cached = _ca_cache.get(str(directory))
    if cached is not None:
        return cached
    key_path, cert_path = directory / CA_KEY_FILE, directory / CA_CERT_FILE
    with _store_lock(directory):
        if not cert_path.exists():
            key, certificate = _make_ca()
            _write_private(key_path, _pem_key(key))
            _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = None
    if key_path.exists():
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    ca = CertificateAuthority(certificate=certificate, key=key)
    _ca_cache[str(directory)] = ca
    return ca


def _issue_certificate(ca: CertificateAuthority, public_key, issuer_name: str) -> x509.Certificate:
    if ca.key is None:
        raise RuntimeError(
            "The CA's private key is not in the key store: import the issuer's key and "
            "certificate with `manage.py signing_setup --import-key … --import-cert …`."
        )
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer_name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{issuer_name[:45]} document signing"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * ISSUER_CERT_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )


def _issuer_display_name(issuer) -> str:
    return issuer.name_fr or issuer.name_en or issuer.slug


def _new_key_file(issuer, private_key_pem: bytes) -> str:
    """Store a new issuer key as issuers/<slug>-<n>.pem (never overwriting) and return its
    name."""
    directory = key_dir() / ISSUERS_DIR
    n = issuer.signing_keys.count() + 1
    while True:
        name = f"{issuer.slug}-{n}.pem"
        try:
            _write_private(directory / name, private_key_pem)
        except FileExistsError:
            n += 1
            continue
        return name


def _activate(issuer, certificate_pem: str, key_name: str) -> IssuerKey:
    with transaction.atomic():
        IssuerKey.objects.filter(issuer=issuer, is_active=True).update(is_active=False)
        return IssuerKey.objects.create(
            issuer=issuer, certificate_pem=certificate_pem, key_name=key_name, is_active=True
        )


def ensure_issuer_key(issuer) -> IssuerKey:
    """ISSUER's active signing key, created (key, certificate from the demo CA) if it has none."""
    existing = IssuerKey.objects.filter(issuer=issuer, is_active=True).first()
    if existing is not None:
        return existing
    ca = ensure_ca()
    with transaction.atomic():
        # Two requests issuing the first document of an issuer at once: one creates the key.
        type(issuer).objects.select_for_update(no_key=True).only("pk").get(pk=issuer.pk)
        existing = IssuerKey.objects.filter(issuer=issuer, is_active=True).first()
        if existing is not None:
            return existing
        private_key = ec.generate_private_key(ec.SECP256R1())
        certificate = _issue_certificate(ca, private_key.public_key(), _issuer_display_name(issuer))
        key_name = _new_key_file(issuer, _pem_key(private_key))
        return _activate(
            issuer, certificate.public_bytes(serialization.Encoding.PEM).decode(), key_name
        )


def import_issuer_key(issuer, *, key_pem: bytes, certificate_pem: bytes) -> IssuerKey:
    """Production: make an externally issued key and certificate ISSUER's active key."""
    private_key = serialization.load_pem_private_key(key_pem, password=None)
    certificate = x509.load_pem_x509_certificate(certificate_pem)
    if certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise ValueError("The certificate is not the key's")
    key_name = _new_key_file(issuer, _pem_key(private_key))
    return _activate(issuer, certificate_pem.decode(), key_name)


def import_ca_certificate(certificate_pem: bytes) -> None:
    """Production: the network CA's certificate (its key stays off the server)."""
    x509.load_pem_x509_certificate(certificate_pem)
    directory = key_dir()
    with _store_lock(directory):
        path = directory / CA_CERT_FILE
        path.unlink(missing_ok=True)
        _write_private(path, certificate_pem)
    _ca_cache.pop(str(directory), None)


# ---------------------------------------------------------------------------------------------
# Signing


class _LoadedKeySigner(signers.SimpleSigner):
    """A SimpleSigner that keeps its private key parsed between signatures."""

    def __init__(self, *, private_key, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            return self._private_key.sign(data, ec.ECDSA(hash_algorithm))
        return super().sign_raw(data, digest_algorithm)


def _signer_for(issuer_key: IssuerKey) -> signers.Signer:
    cache_key = (str(key_dir()), issuer_key.key_name, issuer_key.certificate_pem)
    signer = _signer_cache.get(cache_key)
    if signer is not None:
        return signer
    with _cache_lock:
        ca = ensure_ca()
        key_pem = (key_dir() / ISSUERS_DIR / issuer_key.key_name).read_bytes()
        private_key = serialization.load_pem_private_key(key_pem, password=None)
        der_key = private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        certificate = x509.load_pem_x509_certificate(issuer_key.certificate_pem.encode())
        signer = _LoadedKeySigner(
            private_key=private_key,
            signing_cert=asn1_x509.Certificate.load(
                certificate.public_bytes(serialization.Encoding.DER)
            ),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs(
                [
                    asn1_x509.Certificate.load(
                        ca.certificate.public_bytes(serialization.Encoding.DER)
                    )
                ]
            ),
            embed_roots=True,
        )
        _signer_cache[cache_key] = signer
    return signer


class _SegnoQRStamp(QRStamp):
    """pyHanko's QR stamp, its code drawn from segno (already a dependency) instead of the
    qrcode package: one filled rectangle per run of dark modules."""

    def _qr_xobject(self):
        import segno

        # A fixed mask: readers accept any of the eight, and scoring all of them to pick the
        # "best" costs about three quarters of the code's generation time.
        qr = segno.make_qr(self.url, error="m", mask=0)
        border = 2
        size = qr.symbol_size(border=border)[0]
        commands = [b"0 g"]
        for row_index, row in enumerate(qr.matrix):
            y = size - border - row_index - 1
            column = 0
            while column < len(row):
                if row[column] & 1:
                    start = column
                    while column < len(row) and row[column] & 1:
                        column += 1
                    commands.append(b"%d %d %d 1 re" % (start + border, y, column - start))
                else:
                    column += 1
        commands.append(b"f")
        xobject = init_xobject_dictionary(b"\n".join(commands), size, size)
        xobject.compress()
        return self.writer.add_object(xobject), size


@dataclass(frozen=True)
class _SegnoQRStampStyle(QRStampStyle):
    def create_stamp(self, writer, box: layout.BoxConstraints, text_params: dict):
        url = text_params.pop("url")
        return _SegnoQRStamp(writer, style=self, url=url, text_params=text_params, box=box)


_STAMP_STYLE = _SegnoQRStampStyle(
    # Bilingual on purpose, as the documents themselves: not translated per viewer.
    stamp_text="Signé par / Signed by\n%(issuer)s\n%(public_id)s",
    text_box_style=TextBoxStyle(font_size=7, leading=9),
    border_width=1,
    innsep=2,
    qr_inner_size=60,
)


def _pdf_safe(text: str) -> str:
    # The stamp's standard font covers Latin-1 only; anything else shows as "?".
    return text.encode("latin-1", "replace").decode("latin-1")


def _stamp_box(writer) -> tuple[float, float, float, float]:
    """The stamp's box in the lower-right corner of the first page, whatever its size."""
    try:
        page = writer.find_page_for_modification(0)[0].get_object()
        left, bottom, right, _top = (float(v) for v in page["/MediaBox"])
    except (KeyError, TypeError, ValueError, IndexError):
        left, bottom, right = 0.0, 0.0, 612.0
    width, height = STAMP_SIZE
    x2 = right - STAMP_MARGINS[0]
    x1 = max(left, x2 - width)
    y1 = bottom + STAMP_MARGINS[1]
    return (x1, y1, x2, y1 + height)


def _timestamper():
    url = getattr(settings, "CREDSHARE_TSA_URL", "")
    return timestamps.HTTPTimeStamper(url, timeout=10) if url else None


def _free_field_name(writer) -> str:
    """FIELD_NAME, or FIELD_NAME-2, -3, ... when the file already holds filled credshare
    fields (one of our documents uploaded again, as a new version or elsewhere). Filling the
    same field again is impossible; a new field beside it keeps the earlier signature intact."""
    taken = {name for name, value, _ref in fields.enumerate_sig_fields(writer) if value}
    name, number = FIELD_NAME, 1
    while name in taken:
        number += 1
        name = f"{FIELD_NAME}-{number}"
    return name


def sign_pdf(*, pdf: bytes, document, issuer) -> bytes:
    """PDF signed by ISSUER (PAdES B-B, or B-T with a timestamp authority), with a visible
    stamp on the first page: the issuer, the document's public id and a QR code of its
    verification URL. Returns the signed file's bytes.

    An uploaded file that is already signed (an institution's own signature, or one of our
    documents) is signed as an incremental update: its bytes, and so every earlier signature,
    stay as they were, and ours covers the whole file after them."""
    signer = _signer_for(ensure_issuer_key(issuer))
    timestamper = _timestamper()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    field_name = _free_field_name(writer)
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(
            field_name=field_name,
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason="Document officiel / Official document",
        ),
        signer=signer,
        timestamper=timestamper,
        stamp_style=_STAMP_STYLE,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=field_name, on_page=0, box=_stamp_box(writer)
        ),
    )
    output = io.BytesIO()

    def sign() -> bytes:
        pdf_signer.sign_pdf(
            writer,
            output=output,
            appearance_text_params={
                "url": verification_url(document),
                "issuer": _pdf_safe(_issuer_display_name(issuer)),
                "public_id": str(document.public_id),
            },
            bytes_reserved=BYTES_RESERVED_TIMESTAMP if timestamper else BYTES_RESERVED,
        )
        return output.getvalue()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return sign()
    # pyHanko's synchronous API runs its own event loop, which cannot start inside a running
    # one (an async caller, a test driving a browser): sign in a short-lived thread. The
    # database work above stays in the caller's thread.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(sign).result()


def clear_caches() -> None:
    """Forget loaded CAs and signers (tests that switch key stores)."""
    _ca_cache.clear()
    _signer_cache.clear()

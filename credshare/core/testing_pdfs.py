"""Hostile PDFs for tests and benchmarks, built in code (no binary file is committed).

Each builder makes a small file that costs a naive reader far more than its size: time,
memory, or both. `HOSTILE_PDFS` names one of each class the upload checks and the verifier
must refuse as too complex; `hostile_pdf(name)` builds one (cached: some take a second to
compress). Not used by the product itself.
"""

import functools
import zlib
from collections.abc import Callable

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def pdf_with_xref_table(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF whose objects 1, 2, ... are OBJECTS, with a classic cross-reference table."""
    out = bytearray(HEADER)
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def _deflate_repeated(chunk: bytes, times: int) -> bytes:
    """zlib(CHUNK * TIMES) without holding CHUNK * TIMES in memory."""
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(chunk) for _ in range(times)]
    parts.append(compressor.flush())
    return b"".join(parts)


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def xref_stream_bomb(entries: int = 5_000_000, *, predictor: bool = False) -> bytes:
    """A cross-reference stream claiming ENTRIES entries (/Size), almost all free (zeros, which
    compress 1,000 to 1): a reader walks every one of them. With PREDICTOR, the rows also go
    through a PNG predictor, a Python loop per byte in pyHanko."""
    body = [CATALOG, PAGES, PAGE]
    out = bytearray(HEADER)
    offsets = []
    for number, obj in enumerate(body, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref_offset = len(out)
    width = 7  # /W [1 4 2]
    rows = [b"\x00" * width] + [b"\x01" + o.to_bytes(4, "big") + b"\x00\x00" for o in offsets]
    rows.append(b"\x01" + xref_offset.to_bytes(4, "big") + b"\x00\x00")
    params = b""
    if predictor:
        rows = [b"\x00" + row for row in rows]  # PNG "None" filter on every row
        params = b"/DecodeParms << /Predictor 12 /Columns %d >>" % width
    zero_row = b"\x00" * (width + (1 if predictor else 0))
    head = b"".join(rows)
    remaining = entries - len(rows)
    compressor = zlib.compressobj(9)
    data = compressor.compress(head)
    block = zero_row * 100_000
    while remaining > 0:
        count = min(remaining, 100_000)
        data += compressor.compress(block if count == 100_000 else zero_row * count)
        remaining -= count
    data += compressor.flush()
    dictionary = b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode %s" % (
        entries,
        params,
    )
    out += b"%d 0 obj\n%s\nendobj\n" % (len(body) + 1, _stream(dictionary, data))
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def object_stream_bomb(megabytes: int = 300, *, filters: int = 1) -> bytes:
    """An object stream holding the page, whose data inflates to MEGABYTES of spaces after
    the object. With FILTERS > 1, the data is deflated that many times over
    (/Filter [/FlateDecode /FlateDecode ...]): each layer multiplies the ratio."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"
    header = b"3 0 "
    first = len(header)
    compressor = zlib.compressobj(9)
    data = compressor.compress(header + page)
    megabyte = b" " * (1024 * 1024)
    for _ in range(megabytes):
        data += compressor.compress(megabyte)
    data += compressor.flush()
    for _ in range(filters - 1):
        data = zlib.compress(data, 9)
    names = b" ".join([b"/FlateDecode"] * filters)
    object_stream = _stream(b"/Type /ObjStm /N 1 /First %d /Filter [%s]" % (first, names), data)

    out = bytearray(HEADER)
    offsets = []
    for number, obj in enumerate([CATALOG, PAGES], start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    offsets.append(len(out))
    out += b"4 0 obj\n%s\nendobj\n" % object_stream
    xref_offset = len(out)
    rows = [
        b"\x00\x00\x00\x00\x00\xff\xff",
        b"\x01" + offsets[0].to_bytes(4, "big") + b"\x00\x00",
        b"\x01" + offsets[1].to_bytes(4, "big") + b"\x00\x00",
        b"\x02" + (4).to_bytes(4, "big") + b"\x00\x00",  # object 3: first in stream 4
        b"\x01" + offsets[2].to_bytes(4, "big") + b"\x00\x00",
        b"\x01" + xref_offset.to_bytes(4, "big") + b"\x00\x00",
    ]
    xref_data = zlib.compress(b"".join(rows))
    xref = _stream(b"/Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode", xref_data)
    out += b"5 0 obj\n%s\nendobj\nstartxref\n%d\n%%%%EOF\n" % (xref, xref_offset)
    return bytes(out)


def deep_nesting(depth: int = 200_000, *, kind: bytes = b"array") -> bytes:
    """A catalog holding a value nested DEPTH levels deep (arrays, or dictionaries): a
    recursive reader runs out of stack."""
    nested = {
        b"array": b"[" * depth + b"]" * depth,
        b"dictionary": b"<< /A " * depth + b">> " * depth,
    }[kind]
    catalog = b"<< /Type /Catalog /Pages 2 0 R /Nested %s >>" % nested
    return pdf_with_xref_table([catalog, PAGES, PAGE])


def page_tree_dag(levels: int = 40) -> bytes:
    """A page tree whose every node lists its one child twice: LEVELS objects, 2**LEVELS
    pages for a reader that walks the tree."""
    first_node = 2
    objects = [b"<< /Type /Catalog /Pages %d 0 R >>" % first_node]
    for level in range(levels):
        number = first_node + level
        child = number + 1
        objects.append(
            b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count %d >>"
            % (child, child, 2 ** (levels - level))
        )
    page = first_node + levels
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 200 200] >>" % (page - 1))
    return pdf_with_xref_table(objects)


def wide_page_tree(pages: int = 400_000) -> bytes:
    """One page tree node listing PAGES pages (all the same page object): a few megabytes."""
    kids = b" ".join([b"3 0 R"] * pages)
    return pdf_with_xref_table(
        [CATALOG, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages), PAGE]
    )


def many_updates(updates: int = 20_000) -> bytes:
    """A one-page PDF followed by UPDATES incremental updates, each rewriting the catalog:
    a reader walks every cross-reference section."""
    out = bytearray(pdf_with_xref_table([CATALOG, PAGES, PAGE]))
    previous = int(out.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    for _ in range(updates):
        offset = len(out)
        out += b"1 0 obj\n%s\nendobj\n" % CATALOG
        xref = len(out)
        out += b"xref\n1 1\n%010d 00000 n \n" % offset
        out += b"trailer\n<< /Size 4 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (
            previous,
            xref,
        )
        previous = xref
    return bytes(out)


def many_objects(count: int = 600_000) -> bytes:
    """COUNT real objects (small integers), each in the cross-reference table: a few megabytes
    of plain objects."""
    return pdf_with_xref_table([CATALOG, PAGES, PAGE] + [b"0"] * count)


HOSTILE_PDFS: dict[str, Callable[[], bytes]] = {
    "xref_stream_bomb": xref_stream_bomb,
    "xref_stream_predictor": functools.partial(xref_stream_bomb, 2_000_000, predictor=True),
    "object_stream_bomb": object_stream_bomb,
    "filter_chain_bomb": functools.partial(object_stream_bomb, 128, filters=3),
    "deep_nested_arrays": deep_nesting,
    "deep_nested_dictionaries": functools.partial(deep_nesting, kind=b"dictionary"),
    "page_tree_dag": page_tree_dag,
    "wide_page_tree": wide_page_tree,
    "many_incremental_updates": many_updates,
    "many_objects": functools.partial(many_objects, 200_000),
}


@functools.cache
def hostile_pdf(name: str) -> bytes:
    return HOSTILE_PDFS[name]()


def ordinary_pdf(pages: int = 12) -> bytes:
    """An ordinary multi-page PDF as an office program makes one: text on every page, an
    outline, and a link the reader may click (a /Link annotation with a /URI action)."""
    import io

    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    document = canvas.Canvas(out, pagesize=LETTER)
    document.setTitle("An ordinary report")
    for number in range(1, pages + 1):
        document.bookmarkPage(f"page-{number}")
        document.addOutlineEntry(f"Page {number}", f"page-{number}")
        document.setFont("Helvetica", 12)
        for line in range(40):
            document.drawString(72, 720 - line * 16, f"Page {number}, line {line + 1}: text.")
        if number == 1:
            document.drawString(72, 60, "https://www.example.org/programs")
            document.linkURL("https://www.example.org/programs", (72, 56, 300, 72), relative=0)
        document.showPage()
    document.save()
    return out.getvalue()


def institution_signed_pdf(pdf: bytes | None = None, *, certify_no_changes: bool = False):
    """PDF (an ordinary one by default) signed by an institution's own certificate (made
    here, self-signed, field "InstitutionSignature"), as a registrar's office signs its
    transcripts before uploading them. With CERTIFY_NO_CHANGES, a certification signature
    allowing no change at all (DocMDP /P 1). Returns (the signed bytes, the certificate)."""
    import datetime
    import io

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Registrar of an institution")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    der_certificate = asn1_x509.Certificate.load(
        certificate.public_bytes(serialization.Encoding.DER)
    )
    signer = signers.SimpleSigner(
        signing_cert=der_certificate,
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore(),
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf if pdf is not None else ordinary_pdf(2)))
    metadata = signers.PdfSignatureMetadata(field_name="InstitutionSignature")
    if certify_no_changes:
        metadata = signers.PdfSignatureMetadata(
            field_name="InstitutionSignature",
            certify=True,
            docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        )
    signed = signers.sign_pdf(
        writer,
        metadata,
        signer=signer,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name="InstitutionSignature", on_page=0, box=(36, 36, 180, 72)
        ),
    )
    return signed.getvalue(), der_certificate

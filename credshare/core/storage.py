"""Where documents live, and how their bytes reach the people allowed to read them.

Documents (issued PDFs, bulk job inputs) are stored in Django's default storage: files under
MEDIA_ROOT in the embedded demo (CREDSHARE_STORAGE=filesystem), an S3-compatible bucket in
production (CREDSHARE_STORAGE=s3, configured in credshare/settings.py: private objects,
server-side encryption, no overwrites, under a key prefix).

Serving: the app streams every PDF itself (`FileResponse(version.file.open("rb"))` in
credshare/documents/views.py, the inbox and the share pages), on S3 as on the filesystem.
We chose this over redirecting to short-lived signed URLs because:

- every read goes through the same checks as the page that links to it: who is asking, the
  share's expiry and revocation, a locked fee; and every read of a shared document is written
  to the access log, which the learner sees;
- a signed URL is a bearer token that works for anyone who holds it until it expires, however
  short that is: it outlives a share revoked in the meantime, and leaks through browser
  history, proxies and referrers, out of the access log's sight;
- the bucket never has to be reachable by users, only by the web processes.

The cost is web-process bandwidth: the PDFs are small (a few hundred kilobytes at most), and
FileResponse streams them in blocks without holding a whole file in memory.

`signed_download_url` makes a short-lived presigned URL for code that may later hand large
files straight from the bucket (exports, say) once the caller has done its own checks.
"""

from django.db.models.fields.files import FieldFile


def signed_download_url(file_field: FieldFile, *, seconds: int) -> str | None:
    """A presigned GET URL for this file, valid for `seconds`; None when the file's storage
    cannot sign URLs (the filesystem storage of the demo), where the app must serve it.

    The URL lets anyone who holds it read the file until it expires: check access first."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    # Imported here: the filesystem demo never loads boto3.
    from storages.backends.s3 import S3Storage

    # isinstance sees through default_storage's lazy proxy.
    storage = file_field.storage
    if not isinstance(storage, S3Storage) or not storage.querystring_auth:
        return None
    return storage.url(file_field.name, expire=seconds)

"""Settings for credshare, driven by environment variables.

Every setting that changes between the demo, CI and production is read from the
environment (see the README's table). The defaults give the embedded demo: SQLite in
./var, media in ./var/media, mail printed to the console.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CREDSHARE_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    """Read a setting from NAME, or from the file named by NAME_FILE (for secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text().strip()
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    return env(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def database_from_url(url: str) -> dict:
    """Turn DATABASE_URL (sqlite:///path or postgres://user@host:port/name) into Django's dict."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:]) if parsed.path.startswith("/") else parsed.path
        if not path:
            VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or str(VAR_DIR / "credshare.sqlite3"),
            "OPTIONS": {
                # Writers take the lock when the transaction starts, so a read-then-write
                # (balance check, then spend) cannot interleave with another writer.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
        # Parameters bound on the server, and a statement run five times on a connection
        # prepared: PostgreSQL parses and plans it once (bench/load.py, opening a share:
        # 1.8 -> 1.1 ms of PostgreSQL CPU a request; binding alone, unprepared, costs more).
        # Off behind a pooler in transaction mode that does not track prepared statements
        # (PgBouncer before 1.21): the next transaction may get another server connection.
        if env_bool("CREDSHARE_DB_PREPARED_STATEMENTS", default=True):
            options.setdefault("server_side_binding", True)
            options.setdefault("prepare_threshold", 5)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": int(env("CREDSHARE_DB_CONN_MAX_AGE", "60")),
            "OPTIONS": options,
        }
    raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme!r}")


# "demo" (the default: `make run`, the tests) or "production": the production profile turns
# DEBUG off, refuses the demo secret key, and sets the security block below (docs/deploy.md).
CREDSHARE_PROFILE = env("CREDSHARE_PROFILE", "demo")
if CREDSHARE_PROFILE not in {"demo", "production"}:
    raise ImproperlyConfigured(
        f"CREDSHARE_PROFILE must be demo or production, not {CREDSHARE_PROFILE!r}"
    )
PRODUCTION = CREDSHARE_PROFILE == "production"
DEBUG = env_bool("CREDSHARE_DEBUG") and not PRODUCTION
# The default key only serves the local demo and tests; production must set its own.
DEMO_SECRET_KEY = "insecure-demo-key-set-CREDSHARE_SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env("CREDSHARE_SECRET_KEY", DEMO_SECRET_KEY)
if PRODUCTION and SECRET_KEY in {"", DEMO_SECRET_KEY}:
    raise ImproperlyConfigured(
        "CREDSHARE_PROFILE=production needs CREDSHARE_SECRET_KEY (or CREDSHARE_SECRET_KEY_FILE): "
        "a long random value of its own, not the demo key."
    )
ALLOWED_HOSTS = [h for h in env("CREDSHARE_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in env("CREDSHARE_CSRF_TRUSTED_ORIGINS").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "credshare.core",
    "credshare.notifications",
    "credshare.accounts",
    "credshare.network",
    "credshare.documents",
    "credshare.billing",
    "credshare.sharing",
    "credshare.inbox",
    "credshare.verification",
    "credshare.credentials",
    "credshare.api",
    "credshare.webhooks",
    "credshare.ops",
    "credshare.audit",
    "ninja",
    # Accounts (credshare/accounts): sign-up, email addresses, password reset, MFA.
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # allauth.mfa's WebAuthn pages load the humanize template tags.
    "django.contrib.humanize",
]

MIDDLEWARE = [
    # First: every response, even one another middleware answers, gets its id and is counted.
    "credshare.ops.middleware.RequestIdMiddleware",
    "credshare.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy (credshare.core.security).
    "credshare.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "credshare.core.middleware.CsrfViewMiddlewareForNoReferrerPages",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Makes the request known to the audit log (its IP, its user or API key).
    "credshare.audit.middleware.AuditRequestMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "credshare.accounts.middleware.StaffSessionLimitsMiddleware",
    "credshare.accounts.middleware.StaffMfaRequiredMiddleware",
    "credshare.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "credshare.urls"
WSGI_APPLICATION = "credshare.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "credshare" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "credshare.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///"))}
# PostgreSQL's client programs for `manage.py backup` and `restore` (docs/backup.md): a bin
# directory; empty, the commands find the server's version themselves.
CREDSHARE_PG_BIN = env("CREDSHARE_PG_BIN")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Sign-in, sign-up, email addresses, password reset and MFA are django-allauth's
# (credshare/accounts/adapter.py adapts it): only its backend, so every sign-in, the admin's
# included (urls.py), goes through its flow, the lockout and the MFA step.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
ACCOUNT_ADAPTER = "credshare.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "credshare.accounts.forms.LoginForm",
    "signup": "credshare.accounts.forms.SignupForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_MAX_EMAIL_ADDRESSES = 5
# Known and unknown addresses get the same pages and messages (sign-in, sign-up, reset).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# A notice to the account's address when its password, addresses or authenticators change.
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Password and second-factor guesses are throttled by account and source (credshare/accounts/
# throttle.py), atomically in the database, so that concurrent guesses cannot slip through and
# an attacker cannot slow the owner's own browsers (their device cookie). allauth's cache
# counter of failures stays per client address, a softer second line.
ACCOUNT_RATE_LIMITS = {"login_failed": "30/m/ip"}
# Free failures per account and source (a client address, a browser the account signed in
# from before) and per account for second-factor codes; then each attempt waits 30 s, doubling
# up to the ceiling.
CREDSHARE_SIGN_IN_FREE_FAILURES = int(env("CREDSHARE_SIGN_IN_FREE_FAILURES", "5"))
# Free failures per account from every browser it does not know, whatever the address.
CREDSHARE_SIGN_IN_UNKNOWN_BROWSER_FREE_FAILURES = int(
    env("CREDSHARE_SIGN_IN_UNKNOWN_BROWSER_FREE_FAILURES", "20")
)
CREDSHARE_SIGN_IN_MAX_DELAY_MINUTES = int(env("CREDSHARE_SIGN_IN_MAX_DELAY_MINUTES", "15"))
# Second-factor codes go through our forms, which take the account's throttle slot first.
MFA_FORMS = {
    "authenticate": "credshare.accounts.forms.MfaAuthenticateForm",
    "reauthenticate": "credshare.accounts.forms.MfaReauthenticateForm",
}
# Sessions of accounts with power (platform staff, organization members): they end after this
# long without a request and this long after their sign-in, and "Remember me" does not keep
# them past the browser's closing (credshare/accounts/staff_sessions.py). Learners' sessions
# keep Django's rules: two weeks when remembered, else until the browser closes.
CREDSHARE_STAFF_SESSION_IDLE_MINUTES = int(env("CREDSHARE_STAFF_SESSION_IDLE_MINUTES", "30"))
CREDSHARE_STAFF_SESSION_MAX_HOURS = int(env("CREDSHARE_STAFF_SESSION_MAX_HOURS", "12"))
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "credshare"
MFA_PASSKEY_LOGIN_ENABLED = False
# allauth otherwise refuses to add an address to an account with MFA; a learner with MFA must
# still be able to add a personal address. A new address does nothing until it is verified.
MFA_ALLOW_UNVERIFIED_EMAIL = True
# WebAuthn wants HTTPS; the demo serves plain HTTP on loopback.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "credshare" / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_I18N = True
USE_TZ = True
# Expiry dates are calendar dates: a share works until the end of its expiry date here.
TIME_ZONE = env("CREDSHARE_TIME_ZONE", "America/Toronto")

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(env("CREDSHARE_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def s3_storage_options() -> dict:
    """django-storages' S3Storage options from the CREDSHARE_S3_* variables.

    Objects are private and encrypted at rest; the app streams them to users (see
    credshare/core/storage.py), so signed URLs are only for credshare.core.storage's helper.
    """
    sse = env("CREDSHARE_S3_SSE", "AES256")
    if sse not in {"AES256", "aws:kms"}:
        raise ImproperlyConfigured("CREDSHARE_S3_SSE must be AES256 or aws:kms")
    object_parameters = {"ServerSideEncryption": sse}
    kms_key_id = env("CREDSHARE_S3_KMS_KEY_ID")
    if sse == "aws:kms" and kms_key_id:
        # Without a key id, S3 uses the account's AWS-managed key for S3.
        object_parameters["SSEKMSKeyId"] = kms_key_id
    bucket = env("CREDSHARE_S3_BUCKET")
    if not bucket:
        raise ImproperlyConfigured("CREDSHARE_STORAGE=s3 needs CREDSHARE_S3_BUCKET")
    return {
        "bucket_name": bucket,
        # Empty values fall back to boto3's own lookup (AWS_* variables, an instance role).
        "endpoint_url": env("CREDSHARE_S3_ENDPOINT_URL") or None,
        "region_name": env("CREDSHARE_S3_REGION") or None,
        "access_key": env("CREDSHARE_S3_ACCESS_KEY_ID") or None,
        "secret_key": env("CREDSHARE_S3_SECRET_ACCESS_KEY") or None,
        "location": env("CREDSHARE_S3_LOCATION", "credshare"),
        # Documents are personal data: no object is ever publicly readable. A bucket whose
        # ACLs are disabled (S3 Object Ownership "bucket owner enforced") takes "private" too.
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": int(env("CREDSHARE_S3_URL_SECONDS", "60")),
        "signature_version": "s3v4",
        # Names are random already (documents/models.py); never replace an issued PDF.
        "file_overwrite": False,
        "object_parameters": object_parameters,
        # Reading an object buffers it whole (S3File); past this many bytes, in a temporary
        # file rather than the web process's memory (bulk job archives reach 25 MB).
        "max_memory_size": 2 * 1024 * 1024,
    }


# Documents (issued PDFs, bulk job inputs): "filesystem" keeps them under MEDIA_ROOT (the
# demo); "s3" in an S3-compatible bucket (credshare/core/storage.py says how they are served).
# Static files stay with whitenoise either way.
CREDSHARE_STORAGE = env("CREDSHARE_STORAGE", "filesystem")
if CREDSHARE_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": s3_storage_options(),
    }
elif CREDSHARE_STORAGE != "filesystem":
    raise ImproperlyConfigured("CREDSHARE_STORAGE must be filesystem or s3")

EMAIL_BACKEND = env("CREDSHARE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("CREDSHARE_FROM_EMAIL", "credshare <no-reply@credshare.localhost>")
# SMTP, when CREDSHARE_EMAIL_BACKEND is django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = env("CREDSHARE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(env("CREDSHARE_EMAIL_PORT", "25"))
EMAIL_HOST_USER = env("CREDSHARE_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("CREDSHARE_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("CREDSHARE_EMAIL_USE_TLS")
# Seconds for each step of an SMTP conversation; an unreachable server fails the attempt and
# the outbox retries later (credshare.notifications).
EMAIL_TIMEOUT = int(env("CREDSHARE_EMAIL_TIMEOUT", "10"))
# "inline": the request that queued an email tries to send it right after its transaction
# commits (the demo and tests need no worker); "worker": only `manage.py deliver_emails --loop`
# sends, so a slow or unreachable SMTP server never holds up a request.
CREDSHARE_EMAIL_DELIVERY = env("CREDSHARE_EMAIL_DELIVERY", "worker" if PRODUCTION else "inline")
# Retries wait 1, 2, 4 ... minutes, then an hour each: 30 attempts span about a day.
CREDSHARE_EMAIL_MAX_ATTEMPTS = int(env("CREDSHARE_EMAIL_MAX_ATTEMPTS", "30"))
# An email share's access codes: new codes a recipient may ask for a share in 24 hours (each
# allows 5 tries), and wrong codes in total before the share's code entry locks until its
# learner unlocks it: 10 codes x 5 tries would otherwise be 50 guesses a day, forever.
CREDSHARE_ACCESS_CODES_PER_DAY = int(env("CREDSHARE_ACCESS_CODES_PER_DAY", "10"))
CREDSHARE_ACCESS_CODE_MAX_FAILURES = int(env("CREDSHARE_ACCESS_CODE_MAX_FAILURES", "20"))
# Emails a learner makes credshare send to addresses of their choosing: shares by email (with
# their own message) and the access codes of all their shares, per hour and per day.
CREDSHARE_EMAIL_SHARES_PER_HOUR = int(env("CREDSHARE_EMAIL_SHARES_PER_HOUR", "10"))
CREDSHARE_EMAIL_SHARES_PER_DAY = int(env("CREDSHARE_EMAIL_SHARES_PER_DAY", "30"))
CREDSHARE_CODE_EMAILS_PER_HOUR = int(env("CREDSHARE_CODE_EMAILS_PER_HOUR", "30"))
CREDSHARE_CODE_EMAILS_PER_DAY = int(env("CREDSHARE_CODE_EMAILS_PER_DAY", "100"))

# Security headers and cookies. The demo serves plain HTTP on loopback; the production profile
# (`manage.py check --deploy` passes with it) assumes HTTPS end to end or at a proxy.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No page may be framed by another site; the one page that frames its own PDF allows its
# origin on the PDF view only (xframe_options_sameorigin on documents.views.document_file).
X_FRAME_OPTIONS = "DENY"
# check --deploy looks for CsrfViewMiddleware by name; ours is a subclass of it (MIDDLEWARE,
# credshare.core.middleware), which test_deploy_profile asserts.
SILENCED_SYSTEM_CHECKS = ["security.W003"]
SESSION_COOKIE_SECURE = PRODUCTION or env_bool("CREDSHARE_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    # The container health check, the load balancer's probes and Prometheus speak plain HTTP on the
    # private network: never redirect them.
    SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
    # Behind a proxy that terminates TLS and sets X-Forwarded-Proto (and strips any the client
    # sent): trust that header, or every request looks like HTTP and is redirected forever.
    if env_bool("CREDSHARE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Sessions in Redis, written through to the database: any web process serves any session,
    # and a Redis restart signs no one out.
    if env("CREDSHARE_CACHE_URL"):
        SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# How many proxies of ours stand in front of the web processes, each appending the address it
# got the request from to X-Forwarded-For: the client's address is the entry that many from
# the right (credshare/core/client_address.py). 0: REMOTE_ADDR, X-Forwarded-For ignored.
CREDSHARE_TRUSTED_PROXY_COUNT = int(env("CREDSHARE_TRUSTED_PROXY_COUNT", "0"))
if CREDSHARE_TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("CREDSHARE_TRUSTED_PROXY_COUNT must be 0 or more")

# The address recipients reach credshare at: links in emails are built on it.
CREDSHARE_BASE_URL = env("CREDSHARE_BASE_URL", "http://127.0.0.1:8000")

# An uploaded copy larger than this cannot be one of our documents.
CREDSHARE_MAX_VERIFY_BYTES = int(env("CREDSHARE_MAX_VERIFY_BYTES", str(20 * 1024 * 1024)))
# A pasted or uploaded credential (JSON); ours are a few kilobytes.
CREDSHARE_MAX_CREDENTIAL_BYTES = int(env("CREDSHARE_MAX_CREDENTIAL_BYTES", str(256 * 1024)))

# Document signatures (credshare/documents/signing.py): the key store of the embedded default,
# holding the CA and the issuers' private keys (files 0600, never in git); a timestamp
# authority's URL makes the signatures PAdES B-T instead of B-B.
CREDSHARE_KEY_DIR = Path(env("CREDSHARE_KEY_DIR", str(VAR_DIR / "keys")))
CREDSHARE_TSA_URL = env("CREDSHARE_TSA_URL")
# Issuers' uploaded PDFs larger than this are refused (credshare/documents/pdf_checks.py).
CREDSHARE_MAX_UPLOAD_BYTES = int(env("CREDSHARE_MAX_UPLOAD_BYTES", str(10 * 1024 * 1024)))
# The REST API (credshare/api): requests a minute per API key, counted in a fixed one-minute
# window in the default cache (below); request bodies at most CREDSHARE_API_MAX_BODY_BYTES
# (multipart bulk uploads) and JSON bodies at most CREDSHARE_API_MAX_JSON_BYTES, except those
# that carry a PDF in base64, which may be as large as a PDF of CREDSHARE_MAX_UPLOAD_BYTES.
CREDSHARE_API_RATE_LIMIT = int(env("CREDSHARE_API_RATE_LIMIT", "600"))
# Requests with a wrong API key a minute per client address; past it, that address gets none
# checked (429) until the next minute.
CREDSHARE_API_FAILED_KEY_LIMIT = int(env("CREDSHARE_API_FAILED_KEY_LIMIT", "60"))
CREDSHARE_API_MAX_BODY_BYTES = int(env("CREDSHARE_API_MAX_BODY_BYTES", str(25 * 1024 * 1024)))
CREDSHARE_API_MAX_JSON_BYTES = int(env("CREDSHARE_API_MAX_JSON_BYTES", str(1024 * 1024)))
# The default cache: this process's memory in the embedded default; in production a Redis URL
# (redis://127.0.0.1:6379/1), so that every web process counts a key's requests together.
CREDSHARE_CACHE_URL = env("CREDSHARE_CACHE_URL")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CREDSHARE_CACHE_URL,
    }
    if CREDSHARE_CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
# Bulk issuance jobs (credshare/documents/bulk.py): "inline" runs each job in a thread of the
# process that queued it (the embedded default); "celery" hands it to the Celery workers;
# "none" starts nothing (tests).
CREDSHARE_TASKS = env("CREDSHARE_TASKS", "celery" if PRODUCTION else "inline")
# Celery (credshare/celery.py, credshare/documents/tasks.py), used when CREDSHARE_TASKS is
# "celery"; start workers with `celery -A credshare worker --concurrency 2`. A task is
# acknowledged only once it has run, so a task whose worker dies is run again: at once when a
# pool process dies, after the visibility timeout (seconds) when the whole worker dies. The
# tasks are idempotent (rows are issued once on (issuer, external id)).
CELERY_BROKER_URL = env("CREDSHARE_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(env("CREDSHARE_CELERY_VISIBILITY_TIMEOUT", "600"))
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Celery beat (`celery -A credshare beat`), when CREDSHARE_TASKS is "celery": webhook retries
# that are due, and share.expired announcements (credshare/webhooks/tasks.py). Without Celery,
# `manage.py deliver_webhooks --loop` does both.
CELERY_BEAT_SCHEDULE = {
    "webhooks-deliver-due": {
        "task": "credshare.webhooks.tasks.deliver_due_webhooks",
        "schedule": 30.0,
    },
    "webhooks-announce-expired-shares": {
        "task": "credshare.webhooks.tasks.announce_expired_shares",
        "schedule": 300.0,
    },
    # Bulk jobs whose first task was lost (the process that queued them died before sending
    # it): started again (credshare/documents/bulk.py, STALLED_AFTER).
    "bulk-start-stalled-jobs": {
        "task": "credshare.documents.tasks.start_stalled_issuance_jobs",
        "schedule": 300.0,
    },
    # Expired idempotency records, finished sign-in throttles, expired sessions.
    "clean-up": {"task": "credshare.ops.clean_up", "schedule": 3600.0},
}

# Webhooks (credshare/webhooks): seconds each network step of a delivery may take (connect,
# send, each read); and whether endpoints may be plain-HTTP loopback URLs (127.0.0.1,
# localhost), for local development only: never on in production, where only public HTTPS
# URLs are accepted.
CREDSHARE_WEBHOOK_TIMEOUT = float(env("CREDSHARE_WEBHOOK_TIMEOUT", "5"))
CREDSHARE_WEBHOOK_ALLOW_LOOPBACK = env_bool("CREDSHARE_WEBHOOK_ALLOW_LOOPBACK")

# Where learners and organizations are sent with questions (seed step 13).
SUPPORT_EMAIL = env("CREDSHARE_SUPPORT_EMAIL", "support@credshare.localhost")

# Payments (credshare/billing/providers.py): "sandbox", a checkout page of our own for the demo
# and tests, or "stripe" (Stripe Checkout; its webhook is /payments/webhooks/stripe/).
CREDSHARE_PAYMENT_PROVIDER = env("CREDSHARE_PAYMENT_PROVIDER", "sandbox")
CREDSHARE_STRIPE_SECRET_KEY = env("CREDSHARE_STRIPE_SECRET_KEY")
CREDSHARE_STRIPE_WEBHOOK_SECRET = env("CREDSHARE_STRIPE_WEBHOOK_SECRET")
# Where Stripe Checkout's pages are (a custom domain, if the account has one): the page
# policy's form-action allows it, with the Stripe provider only (credshare.core.security).
CREDSHARE_STRIPE_CHECKOUT_ORIGIN = env(
    "CREDSHARE_STRIPE_CHECKOUT_ORIGIN", "https://checkout.stripe.com"
)
# Seconds: a webhook whose signed timestamp is older is refused (a replay).
CREDSHARE_STRIPE_WEBHOOK_TOLERANCE = int(env("CREDSHARE_STRIPE_WEBHOOK_TOLERANCE", "300"))

# "text" (the demo) or "json": one JSON object a line with the request id, for a log collector
# (credshare/ops/logging.py).
CREDSHARE_LOG_LEVEL = env("CREDSHARE_LOG_LEVEL", "WARNING")
CREDSHARE_LOG_FORMAT = env("CREDSHARE_LOG_FORMAT", "text")
_json_logs = {"formatter": "json"} if CREDSHARE_LOG_FORMAT == "json" else {}
# /metrics (Prometheus): with a token, only for `Authorization: Bearer <token>`; without one,
# only for clients on loopback. Behind a reverse proxy on the same machine every client looks
# like loopback: set a token there.
CREDSHARE_METRICS_TOKEN = env("CREDSHARE_METRICS_TOKEN")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django logs the paths of failed requests (and runserver every request line): share,
    # invitation, email confirmation and password reset links hold their secret in the path,
    # rewritten to <redacted> before any handler (credshare/core/redaction.py).
    "filters": {
        "redact_secrets": {"()": "credshare.core.redaction.RedactSecrets"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
        "json": {"()": "credshare.ops.logging.JsonFormatter"},
    },
    "handlers": {
        # The filter here too: records from any logger may carry a secret link's path.
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            **_json_logs,
        },
        # Django's error reports by email (to ADMINS, when set), their subject redacted here
        # and their body by DEFAULT_EXCEPTION_REPORTER.
        "mail_admins": {
            "level": "ERROR",
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "redact_secrets"],
        },
        # As Django's default, which configuring the django.server logger below replaces.
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            **_json_logs,
        },
    },
    "root": {"handlers": ["console"], "level": CREDSHARE_LOG_LEVEL},
    "loggers": {
        # Django's default handlers for "django" (a console of its own, unfiltered, in debug
        # mode; mail_admins) replaced: its records reach the root's filtered console.
        "django": {"handlers": ["mail_admins"], "level": "INFO" if DEBUG else CREDSHARE_LOG_LEVEL},
        "django.request": {"filters": ["redact_secrets"]},
        "django.security.csrf": {"filters": ["redact_secrets"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_secrets"],
        },
        # pyHanko logs a warning with a traceback for every signature it cannot validate; on
        # the public verification page that is any stranger's file, and the verdict says it.
        "pyhanko.sign.validation.generic_cms": {"level": "ERROR"},
    },
}

# Error reports (the debug page, mail_admins' emails) hold the request's path, headers and
# traceback: secrets in them are redacted (credshare/core/redaction.py).
DEFAULT_EXCEPTION_REPORTER = "credshare.ops.logging.RedactingExceptionReporter"

# The demo serves static files straight from the apps (no collectstatic step); production
# runs collectstatic into STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

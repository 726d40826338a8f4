"""Settings for credshare, driven by environment variables.

Every setting that changes between the demo, CI and production is read from the
environment (see the README's table). The defaults give the embedded demo: SQLite in
./var, media in ./var/media, mail printed to the console.
"""

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

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


DEBUG = env_bool("CREDSHARE_DEBUG")
# The default key only serves the local demo and tests; production sets its own.
SECRET_KEY = env("CREDSHARE_SECRET_KEY", "insecure-demo-key-set-CREDSHARE_SECRET_KEY-in-production")
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
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "credshare.core.middleware.CsrfViewMiddlewareForNoReferrerPages",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
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
CREDSHARE_EMAIL_DELIVERY = env("CREDSHARE_EMAIL_DELIVERY", "inline")
# Retries wait 1, 2, 4 ... minutes, then an hour each: 30 attempts span about a day.
CREDSHARE_EMAIL_MAX_ATTEMPTS = int(env("CREDSHARE_EMAIL_MAX_ATTEMPTS", "30"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("CREDSHARE_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The document page shows its own PDF in an iframe.
X_FRAME_OPTIONS = "SAMEORIGIN"

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
CREDSHARE_TASKS = env("CREDSHARE_TASKS", "inline")
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
# Seconds: a webhook whose signed timestamp is older is refused (a replay).
CREDSHARE_STRIPE_WEBHOOK_TOLERANCE = int(env("CREDSHARE_STRIPE_WEBHOOK_TOLERANCE", "300"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Django logs the paths of failed requests (and runserver every request line): a share
    # link's path holds its secret token, rewritten to /s/<redacted>/ before any handler.
    "filters": {"redact_share_tokens": {"()": "credshare.sharing.log_redaction.RedactShareTokens"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        # As Django's default, which configuring the django.server logger below replaces.
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["console"], "level": env("CREDSHARE_LOG_LEVEL", "WARNING")},
    "loggers": {
        "django.request": {"filters": ["redact_share_tokens"]},
        "django.security.csrf": {"filters": ["redact_share_tokens"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_share_tokens"],
        },
        # pyHanko logs a warning with a traceback for every signature it cannot validate; on
        # the public verification page that is any stranger's file, and the verdict says it.
        "pyhanko.sign.validation.generic_cms": {"level": "ERROR"},
    },
}

# The demo serves static files straight from the apps (no collectstatic step); production
# runs collectstatic into STATIC_ROOT.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

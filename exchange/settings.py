"""Settings for the tender desk: one file, every value from the environment.

Defaults are the embedded demo (DEBUG on, an SQLite file, the local Redis).
Production sets DEBUG=false, and then SECRET_KEY and ALLOWED_HOSTS must be given
and every transport-security setting is on, so `manage.py check --deploy` is clean.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from exchange.env import env_bool, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else None)
if not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "With DEBUG off, SECRET_KEY must be a random value of 50+ characters."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("With DEBUG off, ALLOWED_HOSTS must name the site's host names.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "axes",
    "exchange.apps.ExchangeConfig",
    "holders.apps.HoldersConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "exchange.middleware.SecurityHeadersMiddleware",
    # Serves collected static files in production; runserver serves them in DEBUG.
    *([] if DEBUG else ["whitenoise.middleware.WhiteNoiseMiddleware"]),
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A database gone away mid-request: a 503 page saying nothing was recorded.
    "exchange.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "exchange.urls"
WSGI_APPLICATION = "exchange.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    {"sqlite", "postgres", "postgresql", "pgsql"},
)
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs web, worker and beat on one SQLite file: wait for the write
    # lock rather than failing, and take it at BEGIN so two writers cannot
    # deadlock upgrading shared locks.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Time -------------------------------------------------------------------------
# Every deadline of the offer is New York City time; the database keeps UTC.
TIME_ZONE = "America/New_York"
USE_TZ = True
USE_I18N = False
LANGUAGE_CODE = "en-us"

# --- Static files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Celery -----------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "redis://127.0.0.1:6379/0", {"redis", "rediss"})
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat saves a task's last_run_at only when it syncs (every three minutes by default), so
# the jobs page showed a send minutes old; syncing after every send keeps it true.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One queue name per deployment (tests give each run its own so no other worker takes its tasks).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")

# --- E-mail -----------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Exchange Agent <exchange-agent@localhost>")

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# No script but the site's own files; styles may be inline (the admin's own templates use
# style attributes); no framing; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# Operators who hear of failures that need a person (a reconciliation mismatch).
ADMINS = [("Operations", email) for email in env_list("ADMIN_EMAILS", [])]
SERVER_EMAIL = env_str("SERVER_EMAIL", "tender-desk@localhost")

# --- Sign-in ------------------------------------------------------------------------
# Holders sign in to the portal, clerks to the admin; both go through django-axes, which
# counts failures per (username, IP address) pair and locks that pair out for a while.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a holder who mistypes twice, then signs in, starts afresh
AXES_LOCKOUT_TEMPLATE = "holders/locked_out.html"
# Behind the TLS proxy the peer address is the proxy's: count failures by the client's.
AXES_CLIENT_IP_CALLABLE = "exchange.middleware.client_ip"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "portal:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- The desk -----------------------------------------------------------------------
# Backup withholding applies to holders without a certified TIN (31% in 2000). It is
# a setting of the offer (ExchangeOffer.backup_withholding_rate); this is the default
# a new offer takes.
DEFAULT_BACKUP_WITHHOLDING_RATE = Decimal(env_str("DEFAULT_BACKUP_WITHHOLDING_RATE", "0.31"))

# Exchange-date work goes in chunks of this many rows, one transaction each; a pause
# between chunks (seconds) lets an operator leave the database room for the portal.
EXCHANGE_DATE_CHUNK_SIZE = env_int("EXCHANGE_DATE_CHUNK_SIZE", 2000)
if EXCHANGE_DATE_CHUNK_SIZE < 1:
    raise ImproperlyConfigured("EXCHANGE_DATE_CHUNK_SIZE must be at least 1.")
EXCHANGE_DATE_CHUNK_PAUSE_SECONDS = Decimal(env_str("EXCHANGE_DATE_CHUNK_PAUSE_SECONDS", "0"))

# The desk's own name in the admin's header and title: the exchange agent it works for.
DESK_AGENT_NAME = env_str("DESK_AGENT_NAME", "The Bank of New York")

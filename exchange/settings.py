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
    "django_ratelimit",
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
    # Idle and absolute session limits (after authentication and messages, which it uses).
    "exchange.middleware.SessionTimeoutMiddleware",
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
# A web request that hands a message to the broker (the outbox wakes its sender after
# commit) must not wait on a broker that is down: one quick retry, then give up; the
# minute's sweep (send_due_mail) sends it later. The worker's own connection keeps
# retrying (broker_connection_max_retries), unaffected by these publish options.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# One queue name per deployment (tests give each run its own so no other worker takes its tasks).
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")

# --- Rate limits (django-ratelimit) ---------------------------------------------------------
# Counters live in Redis so every web worker shares them; the client's address is the one
# our proxies saw (exchange.middleware.client_ip), never what the client wrote.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("RATELIMIT_KEY_PREFIX", "tender-desk"),
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
RATELIMIT_IP_META_KEY = "exchange.middleware.client_ip"
# django-ratelimit lists only memcached and django-redis as supported; Django's own Redis
# cache increments with Redis INCR, which is atomic and shared, all the library needs.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Sign-up and password-reset requests: per client address, and per e-mail address asked
# about (so nobody can make the exchange agent mail one address again and again).
ACCOUNT_REQUESTS_PER_ADDRESS = env_str("ACCOUNT_REQUESTS_PER_ADDRESS", "10/h")
ACCOUNT_REQUESTS_PER_EMAIL = env_str("ACCOUNT_REQUESTS_PER_EMAIL", "3/d")

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
# Every notice goes through the outbox (exchange.models.outbox), sent by a Celery worker:
# a mail server that is slow or down never holds up a request. Each SMTP operation gives
# up after EMAIL_TIMEOUT seconds; a failed attempt is retried after MAIL_RETRY_BASE_SECONDS,
# doubling each time up to MAIL_RETRY_MAX_SECONDS, MAIL_MAX_ATTEMPTS times in all.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 10)
MAIL_RETRY_BASE_SECONDS = env_int("MAIL_RETRY_BASE_SECONDS", 60)
MAIL_RETRY_MAX_SECONDS = env_int("MAIL_RETRY_MAX_SECONDS", 3600)
# A message still "sending" this long after its claim was cut short by a dead worker.
MAIL_SENDING_STALL_SECONDS = env_int("MAIL_SENDING_STALL_SECONDS", 10 * EMAIL_TIMEOUT + 60)
if min(EMAIL_TIMEOUT, MAIL_MAX_ATTEMPTS) < 1 or MAIL_RETRY_BASE_SECONDS < 0:
    raise ImproperlyConfigured("EMAIL_TIMEOUT and MAIL_MAX_ATTEMPTS must be at least 1.")

# --- Security -----------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
# A session ends after this many minutes without a request (staff sooner than holders), and
# after SESSION_ABSOLUTE_HOURS however busy (exchange.middleware.SessionTimeoutMiddleware);
# the cookie lives no longer than that, and not past the browser's closing.
SESSION_IDLE_MINUTES_STAFF = env_int("SESSION_IDLE_MINUTES_STAFF", 30)
SESSION_IDLE_MINUTES_HOLDER = env_int("SESSION_IDLE_MINUTES_HOLDER", 60)
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12)
if min(SESSION_IDLE_MINUTES_STAFF, SESSION_IDLE_MINUTES_HOLDER, SESSION_ABSOLUTE_HOURS) < 1:
    raise ImproperlyConfigured("Session limits must be at least 1.")
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
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
# How many proxies of ours append to X-Forwarded-For in front of the application (the TLS
# proxy: 1). The client's address is the entry that many places from the right; what the
# client wrote to the left of it is never trusted (exchange.middleware.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")
# No script and no style but the site's own files (no inline style either: the desk's
# styles live in exchange/static/exchange/desk.css, the portal's in holders/portal.css);
# no framing; forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
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
    # Django's ModelBackend, reading the login's holder in the same query.
    "holders.auth.HolderAwareModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a holder who mistypes twice, then signs in, starts afresh
AXES_LOCKOUT_TEMPLATE = "holders/locked_out.html"
# Behind the TLS proxy the peer address is the proxy's: count failures by the client's.
AXES_CLIENT_IP_CALLABLE = "exchange.middleware.client_ip"
# No "AXES: BEGIN ..." banner at start-up: an operator's command prints its own output
# only. Failures and lockouts are still logged (the client string is just shorter).
AXES_VERBOSE = False
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
    "loggers": {
        # Django logs every 4xx at WARNING, a 403 with its traceback. A refused page and a
        # missing one are no faults: the error handlers (exchange.middleware) log them once
        # at INFO, so only 5xx pass here.
        "django.request": {"level": "ERROR"},
        "django.security.csrf": {"level": "INFO"},
    },
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

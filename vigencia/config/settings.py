"""Settings, all read from the environment (twelve-factor); safe defaults when not in debug."""

import base64
import os
import secrets
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
import dj_email_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VIGENCIA_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("VIGENCIA_DEBUG")


def _local_secret(name: str) -> str:
    """A random secret kept under var/ for a local install; production sets it in the environment."""
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = os.environ.get("VIGENCIA_SECRET_KEY") or _local_secret("secret_key")
ALLOWED_HOSTS = env_list("VIGENCIA_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("VIGENCIA_CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "vigencia.core.views.csrf_failure"

# The project's apps first: where a string is also in Django's own catalogs ("History", "Remove"),
# the translation of the app listed first wins, and ours are worded for this site's readers.
INSTALLED_APPS = [
    "vigencia.core",
    "vigencia.accounts",
    "vigencia.catalog",
    "vigencia.lines",
    "vigencia.ledger",
    "vigencia.payments",
    "vigencia.fulfilment",
    "vigencia.notifications",
    "vigencia.orders",
    "vigencia.vouchers",
    "vigencia.usage",
    "vigencia.stores",
    "vigencia.support",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    "ninja",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "vigencia.accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "vigencia.core.middleware.RequestEdgesMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "vigencia.config.urls"
WSGI_APPLICATION = "vigencia.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "vigencia" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'vigencia.sqlite3'}"),
        # Persistent connections (a new PostgreSQL connection per request costs more than a renewal),
        # checked before reuse so a restarted database never fails a request.
        conn_max_age=int(os.environ.get("VIGENCIA_CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("VIGENCIA_CONN_HEALTH_CHECKS", default=True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions let the web server and the worker write the same file safely.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        # Seconds a connection waits for another's write to finish before "database is locked".
        "timeout": float(os.environ.get("VIGENCIA_SQLITE_TIMEOUT", "20")),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif env_bool("VIGENCIA_PG_SERVER_SIDE_BINDING", default=True):
    # Parameters bound by the server, and a statement run 5 times on a connection prepared once
    # (psycopg's prepare_threshold): PostgreSQL parses and plans the hot statements once per connection.
    # Django turns prepared statements off unless asked (for transaction-pooling proxies such as
    # PgBouncer < 1.21; set VIGENCIA_PG_PREPARE_THRESHOLD=off behind one).
    threshold = os.environ.get("VIGENCIA_PG_PREPARE_THRESHOLD", "5")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=None if threshold == "off" else int(threshold)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "lines:dashboard"
LOGOUT_REDIRECT_URL = "home"

# Login lockout: 5 failures for one email from one address locks it for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("VIGENCIA_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "vigencia.accounts.services.axes_username"
AXES_LOCKOUT_CALLABLE = "vigencia.accounts.views.lockout_response"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("zh-hans", "简体中文")]
LOCALE_PATHS: list[str] = []  # each app keeps its own catalog in <app>/locale/
FORMAT_MODULE_PATH = ["vigencia.config.formats"]  # Spanish numbers as in Peru (formats/es)
TIME_ZONE = "America/Lima"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

EMAIL_URL = os.environ.get("EMAIL_URL", f"file://{VAR_DIR / 'mail'}")
vars().update(dj_email_url.parse(EMAIL_URL))
DEFAULT_FROM_EMAIL = os.environ.get("VIGENCIA_FROM_EMAIL", "Vigencia <no-reply@vigencia.local>")
SITE_URL = os.environ.get("VIGENCIA_SITE_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}")

TASKS = {
    "default": {
        "BACKEND": os.environ.get("VIGENCIA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Security: secure by default, relaxed only in debug (plain-http development server).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_secure = not DEBUG and env_bool("VIGENCIA_SECURE_COOKIES", default=True)
SESSION_COOKIE_SECURE = _secure
CSRF_COOKIE_SECURE = _secure
LANGUAGE_COOKIE_SECURE = _secure
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("VIGENCIA_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_SSL_REDIRECT = env_bool("VIGENCIA_SSL_REDIRECT")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("VIGENCIA_LOG_LEVEL", "INFO")},
    # httpx logs each request's URL, and the Telegram Bot API's holds the bot's token.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_MAX_LIMIT = 200
VIGENCIA_DISPLAY_TIMEZONE = "America/Lima"
# The country a contact mobile typed without + is read in (ISO 3166 alpha-2).
VIGENCIA_PHONE_REGION = os.environ.get("VIGENCIA_PHONE_REGION", "PE")
# One password-reset email per account per this long, whatever the form receives.
PASSWORD_RESET_EVERY = timedelta(minutes=int(os.environ.get("VIGENCIA_PASSWORD_RESET_EVERY_MINUTES", "5")))
VIGENCIA_API_TOKEN_TTL = timedelta(days=int(os.environ.get("VIGENCIA_API_TOKEN_TTL_DAYS", "30")))

# Periodic jobs: `vigencia scheduler` enqueues each task once per period (a unique period key), so a
# second scheduler or a restart never runs a period twice. {name: {"task": dotted path, "every": seconds}}
VIGENCIA_PERIODIC_JOBS: dict[str, dict[str, object]] = {}
# Workers beat every VIGENCIA_WORKER_BEAT_SECONDS; a task left running by a worker not seen for
# VIGENCIA_WORKER_LOST_AFTER (or failed with the database away) runs again, up to
# VIGENCIA_TASK_MAX_ATTEMPTS tries in all (`vigencia.core.workers`).
VIGENCIA_WORKER_BEAT_SECONDS = float(os.environ.get("VIGENCIA_WORKER_BEAT_SECONDS", "30"))
VIGENCIA_WORKER_LOST_AFTER = timedelta(
    seconds=int(os.environ.get("VIGENCIA_WORKER_LOST_AFTER_SECONDS", "300"))
)
VIGENCIA_TASK_MAX_ATTEMPTS = int(os.environ.get("VIGENCIA_TASK_MAX_ATTEMPTS", "5"))
VIGENCIA_PERIODIC_JOBS["core.recover_tasks"] = {"task": "vigencia.core.tasks.tasks_recover_task", "every": 60}


# fulfilment: the carrier gateway ("simulator", in-process and deterministic, or an aggregator API's
# base URL served by the HTTP client), callback signing, retries and reconciliation.
VIGENCIA_CARRIER_GATEWAY = os.environ.get("VIGENCIA_CARRIER_GATEWAY", "simulator")
VIGENCIA_CARRIER_API_KEY = os.environ.get("VIGENCIA_CARRIER_API_KEY", "")
VIGENCIA_CARRIER_TIMEOUT_SECONDS = float(os.environ.get("VIGENCIA_CARRIER_TIMEOUT_SECONDS", "10"))
VIGENCIA_CARRIER_CALLBACK_SECRET = os.environ.get("VIGENCIA_CARRIER_SIM_SECRET") or _local_secret(
    "carrier_callback_secret"
)
# {reference prefix: dotted path of `handler(*, transactions) -> None`}, called with the top-ups of
# that kind that ended, in the database transaction that ended them.
VIGENCIA_FULFILMENT_HANDLERS: dict[str, str] = {}
VIGENCIA_FULFILMENT_RETRY_SECONDS = int(os.environ.get("VIGENCIA_FULFILMENT_RETRY_SECONDS", "30"))
VIGENCIA_FULFILMENT_RETRY_MAX_SECONDS = int(os.environ.get("VIGENCIA_FULFILMENT_RETRY_MAX_SECONDS", "1800"))
VIGENCIA_FULFILMENT_MAX_AGE = timedelta(hours=int(os.environ.get("VIGENCIA_FULFILMENT_MAX_AGE_HOURS", "24")))
VIGENCIA_FULFILMENT_BATCH = int(os.environ.get("VIGENCIA_FULFILMENT_BATCH", "200"))
VIGENCIA_PERIODIC_JOBS["fulfilment.reconcile"] = {
    "task": "vigencia.fulfilment.tasks.reconcile_pending",
    "every": 60,
}

# lines: the lifecycle sweep applies due status changes (restricted, cut off, number lost) hourly.
VIGENCIA_PERIODIC_JOBS["lines.sweep"] = {"task": "vigencia.lines.tasks.lifecycle_sweep_task", "every": 3600}


# payments: the built-in sandbox PSP (test mode: checkout pages and test helpers) and its webhook
# secret; {purpose: dotted path of `handler(*, intent) -> None`}, called when a payment has an outcome.
VIGENCIA_PAYMENT_HANDLERS: dict[str, str] = {}
VIGENCIA_SANDBOX_PAYMENTS = env_bool("VIGENCIA_SANDBOX_PAYMENTS", default=True)
VIGENCIA_SANDBOX_WEBHOOK_SECRET = os.environ.get("VIGENCIA_SANDBOX_WEBHOOK_SECRET") or _local_secret(
    "sandbox_webhook_secret"
)
# A payment the customer left at the checkout (requires_action) this long is canceled, and its order
# or top-up with it, every quarter of an hour.
VIGENCIA_PAYMENT_ABANDONED_AFTER = timedelta(
    hours=int(os.environ.get("VIGENCIA_PAYMENT_ABANDONED_AFTER_HOURS", "24"))
)
VIGENCIA_PERIODIC_JOBS["payments.cancel_abandoned"] = {
    "task": "vigencia.payments.tasks.payments_cancel_abandoned_task",
    "every": 900,
}


# stores: the locator's map takes Leaflet's JS/CSS from the django-leaflet package's static files (no
# CDN); only the files, as its app would pull in GeoDjango (GDAL).
STATICFILES_DIRS = [Path(find_spec("leaflet").origin).parent / "static"]  # type: ignore[union-attr,arg-type]


# stores: ID documents are encrypted with AES-GCM under VIGENCIA_ID_KEYS (base64 keys of 32 bytes,
# newest first: the first encrypts, all decrypt, so rotation is "prepend a key") and looked up by an
# HMAC blind index under a separate key. A local install keeps both under var/.
def _local_aes_key(name: str) -> str:
    path = VAR_DIR / name
    if not path.exists():
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        path.chmod(0o600)
    return path.read_text().strip()


VIGENCIA_ID_KEYS = env_list("VIGENCIA_ID_KEYS") or [_local_aes_key("id_document_key")]
VIGENCIA_ID_INDEX_KEY = os.environ.get("VIGENCIA_ID_INDEX_KEY") or _local_aes_key("id_document_index_key")


# usage: buckets expire hourly (the sweep records what each bucket lost).
VIGENCIA_PERIODIC_JOBS["usage.expire"] = {"task": "vigencia.usage.tasks.bucket_expire_task", "every": 3600}


# orders: the renewal pipeline handles settled payments and fulfilments.
VIGENCIA_PAYMENT_HANDLERS.update(
    {
        "order": "vigencia.orders.services.order_payment_settled",
        "topup": "vigencia.orders.services.wallet_topup_settled",
    }
)
VIGENCIA_FULFILMENT_HANDLERS["order"] = "vigencia.orders.services.order_fulfilment_settled_many"


# vouchers: PINs are stored only as HMAC-SHA256 under this key (env, else a local secret under var/).
# Failed redemptions are limited per account, per IP and overall: {scope: (failures, window seconds)};
# past a limit even a correct PIN gets 429 until the window ends. The alert fires (log + a message to
# operators) when the overall failures in a window reach VIGENCIA_VOUCHER_ALERT_FAILURES.
VIGENCIA_VOUCHER_PIN_KEY = os.environ.get("VIGENCIA_VOUCHER_PIN_KEY") or _local_secret("voucher_pin_key")
VIGENCIA_VOUCHER_LIMITS = {
    "account": (int(os.environ.get("VIGENCIA_VOUCHER_ACCOUNT_FAILURES", "10")), 900),
    "ip": (int(os.environ.get("VIGENCIA_VOUCHER_IP_FAILURES", "30")), 900),
    "global": (int(os.environ.get("VIGENCIA_VOUCHER_GLOBAL_FAILURES", "2000")), 300),
    "verify_ip": (int(os.environ.get("VIGENCIA_VOUCHER_VERIFY_PER_MINUTE", "60")), 60),
}
VIGENCIA_VOUCHER_ALERT_FAILURES = int(os.environ.get("VIGENCIA_VOUCHER_ALERT_FAILURES", "500"))
VIGENCIA_VOUCHER_EXPORT_DIR = Path(os.environ.get("VIGENCIA_VOUCHER_EXPORT_DIR", VAR_DIR / "voucher_exports"))
VIGENCIA_PERIODIC_JOBS["vouchers.expire"] = {
    "task": "vigencia.vouchers.tasks.voucher_expire_task",
    "every": 3600,
}
VIGENCIA_PERIODIC_JOBS["vouchers.counters"] = {
    "task": "vigencia.vouchers.tasks.attempt_counters_purge_task",
    "every": 3600,
}


# notifications: delivery retries with backoff (after failed attempt 1..5: 1 min, 5 min, 30 min, 2 h,
# 6 h; the 6th failure is final), how long a worker's claim on a row lasts, the webhook timeout, and
# the SMS gateway adapter (dev: the file gateway writes var/sms/outbox.jsonl; Jasmin comes later).
VIGENCIA_NOTIFICATION_BACKOFF_SECONDS = [60, 300, 1800, 7200, 21600]
VIGENCIA_NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("VIGENCIA_NOTIFICATION_MAX_ATTEMPTS", "6"))
VIGENCIA_NOTIFICATION_CLAIM_SECONDS = 600
VIGENCIA_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("VIGENCIA_WEBHOOK_TIMEOUT_SECONDS", "5"))
# Webhook URLs on localhost or private/link-local IPs: only in development (or when set).
VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS = env_bool("VIGENCIA_WEBHOOK_ALLOW_INTERNAL_HOSTS", default=DEBUG)
VIGENCIA_SMS_GATEWAY = os.environ.get(
    "VIGENCIA_SMS_GATEWAY", "vigencia.notifications.channels.sms.FileSmsGateway"
)
VIGENCIA_SMS_DIR = Path(os.environ.get("VIGENCIA_SMS_DIR", VAR_DIR / "sms"))
# Telegram: the platform's bot (from @BotFather); without a token and a username the channel is not
# offered. Telegram calls the webhook with VIGENCIA_TELEGRAM_WEBHOOK_SECRET (`vigencia telegram webhook`).
VIGENCIA_TELEGRAM_BOT_TOKEN = os.environ.get("VIGENCIA_TELEGRAM_BOT_TOKEN", "")
VIGENCIA_TELEGRAM_BOT_USERNAME = os.environ.get("VIGENCIA_TELEGRAM_BOT_USERNAME", "").lstrip("@")
VIGENCIA_TELEGRAM_API_URL = os.environ.get("VIGENCIA_TELEGRAM_API_URL", "https://api.telegram.org")
VIGENCIA_TELEGRAM_WEBHOOK_SECRET = os.environ.get("VIGENCIA_TELEGRAM_WEBHOOK_SECRET") or _local_secret(
    "telegram_webhook_secret"
)
VIGENCIA_TELEGRAM_TIMEOUT_SECONDS = float(os.environ.get("VIGENCIA_TELEGRAM_TIMEOUT_SECONDS", "5"))
VIGENCIA_TELEGRAM_LINK_LIFETIME = timedelta(hours=1)
VIGENCIA_PERIODIC_JOBS["notifications.requeue_stale"] = {
    "task": "vigencia.notifications.tasks.notification_requeue_stale_task",
    "every": 600,
}


# support: first-response and resolution targets per priority (hours), and the amount above which a
# refund or goodwill credit needs a second approver (an operator), in minor units of its currency.
VIGENCIA_SUPPORT_TARGET_HOURS = {"urgent": (1, 8), "high": (4, 24), "normal": (8, 72), "low": (24, 120)}
VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR = int(os.environ.get("VIGENCIA_SUPPORT_APPROVAL_LIMIT_MINOR", "5000"))

# lines (keep-alive): hourly tick = lifecycle sweep + reminders (quiet hours need the hourly pass) +
# auto-renew; each step is idempotent, so overlapping with "lines.sweep" is harmless.
VIGENCIA_PERIODIC_JOBS["lines.keepalive"] = {
    "task": "vigencia.lines.tasks.keepalive_tick_task",
    "every": 3600,
}

# orders (portal walk): dj-email-url reads file:///abs/path as the relative "abs/path", so the
# default mail folder landed under the working directory; keep it at VAR_DIR/mail.
if "EMAIL_URL" not in os.environ:
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# lines (keep-alive): Jasmin's HTTP API for SMS reminders, used when VIGENCIA_SMS_GATEWAY is
# "vigencia.notifications.channels.jasmin.JasminSmsGateway".
VIGENCIA_JASMIN_URL = os.environ.get("VIGENCIA_JASMIN_URL", "http://127.0.0.1:1401")
VIGENCIA_JASMIN_USERNAME = os.environ.get("VIGENCIA_JASMIN_USERNAME", "")
VIGENCIA_JASMIN_PASSWORD = os.environ.get("VIGENCIA_JASMIN_PASSWORD", "")
VIGENCIA_JASMIN_SENDER = os.environ.get("VIGENCIA_JASMIN_SENDER", "")

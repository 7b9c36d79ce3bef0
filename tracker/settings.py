"""Settings, read only from the environment.

Every value has a safe default for the demo: SQLite, the file email backend,
DEBUG on only when asked for. Production sets DATABASE_URL (PostgreSQL),
SECRET_KEY, ALLOWED_HOSTS and the EMAIL_* variables; with DEBUG off the
production profile (HTTPS redirect, HSTS, secure cookies) is on unless HTTPS=0.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    # A typo must not quietly switch a protection off (HTTPS=ture).
    raise ImproperlyConfigured(f"{name}={value!r}: use 1/0, true/false, yes/no or on/off.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: a whole number is expected.") from None


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = os.environ.get(name, "").strip() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r}: one of {', '.join(sorted(choices))}.")
    return value


def env_proxy_header(name: str) -> tuple[str, str] | None:
    """``HTTP_X_FORWARDED_PROTO,https`` (or ``X-Forwarded-Proto,https``); 1 means that one.

    Only behind a proxy that sets the header on every request and strips it from clients:
    otherwise anyone can claim HTTPS.
    """
    value = os.environ.get(name, "").strip()
    if not value or value.lower() in {"0", "false", "no", "off"}:
        return None
    if value.lower() in {"1", "true", "yes", "on"}:
        return ("HTTP_X_FORWARDED_PROTO", "https")
    header, _, expected = (part.strip() for part in value.partition(","))
    if not header or not expected:
        raise ImproperlyConfigured(f"{name}={value!r}: expected HEADER,value or 1.")
    header = header.upper().replace("-", "_")
    return (header if header.startswith("HTTP_") else f"HTTP_{header}", expected)


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    # A fixed key is fine for the demo on loopback; production must set SECRET_KEY.
    # `manage.py check --deploy` flags this "django-insecure-" key.
    SECRET_KEY = "django-insecure-demo-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The production profile (README, "Production settings"): safe when DEBUG is off, each value
# its own variable. HTTPS switches the SSL redirect, secure cookies and HSTS together; the
# tests, the demo and the load drill serve plain http on loopback with HTTPS=0.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", HTTPS)
SECURE_PROXY_SSL_HEADER = env_proxy_header("SECURE_PROXY_SSL_HEADER")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", HTTPS)
# Asking browsers to hard-code HTTPS for the whole domain is hard to undo: a deliberate choice.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", HTTPS)
SESSION_COOKIE_HTTPONLY = env_bool("SESSION_COOKIE_HTTPONLY", True)
# No script of ours or the admin's reads the CSRF cookie: forms carry the token.
CSRF_COOKIE_HTTPONLY = env_bool("CSRF_COOKIE_HTTPONLY", True)
# Strict would sign people out of the links in the alert mails.
SESSION_COOKIE_SAMESITE = env_choice("SESSION_COOKIE_SAMESITE", "Lax", {"Lax", "Strict"})
CSRF_COOKIE_SAMESITE = env_choice("CSRF_COOKIE_SAMESITE", "Lax", {"Lax", "Strict"})
SECURE_REFERRER_POLICY = env_choice(
    "SECURE_REFERRER_POLICY",
    "same-origin",
    {
        "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin",
        "same-origin", "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
    },
)
SECURE_CONTENT_TYPE_NOSNIFF = env_bool("SECURE_CONTENT_TYPE_NOSNIFF", True)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4): the site's own scripts and styles only, nothing
# inline; Bootstrap draws its icons as data: images. CSP_REPORT_ONLY=1 reports, blocks nothing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "upgrade-insecure-requests": HTTPS,
        "report-uri": os.environ.get("CSP_REPORT_URI") or None,
    }
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY, CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY, None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # the unaccent lookup of the search (targets/search.py)
    "django_tables2",
    "django_filters",
    "simple_history",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no outside network)
    "django_countries",  # the investor's country: ISO 3166 names in both languages
    "targets",
    "register",
    "iati",
    "api",
    "dhis2",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "targets.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last: turns a sign-in that axes refused into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"
ASGI_APPLICATION = "tracker.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "targets.context_processors.roles",
            ],
        },
    },
]

# A connection is kept for DB_CONN_MAX_AGE seconds (checked before each request reuses it):
# opening one per request costs a PostgreSQL backend start every time.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "vi")
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The investor's country (django-countries): ISO 3166 names in both languages come with the
# package, except these, whose names are ours (translated in locale/): its Vietnamese catalogue
# calls Eswatini "Tiếng Swaziland" (the language), Réunion "Đoàn tụ" (a reunion), Palestine
# "Palestine, Bang" and the United States by their formal "Hợp chủng quốc Hoa Kỳ"; its English
# says "Bahamas (The)" and "Naoero".
COUNTRIES_OVERRIDE = {
    "BS": _("Bahamas"),
    "NR": _("Nauru"),
    "PS": _("Palestine"),
    "RE": _("Réunion"),
    "SZ": _("Eswatini"),
    "US": _("United States of America"),
}
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Numbers as the language writes them: 1.234,5 in Vietnamese, 1,234.5 in English.
USE_THOUSAND_SEPARATOR = True
FORMAT_MODULE_PATH = ["tracker.formats"]

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise serves the static files under gunicorn. Without DEBUG they get hashed, compressed,
# long-cached names from collectstatic's manifest (`make serve` collects into STATIC_ROOT);
# without the manifest (DEBUG, the tests: STATIC_MANIFEST=0) nothing needs collecting and
# WhiteNoise finds the files where they lie.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not STATIC_MANIFEST
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Sign-in throttling (django-axes). A client is locked out after AXES_FAILURE_LIMIT failed
# sign-ins on one username (from anywhere: guessing one account) or from one address (any
# usernames: spraying), for AXES_COOLOFF_MINUTES after the last failure; a success clears them.
# Operators unlock in the admin (Access attempts) or with `manage.py axes_reset_username`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out client
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = env_bool("AXES_RESET_ON_SUCCESS", True)
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False  # no banner on every start of every command
AXES_LOCKOUT_CALLABLE = "targets.views.account.locked_out"
AXES_CLIENT_IP_CALLABLE = "targets.services.accounts.client_ip"
# Reverse proxies in front of gunicorn that append to X-Forwarded-For (nginx: 1). With 0 the
# address is REMOTE_ADDR: behind a proxy that is the proxy's, shared by every client.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Password reset requests: at most this many per address and per client in the window.
PASSWORD_RESET_LIMIT_PER_ADDRESS = env_int("PASSWORD_RESET_LIMIT_PER_ADDRESS", 3)
PASSWORD_RESET_LIMIT_PER_CLIENT = env_int("PASSWORD_RESET_LIMIT_PER_CLIENT", 10)
PASSWORD_RESET_LIMIT_WINDOW = env_int("PASSWORD_RESET_LIMIT_WINDOW", 3600)  # seconds

# The address links in emails point at (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Email: the file backend by default, so the demo's mails land in var/mail/.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Target Tracker <noreply@localhost>")

# Celery: Redis broker; the results of tasks are not kept (services record outcomes).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# With acks_late, Redis hands an unacknowledged task to another worker after this many
# seconds; every countdown (retry backoff) must stay below it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
}
if os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL"):
    # How often a worker looks for tasks of dead workers (default about every 100 s).
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "unacked_restore_interval": int(os.environ["CELERY_UNACKED_RESTORE_INTERVAL"]),
        "unacked_restore_throttle": 1,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Only a split daily evaluation's batches keep a result: the chord counts them here.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", CELERY_BROKER_URL)
CELERY_RESULT_EXPIRES = 24 * 3600


def cache_settings(url: str) -> dict:
    """CACHE_URL: ``redis://host:port/db`` (shared by every gunicorn worker: the reset limits
    count there) or ``locmem://`` (one process only: tests, a single-process demo)."""
    if url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            # A Redis that does not answer must not hold a request for long.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    raise ImproperlyConfigured(f"CACHE_URL={url!r}: redis://host:port/db or locmem://.")


# Default: the broker's Redis, database 1 (keep it apart from the broker's database).
CACHES = {
    "default": cache_settings(
        os.environ.get("CACHE_URL", "").strip()
        or urlunsplit(urlsplit(CELERY_BROKER_URL)._replace(path="/1"))
    )
}

# Alert delivery (DESIGN §4): one budget of tries per digest, counted on its row; the
# dispatcher (every minute) retries a failed digest after a delay that doubles from
# ALERT_DELIVERY_RETRY_DELAY up to ALERT_DELIVERY_RETRY_DELAY_MAX (seconds, with jitter).
ALERT_DELIVERY_MAX_ATTEMPTS = int(os.environ.get("ALERT_DELIVERY_MAX_ATTEMPTS", "30"))
ALERT_DELIVERY_RETRY_DELAY = int(os.environ.get("ALERT_DELIVERY_RETRY_DELAY", "60"))
ALERT_DELIVERY_RETRY_DELAY_MAX = int(os.environ.get("ALERT_DELIVERY_RETRY_DELAY_MAX", "3600"))
ALERT_SENDING_LEASE = int(os.environ.get("ALERT_SENDING_LEASE", "900"))

# Alert rules (DESIGN §4) — read here, passed into services.
ESCALATION_DAYS = int(os.environ.get("ESCALATION_DAYS", "30"))
REMINDER_DAYS = int(os.environ.get("REMINDER_DAYS", "5"))

# The daily evaluation (beat, local time) and how many missed days it catches up.
EVALUATION_DAILY_HOUR = int(os.environ.get("EVALUATION_DAILY_HOUR", "6"))
EVALUATION_CATCH_UP_DAYS = int(os.environ.get("EVALUATION_CATCH_UP_DAYS", "7"))
# A day with more targets than this is evaluated in batches of EVALUATION_BATCH_SIZE targets
# by every worker at once (a Celery chord); a smaller one in the daily task itself. A split
# day not finished EVALUATION_RESUME_AFTER seconds after it started (a batch lost with its
# worker) has its missing batches run again.
EVALUATION_SPLIT_ABOVE = env_int("EVALUATION_SPLIT_ABOVE", 20000)
EVALUATION_BATCH_SIZE = env_int("EVALUATION_BATCH_SIZE", 2000)
EVALUATION_RESUME_AFTER = env_int("EVALUATION_RESUME_AFTER", 1800)

# IATI results (README "IATI results"): the organisation that publishes the plans' results and
# what every plan's activity says unless the admin sets it for the plan. No identifier: each
# plan is published under its unit's code (set the registered one before publishing).
IATI_REPORTING_ORG_REF = os.environ.get("IATI_REPORTING_ORG_REF", "").strip()
iati_identifier = r"[A-Za-z0-9][A-Za-z0-9._:-]*"  # iati.models.identifier_validator's
if IATI_REPORTING_ORG_REF and not re.fullmatch(iati_identifier, IATI_REPORTING_ORG_REF):
    raise ImproperlyConfigured(
        f"IATI_REPORTING_ORG_REF={IATI_REPORTING_ORG_REF!r}: letters, digits, '.', ':', '_' "
        "and '-' only (VN-XYZ)."
    )
IATI_REPORTING_ORG_TYPE = env_choice("IATI_REPORTING_ORG_TYPE", "11", {"10", "11", "15", "90"})
IATI_REPORTING_ORG_NAME = os.environ.get("IATI_REPORTING_ORG_NAME", "").strip()
IATI_REPORTING_ORG_NAME_EN = os.environ.get("IATI_REPORTING_ORG_NAME_EN", "").strip()
# A DAC sector: 430 is the category "Other multisector" (a term plan spans several sectors).
IATI_SECTOR = os.environ.get("IATI_SECTOR", "430").strip()
if not re.fullmatch(r"[0-9]{3}([0-9]{2})?", IATI_SECTOR):
    raise ImproperlyConfigured(f"IATI_SECTOR={IATI_SECTOR!r}: a DAC sector code, 3 or 5 digits.")
IATI_RECIPIENT_COUNTRY = os.environ.get("IATI_RECIPIENT_COUNTRY", "VN").strip().upper()
if not re.fullmatch(r"[A-Z]{2}", IATI_RECIPIENT_COUNTRY):
    raise ImproperlyConfigured(
        f"IATI_RECIPIENT_COUNTRY={IATI_RECIPIENT_COUNTRY!r}: an ISO 3166-1 alpha-2 code (VN)."
    )
# The REST API (api/, README "REST API"): API tokens only, problem details for every error,
# rate limits per token and per client address (API_THROTTLE_TOKEN, API_THROTTLE_ANONYMOUS:
# "N/second|minute|hour|day").
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttles.TokenRateThrottle", "api.throttles.AnonymousRateThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    # Numbers as JSON numbers, as `evaluate_targets --json` writes them.
    "COERCE_DECIMAL_TO_STRING": False,
}
API_THROTTLE_RATES = {
    "token": os.environ.get("API_THROTTLE_TOKEN", "600/minute"),
    "anonymous": os.environ.get("API_THROTTLE_ANONYMOUS", "60/minute"),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Target Tracker API",
    "DESCRIPTION": (
        "Read plans, units, targets with their assessments, entries, alerts and the "
        "investment register of your units; enter, submit, approve and return progress "
        "entries. Send an API token: `Authorization: Bearer tt_…`. Errors are RFC 9457 "
        "problem details."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TargetStatusEnum": "targets.models.Status",
        "EntryStatusEnum": "targets.models.EntryStatus",
        "CurrencyEnum": "register.models.Currency",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums", "api.schema.add_problem_responses",
    ],
}

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5-responsive.html"
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

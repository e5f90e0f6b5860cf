"""Settings for the portal, read from environment variables.

The defaults serve `make run` on a machine with nothing installed: SQLite and a file-system
broker under `var/`. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and ALLOWED_HOSTS; the
README's configuration table lists every variable read here.
"""

import hashlib
import secrets
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.broker import redis_broker_url

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Everything the portal writes locally (SQLite database, broker folders, generated secret key,
# cloudsim state) lives under one directory so that a fresh start is `rm -rf var/`.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env.bool("DEBUG", default=False)


def _secret_key() -> str:
    """SECRET_KEY from the environment; for local DEBUG runs, one generated once into var/."""
    key = env("SECRET_KEY", default="")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_TZ = True
LANGUAGE_CODE = "en"
# Every string of the pages is marked for translation; a translation (Chinese is next) goes in
# locale/<language>/LC_MESSAGES and is chosen from the browser's Accept-Language.
USE_I18N = True
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_filters",
    "django_htmx",
    "formtools",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "portal",
    "connections",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The person's time zone and language (their profile, else their browser's).
    "connections.pages.preferences.PersonPreferences",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.csp.PortalCSPMiddleware",
    "portal.errors.OwnNotFoundPageInDebug",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
                "connections.pages.context.header",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
# Connections kept for a minute (checked before reuse): a worker's task, one hop of a workflow,
# would otherwise open a new PostgreSQL connection each time, a third of its run.
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one SQLite file: WAL lets readers run beside a
    # writer, and the busy timeout makes a writer wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {
        "default": {
            # Django's file cache, counting safely across processes (portal/cache.py).
            "BACKEND": "portal.cache.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # Entries beyond which expired ones are removed (and then a random third): sessions,
            # rate-limit counts, the accounts' shared listings, operations' typical times.
            "OPTIONS": {"MAX_ENTRIES": 1000},
        }
    }

# Sessions in the cache, backed by the database: a page's live poll reads its session without a
# query, so a poll that finds nothing changed costs one query (connections/pages/live.py); while
# the cache is away they are read from the database (portal/sessions.py).
SESSION_ENGINE = "portal.sessions"

# No inline script or style anywhere: htmx is configured by a meta tag, behaviour lives in
# static/js/portal.js. The admin and the browsable API bring inline styles of their own
# (portal/csp.py relaxes style-src for them alone).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns at every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Production hardening: `manage.py check --deploy` is silent with DEBUG off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # /healthz is probed over plain HTTP by load balancers and compose healthchecks.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
X_FRAME_OPTIONS = "DENY"

# --- Cloud ---------------------------------------------------------------------------------------
# Every product goes to this endpoint when set (cloudsim locally); unset, the SDKs' regional
# endpoints are used.
CLOUD_ENDPOINT = env("CLOUD_ENDPOINT", default="")
CLOUD_REGION = env("CLOUD_REGION", default="cn-hangzhou")
# Names this portal on everything it creates (a tag, and inside every ClientToken), so that two
# portals sharing a cloud account, or a second portal started on a copy of this database, never
# take each other's resources for their own. Set it to keep it across a SECRET_KEY rotation.
PORTAL_INSTALLATION_ID = (
    env("PORTAL_INSTALLATION_ID", default="")
    or (hashlib.sha256(f"privatelink-portal:installation:{SECRET_KEY}".encode()).hexdigest()[:16])
)
# True where the workers run inside a consumer VPC and so can reach endpoints for the data-plane
# probe ("Test connection"); against cloudsim its resolver stands in for that, on loopback.
PROBES_RUN_IN_VPC = env.bool("PROBES_RUN_IN_VPC", default=False)
# A cloud tag on VPCs whose value is the slug of the team that owns the VPC: the inventory sync
# assigns such a VPC to that team. Empty: only platform admins assign VPCs (in the admin).
INVENTORY_TEAM_TAG = env("INVENTORY_TEAM_TAG", default="")
# Key for the access keys stored in the database; derived from SECRET_KEY when not given.
FIELD_ENCRYPTION_KEY = env("FIELD_ENCRYPTION_KEY", default="")

# --- Celery --------------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    # kombu's Redis transport, fixed so that a worker rides out a restart of Redis.
    CELERY_BROKER_URL = redis_broker_url(REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest countdown a workflow schedules, so an unacked message is only
        # redelivered when its worker is really gone.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 3,
        "socket_timeout": 5,
    }
else:
    # No server needed: kombu's file-system transport (made atomic in portal/broker.py), shared
    # by web, worker and beat through one folder.
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "portalfs://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        # The transport polls its folder: a new workflow starts within 20 ms of its commit (a
        # step's next hop is a countdown the worker keeps itself, and needs no poll). A listing
        # of two small folders 50 times a second costs next to nothing.
        "polling_interval": 0.02,
    }
    (BROKER_DIR / "control").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Seconds between health sweeps (monitoring/sweep.py): backends, connections, drift, probes.
PROBE_INTERVAL_SECONDS = env.float("PROBE_INTERVAL_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE = {
    "sweep-health": {"task": "connections.sweep_health", "schedule": PROBE_INTERVAL_SECONDS},
    "compact-health-history": {"task": "connections.compact_health_history", "schedule": 3600.0},
    "expire-requests": {"task": "connections.expire_requests", "schedule": 60.0},
    # Lost task chains resumed within GRACE + this of their due time (workflows/reconcile.py).
    "reconcile": {"task": "connections.reconcile", "schedule": 10.0},
    "sync-inventories": {"task": "connections.sync_inventories", "schedule": 900.0},
}

# --- REST API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "connections.api.authentication.ApiTokenAuthentication",
        # For the browsable API, signed in through the site's login page.
        "connections.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSON, written by orjson (connections/api/renderers.py says where they differ).
        "connections.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "connections.api.pagination.PortalCursorPagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "connections.api.throttling.ClientRateThrottle",
        "connections.api.throttling.AnonymousRateThrottle",
    ],
    # Per signed-in person (all their tokens and their session together), per address for
    # requests without valid credentials, sign-ins per address, and failed sign-ins per username
    # (see connections/api/throttling.py). Rates look like 1200/min; empty means no limit.
    "DEFAULT_THROTTLE_RATES": {
        "user": env("API_RATE_USER", default="1200/min") or None,
        "anon": env("API_RATE_ANON", default="60/min") or None,
        "token": env("API_RATE_TOKEN", default="10/min") or None,
        "signin_failure": env("API_RATE_SIGNIN_FAILURE", default="10/hour") or None,
    },
    # Proxies in front of the portal that append to X-Forwarded-For. 0 (the default) reads the
    # address from the connection: with a larger number than is really there, clients could
    # choose their own address and so their own budget.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0) or None,
    "EXCEPTION_HANDLER": "connections.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# Days a new API token lives unless its request asks for fewer, or more up to the maximum.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
API_TOKEN_MAX_TTL_DAYS = env.int("API_TOKEN_MAX_TTL_DAYS", default=365)
# Active tokens one person may hold: each is one more secret to leak.
API_MAX_TOKENS_PER_USER = env.int("API_MAX_TOKENS_PER_USER", default=20)
# `?wait_for=` reads one person may hold open at once: each holds a web server thread.
API_MAX_WAITS_PER_USER = env.int("API_MAX_WAITS_PER_USER", default=4)
SPECTACULAR_SETTINGS = {
    "TITLE": "PrivateLink Portal API",
    "DESCRIPTION": (
        "Publish services, request private access to them, approve, watch and revoke. "
        "Authenticate with `Authorization: Token <key>` (POST /api/v1/auth/token/). "
        "Errors are application/problem+json with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Tags and operation ids by resource (services, access-requests, ...), not by "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Request and response shapes apart: read-only fields are not asked for in request bodies.
    "COMPONENT_SPLIT_REQUEST": True,
    # Clients authenticate with tokens; the session is the browsable API's, not the contract's.
    "AUTHENTICATION_WHITELIST": ["connections.api.authentication.ApiTokenAuthentication"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "connections.api.schema.allow_empty_query_parameters",
        "connections.api.schema.document_problem_headers",
    ],
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "connections.choices.RequestState",
        "ServiceStateEnum": "connections.choices.ServiceState",
        "HealthEnum": "connections.choices.Health",
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

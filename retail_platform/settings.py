"""The platform's settings: the one place that reads the environment (SPEC §6 and the README's tables).

Everything local lives under one folder, ``RETAIL_HOME`` (default ``.retail_platform/`` in the working
directory), so that a checkout can be reset by deleting a single directory and so that the webserver, the
daemon and run workers started from the same place agree on it.

``load_settings()`` turns an environment into a frozen ``Settings``; ``current_settings()`` is that of this
process, read once. Everything else takes a ``Settings`` (or the values it needs) as an argument: the CLI
resolves them, overrides what its flags say, and hands them on explicitly, to the Dagster definitions it runs
in process and, as environment variables, to the processes it starts (``Settings.child_environment``).
Secrets (the warehouse and shop URLs may carry passwords, the webhook URL a token) reach Dagster's resources
as ``EnvVar``s, so their values never show in the UI.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path

DEFAULT_HOME = ".retail_platform"


# The folders under RETAIL_HOME, by attribute name.
HOME_FOLDERS = {
    "archive": "archive",
    "rejected": "rejected",
    "charts": "charts",
    "pgdata": "pgdata",
    "dagster_home": "dagster",
}


@dataclass(frozen=True)
class RetailPaths:
    """The folders the platform reads and writes, all derived from ``RETAIL_HOME``."""

    home: Path
    landing: Path
    archive: Path = field(init=False)
    rejected: Path = field(init=False)
    charts: Path = field(init=False)
    pgdata: Path = field(init=False)
    dagster_home: Path = field(init=False)

    def __post_init__(self) -> None:
        for attribute, folder in HOME_FOLDERS.items():
            object.__setattr__(self, attribute, self.home / folder)

    def ensure(self) -> RetailPaths:
        for folder in (self.home, self.landing, self.archive, self.rejected, self.charts, self.dagster_home):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def retail_paths(home: str | os.PathLike[str] | None = None, landing: str | None = None) -> RetailPaths:
    """The folders of a home (default ``.retail_platform`` here) and a landing folder (default inside it)."""
    home_path = Path(home or DEFAULT_HOME).expanduser().resolve()
    landing_path = Path(landing).expanduser().resolve() if landing else home_path / "landing"
    return RetailPaths(home=home_path, landing=landing_path)


@dataclass(frozen=True)
class FileDropSettings:
    """The landing-folder sensor (README, *Dropping files*): one batch run per tick, bounded by a count of
    files and their total size, so that a burst costs a few runs instead of one run per file."""

    interval_seconds: int = 10
    settle_seconds: float = 5.0
    max_in_flight: int = 2
    max_batch_files: int = 500
    max_batch_bytes: int = 1 << 30
    max_attempts: int = 8


@dataclass(frozen=True)
class ShopSensorSettings:
    """The shop-database sensor (README, *The shop's OLTP database*)."""

    interval_seconds: int = 10
    max_attempts: int = 8


@dataclass(frozen=True)
class CheckSettings:
    """Check thresholds and freshness windows (README, *Data quality and asset health*)."""

    rejected_share_warn: float = 0.01
    earliest_invoice_date: str = "2000-01-01"
    implausible_dates_max_share: float = 0.01  # clean_dates_plausible: a systemic failure, not one line
    row_drop_warn_share: float = 0.5
    raw_freshness: timedelta = timedelta(hours=26)
    marts_freshness: timedelta = timedelta(hours=24 * 8)


@dataclass(frozen=True)
class PlausibilitySettings:
    """Bounds every line must meet at load (README, *Hard to break*): a well-formed line outside them cannot
    be a real sale (a date of 9999-12-31, a price of 1e99, customer -5), so it is rejected with a reason and
    kept in raw.rejected_lines instead of reaching the marts. Invoice dates may run up to the end of the day
    after the load (``max_days_ahead``: shop-local time ahead of the server's clock). The defaults pass the
    whole real data set."""

    first_date: str = "2000-01-01"
    max_abs_unit_price: float = 1_000_000.0
    max_abs_quantity: int = 1_000_000
    max_days_ahead: int = 1


@dataclass(frozen=True)
class Settings:
    """Every setting of the platform, resolved."""

    paths: RetailPaths
    warehouse_url: str | None = None  # None: the embedded server under paths.pgdata
    oltp_url: str | None = None  # None: <warehouse database>_shop on the warehouse's server
    dashboard_url: str | None = None  # the dashboard's read-only login; None: the warehouse URL
    dagster_home: Path | None = None  # None: paths.dagster_home
    ui_url: str = "http://127.0.0.1:3000"
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8501
    webapp_role: str = "retail_webapp"
    webapp_password: str | None = field(default=None, repr=False)  # only `create-webapp-role` reads it
    refresh_interval_seconds: int = 5  # a tick is a few queries; drop -> marts waits for it (issue 12)
    full_refresh_cron: str = "0 3 * * 1"
    first_month: str = "2000-01"  # RETAIL_FIRST_MONTH: the first monthly partition (YYYY-MM)
    predictions_cron: str = "30 4 * * *"  # daily refit of the models (README, *Incremental refresh*)
    file_drop: FileDropSettings = field(default_factory=FileDropSettings)
    shop_sensor: ShopSensorSettings = field(default_factory=ShopSensorSettings)
    checks: CheckSettings = field(default_factory=CheckSettings)
    plausibility: PlausibilitySettings = field(default_factory=PlausibilitySettings)
    # names of the secret-bearing variables that were set, so resources can refer to them as EnvVars
    secrets_from_env: frozenset[str] = frozenset()

    @property
    def instance_home(self) -> Path:
        return self.dagster_home or self.paths.dagster_home

    def with_warehouse(self, url: str) -> Settings:
        """The same settings on a resolved warehouse URL (the embedded server's, once started)."""
        return replace(self, warehouse_url=url, secrets_from_env=self.secrets_from_env - {WAREHOUSE_URL})

    def child_environment(self) -> dict[str, str]:
        """The variables that give a child process (webserver, daemon, run workers) these same settings."""
        env = {
            "RETAIL_HOME": str(self.paths.home),
            "RETAIL_LANDING_DIR": str(self.paths.landing),
            "DAGSTER_HOME": str(self.instance_home),
        }
        if self.warehouse_url:
            env[WAREHOUSE_URL] = self.warehouse_url
        if self.oltp_url:
            env[OLTP_URL] = self.oltp_url
        if self.dashboard_url:
            env[DASHBOARD_URL] = self.dashboard_url
        return env


WAREHOUSE_URL = "RETAIL_WAREHOUSE_URL"
OLTP_URL = "RETAIL_OLTP_URL"
ALERT_WEBHOOK_URL = "RETAIL_ALERT_WEBHOOK_URL"
DASHBOARD_URL = "RETAIL_DASHBOARD_URL"
SECRET_VARIABLES = (WAREHOUSE_URL, OLTP_URL, ALERT_WEBHOOK_URL, DASHBOARD_URL)


class SettingError(ValueError):
    """A setting whose value cannot be used: one line naming the setting (any password masked), which the
    command line prints instead of a traceback."""


POSTGRES_SCHEMES = ("postgresql", "postgres")  # with or without a driver: postgresql+psycopg://


def masked_url(url: str) -> str:
    """``url`` with the password of its ``user:password@`` part shown as ``***`` (works on URLs that do not
    parse, too: they are the ones error messages quote)."""
    return re.sub(r"(^|://)([^:/@?#]*):[^/?#]*@", r"\1\2:***@", url, count=1)


def check_postgres_url(name: str, url: str) -> str:
    """``url`` when its scheme is PostgreSQL's (``postgresql``/``postgres``, optionally ``+driver``); a
    ``SettingError`` naming ``name`` otherwise. Checked before anything rewrites the scheme, so that a
    ``mysql://`` URL is refused instead of being tried as PostgreSQL."""
    scheme, separator, _ = url.partition("://")
    if not separator or scheme.split("+", 1)[0].lower() not in POSTGRES_SCHEMES:
        shown = f"{scheme}://" if separator else "no scheme"
        raise SettingError(
            f"{name} must be a PostgreSQL URL (postgresql://user:password@host:port/database), "
            f"got {shown}: {masked_url(url)}"
        )
    return url


class _Reader:
    """Typed reads of one environment, naming the variable when a value does not parse."""

    def __init__(self, environ: Mapping[str, str]):
        self.environ = environ

    def text(self, name: str, default: str | None = None) -> str | None:
        return self.environ.get(name) or default

    def postgres_url(self, name: str) -> str | None:
        value = self.text(name)
        return check_postgres_url(name, value) if value else None

    def number(self, name: str, default: float) -> float:
        value = self.environ.get(name)
        try:
            return float(value) if value else default
        except ValueError:
            raise ValueError(f"{name}={value!r} is not a number") from None

    def integer(self, name: str, default: int) -> int:
        return int(self.number(name, default))


def load_settings(environ: Mapping[str, str] | None = None, *, home: str | None = None) -> Settings:
    """Settings from an environment (default: this process's); ``home`` overrides ``RETAIL_HOME``."""
    read = _Reader(os.environ if environ is None else environ)
    dagster_home = read.text("DAGSTER_HOME")
    return Settings(
        paths=retail_paths(home or read.text("RETAIL_HOME"), read.text("RETAIL_LANDING_DIR")),
        warehouse_url=read.postgres_url(WAREHOUSE_URL),
        oltp_url=read.postgres_url(OLTP_URL),
        dashboard_url=read.postgres_url(DASHBOARD_URL),
        dagster_home=Path(dagster_home).expanduser().resolve() if dagster_home else None,
        ui_url=read.text("RETAIL_UI_URL", "http://127.0.0.1:3000").rstrip("/"),
        dashboard_host=read.text("RETAIL_DASHBOARD_HOST", "127.0.0.1"),
        dashboard_port=read.integer("RETAIL_DASHBOARD_PORT", 8501),
        webapp_role=read.text("RETAIL_WEBAPP_ROLE", "retail_webapp"),
        webapp_password=read.text("RETAIL_WEBAPP_PASSWORD"),
        refresh_interval_seconds=read.integer("RETAIL_REFRESH_INTERVAL_SECONDS", 5),
        full_refresh_cron=read.text("RETAIL_FULL_REFRESH_CRON", "0 3 * * 1"),
        first_month=_first_month(read),
        predictions_cron=read.text("RETAIL_PREDICTIONS_CRON", "30 4 * * *"),
        file_drop=FileDropSettings(
            interval_seconds=read.integer("RETAIL_FILE_DROP_INTERVAL_SECONDS", 10),
            settle_seconds=read.number("RETAIL_FILE_DROP_SETTLE_SECONDS", 5),
            max_in_flight=read.integer("RETAIL_FILE_DROP_MAX_IN_FLIGHT", 2),
            max_batch_files=read.integer("RETAIL_FILE_DROP_MAX_BATCH_FILES", 500),
            max_batch_bytes=read.integer("RETAIL_FILE_DROP_MAX_BATCH_BYTES", 1 << 30),
            max_attempts=read.integer("RETAIL_FILE_DROP_MAX_ATTEMPTS", 8),
        ),
        shop_sensor=ShopSensorSettings(
            interval_seconds=read.integer("RETAIL_OLTP_SENSOR_INTERVAL_SECONDS", 10),
            max_attempts=read.integer("RETAIL_OLTP_MAX_ATTEMPTS", 8),
        ),
        checks=CheckSettings(
            rejected_share_warn=read.number("RETAIL_CHECK_REJECTED_SHARE_WARN", 0.01),
            earliest_invoice_date=read.text("RETAIL_CHECK_EARLIEST_INVOICE_DATE", "2000-01-01"),
            implausible_dates_max_share=read.number("RETAIL_CHECK_IMPLAUSIBLE_DATES_MAX_SHARE", 0.01),
            row_drop_warn_share=read.number("RETAIL_CHECK_ROW_DROP_WARN_SHARE", 0.5),
            raw_freshness=timedelta(hours=read.number("RETAIL_FRESHNESS_RAW_HOURS", 26)),
            marts_freshness=timedelta(hours=read.number("RETAIL_FRESHNESS_MARTS_HOURS", 24 * 8)),
        ),
        plausibility=_plausibility(read),
        secrets_from_env=frozenset(name for name in SECRET_VARIABLES if read.text(name)),
    )


def _plausibility(read: _Reader) -> PlausibilitySettings:
    first_date = read.text("RETAIL_FIRST_PLAUSIBLE_DATE", "2000-01-01")
    try:
        date.fromisoformat(first_date)
    except ValueError:
        raise SettingError(f"RETAIL_FIRST_PLAUSIBLE_DATE={first_date!r} is not a date (YYYY-MM-DD)") from None
    return PlausibilitySettings(
        first_date=first_date,
        max_abs_unit_price=read.number("RETAIL_MAX_ABS_UNIT_PRICE", 1_000_000.0),
        max_abs_quantity=read.integer("RETAIL_MAX_ABS_QUANTITY", 1_000_000),
        max_days_ahead=read.integer("RETAIL_MAX_DAYS_AHEAD", 1),
    )


def _first_month(read: _Reader) -> str:
    """RETAIL_FIRST_MONTH (default 2000-01, safe for any shop: full refreshes record only the months with data)."""
    value = read.text("RETAIL_FIRST_MONTH", "2000-01")
    try:
        date.fromisoformat(f"{value}-01")
    except ValueError:
        raise SettingError(f"RETAIL_FIRST_MONTH={value!r} is not a month (YYYY-MM)") from None
    return value


@cache
def current_settings() -> Settings:
    """This process's settings, read from its environment once (the code location and run workers)."""
    return load_settings()

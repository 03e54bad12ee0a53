"""Resources: the warehouse connection and the local folders, configured from the environment (SPEC §6)."""

from functools import cache

import dagster as dg
from sqlalchemy import Engine

from retail_platform.settings import (
    ALERT_WEBHOOK_URL,
    OLTP_URL,
    WAREHOUSE_URL,
    RetailPaths,
    Settings,
    retail_paths,
)
from retail_platform.warehouse.connection import engine_for, redact, resolve_warehouse_url
from retail_platform.warehouse.migrations import migrate


@cache
def _migrated_engine(url: str) -> Engine:
    engine = engine_for(url)
    migrate(engine)
    return engine


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse.

    ``url`` (``RETAIL_WAREHOUSE_URL``) names any server; left unset, the embedded server under
    ``RETAIL_HOME`` is used, started on first use and shared by every process. Migrations are applied once
    per process before the first query, so a fresh database needs no manual step.
    """

    url: str | None = None
    home: str | None = None

    def get_url(self) -> str:
        return resolve_warehouse_url(self.url, retail_paths(self.home))

    def get_engine(self) -> Engine:
        return _migrated_engine(self.get_url())

    def describe(self) -> str:
        return redact(self.get_url())


class RetailPathsResource(dg.ConfigurableResource):
    """Local folders: landing, archive, rejected and charts under ``RETAIL_HOME`` (``RETAIL_LANDING_DIR``
    moves the landing folder elsewhere, e.g. to a shared drive)."""

    home: str | None = None
    landing_dir: str | None = None

    def paths(self) -> RetailPaths:
        return retail_paths(self.home, self.landing_dir).ensure()


class ShopDatabaseResource(dg.ConfigurableResource):
    """The shop's transactional (OLTP) database, the source of the incremental extract.

    ``url`` (``RETAIL_OLTP_URL``) names it; left unset, it is the database ``<warehouse database>_shop`` on the
    warehouse's server (the embedded server by default), which ``retail-platform simulate-shop`` creates. A
    default database that does not exist yet means "no shop yet", not an error.
    """

    url: str | None = None

    def source(self, warehouse: WarehouseResource):
        from retail_platform.oltp.connection import resolve_shop_source

        return resolve_shop_source(self.url, warehouse.get_url())

    def get_engine(self, warehouse: WarehouseResource) -> Engine:
        from retail_platform.warehouse.connection import engine_for

        return engine_for(self.source(warehouse).url)


def _secret(settings: Settings, name: str) -> dg.EnvVar | None:
    """``EnvVar(name)`` when the variable was set, so its value (it may hold a password) stays out of the UI;
    None lets the resource fall back to its default."""
    return dg.EnvVar(name) if name in settings.secrets_from_env else None


def default_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """The code location's resources, from resolved settings (``current_settings()`` in a code server)."""
    from retail_platform.defs.alerting import AlertingResource

    return {
        "alerting": AlertingResource(
            webhook_url=_secret(settings, ALERT_WEBHOOK_URL), ui_url=settings.ui_url
        ),
        "warehouse": WarehouseResource(
            url=_secret(settings, WAREHOUSE_URL) or settings.warehouse_url, home=str(settings.paths.home)
        ),
        "retail_paths": RetailPathsResource(
            home=str(settings.paths.home), landing_dir=str(settings.paths.landing)
        ),
        "shop": ShopDatabaseResource(url=_secret(settings, OLTP_URL) or settings.oltp_url),
    }

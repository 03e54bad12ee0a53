"""Resources: the warehouse connection and the local folders, configured from the environment (SPEC §6)."""

import os
from functools import cache

import dagster as dg
from sqlalchemy import Engine

from retail_platform.settings import RetailPaths, retail_paths
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


def env_or_none(name: str) -> dg.EnvVar | None:
    """``EnvVar(name)`` when the variable is set; None lets the resource fall back to its default.

    A bare ``EnvVar`` of an unset variable is an error in Dagster, but every setting here has a default.
    """
    return dg.EnvVar(name) if os.environ.get(name) else None


def default_resources() -> dict[str, dg.ConfigurableResource]:
    from retail_platform.defs.alerting import AlertingResource

    return {
        "alerting": AlertingResource(webhook_url=env_or_none("RETAIL_ALERT_WEBHOOK_URL")),
        "warehouse": WarehouseResource(
            url=env_or_none("RETAIL_WAREHOUSE_URL"), home=env_or_none("RETAIL_HOME")
        ),
        "retail_paths": RetailPathsResource(
            home=env_or_none("RETAIL_HOME"), landing_dir=env_or_none("RETAIL_LANDING_DIR")
        ),
    }


def shop_resource() -> ShopDatabaseResource:
    """The shop database resource, bound to the assets and sensors that read the shop (not a top-level
    resource: callers that pass their own resource dict for every asset need not know about the shop).
    Left unset, ``RETAIL_OLTP_URL`` is also read when the resource is used, not only at import."""
    return ShopDatabaseResource(url=env_or_none("RETAIL_OLTP_URL"))

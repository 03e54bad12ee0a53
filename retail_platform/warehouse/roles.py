"""The web application's read-only LOGIN role: a member of ``retail_reader`` (migration 001), nothing more.

``retail-platform create-webapp-role`` calls ``create_webapp_role`` with the password from
``RETAIL_WEBAPP_PASSWORD`` (never from a file or the command line, where shells and ``ps`` keep it). The
password is turned into a SCRAM-SHA-256 verifier by libpq on this side, so the server only ever stores and
sees the verifier. Running it again changes the password and leaves everything else as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from retail_platform.warehouse.connection import libpq_url
from retail_platform.warehouse.sql_files import read_sql

ROLE_ENV = "RETAIL_WEBAPP_ROLE"
PASSWORD_ENV = "RETAIL_WEBAPP_PASSWORD"
DEFAULT_ROLE = "retail_webapp"
MIN_PASSWORD_LENGTH = 12
READER_ROLE = "retail_reader"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class RoleResult:
    role: str
    created: bool


def check_role_name(role: str) -> str:
    """A plain lower-case identifier that is not a built-in or the platform's own group role."""
    if (
        not _ROLE_NAME.match(role)
        or role.startswith("pg_")
        or role in {READER_ROLE, "retail_monitor", "public"}
    ):
        raise ValueError(
            f"not a usable name for the web application's role: {role!r} (lower-case letters, digits and _, "
            "not pg_*, not retail_reader/retail_monitor)"
        )
    return role


def check_password(password: str | None) -> str:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"{PASSWORD_ENV} must be set to a password of at least {MIN_PASSWORD_LENGTH} characters"
        )
    return password


def create_webapp_role(url: str, role: str, password: str) -> RoleResult:
    """Create (or update) LOGIN role ``role`` with ``password``, member of ``retail_reader``, read-only by
    default. Refuses an existing role that is a superuser or the connecting user (it would be demoted)."""
    role, password = check_role_name(role), check_password(password)
    with psycopg.connect(libpq_url(url)) as conn:
        existing = conn.execute(
            "SELECT rolsuper, rolname = current_user FROM pg_roles WHERE rolname = %s", (role,)
        ).fetchone()
        if existing is not None and (existing[0] or existing[1]):
            raise ValueError(
                f"role {role!r} is a superuser or the connecting user: not turning it into the web app's"
            )
        identifier = sql.Identifier(role)
        if existing is None:
            conn.execute(sql.SQL(read_sql("queries/webapp_role_create.sql")).format(role=identifier))
        verifier = conn.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode()
        conn.execute(
            sql.SQL(read_sql("queries/webapp_role_configure.sql")).format(
                role=identifier, verifier=sql.Literal(verifier)
            )
        )
    return RoleResult(role, created=existing is None)

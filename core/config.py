"""Settings read from the environment, with defaults that work on a laptop.

| variable              | default                         | meaning                              |
|-----------------------|---------------------------------|--------------------------------------|
| ASSAY_HOME            | ./.assay                        | where the embedded store lives       |
| ASSAY_DATABASE_URL    | sqlite:///$ASSAY_HOME/assay.db  | any SQLAlchemy URL (PostgreSQL too)  |
| ASSAY_MAX_UPLOAD_MB   | 1024                            | files above this are refused unread  |
| ASSAY_SQL_ROW_LIMIT   | 5000000                         | rows a SQL import may return         |
| ASSAY_AUTH            | none                            | none, header (trusted reverse proxy) or oidc (Streamlit login) |
| ASSAY_AUTH_HEADER     | X-Forwarded-User                | the header a trusted proxy sets      |
| ASSAY_USER            |                                 | who runs the CLI in team mode        |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Settings", "settings"]


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    max_upload_mb: float
    sql_row_limit: int
    auth: str = "none"
    auth_header: str = "X-Forwarded-User"
    cli_user: str | None = None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


def settings() -> Settings:
    """Read the settings now (tests change the environment between calls)."""
    home = Path(os.environ.get("ASSAY_HOME", ".assay")).resolve()
    url = os.environ.get("ASSAY_DATABASE_URL") or f"sqlite:///{home / 'assay.db'}"
    return Settings(
        home=home,
        database_url=url,
        max_upload_mb=float(os.environ.get("ASSAY_MAX_UPLOAD_MB", "1024")),
        sql_row_limit=int(os.environ.get("ASSAY_SQL_ROW_LIMIT", "5000000")),
        auth=_auth_mode(os.environ.get("ASSAY_AUTH", "none")),
        auth_header=os.environ.get("ASSAY_AUTH_HEADER", "X-Forwarded-User"),
        cli_user=os.environ.get("ASSAY_USER") or None,
    )


AUTH_MODES = ("none", "header", "oidc")


def _auth_mode(value: str) -> str:
    mode = value.strip().lower()
    if mode not in AUTH_MODES:
        raise ValueError(f"ASSAY_AUTH must be one of {list(AUTH_MODES)}; got {value!r}.")
    return mode

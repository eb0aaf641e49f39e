"""Settings read from the environment, with defaults that work on a laptop.

| variable              | default                         | meaning                              |
|-----------------------|---------------------------------|--------------------------------------|
| ASSAY_HOME            | ./.assay                        | where the embedded store lives       |
| ASSAY_DATABASE_URL    | sqlite:///$ASSAY_HOME/assay.db  | any SQLAlchemy URL (PostgreSQL too)  |
| ASSAY_MAX_UPLOAD_MB   | 1024                            | files above this are refused unread  |
| ASSAY_SQL_ROW_LIMIT   | 5000000                         | rows a SQL import may return         |
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
    )

"""Shared fixtures: an isolated ASSAY_HOME per test, and stores on SQLite and PostgreSQL.

PostgreSQL runs when ``ASSAY_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); each
test gets its own schema, dropped afterwards. With ``ASSAY_REQUIRE_POSTGRES=1`` a
missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from core import store

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
SAMPLES = ROOT / "sample_data"


def dataset_path(name: str) -> Path:
    """A real dataset from sample_data/ (always in the checkout), else ../shared/datasets."""
    for folder in (SAMPLES, DATASETS):
        if (folder / name).is_file():
            return folder / name
    pytest.skip(f"dataset {name} is not available here")


@pytest.fixture(autouse=True)
def assay_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "assay-home"
    monkeypatch.setenv("ASSAY_HOME", str(home))
    monkeypatch.setenv("ASSAY_DATABASE_URL", f"sqlite:///{home / 'assay.db'}")
    return home


def _postgres_base() -> str | None:
    url = os.environ.get("ASSAY_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("ASSAY_REQUIRE_POSTGRES") == "1":
            pytest.fail("ASSAY_REQUIRE_POSTGRES=1 but ASSAY_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need ASSAY_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)")
    return url


@pytest.fixture
def postgres_url():
    """A fresh, empty schema on the test PostgreSQL server, as a SQLAlchemy URL."""
    base = _postgres_base()
    schema = f"assay_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    store.dispose_engines()
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def any_engine(any_url):
    engine = store.init_store(any_url)
    yield engine
    store.dispose_engines()


@pytest.fixture
def engine(tmp_path):
    engine = store.init_store(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    store.dispose_engines()


@pytest.fixture
def project_id(engine) -> int:
    with store.write_session(engine) as s:
        return store.create_project(s, "Test project").id

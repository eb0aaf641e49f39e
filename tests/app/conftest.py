from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import store

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def new_app():
    """A factory of fresh AppTest runs over the test's store (like a new browser session)."""

    def make() -> AppTest:
        return AppTest.from_file(APP, default_timeout=60)

    yield make
    store.dispose_engines()


@pytest.fixture
def demo_project() -> int:
    with store.write_session() as s:
        return store.create_project(s, "Demo").id


def shown(elements) -> list[str]:
    """The text of st.error/st.info/... elements as a person reads it (Markdown escapes removed:
    user errors are escaped so a column name can never render as a link or image)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]

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


@pytest.fixture(autouse=True)
def _navigation_as_in_the_server(monkeypatch):
    """Run every AppTest rerun through app.py, as the real server does.

    A running server decides once per process that the app uses ``st.navigation``
    (the first call sets ``PagesManager.uses_pages_directory = False``). AppTest
    resets that flag before each run, and because our pages live in a folder named
    ``pages/`` it then falls back to Streamlit's legacy multipage mode, running the
    page file directly without app.py's project sidebar and error guard. Keep the
    flag as the server has it.
    """
    from streamlit.runtime import pages_manager

    original = pages_manager.PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False

    monkeypatch.setattr(pages_manager.PagesManager, "__init__", init)


def shown(elements) -> list[str]:
    """The text of st.error/st.info/... elements as a person reads it (Markdown escapes removed:
    user errors are escaped so a column name can never render as a link or image)."""
    return [re.sub(r"\\(.)", r"\1", str(e.value)) for e in elements]

# The browser fixtures, for robustness tests that drive the real app.
from tests.e2e.conftest import app_server, browser, page  # noqa: F401

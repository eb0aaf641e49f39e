"""Team mode in a real browser: two users behind a trusted proxy header."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AppServer, wait_for_app

pytestmark = pytest.mark.e2e


@pytest.fixture
def team_server(tmp_path):
    server = AppServer(tmp_path / "team-home", env={"ASSAY_AUTH": "header"}).start()
    yield server
    server.stop()


def _as(browser, user: str | None):
    headers = {"X-Forwarded-User": user} if user else {}
    context = browser.new_context(extra_http_headers=headers, viewport={"width": 1400, "height": 1000})
    return context, context.new_page()


def test_each_user_sees_only_their_projects(team_server, browser):
    alice_ctx, alice = _as(browser, "alice@example.com")
    alice.goto(team_server.url, wait_until="domcontentloaded")
    wait_for_app(alice)
    expect(alice.get_by_text("Signed in as alice@example.com")).to_be_visible()
    alice.get_by_label("Project name").last.fill("Alice secret")
    alice.get_by_role("button", name="Create project").last.click()
    expect(alice.get_by_text("Project Alice secret · add a table")).to_be_visible()
    project_url = alice.url
    assert "project=" in project_url

    bob_ctx, bob = _as(browser, "bob@example.com")
    bob.goto(project_url, wait_until="domcontentloaded")  # even with the link, bob cannot open it
    wait_for_app(bob)
    expect(bob.get_by_text("Create a project to start")).to_be_visible()
    expect(bob.get_by_text("Alice secret")).to_have_count(0)

    anon_ctx, anon = _as(browser, None)
    anon.goto(team_server.url, wait_until="domcontentloaded")
    expect(anon.get_by_text("expects the signed-in user in the 'X-Forwarded-User' header")).to_be_visible()
    for context in (alice_ctx, bob_ctx, anon_ctx):
        context.close()

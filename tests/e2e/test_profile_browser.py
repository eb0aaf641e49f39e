"""The Profile page in a real browser: user data never runs as script, in the overview
or in the full report, and the report cannot reach the app's origin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e

PAYLOAD = "<img src=x onerror=alert(1)>"
SPY = "window.alert = (m) => console.log('ALERT-CALLED ' + m);"  # in every frame, before its scripts


def _upload(page, app_server, path):
    page.goto(app_server.url, wait_until="domcontentloaded")
    wait_for_app(page)
    page.get_by_label("Project name").last.fill("Shop")
    page.get_by_role("button", name="Create project").last.click()
    expect(page.get_by_text("Project Shop · add a table")).to_be_visible()
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="Save dataset").click()
    expect(page.get_by_text("Saved 'orders'")).to_be_visible()


def test_a_payload_in_a_cell_and_a_column_name_stays_text(app_server, page, tmp_path):
    rows = [f"A-{i},{i * 1.5},{i % 4},{'paid' if i % 3 else PAYLOAD}" for i in range(40)]
    data = tmp_path / "orders.csv"
    data.write_text(f"order,amount,{PAYLOAD},status\n" + "\n".join(rows) + "\n")
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    page.context.add_init_script(SPY)

    _upload(page, app_server, data)
    page.get_by_role("link", name="Profile").click()
    expect(page.get_by_role("heading", name="What needs attention")).to_be_visible(timeout=60_000)

    # the column name: in the column table, and as a chart title once picked
    grid = page.locator('[data-testid="stDataFrame"]').nth(1)
    expect(grid).to_contain_text(PAYLOAD, timeout=30_000)
    page.get_by_label("Look at a column").click()
    page.get_by_role("option", name=PAYLOAD, exact=True).click()
    expect(page.locator(".gtitle").first).to_have_text(PAYLOAD, timeout=30_000)
    # the cell value: a bar label of the status column
    page.get_by_label("Look at a column").click()
    page.get_by_role("option", name="status", exact=True).click()
    expect(page.locator(".ytick text").filter(has_text=PAYLOAD)).to_have_count(1, timeout=30_000)
    assert page.locator('img[src="x"]').count() == 0

    # the full report, made by a worker, shown sandboxed
    page.get_by_role("tab", name="Full report").click()
    page.get_by_role("button", name="Make the full report").click()
    expect(page.get_by_text("Show the report here")).to_be_visible(timeout=240_000)
    expect(page.get_by_role("button", name="Download the report (HTML)")).to_be_visible()
    page.get_by_text("Show the report here").click()
    outer = page.frame_locator('iframe[title="Full profile report"]')
    expect(outer.frame_locator("iframe").locator("body")).to_contain_text("Overview", timeout=60_000)
    report = next(f for f in page.frames if f.parent_frame is not None and f.parent_frame.parent_frame is not None)
    assert report.evaluate("document.body.textContent.includes(%r)" % PAYLOAD)  # the cell, as text
    assert report.evaluate("window.origin") == "null"  # an opaque origin, not the app's
    assert report.evaluate("(() => { try { return parent.document.title } catch (e) { return 'blocked' } })()") \
        == "blocked"
    assert report.evaluate("typeof bootstrap") == "object"  # the report's own scripts do run
    page.wait_for_timeout(1000)
    assert page.dialogs == [] and not [m for m in console if "ALERT-CALLED" in m]

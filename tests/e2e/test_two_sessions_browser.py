"""Two browser sessions edit the same dataset's recipe: the second is told, nothing is lost."""

from __future__ import annotations

import pandas as pd
import pytest
from playwright.sync_api import expect

from core import store
from core.recipe import Recipe
from tests.e2e.conftest import wait_for_app

pytestmark = pytest.mark.e2e


def _open(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    page.goto(url, wait_until="domcontentloaded")
    expect(page.get_by_text("Project Shared")).to_be_visible()
    page.get_by_role("link", name="Clean").click()
    expect(page.get_by_text("No steps yet: the table is as it was uploaded.")).to_be_visible()
    wait_for_app(page)
    return context, page


def _choose_column(page, column: str) -> None:
    page.get_by_label("Columns to drop").click()
    page.get_by_role("option", name=column, exact=True).click()
    page.keyboard.press("Escape")
    expect(page.get_by_text(f"Drop '{column}'").first).to_be_visible()
    wait_for_app(page)


def _steps(engine, dataset_id) -> list[str]:
    with store.read_session(engine) as s:
        head = store.head_recipe(s, dataset_id)
    return [step.describe() for step in Recipe.from_dict(head.steps if head else {}).clean]


def test_the_second_browser_is_told_and_both_steps_end_up_stored(app_server, browser):
    engine = store.init_store(f"sqlite:///{app_server.home / 'assay.db'}")
    with store.write_session(engine) as s:
        project_id = store.create_project(s, "Shared").id
        dataset_id = store.save_dataset(s, project_id, "orders", pd.DataFrame(
            {"a": [1, 2], "b": [3, 4], "c": ["x", "y"]})).id
    url = f"{app_server.url}/?project={project_id}"
    (alice_ctx, alice), (bob_ctx, bob) = _open(browser, url), _open(browser, url)
    _choose_column(alice, "a")
    _choose_column(bob, "c")

    alice.get_by_role("button", name="Add step").click()
    expect(alice.get_by_text("1. Drop 'a'")).to_be_visible()
    assert _steps(engine, dataset_id) == ["Drop 'a'"]

    bob.get_by_role("button", name="Add step").click()  # bob's screen still shows no steps
    expect(bob.get_by_text("The recipe was changed by someone else while you were editing it; "
                           "your change was not saved.")).to_be_visible()
    wait_for_app(bob)
    assert _steps(engine, dataset_id) == ["Drop 'a'"], "alice's step survives bob's stale edit"
    expect(bob.get_by_text("1. Drop 'a'")).to_be_visible()  # the same run now shows alice's step

    expect(bob.get_by_text("Drop 'c'").first).to_be_visible()  # bob's choice is still in the form: add it again
    bob.get_by_role("button", name="Add step").click()
    expect(bob.get_by_text("2. Drop 'c'")).to_be_visible()
    assert _steps(engine, dataset_id) == ["Drop 'a'", "Drop 'c'"]
    assert alice.dialogs == [] and bob.dialogs == []
    store.dispose_engines()
    alice_ctx.close()
    bob_ctx.close()

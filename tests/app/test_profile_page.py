"""The Profile page driven through Streamlit's AppTest."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import datasets, ingest, jobs, profile_report, store
from core.recipe import Recipe
from tests.conftest import dataset_path


def _reports(kind: str = "profile") -> int:
    with store.read_session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(store.Report).where(store.Report.kind == kind))


@pytest.fixture
def bikes(demo_project) -> store.Dataset:
    with store.write_session() as s:
        return datasets.save_loaded(s, demo_project, "bikes", ingest.load(dataset_path("bikeshare.csv")),
                                    {"target": "bikers"})


def _open(new_app):
    at = new_app().run()
    at.switch_page("views/profile.py").run()
    assert not at.exception
    return at


def _tab(at, name: str):
    at.session_state["profile.tab"] = name
    return at.run()


def test_alerts_come_first_and_the_leak_is_named(new_app, bikes):
    at = _open(new_app)
    assert at.title[0].value == "Profile"
    assert [m.value for m in at.metric] == ["8,645", "15", "0", "0", "896.3 KB"]
    leaks = [e.value for e in at.error]  # one box for the one leak, though it names two columns
    assert len(leaks) == 1 and r"casual' \+ 'registered" in leaks[0]
    others = at.dataframe[0].value
    assert others["What"].tolist() == ["'casual' is skewed to the right (a long tail of large values): skew 2.4."]
    columns = at.dataframe[1].value
    assert columns["Column"].tolist()[:3] == ["season", "mnth", "day"] and len(columns) == 15


def test_the_profile_is_computed_once_and_reused_by_a_new_session(new_app, bikes):
    at = _open(new_app)
    assert _reports() == 1
    at.run()
    at.selectbox(key=f"profile.column.{bikes.id}").set_value("temp").run()
    assert not at.exception and _reports() == 1
    _open(new_app)  # a reload: a new session, same store
    assert _reports() == 1


def test_another_target_is_another_profile(new_app, bikes):
    at = _open(new_app)
    at.selectbox(key=f"profile.target.{bikes.id}").set_value("(none)").run()
    assert not at.exception and [e.value for e in at.error] == [] and _reports() == 2
    at = _tab(at, "Target")
    assert "Pick a target above" in at.info[0].value


def test_each_tab_draws_without_error(new_app, bikes):
    at = _open(new_app)
    at = _tab(at, "Correlations")
    pairs = at.dataframe[-1].value
    assert not at.exception and pairs.iloc[0].tolist()[:3] == ["mnth", "day", "correlation ratio"]
    at.segmented_control(key="profile.measure").set_value("Cramér's V").run()
    assert not at.exception
    at = _tab(at, "Target")
    assert not at.exception and "Task: regression" in at.caption[-1].value
    at = _tab(at, "Missing values")
    assert at.success[0].value == "No value is missing."


def test_the_profile_follows_the_cleaning_recipe(new_app, bikes):
    steps = Recipe.from_dict({"clean": [{"kind": "drop_columns", "columns": ["casual", "registered"]}]}).to_dict()
    with store.write_session() as s:
        store.save_recipe(s, bikes.id, steps)
    at = _open(new_app)
    assert [m.value for m in at.metric][:2] == ["8,645", "13"] and at.error == []
    assert "After the 1 cleaning step(s) of the recipe." in at.caption[1].value


def test_full_report_starts_a_job_then_shows_the_stored_report(new_app, bikes):
    at = _tab(_open(new_app), "Full report")
    assert "on a random sample" not in at.markdown[-1].value  # 8,645 rows: all of them
    at.button(key="profile.make_report").click().run()
    assert not at.exception
    with store.write_session() as s:
        (job,) = jobs.list_jobs(s, bikes.project_id, kind=profile_report.JOB_KIND)
        assert (job.dataset_id, job.params) == (bikes.id, {"clean_steps": [], "target": "bikers",
                                                           "sample_rows": profile_report.SAMPLE_ROWS})
        jobs.request_cancel(s, job.id)
    jobs.wait(job.id, timeout=120)

    html = profile_report.harden_html("<!doctype html><p>stored report</p>")
    with store.read_session() as s:
        dataset = store.get_dataset(s, bikes.id)
    profile_report.save_report(store.init_store(), dataset, [], "bikers", html,
                               {"rows": 8645, "profiled_rows": 8645, "sampled": False, "seconds": 1.0,
                                "ydata_profiling": "4.18.4"})
    at = _tab(new_app().run().switch_page("views/profile.py").run(), "Full report")
    assert not at.exception
    assert "with ydata-profiling 4.18.4 in 1.0 s" in at.caption[-1].value
    at.toggle(key="profile.show_report").set_value(True).run()
    assert not at.exception and _reports("ydata_report") == 1

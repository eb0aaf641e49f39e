"""The Data page driven through Streamlit's AppTest."""

from __future__ import annotations

from core import store
from tests.app.conftest import shown


def _texts(at) -> str:
    parts = [*shown(at.markdown), *shown(at.success), *shown(at.error), *shown(at.warning), *shown(at.info),
             *shown(at.caption)]
    return "\n".join(parts)


def _by_label(widgets, label):
    return next(w for w in widgets if w.label == label)


def test_first_visit_asks_for_a_project(new_app):
    at = new_app().run()
    assert not at.exception
    assert "Create a project to start" in _texts(at)
    at.text_input(key="assay.new_name.main").set_value("../x")
    form_button = next(b for b in at.button if b.label == "Create project")
    form_button.click().run()
    assert "contains '/'" in _texts(at)
    with store.read_session() as s:
        assert store.list_projects(s) == []
    at.text_input(key="assay.new_name.main").set_value("Sales")
    next(b for b in at.button if b.label == "Create project").click().run()
    assert not at.exception
    with store.read_session() as s:
        assert [p.name for p in store.list_projects(s)] == ["Sales"]
    assert at.title[0].value == "Data"


def test_upload_preview_save_and_see_it_in_a_new_session(new_app, demo_project):
    at = new_app().run()
    assert not at.exception
    csv = b"city,temp,rainy\nOslo,3.5,yes\nRome,18.25,no\n<b>x</b>,7,yes\n"
    at.file_uploader[0].set_value(("weather.csv", csv, "text/csv")).run()
    assert not at.exception
    assert "Preview: weather.csv" in [h.value.replace("\\", "") for h in at.subheader]
    assert [m.value for m in at.metric][:2] == ["3", "3"]
    kinds = at.data_editor[0].value
    assert kinds["kind"].tolist() == ["categorical", "float", "boolean"]
    assert _by_label(at.text_input, "Dataset name").value == "weather"
    _by_label(at.selectbox, "Target").set_value("rainy")
    at.button(key="save").click().run()
    assert not at.exception
    assert "Saved 'weather' (3 rows) to 'Demo'." in _texts(at)

    fresh = new_app().run()  # a reload: new session, same store
    assert not fresh.exception
    table = fresh.dataframe[0].value
    assert table["Dataset"].tolist() == ["weather"] and table["Target"].tolist() == ["rainy"]
    with store.read_session() as s:
        dataset = store.list_datasets(s, demo_project)[0]
        frame = store.read_dataset_frame(s, dataset)
    assert frame["city"].tolist()[2] == "<b>x</b>" and frame["rainy"].tolist() == [True, False, True]


def test_a_bad_file_shows_the_reason_and_saves_nothing(new_app, demo_project):
    at = new_app().run()
    at.file_uploader[0].set_value(("broken.csv", b"a,b\n1,2\n3\n", "text/csv")).run()
    assert not at.exception
    assert "Line 3 of 'broken.csv' has 1 fields, but the header has 2." in _texts(at)
    with store.read_session() as s:
        assert store.list_datasets(s, demo_project) == []


def test_sample_data_is_one_click(new_app, demo_project):
    at = new_app().run()
    at.segmented_control(key="upload.source").set_value("Sample data").run()
    at.button(key="upload.sample.penguins").click().run()
    assert not at.exception
    assert "Preview: penguins.csv" in [h.value.replace("\\", "") for h in at.subheader]
    at.button(key="save").click().run()
    with store.read_session() as s:
        dataset = store.list_datasets(s, demo_project)[0]
    assert (dataset.name, dataset.n_rows, dataset.roles) == ("penguins", 344, {"target": "species"})


def test_kind_override_reloads_the_column(new_app, demo_project):
    at = new_app().run()
    at.file_uploader[0].set_value(("z.csv", b"zip,n\n501,1\n601,2\n", "text/csv")).run()
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"kind": "text"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert at.data_editor[0].value["kind"].tolist()[0] == "text"
    assert "set by you" in at.data_editor[0].value["reason"].tolist()[0]


def test_import_a_project_file_from_the_sidebar(new_app, demo_project, tmp_path):
    import pandas as pd

    from core import portable

    with store.write_session() as s:
        source = store.create_project(s, "Shared").id
        store.save_dataset(s, source, "sales", pd.DataFrame({"x": [1, 2]}))
    data = portable.export_project(store.init_store(), source, tmp_path / "shared.assay").read_bytes()
    at = new_app().run()
    at.file_uploader(key="assay.import.sidebar").set_value(("shared.assay", data, "application/octet-stream")).run()
    at.button(key="assay.import_go.sidebar").click().run()
    assert not at.exception
    with store.read_session() as s:
        names = sorted(p.name for p in store.list_projects(s))
    assert names == ["Demo", "Shared", "Shared (2)"]
    at.file_uploader(key="assay.import.sidebar").set_value(("bad.assay", b"nope", "application/octet-stream")).run()
    at.button(key="assay.import_go.sidebar").click().run()
    assert any("not an SQLite database" in e for e in shown(at.error))


def test_without_authentication_the_app_refuses_a_public_address(new_app):
    from streamlit import config

    config.set_option("server.address", "0.0.0.0")
    try:
        at = new_app().run()
    finally:
        config.set_option("server.address", "localhost")
    assert any("without authentication" in e.value for e in at.error)
    assert not at.title  # nothing of the app was drawn

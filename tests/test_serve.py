"""The prediction service: a real uvicorn server (``assay serve``) on a free loopback port."""

from __future__ import annotations

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from core import scoring
from core.cli import build_parser
from tests.conftest import dataset_path
from tests.model_helpers import load, make_bundle

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    """``python -m core.cli serve ...`` in its own process group; stopped by its own id."""

    def __init__(self, args: list[str], home: Path, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / "serve.log"
        env = {**os.environ, "ASSAY_HOME": str(home), "ASSAY_DATABASE_URL": f"sqlite:///{home / 'assay.db'}",
               **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "serve", *args, "--port", str(self.port)], cwd=ROOT, env=env,
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self) -> Service:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.3)
        raise RuntimeError("the service did not answer within 120 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def penguins():
    return load(dataset_path("penguins.csv"))


@pytest.fixture(scope="module")
def bundle(penguins):
    frame, kinds = penguins
    return make_bundle(frame, kinds, "species", "multiclass", families=("catboost", "rf"))


@pytest.fixture(scope="module")
def service(bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    path = folder / "penguins model.zip"
    path.write_bytes(bundle.to_bytes())
    running = Service([str(path)], folder / "home")
    try:
        yield running.wait()
    finally:
        running.stop()


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as a client sends them: JSON values, missing as null."""
    return json.loads(frame.to_json(orient="records", date_format="iso"))


def test_health_and_schema_describe_the_model(service, bundle):
    assert httpx.get(f"{service.url}/health").json() == {
        "status": "ok", "model": "penguins model.zip", "task": "multiclass", "target": "species"}
    schema = httpx.get(f"{service.url}/schema").json()
    assert {c["name"]: c["kind"] for c in schema["columns"]} == bundle.input_schema
    assert schema["classes"] == ["Adelie", "Chinstrap", "Gentoo"] and schema["max_records"] == 10_000


def test_the_openapi_spec_lists_the_real_columns_and_classes(service, bundle):
    spec = httpx.get(f"{service.url}/openapi.json").json()
    record = spec["components"]["schemas"]["Record"]
    assert list(record["properties"]) == list(bundle.input_schema)
    assert record["required"] == list(bundle.input_schema)
    types = {name: {t["type"] for t in prop["anyOf"]} for name, prop in record["properties"].items()}
    assert types["bill_length_mm"] == {"number", "null"} and types["island"] == {"string", "null"}
    assert spec["components"]["schemas"]["Prediction"]["properties"]["prediction"]["enum"] == bundle.classes
    assert "/predict" in spec["paths"] and httpx.get(f"{service.url}/docs").status_code == 200


def test_predictions_equal_the_in_process_scores(service, bundle, penguins):
    rows = penguins[0].drop(columns=["species"]).iloc[::9]
    answer = httpx.post(f"{service.url}/predict", json={"records": records(rows)})
    assert answer.status_code == 200, answer.text
    got = answer.json()["predictions"]
    expected = scoring.score(bundle, rows).predictions
    assert [p["prediction"] for p in got] == expected["prediction"].tolist()
    for p, (_, row) in zip(got, expected.iterrows()):
        assert p["probabilities"] == {c: row[f"proba:{c}"] for c in bundle.classes}  # exact, not approximate
        assert math.isclose(sum(p["probabilities"].values()), 1.0)
    assert answer.json()["ignored_columns"] == []


def test_extra_keys_are_ignored_and_listed(service, penguins):
    row = records(penguins[0].drop(columns=["species"]).head(1))[0]
    plain = httpx.post(f"{service.url}/predict", json={"records": [row]}).json()
    extra = httpx.post(f"{service.url}/predict",
                       json={"records": [{**row, "note": "vip", "species": "Adelie"}]}).json()
    assert extra["predictions"] == plain["predictions"] and extra["ignored_columns"] == ["note"]


def test_a_bad_value_is_a_422_naming_the_record_and_column(service, penguins):
    rows = records(penguins[0].drop(columns=["species"]).head(3))
    rows[2]["flipper_length_mm"] = "long"
    answer = httpx.post(f"{service.url}/predict", json={"records": rows})
    assert answer.status_code == 422
    body = answer.json()
    assert body["message"].startswith("Record 2, column 'flipper_length_mm': Input should be a valid number")
    assert "(got 'long')" in body["message"]
    assert body["detail"][0]["record"] == 2 and body["detail"][0]["column"] == "flipper_length_mm"


def test_a_missing_column_is_a_422_saying_to_send_null(service, penguins):
    row = records(penguins[0].drop(columns=["species", "island"]).head(1))[0]
    answer = httpx.post(f"{service.url}/predict", json={"records": [row]})
    assert answer.status_code == 422
    assert answer.json()["message"] == "Record 0, column 'island': is missing (send null for an unknown value)."
    row["island"] = None  # null is allowed: an unknown value
    assert httpx.post(f"{service.url}/predict", json={"records": [row]}).status_code == 200


@pytest.mark.parametrize("body, needle", [
    ({"records": []}, "Request: List should have at least 1 item"),
    ({"rows": [{}]}, "Request: records is missing"),
    ({"records": [["Biscoe", 1.0]]}, "Record 0: Input should be a valid dictionary"),
])
def test_malformed_requests_are_422_with_a_sentence(service, body, needle):
    answer = httpx.post(f"{service.url}/predict", json=body)
    assert answer.status_code == 422 and answer.json()["message"].startswith(needle), answer.text


def test_bodies_that_are_not_json_are_refused(service):
    answer = httpx.post(f"{service.url}/predict", content=b"island=Biscoe",
                        headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 422
    broken = httpx.post(f"{service.url}/predict", content=b'{"records": [', headers={"content-type": "application/json"})
    assert broken.status_code == 422 and "JSON" in broken.json()["message"]


def test_numbers_sent_for_labels_read_as_labels(service, bundle, penguins):
    row = records(penguins[0].drop(columns=["species"]).head(1))[0]
    answer = httpx.post(f"{service.url}/predict", json={"records": [{**row, "island": 3}]})
    assert answer.status_code == 200
    rows = pd.DataFrame([{**row, "island": "3"}])
    expected = scoring.score(bundle, rows.astype({"island": "category"})).predictions
    assert answer.json()["predictions"][0]["prediction"] == expected["prediction"].iloc[0]


def test_requests_addressed_to_another_host_name_are_refused(service):
    """Bound to loopback, the service answers only localhost names (no DNS rebinding)."""
    assert httpx.get(f"{service.url}/health", headers={"host": "attacker.example"}).status_code == 400
    assert httpx.get(f"http://localhost:{service.port}/health").status_code == 200


def _other_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.250", 9))  # no packet is sent: this only picks the outgoing interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_it_binds_to_loopback_unless_told_otherwise(service):
    args = build_parser().parse_args(["serve", "model.zip"])
    assert (args.host, args.port) == ("127.0.0.1", 8000)
    address = _other_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{address}:{service.port}/health", timeout=3)


def test_a_stored_model_is_served_only_to_its_project_members(assay_home, bundle, monkeypatch, capsys):
    from core import store
    from core.cli import main

    engine = store.init_store()
    with store.write_session(engine) as s:
        project = store.create_project(s, "Shared", owner="ann")
        dataset = store.save_dataset(s, project.id, "penguins", pd.DataFrame({"x": [1]}))
        run = store.Run(project_id=project.id, dataset_id=dataset.id, target="species", task="multiclass",
                        metric="log_loss")
        s.add(run)
        s.flush()
        model = store.Model(project_id=project.id, run_id=run.id, name="species · catboost", kind="catboost",
                            blob_sha=store.put_blob(s, bundle.to_bytes()))
        s.add(model)
        s.flush()
        model_id = model.id
    store.dispose_engines()
    monkeypatch.setenv("ASSAY_AUTH", "header")
    monkeypatch.setenv("ASSAY_USER", "bob")
    assert main(["serve", "--model", str(model_id)]) == 2  # bob is not a member: the model does not exist for him
    assert f"There is no model {model_id} you may open." in capsys.readouterr().err
    assert main(["serve", "--model", "x"]) == 2 and main(["serve"]) == 2
    owner = Service(["--model", str(model_id)], assay_home, env={"ASSAY_AUTH": "header", "ASSAY_USER": "ann"})
    try:
        assert owner.wait() and httpx.get(f"{owner.url}/health").json()["model"] == f"species · catboost (#{model_id})"
    finally:
        owner.stop()

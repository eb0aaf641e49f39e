"""The model card: built from stored data, readable, and inert whatever names the project holds."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from core import drift_report, scoring, store
from core.model_card import build_card, card_for_model
from core.model_card_html import CSP, to_html
from core.recipe import Recipe
from core.steps.filter import FilterRows
from tests.conftest import dataset_path
from tests.model_helpers import load, make_bundle, store_model

HOSTILE = '<script>alert("col")</script>'
LABEL = '"><img src=x onerror=alert(1)>'


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.handlers, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def hostile_bundle():
    rng = np.random.default_rng(0)
    n = 300
    x = rng.normal(size=n)
    frame = pd.DataFrame({HOSTILE: x, "colour": rng.choice(["red", LABEL], size=n),
                          "target": np.where(x + rng.normal(scale=0.5, size=n) > 0, LABEL, "plain")})
    kinds = {HOSTILE: "float", "colour": "categorical", "target": "categorical"}
    recipe = Recipe().add(FilterRows(column=HOSTILE, operator=">", value=-3.0))
    return make_bundle(frame, kinds, "target", "binary", recipe=recipe), frame


def test_user_strings_never_become_markup(hostile_bundle):
    bundle, _ = hostile_bundle
    card = build_card(bundle, name=f"model {HOSTILE}", dataset={"name": LABEL, "n_rows": 300, "n_cols": 3},
                      project=HOSTILE)
    page = to_html(card)
    parsed = _parse(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and parsed.handlers == []
    text = "".join(parsed.text)
    assert HOSTILE in text and LABEL in text  # shown as typed
    assert f'<meta http-equiv=\'Content-Security-Policy\' content="{CSP}">' in page
    assert "script-src" not in CSP and "default-src 'none'" in CSP  # no script may run at all


def test_a_bundle_alone_gives_a_card_with_the_recipe_features_and_columns(hostile_bundle):
    bundle, frame = hostile_bundle
    card = build_card(bundle, name="m")
    assert card.recipe == [{"stage": "Cleaning", "number": 1, "text": card.recipe[0]["text"],
                            "scoring": "skipped when scoring (training rows only)"}]
    assert [c["name"] for c in card.columns] == [HOSTILE, "colour"]
    seen = {c["name"]: c["seen"] for c in card.columns}
    assert seen[HOSTILE].startswith(f"{frame[HOSTILE].min():.4g} to ")
    assert {f for f, _ in card.features} == set(bundle.feature_names)
    assert dict(card.data["target_shares"]).keys() == {LABEL, "plain"}
    assert card.metrics == [] and "No holdout evaluation" in to_html(card)


def test_a_stored_model_card_lists_drift_found_on_new_rows(engine, project_id):
    frame, kinds = load(dataset_path("penguins.csv"))
    bundle = make_bundle(frame, kinds, "species", "multiclass")
    model_id = store_model(engine, project_id, bundle, frame, dataset_name="penguins")
    rows = frame.drop(columns=["species"]).sample(200, random_state=0)
    shifted = rows.assign(flipper_length_mm=rows["flipper_length_mm"] + 40)
    reference, current, kwargs = scoring.drift_inputs(bundle, shifted, "March rows")
    drift_report.compare_and_store(engine, project_id, reference, current, key="k", model_id=model_id, **kwargs)
    with store.read_session(engine) as s:
        card = card_for_model(s, model_id, project_id)
        blob_sha = s.get(store.Model, model_id).blob_sha
    assert card.facts["project"] == "Test project" and card.facts["dataset"] == "penguins"
    (line,) = [x for x in card.limitations if x.startswith("Drift found on")]
    assert "the model's training rows → March rows" in line and "flipper_length_mm" in line
    assert card.reproduce["bundle_sha256"] == blob_sha  # the blob is content-addressed by the same sha


def test_a_card_of_a_real_training_run_has_every_section(capsys):
    """`assay train` on a stored dataset, then the card of its chosen model: what the issue asks a card to hold."""
    from core.cli import main
    from core.train.job import chosen_model

    assert main(["import", str(dataset_path("credit_scoring.csv")), "--project", "Bank", "--target", "Status"]) == 0
    assert main(["train", "Bank/credit_scoring", "--time-budget", "4", "--threads", "1"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    with store.read_session() as s:
        model = chosen_model(s, result["run_id"])
        card = card_for_model(s, model.id, model.project_id)
        n_trials = len(s.get(store.Run, result["run_id"]).leaderboard)
    assert card.data["rows"] == 4454 and dict(card.data["target_shares"]).keys() == {"good", "bad"}
    assert card.validation["scheme"] == "random" and card.validation["holdout_rows"] > 0
    assert card.metrics[0] == {"name": "roc_auc", "label": "ROC-AUC", "value": result["holdout"], "baseline": 0.5,
                               "chosen": True, "higher_is_better": True}
    statuses = [row["Status"] for row in card.leaderboard]
    assert statuses.count("chosen") == 1 and len(statuses) <= min(n_trials + 1, 11)  # top 10, and the chosen one
    if result["chosen"] == "ensemble":
        assert card.leaderboard[statuses.index("chosen")]["Model"] == "Ensemble"
    assert {f for f, _ in card.features} <= {c["name"] for c in card.columns}
    folds = card.validation["folds"]
    cv_tile = next(t for t in card.tiles if t["label"].endswith("ROC-AUC") and not t["label"].startswith("Holdout"))
    if folds == 1:  # one validation part: no spread "across folds" to claim
        assert cv_tile == {"label": "Validation ROC-AUC", "value": cv_tile["value"], "note": "one validation part"}
    else:
        assert cv_tile["label"] == "Cross-validated ROC-AUC" and cv_tile["note"].endswith("across folds")
    assert any("random order" in line for line in card.limitations)
    assert card.holdout_note  # measured on the holdout, or why not (a 4 s run may have had no time)
    assert {c for c, _ in card.holdout_importance} <= {c["name"] for c in card.columns}
    page = to_html(card)
    assert card.holdout_note in html.unescape(page)
    parsed = _parse(page)
    assert parsed.tags.count("svg") >= 4  # ROC, precision-recall, calibration, top features
    for heading in ("Known limitations", "How well it does on held-out rows", "What drives its predictions",
                    "The data", "How it was validated", "Models tried (best first)", "The recipe"):
        assert f"<h2>{heading}</h2>" in page


def test_the_chosen_model_is_listed_even_below_the_top_ten():
    from core.model_card import _leaderboard

    records = [{"number": i, "family": "linear", "params": {"C": 1.0}, "status": "complete",
                "cv_mean": 0.9 - i / 100, "cv_std": 0.0, "chosen": i == 14, "weight": 1.0 if i == 14 else None}
               for i in range(20)]
    rows = _leaderboard({"leaderboard": records}, True)
    assert [r["Rank"] for r in rows] == [*range(1, 11), 15]
    assert [r["Status"] for r in rows].count("chosen") == 1 and rows[-1]["Status"] == "chosen"


def test_the_card_shows_the_holdout_permutation_importance_or_why_not(hostile_bundle):
    bundle, _ = hostile_bundle
    card = build_card(bundle, name="m")
    assert card.holdout_importance == [] and "trained before Assay measured it" in card.holdout_note
    bundle.metadata["holdout_importance"] = {
        "status": "done", "columns": ["colour", HOSTILE], "mean": [0.01, 0.25], "std": [0.01, 0.02],
        "rows": 120, "repeats": 5, "metric": "roc_auc", "metric_label": "ROC-AUC", "baseline": 0.9,
        "scored_by": "the cross-validation models", "holdout_rows": 120}
    card = build_card(bundle, name="m")
    assert card.holdout_importance == [(HOSTILE, 0.25), ("colour", 0.01)]  # largest drop first
    assert card.holdout_note.startswith("How much worse the model's ROC-AUC gets")
    assert "120 holdout rows" in card.holdout_note
    page = to_html(card)
    parsed = _parse(page)
    assert "script" not in parsed.tags and parsed.handlers == []
    assert "Drop in the score when a column is shuffled (holdout)" in page and "0.25" in page

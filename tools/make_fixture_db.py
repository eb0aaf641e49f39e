"""Build a store at an old schema revision, with data, for the upgrade tests.

    python tools/make_fixture_db.py 0002 tests/fixtures/store_0002.sqlite

Run it once per release that changes the schema, with the *new* revision's
predecessor, and commit the file: tests/test_upgrades.py migrates a copy of every
fixture to the current head and checks its data.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import migrations  # noqa: E402
from core.store import frame_to_parquet  # noqa: E402

NOW = "2025-06-01 12:00:00.000000"


def build(revision: str, out: Path) -> None:
    out.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{out}")
    migrations.upgrade(engine, revision)
    frame = pd.DataFrame({"city": ["Oslo", "Rome", "Lima"], "temp": [3.5, 18.25, 19.0], "rainy": [True, False, True]})
    data = frame_to_parquet(frame)
    import hashlib

    sha = hashlib.sha256(data).hexdigest()
    with engine.begin() as conn:
        x = conn.exec_driver_sql
        x("INSERT INTO blob (sha256, size, data, created_at) VALUES (?, ?, ?, ?)", (sha, len(data), data, NOW))
        x("INSERT INTO project (id, name, name_key, settings, created_at, updated_at, opened_at, version) "
          "VALUES (1, 'Weather', 'weather', '{}', ?, ?, ?, 1)", (NOW, NOW, NOW))
        x("INSERT INTO dataset (id, project_id, name, name_key, file_name, source_sha, blob_sha, format, n_rows, "
          "n_cols, load_report, schema, roles, created_at, updated_at, version) VALUES (1, 1, 'cities', 'cities', "
          "'cities.csv', '', ?, 'csv', 3, 3, '{}', ?, ?, ?, ?, 1)",
          (sha, json.dumps({"columns": {"city": {"name": "city", "kind": "categorical"}}}),
           json.dumps({"target": "rainy"}), NOW, NOW))
        if revision >= "0002":
            steps = json.dumps({"format": "assay.recipe", "version": 1,
                                "clean": [{"kind": "drop_columns", "columns": ["temp"]}], "features": []})
            x("INSERT INTO recipe (id, dataset_id, parent_id, steps, sha, note, created_at) "
              "VALUES (1, 1, NULL, ?, 'x', 'drop temp', ?)", (steps, NOW))
            x("UPDATE dataset SET recipe_id = 1 WHERE id = 1")
            x("INSERT INTO job (id, project_id, dataset_id, kind, params, status, progress, message, log, error, "
              "result, pid, host, cancel_requested, heartbeat_at, created_at, started_at, finished_at) VALUES "
              "(1, 1, 1, 'selftest', '{}', 'done', 1.0, '', '', '', '{\"steps\": 5}', NULL, '', 0, ?, ?, ?, ?)",
              (NOW, NOW, NOW, NOW))
            x("INSERT INTO run (id, project_id, dataset_id, job_id, recipe, target, task, metric, seed, config, "
              "status, leaderboard, metrics, split, created_at, finished_at) VALUES (1, 1, 1, 1, '{}', 'rainy', "
              "'binary', 'roc_auc', 7, '{}', 'done', '[]', '{\"holdout\": 0.75}', '{}', ?, ?)", (NOW, NOW))
            x("INSERT INTO model (id, project_id, run_id, name, kind, blob_sha, features, metrics, chosen, "
              "created_at) VALUES (1, 1, 1, 'best', 'catboost', ?, '[\"city\"]', '{}', 1, ?)", (sha, NOW))
            x("INSERT INTO report (id, project_id, dataset_id, model_id, kind, key, title, data, blob_sha, "
              "created_at) VALUES (1, 1, 1, NULL, 'profile', 'k', 'Profile', '{\"rows\": 3}', NULL, ?)", (NOW,))
    engine.dispose()
    with io.open(out, "rb") as f:
        assert f.read(16) == b"SQLite format 3\x00"


if __name__ == "__main__":
    build(sys.argv[1], Path(sys.argv[2]))

"""The leaderboard as tables: every trial ranked, and the best of each family.

Built from the stored trial records (:func:`core.train.search.record_of`), so the
page, the CLI and an exported report show the same rows.
"""

from __future__ import annotations

import math

import pandas as pd

from core.train.zoo import FAMILY_LABELS, describe_params

__all__ = ["leaderboard_table", "family_table", "text_table", "STATUS_LABELS", "COLUMNS"]

COLUMNS = ["Rank", "Model", "Trial", "CV mean", "CV ±", "Holdout", "Status", "Fit s", "Predict ms/1k", "Settings",
           "Note"]
STATUS_LABELS = {"complete": "finished", "pruned": "stopped early", "skipped": "not started",
                 "failed": "failed", "running": "running"}


def _rank_key(greater_is_better: bool):
    def key(row: dict):
        value = row.get("cv_mean")
        if row.get("family") == "ensemble":
            value = row.get("oof_score")
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return (missing, -(value or 0) if greater_is_better else (value or 0))
    return key


def leaderboard_table(records: list[dict], greater_is_better: bool, *, include_skipped: bool = False) -> pd.DataFrame:
    """One row per trial (and the ensemble), best first; unfinished trials last."""
    rows = [r for r in records if include_skipped or r.get("status") != "skipped"]
    rows = sorted(rows, key=_rank_key(greater_is_better))
    out = []
    for rank, r in enumerate(rows, start=1):
        ensemble = r.get("family") == "ensemble"
        finished = r.get("cv_mean") is not None or ensemble
        out.append({
            "Rank": rank if finished else None,
            "Model": FAMILY_LABELS.get(r.get("family", ""), r.get("family", "")),
            "Trial": "" if ensemble else str(int(r["number"]) + 1),
            "CV mean": r.get("oof_score") if ensemble else r.get("cv_mean"),
            "CV ±": r.get("cv_std"),
            "Holdout": r.get("holdout"),
            "Status": "chosen" if r.get("chosen") and (ensemble or r.get("weight") == 1.0)
            else ("in the ensemble" if r.get("chosen") else STATUS_LABELS.get(r.get("status"), r.get("status"))),
            "Fit s": r.get("fit_s"),
            "Predict ms/1k": r.get("predict_ms_per_1k"),
            "Settings": _members(r) if ensemble else describe_params(r.get("params") or {}),
            "Note": r.get("note") or "",
        })
    return pd.DataFrame(out, columns=COLUMNS)


def _members(row: dict) -> str:
    members = (row.get("params") or {}).get("members", {})
    return " + ".join(f"trial {int(n) + 1} × {w:.2f}" for n, w in members.items())


def family_table(records: list[dict], greater_is_better: bool) -> pd.DataFrame:
    """The best finished trial of each family, with how many trials the family had."""
    rows = []
    for family in sorted({r["family"] for r in records if r.get("family") and r["family"] != "ensemble"}):
        mine = [r for r in records if r.get("family") == family]
        done = [r for r in mine if r.get("cv_mean") is not None]
        best = sorted(done, key=_rank_key(greater_is_better))[0] if done else None
        rows.append({
            "Model": FAMILY_LABELS.get(family, family),
            "Best CV mean": best["cv_mean"] if best else None,
            "CV ±": best["cv_std"] if best else None,
            "Trials": len([r for r in mine if r.get("status") != "skipped"]),
            "Finished": len(done),
            "Fit s (best)": best.get("fit_s") if best else None,
        })
    frame = pd.DataFrame(rows, columns=["Model", "Best CV mean", "CV ±", "Trials", "Finished", "Fit s (best)"])
    return frame.sort_values("Best CV mean", ascending=not greater_is_better, na_position="last",
                             ignore_index=True)


def text_table(frame: pd.DataFrame, *, max_rows: int = 30, width: int = 60) -> str:
    """A plain-text rendering for the terminal."""
    shown = frame.head(max_rows).copy()
    for column in shown.columns:
        if shown[column].dtype == object:
            shown[column] = shown[column].map(lambda v: "" if v is None else str(v)[:width])
    text = shown.to_string(index=False, na_rep="", float_format=lambda v: f"{v:.4f}")
    if len(frame) > max_rows:
        text += f"\n... and {len(frame) - max_rows} more"
    return text

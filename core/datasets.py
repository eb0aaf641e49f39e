"""Datasets: turning a loaded table into a stored dataset, and reading it back."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.orm import Session

from core import store
from core.ingest import Loaded

__all__ = ["save_loaded", "default_name", "unique_name", "load_frame", "load_cleaned", "clean_sha"]


def default_name(file_name: str) -> str:
    """A valid dataset name from a file name: ``"Sales 2024 (v2).csv" -> "Sales 2024 (v2)"``."""
    stem = Path(file_name or "data").stem
    stem = unicodedata.normalize("NFC", stem)
    cleaned = "".join(ch if (ch.isalnum() or ch in " -_.,()&'+#") else " " for ch in stem)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .-,")
    cleaned = cleaned.replace("..", ".")
    return (cleaned or "data")[: store.NAME_MAX]


def unique_name(session: Session, project_id: int, base: str) -> str:
    """``base``, or ``base (2)``, ``base (3)``... whichever is free in the project."""
    taken = set(
        session.scalars(sa.select(store.Dataset.name_key).where(store.Dataset.project_id == project_id))
    )
    name, k = base, 2
    while store.name_key(name) in taken:
        suffix = f" ({k})"
        name = base[: store.NAME_MAX - len(suffix)] + suffix
        k += 1
    return name


def save_loaded(
    session: Session, project_id: int, name: str, loaded: Loaded, roles: dict | None = None
) -> store.Dataset:
    """Store a loaded table (its frame as Parquet, its report and schema) in a project."""
    report = loaded.report
    return store.save_dataset(
        session, project_id, name, loaded.frame,
        file_name=report.file_name, format=report.format, source_sha=report.source_sha,
        load_report=report.to_dict(), schema=loaded.schema(), roles=roles or {},
    )


def load_frame(engine: sa.Engine, dataset_id: int, project_id: int | None = None) -> pd.DataFrame:
    with store.read_session(engine) as s:
        dataset = store.get_dataset(s, dataset_id, project_id)
        return store.read_dataset_frame(s, dataset)


def clean_sha(recipe) -> str:
    """sha of a recipe's cleaning steps ("" when there are none): what a cleaned table depends on."""
    from core import jsonutil

    return jsonutil.canonical_sha([step.to_dict() for step in recipe.clean]) if recipe.clean else ""


def load_cleaned(session: Session, dataset: store.Dataset) -> tuple[pd.DataFrame, str]:
    """The dataset's raw table with its recipe's cleaning steps applied, and :func:`clean_sha`
    of those steps: the table the pages show, for headless callers."""
    from core.recipe import Recipe

    frame = store.read_dataset_frame(session, dataset)
    head = store.head_recipe(session, dataset.id)
    recipe = Recipe.from_dict(head.steps) if head is not None else Recipe()
    if not recipe.clean:
        return frame, ""
    return recipe.apply_clean(frame)[0], clean_sha(recipe)

"""Cached access to stored tables: bounded, keyed by content, never mutated."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import store
from ui.shell import engine

DATASET_KEY = "assay.dataset_id"


@st.cache_resource(max_entries=4, show_spinner="Loading the table...")
def _frame_by_blob(blob_sha: str) -> pd.DataFrame:
    with store.read_session(engine()) as s:
        return store.parquet_to_frame(store.get_blob(s, blob_sha))


def dataset_frame(dataset: store.Dataset) -> pd.DataFrame:
    """The raw table of ``dataset``. Shared between sessions: never modify it."""
    return _frame_by_blob(dataset.blob_sha)


def datasets_of(project_id: int) -> list[store.Dataset]:
    with store.read_session(engine()) as s:
        return store.list_datasets(s, project_id)


def dataset_picker(project_id: int, *, label: str = "Dataset", key: str = "assay.dataset_picker") -> store.Dataset | None:
    """A select box of the project's datasets; remembers the choice across pages."""
    items = datasets_of(project_id)
    if not items:
        st.info("This project has no data yet. Add a table on the **Data** page.")
        return None
    ids = [d.id for d in items]
    remembered = st.session_state.get(DATASET_KEY)
    index = ids.index(remembered) if remembered in ids else len(ids) - 1
    chosen = st.selectbox(label, ids, index=index, key=key,
                          format_func=lambda i: next(d.name for d in items if d.id == i))
    st.session_state[DATASET_KEY] = chosen
    return next(d for d in items if d.id == chosen)


def recipe_of(dataset: store.Dataset):
    """The dataset's current recipe (empty when it has no steps)."""
    from core.recipe import Recipe

    with store.read_session(engine()) as s:
        head = store.head_recipe(s, dataset.id)
    return Recipe.from_dict(head.steps) if head is not None else Recipe()


@st.cache_resource(max_entries=4, show_spinner="Applying the recipe...")
def _cleaned(blob_sha: str, clean_json: str) -> tuple[pd.DataFrame, tuple[dict, ...]]:
    from core.recipe import Recipe

    frame, states = Recipe.from_json(clean_json).apply_clean(_frame_by_blob(blob_sha))
    return frame, tuple(states)


def frame_by_key(blob_sha: str, clean_json: str) -> pd.DataFrame:
    """The cleaned table for a blob and a clean-only recipe JSON ("" = the raw table)."""
    return _cleaned(blob_sha, clean_json)[0] if clean_json else _frame_by_blob(blob_sha)


def clean_key(recipe) -> str:
    """The cache key of a recipe's cleaning steps ("" when there are none)."""
    from core.recipe import Recipe

    return Recipe(clean=recipe.clean).to_json(indent=None) if recipe.clean else ""


def cleaned(dataset: store.Dataset, recipe=None) -> tuple[pd.DataFrame, tuple[dict, ...]]:
    """Raw table + the cleaning steps of ``recipe`` (default: the stored one), and what the
    steps learned. Cached by (blob, cleaning steps): never recomputed on a rerun, and not
    when only feature steps change. Shared between sessions: never modify the frame."""
    recipe = recipe_of(dataset) if recipe is None else recipe
    if not recipe.clean:
        return dataset_frame(dataset), ()
    return _cleaned(dataset.blob_sha, clean_key(recipe))


def cleaned_frame(dataset: store.Dataset) -> pd.DataFrame:
    """Raw table + the cleaning steps of its recipe (see :func:`cleaned`). Never modify it."""
    return cleaned(dataset)[0]


def raw_snapshot(blob_sha: str) -> bytes:
    """The dataset's raw table as stored (Parquet bytes): what exported scripts read."""
    with store.read_session(engine()) as s:
        return store.get_blob(s, blob_sha)

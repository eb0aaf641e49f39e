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
def _cleaned(blob_sha: str, recipe_json: str) -> pd.DataFrame:
    from core.recipe import Recipe

    recipe = Recipe.from_json(recipe_json)
    return recipe.apply_clean(_frame_by_blob(blob_sha))[0]


def cleaned_frame(dataset: store.Dataset) -> pd.DataFrame:
    """Raw table + the cleaning steps of its recipe; cached by (blob, recipe), never recomputed
    on a rerun. Shared between sessions: never modify it."""
    recipe = recipe_of(dataset)
    if not recipe.clean:
        return dataset_frame(dataset)
    return _cleaned(dataset.blob_sha, recipe.to_json(indent=None))

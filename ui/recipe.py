"""The recipe list the Clean and Features pages share: steps with move up / down / remove,
undo and redo, and a clear message when someone else changed the recipe first.

A page uses it like this::

    view = recipe_ui.current(dataset.id, key="clean")       # once per run, before any edit
    ...
    if st.button("Add step"):
        recipe_ui.commit(view, view.recipe.add(step), note=f"Add: {step.describe()}")
    recipe_ui.editor(view, "clean")                          # or "features"

Every edit is saved as a new recipe version with ``expected_head`` = the version the
user was looking at (the head read on the previous run), so an edit made on a stale
screen is refused with a message instead of silently overwriting someone's change.
Undo and redo move through the dataset's single history (both stages), and say what
they would undo or redo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from core import store
from core.errors import AssayError
from core.recipe import Recipe
from ui.shell import engine, show_error
from ui.text import md

__all__ = ["RecipeView", "current", "commit", "editor"]


@dataclass(frozen=True)
class RecipeView:
    """The dataset's recipe as this run sees it."""

    key: str
    dataset_id: int
    recipe: Recipe
    head_id: int | None  # the version in the store now
    expected_head: int | None  # the version the user last saw: edits are checked against it
    undo_note: str | None  # what undo would revert (None: nothing to undo)
    redo_note: str | None  # what redo would re-apply (None: nothing to redo)
    error: str | None = None  # the stored recipe cannot be read (only undo can help)


def current(dataset_id: int, *, key: str) -> RecipeView:
    """Read the head of the dataset's recipe and remember it as what the user now sees."""
    with store.read_session(engine()) as s:
        head = store.head_recipe(s, dataset_id)
        redo = store.redo_target(s, dataset_id)
        steps = head.steps if head is not None else {}
        head_id, undo_note = (head.id, head.note or "the last change") if head is not None else (None, None)
        redo_note = (redo.note or "the next change") if redo is not None else None
    error = None
    try:
        recipe = Recipe.from_dict(steps)
    except AssayError as exc:
        recipe, error = Recipe(), f"The saved recipe cannot be read: {exc}"
    seen_key = f"{key}.seen_head"
    seen = st.session_state.get(seen_key)
    expected = seen[1] if isinstance(seen, tuple) and seen[0] == dataset_id else head_id
    st.session_state[seen_key] = (dataset_id, head_id)
    message = st.session_state.pop(f"{key}.toast", None)
    if message:
        st.toast(message, icon=":material/check_circle:")
    return RecipeView(key, dataset_id, recipe, head_id, expected, undo_note, redo_note, error)


def commit(view: RecipeView, new: Recipe, *, note: str,
           check: Callable[[Recipe], None] | None = None) -> bool:
    """Save ``new`` as the next version and rerun; on a refusal show why and return False.

    ``check(new)`` may raise an :class:`AssayError` to refuse the edit first (e.g. a move
    that would make a step use a column before it exists).
    """
    try:
        if check is not None:
            check(new)
        with store.write_session(engine()) as s:
            store.save_recipe(s, view.dataset_id, new.to_dict(), note=note, expected_head=view.expected_head)
    except AssayError as exc:
        show_error(exc)
        return False
    _done(view, note)
    return True


def _move_head(view: RecipeView, direction: str) -> None:
    try:
        with store.write_session(engine()) as s:
            if direction == "undo":
                store.undo_recipe(s, view.dataset_id, expected_head=view.expected_head)
            else:
                store.redo_recipe(s, view.dataset_id, expected_head=view.expected_head)
    except AssayError as exc:
        show_error(exc)
        return
    _done(view, f"{'Undid' if direction == 'undo' else 'Redid'}: {view.undo_note if direction == 'undo' else view.redo_note}")


def _done(view: RecipeView, message: str) -> None:
    st.session_state[f"{view.key}.toast"] = message
    st.rerun()


def editor(view: RecipeView, stage: str, *, check: Callable[[Recipe], None] | None = None,
           empty: str = "No steps yet.") -> None:
    """The ``stage`` ("clean" or "features") steps of ``view`` with their controls."""
    key = view.key.replace(".", "_")
    left, right = st.columns(2)
    if left.button("Undo", icon=":material/undo:", key=f"{key}_undo", disabled=view.undo_note is None,
                   help=f"Undo: {md(view.undo_note)}" if view.undo_note else "Nothing to undo", width="stretch"):
        _move_head(view, "undo")
    if right.button("Redo", icon=":material/redo:", key=f"{key}_redo", disabled=view.redo_note is None,
                    help=f"Redo: {md(view.redo_note)}" if view.redo_note else "Nothing to redo", width="stretch"):
        _move_head(view, "redo")
    if view.error:
        st.error(md(view.error), icon=":material/error:")
        return
    steps = getattr(view.recipe, stage)
    if not steps:
        st.caption(empty)
    for i, step in enumerate(steps):
        with st.container(border=True, key=f"{key}_step_{i}"):
            text, up, down, remove = st.columns([10, 2, 2, 2], vertical_alignment="center", gap="small")
            badge = " :orange-badge[training only]" if step.training_only else ""
            text.markdown(f"**{i + 1}.** {md(step.describe())}{badge}")
            if up.button("", icon=":material/arrow_upward:", key=f"{key}_up_{i}", disabled=i == 0,
                         help="Move up", type="tertiary"):
                commit(view, view.recipe.move(stage, i, i - 1), note=f"Move {stage} step {i + 1} up", check=check)
            if down.button("", icon=":material/arrow_downward:", key=f"{key}_down_{i}",
                           disabled=i == len(steps) - 1, help="Move down", type="tertiary"):
                commit(view, view.recipe.move(stage, i, i + 1), note=f"Move {stage} step {i + 1} down",
                       check=check)
            if remove.button("", icon=":material/delete:", key=f"{key}_remove_{i}", help="Remove this step",
                             type="tertiary"):
                commit(view, view.recipe.remove(stage, i), note=f"Remove: {step.describe()}", check=check)

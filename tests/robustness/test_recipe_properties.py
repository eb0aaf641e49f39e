"""Property-based: any table, any valid sequence of cleaning steps either replays exactly
(the same frame twice, and the exported script gives the same frame) or fails with an
AssayError that says why; never another exception.

Steps are drawn one at a time from the columns present at that point (so most
sequences run through), with valid parameters for every registered cleaning kind.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import jsonutil, store
from core.errors import AssayError
from core.recipe import Recipe
from core.steps import STEPS, step_from_dict
from core.steps.cast import CAST_TYPES
from core.steps.filter import OPERATORS
from core.steps.impute import STRATEGIES
from core.steps.outliers import ACTIONS, METHODS
from core.steps.text import CASES, NORMAL_FORMS

CLEAN_KINDS = sorted(k for k, c in STEPS.items() if c.stage == "clean")
NAMES = ["a", "B c", "é", "<b>x</b>", "1", "a.b", "😀", "col;--", "../x", "  pad ", "Ünïcode", "x_1"]
TEXTS = ["", " a ", "A", "b,c", "2024-01-31", "31/01/2024", "N/A", "yes", "no", "1,5", "007", "ＡＢ", "😀", "-"]


def _column(draw, n: int) -> pd.Series:
    kind = draw(st.sampled_from(["int", "float", "text", "bool", "date", "mixed", "category", "empty"]))
    missing = st.booleans() if draw(st.booleans()) else st.just(False)
    if kind == "int":
        values = [draw(st.integers(-5, 5)) if not draw(missing) else None for _ in range(n)]
        return pd.Series(pd.array(values, dtype="Int64"))
    if kind == "float":
        pool = st.one_of(st.floats(-1e3, 1e3, allow_nan=False), st.sampled_from([0.0, 1e308, -np.inf, np.inf]))
        return pd.Series([np.nan if draw(missing) else draw(pool) for _ in range(n)], dtype="float64")
    if kind == "bool":
        return pd.Series([None if draw(missing) else draw(st.booleans()) for _ in range(n)], dtype="boolean")
    if kind == "date":
        days = [draw(st.integers(0, 400)) for _ in range(n)]
        out = pd.Series(pd.to_datetime("2024-01-01") + pd.to_timedelta(days, unit="D"))
        return out.mask([draw(missing) for _ in range(n)])
    if kind == "empty":
        return pd.Series([None] * n, dtype="object")
    pool = st.sampled_from(TEXTS) if kind != "mixed" else st.one_of(st.sampled_from(TEXTS), st.integers(-3, 3).map(str))
    values = [None if draw(missing) else draw(pool) for _ in range(n)]
    return pd.Series(values, dtype="category" if kind == "category" else "object")


@st.composite
def tables(draw) -> pd.DataFrame:
    n = draw(st.integers(1, 8))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    frame = pd.DataFrame({name: _column(draw, n) for name in names})
    # as the app holds a table: through the store's Parquet snapshot
    return store.parquet_to_frame(store.frame_to_parquet(frame))


def _value(draw, series: pd.Series):
    present = [v for v in series.dropna().unique().tolist()[:5]]
    present = [v.isoformat() if isinstance(v, pd.Timestamp) else v for v in present]
    present = [v.item() if isinstance(v, np.generic) else v for v in present]
    present = [v for v in present if not (isinstance(v, float) and not np.isfinite(v))]
    return draw(st.one_of(st.sampled_from(present) if present else st.just("a"),
                          st.integers(-3, 3), st.sampled_from(TEXTS)))


def _step(draw, frame: pd.DataFrame, kind: str | None = None) -> dict:
    columns = [str(c) for c in frame.columns]
    kind = kind or draw(st.sampled_from(CLEAN_KINDS))
    some = st.lists(st.sampled_from(columns), min_size=1, max_size=3, unique=True) if columns else st.just(["a"])
    one = st.sampled_from(columns) if columns else st.just("a")
    new_name = st.sampled_from([*NAMES, "new", "new 2"])
    if kind == "drop_columns":
        return {"kind": kind, "columns": draw(some)}
    if kind == "rename_columns":
        return {"kind": kind, "mapping": {draw(one): draw(new_name)}}
    if kind == "cast":
        return {"kind": kind, "columns": draw(some), "to": draw(st.sampled_from(CAST_TYPES))}
    if kind == "impute":
        strategy, chosen = draw(st.sampled_from(STRATEGIES)), draw(some)
        if strategy == "iterative" and len(chosen) < 2:  # it predicts each column from the others
            strategy = "knn"
        data = {"kind": kind, "columns": chosen, "strategy": strategy, "add_indicator": draw(st.booleans())}
        if strategy == "constant":
            data["fill_value"] = draw(st.one_of(st.sampled_from(TEXTS), st.integers(-3, 3), st.just(0.5)))
        if strategy in ("knn", "iterative"):
            data.update(n_neighbors=draw(st.integers(1, 3)), max_iter=draw(st.integers(1, 3)), sample_size=50)
        return data
    if kind == "drop_missing":
        return {"kind": kind, "columns": draw(st.none() | some), "how": draw(st.sampled_from(["any", "all"]))}
    if kind == "deduplicate":
        return {"kind": kind, "columns": draw(st.none() | some), "keep": draw(st.sampled_from(["first", "last"]))}
    if kind == "outliers":
        method = draw(st.sampled_from(METHODS))
        forest = method == "isolation_forest"  # judges whole rows (no clip); its threshold is a share <= 0.5
        return {"kind": kind, "columns": draw(some), "method": method, "n_estimators": 10,
                "action": draw(st.sampled_from([a for a in ACTIONS if not (forest and a == "clip")])),
                "threshold": draw(st.none() | st.sampled_from([0.05, 0.5] if forest else [0.05, 0.5, 1.5, 3.0])),
                "flag_column": draw(st.sampled_from(["is_outlier", *columns]))}
    if kind == "filter_rows":
        column = draw(one)
        operator = draw(st.sampled_from(OPERATORS))
        series = frame[column] if column in frame.columns else pd.Series([], dtype=object)
        if operator in ("is missing", "is not missing"):
            value = None
        elif operator == "between":
            value = [_value(draw, series), _value(draw, series)]
        elif operator in ("contains", "starts with", "ends with"):
            value = draw(st.sampled_from([t for t in TEXTS if t]))
        elif operator in ("in", "not in"):
            value = [_value(draw, series) for _ in range(draw(st.integers(1, 3)))]
        else:
            value = _value(draw, series)
        return {"kind": kind, "column": column, "operator": operator, "value": value, "keep": draw(st.booleans())}
    if kind == "replace_values":
        column = draw(one)
        series = frame[column] if column in frame.columns else pd.Series([], dtype=object)
        old = draw(st.none() | st.just(_value(draw, series)))
        new = draw(st.none() | st.sampled_from(TEXTS) | st.integers(-3, 3))
        return {"kind": kind, "column": column, "pairs": [[old, new]]}
    if kind == "merge_rare":
        return {"kind": kind, "column": draw(one), "min_share": draw(st.sampled_from([0.0, 0.2, 0.5, 0.99])),
                "min_count": draw(st.integers(0, 3)), "other": draw(st.sampled_from(["Other", "a", "😀"]))}
    if kind == "text_cleanup":
        return {"kind": kind, "columns": draw(some), "trim": draw(st.booleans()), "case": draw(st.sampled_from(CASES)),
                "normalize": draw(st.sampled_from(NORMAL_FORMS)), "collapse_spaces": draw(st.booleans()),
                "empty_as_missing": draw(st.booleans())}
    if kind == "parse_dates":
        return {"kind": kind, "columns": draw(some),
                "format": draw(st.none() | st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Y"]))}
    if kind == "split_column":
        into = draw(st.lists(new_name, min_size=2, max_size=3, unique=True))
        return {"kind": kind, "column": draw(one), "delimiter": draw(st.sampled_from([",", "-", "/", " "])),
                "into": into, "keep_original": draw(st.booleans())}
    raise AssertionError(f"no strategy for the cleaning step {kind!r}: add one")  # a new kind must be covered


def _script_clean(code: str):
    namespace: dict = {"__name__": "exported"}
    exec(compile(code, "exported_script.py", "exec"), namespace)  # noqa: S102 - our own generated code
    assert {v.__name__ for v in namespace.values() if isinstance(v, types.ModuleType)} <= {"json", "sys", "numpy",
                                                                                           "pandas"}
    return namespace["clean"]


@pytest.mark.parametrize("kind", CLEAN_KINDS)
@settings(max_examples=5, deadline=None)
@given(raw=tables(), data=st.data())
def test_every_cleaning_kind_is_drawn_with_valid_parameters(kind, raw, data):
    step = step_from_dict(_step(data.draw, raw, kind))
    assert step.kind == kind


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=tables(), data=st.data())
def test_any_valid_recipe_replays_exactly_or_says_why(raw, data):
    steps, frame = [], raw
    for _ in range(data.draw(st.integers(1, 4))):
        try:
            step = step_from_dict(_step(data.draw, frame))
        except AssayError:  # e.g. a rename onto a name the table already has
            continue
        try:
            frame, _ = Recipe(clean=(step,)).apply_clean(frame)
        except AssayError as exc:
            assert str(exc).strip()
            steps.append(step)  # keep it: the full replay below must fail the same way
            break
        steps.append(step)
    recipe = Recipe(clean=tuple(steps))
    original = raw.copy(deep=True)
    try:
        first, states = recipe.apply_clean(raw)
    except AssayError as exc:
        assert str(exc).strip(), "an error must say something"
        pd.testing.assert_frame_equal(raw, original)  # and leave the input alone
        return
    pd.testing.assert_frame_equal(raw, original)  # steps never modify their input
    again, states_again = recipe.apply_clean(raw.copy(deep=True))
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert jsonutil.dumps(states_again) == jsonutil.dumps(states)  # NaN != NaN: compare the stored JSON
    exported = _script_clean(recipe.to_code(states))(raw.copy(deep=True))
    pd.testing.assert_frame_equal(exported, first, check_exact=True)

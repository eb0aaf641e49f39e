"""Honest validation: a final holdout the search never sees, and the folds the search uses.

Three schemes, chosen by the dataset's roles:

- **time** (a time column is set): rows are ordered by time; the holdout is the latest
  part, and the folds are forward (expanding window): each fold trains on everything
  before its validation block, never on anything after it. Rows sharing a timestamp
  always fall on the same side of a cut.
- **group** (a group column is set): whole groups go to the holdout or to the search
  rows, and the folds are group k-fold (stratified for classification), so no group is
  ever split between training and validation.
- **random**: a stratified (classification) or plain random holdout, then stratified
  k-fold or k-fold.

With one fold (large tables, short budgets) the search uses a single validation part.
Everything here returns row *positions* (``0..n-1``) and depends only on the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ValidationError

__all__ = ["Split", "make_split", "auto_folds", "HOLDOUT_SHARE", "HOLDOUT_MAX_ROWS"]

HOLDOUT_SHARE = 0.2
HOLDOUT_MAX_ROWS = 10_000
VALIDATION_SHARE = 0.2


@dataclass
class Split:
    """Positions of the holdout rows, the search rows, and each fold's (train, valid) positions.

    Fold positions index the *search* rows (``search[fold_train]`` are frame positions).
    """

    scheme: str  # "random", "group" or "time"
    holdout: np.ndarray
    search: np.ndarray
    folds: list[tuple[np.ndarray, np.ndarray]]
    notes: list[str]

    @property
    def method(self) -> str:
        k = len(self.folds)
        if self.scheme == "time":
            return f"forward validation over time ({k} fold{'s' if k > 1 else ''})"
        if k == 1:
            return "one validation part" + (" (whole groups)" if self.scheme == "group" else "")
        if self.scheme == "group":
            return f"group {k}-fold cross-validation"
        return f"{k}-fold cross-validation"

    def covered(self) -> np.ndarray:
        """Search-row positions that get an out-of-fold prediction (all but the first time block)."""
        return np.unique(np.concatenate([valid for _, valid in self.folds]))

    def to_dict(self) -> dict:
        return {
            "scheme": self.scheme, "method": self.method, "folds": len(self.folds),
            "holdout_rows": int(len(self.holdout)), "search_rows": int(len(self.search)),
            "fold_rows": [[int(len(t)), int(len(v))] for t, v in self.folds], "notes": list(self.notes),
        }

    def fingerprint(self) -> str:
        """A hash of every position: two workers check they validate on the same rows."""
        import hashlib

        h = hashlib.sha256()
        for part in (self.holdout, self.search, *[a for fold in self.folds for a in fold]):
            h.update(np.asarray(part, dtype=np.int64).tobytes())
            h.update(b"|")
        return h.hexdigest()


def auto_folds(n_rows: int, n_features: int, budget_s: float) -> int:
    """Folds for a table and budget: 5 on small tables, fewer when fitting gets costly."""
    load = n_rows * max(n_features, 1) / max(budget_s / 60.0, 0.05)
    if load <= 120_000:
        return 5
    if load <= 250_000:
        return 3
    return 1


def make_split(
    y: np.ndarray, task: str, *, folds: int, seed: int, time: pd.Series | None = None,
    groups: pd.Series | None = None, holdout_share: float = HOLDOUT_SHARE, class_names: list | None = None,
) -> Split:
    """The holdout and the folds for target codes/values ``y`` (one per row)."""
    if not 1 <= folds <= 20:
        raise ValidationError(f"The number of folds must be between 1 and 20. Got {folds} instead.")
    if not 0.05 <= holdout_share <= 0.5:
        raise ValidationError(f"The holdout share must be between 0.05 and 0.5. Got {holdout_share} instead.")
    n = len(y)
    n_holdout = int(min(round(n * holdout_share), HOLDOUT_MAX_ROWS))
    notes: list[str] = []
    rng = np.random.default_rng(seed)
    classification = task != "regression"
    if time is not None:
        if groups is not None:
            notes.append("Both a time and a group column are set: validation follows time.")
        return _time_split(_time_order(time), n_holdout, folds, notes)
    if groups is not None:
        return _group_split(y, classification, _group_codes(groups), n_holdout, folds, seed, rng, notes)
    if classification:
        _check_classes(y, class_names)
    holdout, search = _random_holdout(y, classification, n_holdout, seed)
    folds_used = folds
    if classification:
        smallest = int(np.bincount(y[search]).min())
        if smallest < 2:
            raise _too_few(y, class_names)
        if 1 < smallest < folds:
            folds_used = smallest
            notes.append(f"The rarest class has only {smallest} rows for the search, so {smallest} folds "
                         f"are used instead of {folds}.")
    return Split("random", holdout, search, _random_folds(y[search], classification, folds_used, seed), notes)


# --------------------------------------------------------------------------- random


def _check_classes(y: np.ndarray, class_names: list | None) -> None:
    if int(np.bincount(y).min()) < 3:
        raise _too_few(y, class_names)


def _too_few(y: np.ndarray, class_names: list | None) -> ValidationError:
    counts = np.bincount(y)
    code = int(counts.argmin())
    name = class_names[code] if class_names else code
    return ValidationError(
        f"The class {name!r} has only {int(counts[code])} row(s); each class needs at least 3 "
        "(for the holdout and for two folds).",
        hint="Add rows of that class, or merge or remove it in a cleaning step.",
    )


def _random_holdout(y: np.ndarray, classification: bool, n_holdout: int, seed: int):
    from sklearn.model_selection import train_test_split

    positions = np.arange(len(y))
    search, holdout = train_test_split(
        positions, test_size=n_holdout, random_state=seed, shuffle=True,
        stratify=y if classification else None,
    )
    return np.sort(holdout), np.sort(search)


def _random_folds(y: np.ndarray, classification: bool, k: int, seed: int):
    from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

    positions = np.arange(len(y))
    if k == 1:
        train, valid = train_test_split(positions, test_size=VALIDATION_SHARE, random_state=seed,
                                        stratify=y if classification else None)
        return [(np.sort(train), np.sort(valid))]
    splitter = StratifiedKFold(k, shuffle=True, random_state=seed) if classification \
        else KFold(k, shuffle=True, random_state=seed)
    return [(train, valid) for train, valid in splitter.split(positions, y if classification else None)]


# --------------------------------------------------------------------------- groups


def _group_codes(groups: pd.Series) -> np.ndarray:
    labels = groups.astype(object).where(groups.notna(), "(missing)").astype(str)
    return pd.factorize(labels)[0]


def _group_split(y, classification, codes, n_holdout, folds, seed, rng, notes) -> Split:
    n_groups = int(codes.max()) + 1
    if n_groups < 3:
        raise ValidationError(
            f"The group column has {n_groups} distinct value(s); group validation needs at least 3.",
            hint="Pick another group column, or clear the group role.",
        )
    order = rng.permutation(n_groups)
    sizes = np.bincount(codes, minlength=n_groups)
    taken, chosen = 0, []
    for g in order:  # whole groups until the holdout has about its share of rows
        if taken >= n_holdout or len(chosen) >= n_groups - 2:
            break
        chosen.append(g)
        taken += sizes[g]
    in_holdout = np.isin(codes, chosen)
    holdout, search = np.flatnonzero(in_holdout), np.flatnonzero(~in_holdout)
    search_groups = codes[search]
    k = min(folds, len(np.unique(search_groups)))
    if k < folds:
        notes.append(f"Only {k} groups are left for the search, so {k} folds are used instead of {folds}.")
    if k == 1:
        from sklearn.model_selection import GroupShuffleSplit

        train, valid = next(GroupShuffleSplit(1, test_size=VALIDATION_SHARE, random_state=seed)
                            .split(search, groups=search_groups))
        return Split("group", holdout, search, [(train, valid)], notes)
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    if classification and np.bincount(y[search]).min() >= k:
        splitter = StratifiedGroupKFold(k, shuffle=True, random_state=seed)
        parts = splitter.split(search, y[search], search_groups)
    else:
        parts = GroupKFold(k, shuffle=True, random_state=seed).split(search, groups=search_groups)
    return Split("group", holdout, search, [(t, v) for t, v in parts], notes)


# --------------------------------------------------------------------------- time


def _time_order(time: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(time) or not pd.api.types.is_numeric_dtype(time):
        stamps = pd.to_datetime(time, errors="coerce", utc=True, format="mixed") \
            if not pd.api.types.is_datetime64_any_dtype(time) else time
        values = stamps.astype("int64").to_numpy(dtype=float)
        values[stamps.isna().to_numpy()] = np.nan
    else:
        values = time.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValidationError(
            f"The time column {time.name!r} has {int(np.isnan(values).sum()):,} missing or unreadable value(s).",
            hint="Remove those rows in a cleaning step, or clear the time role.",
        )
    return values


def _cut(values_sorted: np.ndarray, wanted: int) -> int:
    """A cut position near ``wanted`` that does not separate equal timestamps."""
    wanted = int(np.clip(wanted, 1, len(values_sorted) - 1))
    left = int(np.searchsorted(values_sorted, values_sorted[wanted], side="left"))
    right = int(np.searchsorted(values_sorted, values_sorted[wanted], side="right"))
    best = left if (wanted - left) <= (right - wanted) and left > 0 else right
    return best if 0 < best < len(values_sorted) else -1


def _time_split(values: np.ndarray, n_holdout: int, folds: int, notes: list[str]) -> Split:
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    if len(np.unique(ordered)) < 3:
        raise ValidationError("The time column has fewer than 3 distinct times, so rows cannot be ordered in time.",
                              hint="Pick another time column, or clear the time role.")
    cut = _cut(ordered, len(ordered) - n_holdout)
    if cut < 0:
        raise ValidationError("The time column cannot be cut into past and future parts (one time dominates).")
    search, holdout = order[:cut], order[cut:]
    s_values = ordered[:cut]
    k = folds
    while k >= 1:
        bounds = [_cut(s_values, round(len(s_values) * (i + 1) / (k + 1))) for i in range(k)]
        if all(b > 0 for b in bounds) and len(set(bounds)) == k:
            break
        k -= 1
    if k < 1:
        raise ValidationError("The search rows cannot be cut into time blocks (too few distinct times).",
                              hint="Pick another time column, or clear the time role.")
    if k < folds:
        notes.append(f"Too few distinct times for {folds} forward folds; {k} are used.")
    positions = np.arange(len(search))
    edges = [*bounds, len(search)]
    fold_list = [(positions[: edges[i]], positions[edges[i]: edges[i + 1]]) for i in range(k)]
    # fold positions index the search rows, which are already in time order
    return Split("time", np.sort(holdout), search, fold_list, notes)

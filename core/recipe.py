"""A recipe: the ordered cleaning and feature steps that turn a raw upload into model input.

The JSON form (documented in the README) is::

    {"format": "assay.recipe", "version": 1,
     "clean":    [{"kind": "drop_columns", "columns": ["id"]}, ...],
     "features": [{"kind": "...", ...}, ...]}

``clean`` steps apply to the whole dataset, in order, before any split: the table
the analyst cleaned is the table that is modelled. ``features`` steps are fitted on
training rows only (per fold during cross-validation) and replay on new rows with
the state they learned. A recipe is a value: every edit returns a new recipe.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from core import jsonutil
from core.errors import AssayError, ValidationError
from core.steps import FitContext, Step, step_from_dict
from core.steps.codegen import kernel_sources

__all__ = ["Recipe", "FittedRecipe", "RECIPE_FORMAT", "RECIPE_VERSION", "STAGES", "MissingColumnError",
           "run_clean_step", "run_feature_step"]

RECIPE_FORMAT = "assay.recipe"
RECIPE_VERSION = 1
STAGES = ("clean", "features")


@dataclass(frozen=True)
class Recipe:
    clean: tuple[Step, ...] = ()
    features: tuple[Step, ...] = ()

    # -- form ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RECIPE_FORMAT, "version": RECIPE_VERSION,
            "clean": [s.to_dict() for s in self.clean],
            "features": [s.to_dict() for s in self.features],
        }

    def to_json(self, indent: int | None = 2) -> str:
        return jsonutil.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """Validate and build a recipe; errors name the stage and step number."""
        if data in (None, {}):
            return cls()
        if not isinstance(data, dict):
            raise ValidationError("A recipe must be a JSON object with 'clean' and 'features' lists.")
        if data.get("format", RECIPE_FORMAT) != RECIPE_FORMAT:
            raise ValidationError(f"This is not an Assay recipe (format {data.get('format')!r}).",
                                  hint=f"Recipes have \"format\": \"{RECIPE_FORMAT}\".")
        if int(data.get("version", RECIPE_VERSION)) > RECIPE_VERSION:
            raise ValidationError(f"The recipe is version {data['version']}; this Assay reads up to {RECIPE_VERSION}.",
                                  hint="Upgrade Assay to use it.")
        unknown = sorted(set(data) - {"format", "version", *STAGES})
        if unknown:
            raise ValidationError(f"The recipe has an unknown field {unknown[0]!r}.",
                                  hint="A recipe has only 'format', 'version', 'clean' and 'features'.")
        stages: dict[str, tuple[Step, ...]] = {}
        for stage in STAGES:
            items = data.get(stage, [])
            if not isinstance(items, list):
                raise ValidationError(f"The recipe's {stage!r} field must be a list of steps.")
            steps = []
            for i, item in enumerate(items, start=1):
                try:
                    step = step_from_dict(item)
                except AssayError as exc:
                    raise ValidationError(f"{stage.capitalize()} step {i}: {exc}") from None
                expected = "clean" if stage == "clean" else "feature"
                if step.stage != expected:
                    raise ValidationError(
                        f"{stage.capitalize()} step {i} ({step.kind!r}) is a {step.stage} step.",
                        hint=f"Move it to the {'clean' if step.stage == 'clean' else 'features'} list.",
                    )
                steps.append(step)
            stages[stage] = tuple(steps)
        return cls(clean=stages["clean"], features=stages["features"])

    @classmethod
    def from_json(cls, text: str | bytes) -> Recipe:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"The recipe is not valid JSON: {exc.msg} at line {exc.lineno}.",
                                  hint="Fix the JSON and load it again.") from None
        return cls.from_dict(data)

    @property
    def sha(self) -> str:
        return jsonutil.canonical_sha(self.to_dict())

    def __len__(self) -> int:
        return len(self.clean) + len(self.features)

    # -- edits (each returns a new recipe) --------------------------------------------

    def _stage_of(self, step: Step) -> str:
        return "clean" if step.stage == "clean" else "features"

    def add(self, step: Step) -> Recipe:
        stage = self._stage_of(step)
        return self._with(stage, (*getattr(self, stage), step))

    def remove(self, stage: str, index: int) -> Recipe:
        steps = list(self._steps(stage))
        self._check_index(stage, index, steps)
        del steps[index]
        return self._with(stage, tuple(steps))

    def move(self, stage: str, index: int, new_index: int) -> Recipe:
        steps = list(self._steps(stage))
        self._check_index(stage, index, steps)
        self._check_index(stage, new_index, steps)
        steps.insert(new_index, steps.pop(index))
        return self._with(stage, tuple(steps))

    def replace(self, stage: str, index: int, step: Step) -> Recipe:
        steps = list(self._steps(stage))
        self._check_index(stage, index, steps)
        steps[index] = step
        return self._with(stage, tuple(steps))

    def _steps(self, stage: str) -> tuple[Step, ...]:
        if stage not in STAGES:
            raise ValidationError(f"The stage must be one of {list(STAGES)}. Got {stage!r} instead.")
        return getattr(self, stage)

    @staticmethod
    def _check_index(stage: str, index: int, steps: list) -> None:
        if not 0 <= index < len(steps):
            raise ValidationError(f"There is no {stage} step number {index + 1}.")

    def _with(self, stage: str, steps: tuple[Step, ...]) -> Recipe:
        return Recipe(**{**{s: getattr(self, s) for s in STAGES}, stage: steps})

    # -- running ---------------------------------------------------------------------

    def apply_clean(self, frame: pd.DataFrame, context: FitContext | None = None) -> tuple[pd.DataFrame, list[dict]]:
        """Run every cleaning step on ``frame`` (fitting those that learn on it).

        Returns the cleaned frame and the learned states, in step order.
        """
        context = context or FitContext()
        states = []
        for i, step in enumerate(self.clean, start=1):
            frame, state = _run(step, "Clean", i, frame, lambda s, f: s.fit_transform(f, context))
            states.append(state)
        return frame, states

    def fit(self, frame: pd.DataFrame, context: FitContext | None = None,
            train_index: pd.Index | None = None) -> tuple[FittedRecipe, pd.DataFrame]:
        """Clean all rows, then fit the feature steps on ``train_index`` rows (all if None).

        Returns the fitted recipe and the transformed training rows.
        """
        context = context or FitContext()
        cleaned, clean_states = self.apply_clean(frame, context)
        train = cleaned if train_index is None else cleaned.loc[cleaned.index.intersection(train_index)]
        train, feature_states = self.fit_features(train, context)
        return FittedRecipe(self, tuple(clean_states), tuple(feature_states)), train

    def fit_features(self, frame: pd.DataFrame, context: FitContext | None = None) -> tuple[pd.DataFrame, list[dict]]:
        context = context or FitContext()
        states = []
        for i, step in enumerate(self.features, start=1):
            frame, state = _run(step, "Feature", i, frame, lambda s, f: s.fit_transform(f, context))
            states.append(state)
        return frame, states

    def to_code(self, states: Sequence[dict] | None = None, *, source: str = "data.parquet",
                title: str = "", feature_states: Sequence[dict] | None = None) -> str:
        """A runnable Python script (pandas) that replays the cleaning steps.

        ``states`` are what the steps learned (from :meth:`apply_clean`); a step that
        learns cannot be exported without its state. The script defines
        ``clean(df, scoring=False)`` (with ``scoring=True`` the training-only row steps
        are skipped, as when new rows are scored) and, run as
        ``python script.py RAW.parquet OUT.parquet``, reads the dataset's raw Parquet
        snapshot and writes the cleaned table. The helpers the steps call are copied
        into the script (``core.steps.codegen``), so it runs without Assay.

        With ``feature_states`` (what the feature steps learned on the training rows) the
        script also defines ``AssayFeatures``, a scikit-learn compatible transformer that
        replays the feature steps (``core.feature_code``), and writes the model's input.
        """
        from core.feature_code import CLASS_NAME, transformer_class

        if states is not None and len(states) != len(self.clean):
            raise ValidationError("The learned states do not match the recipe's steps.")
        body: list[str] = []
        for i, step in enumerate(self.clean, start=1):
            code = step.to_code(states[i - 1] if states is not None else None)
            body += ["", f"# Step {i}: {_one_line(step.describe())}"]
            if step.training_only:
                body += ["if not scoring:  # training-only row step: skipped when new rows are scored",
                         *("    " + line for line in code.splitlines())]
            else:
                body += code.splitlines()
        features = transformer_class(self.features, feature_states) if feature_states is not None else []
        helpers = kernel_sources("\n".join(body + features))
        sklearn = bool(features) or any("sklearn" in h for h in helpers)
        needs = "pandas, numpy, pyarrow" + (" and scikit-learn" if sklearn else "")
        lines = [
            f'"""{_one_line(title or "Cleaning recipe")}: exported by Assay.',
            "",
            "Replays the recipe on the dataset's raw table (the Parquet snapshot Assay keeps and",
            "offers for download next to this script) and writes the cleaned table:",
            "",
            f"    python this_script.py {_one_line(source)} cleaned.parquet",
            "",
            f"Or import it and call clean(df). Needs {needs}.",
            '"""',
            "import json",
            "import sys",
            "",
            "import numpy as np",
            "import pandas as pd",
            *(["from sklearn.base import BaseEstimator, TransformerMixin"] if features else []),
            "",
        ]
        for helper in helpers:
            lines += ["", helper, ""]
        lines += ["", "def clean(df: pd.DataFrame, scoring: bool = False) -> pd.DataFrame:",
                  f'    """Apply the recipe\'s {len(self.clean)} cleaning step(s) to a raw table."""']
        lines += [("    " + line) if line else "" for line in body]
        lines += ["    return df", "", *features, *([""] if features else [])]
        read = "clean(pd.read_parquet(source))"
        lines += [
            "",
            'if __name__ == "__main__":',
            f"    source = sys.argv[1] if len(sys.argv) > 1 else {source!r}",
            '    target = sys.argv[2] if len(sys.argv) > 2 else "cleaned.parquet"',
            f"    cleaned = {f'{CLASS_NAME}().fit_transform({read})' if features else read}",
            "    cleaned.to_parquet(target, index=False)",
            '    print(f"{len(cleaned):,} rows x {cleaned.shape[1]} columns -> {target}")',
        ]
        return "\n".join(lines) + "\n"

    def script(self, frame: pd.DataFrame, context: FitContext | None = None, **kwargs: Any) -> str:
        """Fit the cleaning steps on ``frame`` and export them (:meth:`to_code` with the states)."""
        return self.to_code(self.apply_clean(frame, context)[1], **kwargs)


def _one_line(text: str) -> str:
    """User text made safe inside one comment or docstring line: no line breaks, no quote runs."""
    text = re.sub(r"[\x00-\x1f\x7f\x85\u2028\u2029]", " ", str(text))
    return text.replace("\\", "/").replace('"""', "'''")

@dataclass(frozen=True)
class FittedRecipe:
    """A recipe plus what its steps learned: replays on new rows exactly."""

    recipe: Recipe
    clean_states: tuple[dict, ...] = ()
    feature_states: tuple[dict, ...] = ()
    meta: dict = field(default_factory=dict)

    def transform(self, frame: pd.DataFrame, *, scoring: bool = True) -> pd.DataFrame:
        """Apply to new rows; with ``scoring``, training-only row steps are skipped."""
        for i, (step, state) in enumerate(zip(self.recipe.clean, self.clean_states), start=1):
            if scoring and step.training_only:
                continue
            frame, _ = _run(step, "Clean", i, frame, lambda s, f, st=state: (s.transform(f, st), st))
        return self.transform_features(frame)

    def transform_features(self, frame: pd.DataFrame) -> pd.DataFrame:
        for i, (step, state) in enumerate(zip(self.recipe.features, self.feature_states), start=1):
            frame, _ = _run(step, "Feature", i, frame, lambda s, f, st=state: (s.transform(f, st), st))
        return frame

    def to_dict(self) -> dict:
        return {
            "recipe": self.recipe.to_dict(),
            "clean_states": list(self.clean_states),
            "feature_states": list(self.feature_states),
            "meta": self.meta,
        }

    @classmethod
    def from_dict(cls, data: dict) -> FittedRecipe:
        recipe = Recipe.from_dict(data.get("recipe", {}))
        clean_states = tuple(data.get("clean_states", []))
        feature_states = tuple(data.get("feature_states", []))
        if len(clean_states) != len(recipe.clean) or len(feature_states) != len(recipe.features):
            raise ValidationError("The fitted recipe's states do not match its steps; the file is damaged.")
        return cls(recipe, clean_states, feature_states, dict(data.get("meta", {})))


class MissingColumnError(ValidationError):
    """A step uses a column that is not in the data when the step runs."""


def run_clean_step(step: Step, frame: pd.DataFrame, number: int,
                   context: FitContext | None = None) -> tuple[pd.DataFrame, dict]:
    """Fit and apply one cleaning step as step ``number`` of a recipe (errors say so)."""
    context = context or FitContext()
    return _run(step, "Clean", number, frame, lambda s, f: s.fit_transform(f, context))


def run_feature_step(step: Step, frame: pd.DataFrame, number: int,
                     context: FitContext | None = None) -> tuple[pd.DataFrame, dict]:
    """Fit and apply one feature step as feature step ``number`` of a recipe (errors say so)."""
    context = context or FitContext()
    return _run(step, "Feature", number, frame, lambda s, f: s.fit_transform(f, context))


def _run(step: Step, stage: str, number: int, frame: pd.DataFrame, call) -> tuple[pd.DataFrame, dict]:
    missing = [c for c in step.columns_in() if c not in frame.columns]
    if missing:
        raise MissingColumnError(
            f"{stage} step {number} ({step.describe()}) uses the column {missing[0]!r}, "
            "which is not in the data at that point.",
            hint="An earlier step may have removed or renamed it; fix or remove this step.",
        )
    try:
        return call(step, frame)
    except AssayError as exc:
        raise type(exc)(f"{stage} step {number} ({step.describe()}): {exc}") from None
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ValidationError(
            f"{stage} step {number} ({step.describe()}) cannot run on this data: {exc}",
            hint="Check the step's columns and parameters.",
        ) from None

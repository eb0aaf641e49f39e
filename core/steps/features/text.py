"""Text features: lengths and word counts, and TF-IDF reduced to a few components by
truncated SVD. The TF-IDF state is stored as plain numbers (the vocabulary, the idf
weights and the SVD components), so scoring needs no pickled vectoriser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from core.errors import ValidationError
from core.steps.features.base import TEXT, FeatureStep, SubsetOf, with_columns
from core.steps.codegen import kernel
from core.steps.base import Boolean, Column, Interval, register

STATS = ("chars", "words", "digits")


@kernel
def text_stats_columns(df, p, s):
    """Characters, words (runs of non-space) and digits per value."""
    col = p["column"]
    text = df[col].astype("string")
    new = {}
    for stat in p["stats"]:
        values = text.str.len() if stat == "chars" else text.str.count(r"\S+" if stat == "words" else r"\d")
        new[f"{col}_{stat}"] = values.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return with_columns(df, new, drop=() if p["keep_original"] else (col,))


@kernel
def tfidf_matrix(texts, s):
    """TF-IDF rows (l2-normalised) over the learned vocabulary and idf weights."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    vocabulary = {term: i for i, term in enumerate(s["vocabulary"])}
    counts = CountVectorizer(vocabulary=vocabulary, ngram_range=(1, s["ngram_max"]), lowercase=True,
                             dtype=np.float64).transform(texts)
    return normalize(counts.multiply(np.asarray(s["idf"], dtype="float64")).tocsr())


@kernel
def tfidf_svd_columns(df, p, s):
    """``<column>_svd<i>``: the TF-IDF vector projected on the learned SVD components."""
    col = p["column"]
    texts = df[col].astype("string").fillna("").to_numpy(dtype=object)
    projected = tfidf_matrix(texts, s) @ np.asarray(s["components"], dtype="float64").T
    new = {f"{col}_svd{i + 1}": projected[:, i] for i in range(projected.shape[1])}
    return with_columns(df, new, drop=() if p["keep_original"] else (col,))


@register
@dataclass(frozen=True, kw_only=True)
class TextStats(FeatureStep):
    """Per text value: number of characters, words and digits (``<column>_chars``,
    ``<column>_words``, ``<column>_digits``). Missing text gives missing counts. Keeps the text column
    unless ``keep_original`` is off."""

    kind: ClassVar[str] = "text_stats"
    label: ClassVar[str] = "Text lengths and counts"
    group: ClassVar[str] = "Text"
    summary: ClassVar[str] = "Length in characters and words (and digits)."
    accepts: ClassVar[dict] = {"column": TEXT}
    constraints: ClassVar[dict] = {"column": Column(), "stats": SubsetOf(*STATS), "keep_original": Boolean()}
    replay = staticmethod(text_stats_columns)
    column: str
    stats: tuple[str, ...] = ("chars", "words")
    keep_original: bool = True

    def columns_in(self) -> list[str]:
        return [self.column]

    def _fit(self, frame, context) -> dict:
        self.new_columns(frame, [f"{self.column}_{s}" for s in self.stats])
        return {}

    def describe(self) -> str:
        return f"Text counts of {self.column!r}: {', '.join(self.stats)}"


@register
@dataclass(frozen=True, kw_only=True)
class TfidfSvd(FeatureStep):
    """TF-IDF of a text column (words, or up to ``ngram_max``-word phrases, seen in at
    least ``min_df`` training rows, the ``max_features`` most frequent), reduced by
    truncated SVD to ``components`` number columns ``<column>_svd1`` ... (latent semantic
    analysis). Learned on the training rows with the run's seed."""

    kind: ClassVar[str] = "tfidf_svd"
    label: ClassVar[str] = "TF-IDF + SVD"
    group: ClassVar[str] = "Text"
    summary: ClassVar[str] = "Word weights reduced to a few number columns (topics)."
    accepts: ClassVar[dict] = {"column": TEXT}
    constraints: ClassVar[dict] = {
        "column": Column(), "components": Interval(1, 100, integer=True),
        "max_features": Interval(10, 50_000, integer=True), "min_df": Interval(1, 1000, integer=True),
        "ngram_max": Interval(1, 3, integer=True), "keep_original": Boolean(),
    }
    replay = staticmethod(tfidf_svd_columns)
    column: str
    components: int = 10
    max_features: int = 2000
    min_df: int = 2
    ngram_max: int = 1
    keep_original: bool = False

    def columns_in(self) -> list[str]:
        return [self.column]

    def _fit(self, frame, context) -> dict:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        texts = frame[self.column].astype("string").fillna("").to_numpy(dtype=object)
        vectorizer = TfidfVectorizer(max_features=self.max_features, min_df=min(self.min_df, max(len(texts), 1)),
                                     ngram_range=(1, self.ngram_max), lowercase=True, dtype=np.float64)
        try:
            matrix = vectorizer.fit_transform(texts)
        except ValueError:
            raise ValidationError(f"{self.column!r} has no words that appear in at least {self.min_df} training rows.",
                                  hint="Lower 'min_df', or pick a column with more text.") from None
        n_terms = matrix.shape[1]
        k = min(self.components, n_terms - 1, max(matrix.shape[0] - 1, 1))
        if k < 1:
            raise ValidationError(f"{self.column!r} has only {n_terms} distinct word(s); "
                                  "TF-IDF + SVD needs at least 2.",
                                  hint="Use text counts or one-hot encoding instead.")
        names = [f"{self.column}_svd{i + 1}" for i in range(k)]
        self.new_columns(frame, names)
        svd = TruncatedSVD(n_components=k, random_state=context.seed).fit(matrix)
        terms = vectorizer.get_feature_names_out()
        order = np.argsort([vectorizer.vocabulary_[t] for t in terms])
        return {"vocabulary": terms[order].tolist(), "idf": vectorizer.idf_[order].tolist(),
                "components": svd.components_[:, order].tolist(), "ngram_max": self.ngram_max}

    def describe(self) -> str:
        return f"TF-IDF + SVD of {self.column!r} to {self.components} components"

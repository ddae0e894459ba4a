"""Text features without a language model: length, script, topic cluster and hashed
character n-grams of free text, as columns the drift tests can compare
(:func:`text_features`, :func:`fit_topics`, :class:`TopicModel`, :func:`ngrams`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import (
    BACKEND,
    Backend,
    Column,
    Frame,
    InstanceOf,
    Interval,
    frame_out,
    reject,
    validate_params,
)
from toolkit.errors import SchemaError

SCRIPTS: tuple[str, ...] = (
    "Latin",
    "Cyrillic",
    "Greek",
    "Arabic",
    "Hebrew",
    "Devanagari",
    "Bengali",
    "Tamil",
    "Thai",
    "Han",
    "Hiragana",
    "Katakana",
    "Hangul",
)


def _texts(data: pl.DataFrame, column: str, function: str) -> tuple[pl.DataFrame, pl.Series]:
    if data.schema[column] != pl.String:
        raise SchemaError(
            f"Column {column!r} given to {function} is {data.schema[column]}; expected text "
            "(String)."
        )
    return data, data[column]


@dataclass(frozen=True)
class TopicModel:
    """Topic clusters fitted on reference texts: TF-IDF vectors, k-means centroids.

    Attributes
    ----------
    k : int
        Number of clusters.
    terms : tuple of tuple of str
        The top terms of each cluster (highest centroid weights), to name them.
    reference_shares : tuple of float
        Share of the reference texts in each cluster.
    """

    k: int
    terms: tuple[tuple[str, ...], ...]
    reference_shares: tuple[float, ...]
    _vectorizer: Any = field(repr=False, compare=False)
    _kmeans: Any = field(repr=False, compare=False)

    def assign(self, texts: Any) -> pl.Series:
        """The nearest cluster of each text (``"topic <i>"``); null text stays null.

        Parameters
        ----------
        texts : polars.Series or sequence of str or None

        Returns
        -------
        polars.Series
            String.
        """
        series = texts if isinstance(texts, pl.Series) else pl.Series(list(texts))
        series = series.cast(pl.String)
        present = series.is_not_null()
        labels = np.full(series.len(), -1)
        if present.any():
            matrix = self._vectorizer.transform(series.filter(present).to_list())
            labels[present.to_numpy()] = self._kmeans.predict(matrix)
        return pl.Series(
            "topic", [f"topic {i}" if i >= 0 else None for i in labels], dtype=pl.String
        )

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>topic {i}</td><td>{share:.1%}</td><td>{html.escape(', '.join(t))}</td></tr>"
            for i, (t, share) in enumerate(zip(self.terms, self.reference_shares, strict=True))
        )
        return (
            "<table><thead><tr><th>topic</th><th>reference share</th><th>top terms</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )


@validate_params(
    k=Interval(int, 1, None, closed="left"),
    seed=Interval(int, 0, None),
    max_features=Interval(int, 1, None, closed="left"),
)
def fit_topics(texts: Any, *, k: int = 8, seed: int = 0, max_features: int = 5000) -> TopicModel:
    """Fit topic clusters on reference texts (TF-IDF of words, k-means; scikit-learn).

    Assign current texts with :meth:`TopicModel.assign`, then test the ``topic`` column
    like any categorical column (a new kind of request shows as a shift of the shares, or
    as a cluster absorbing it). Texts are redacted by nothing here: top terms may quote
    the data.

    Parameters
    ----------
    texts : polars.Series or sequence of str
        The reference texts (nulls left out).
    k : int, default 8
        Clusters (fewer when there are fewer distinct texts).
    seed : int, default 0
        k-means seed: the fit is deterministic for a seed.
    max_features : int, default 5000
        Vocabulary size of the TF-IDF model.

    Returns
    -------
    TopicModel

    Examples
    --------
    >>> model = fit_topics(["reset my password", "password reset link", "GPU price",
    ...                     "price of a GPU"], k=2)
    >>> model.assign(["forgot password", None]).to_list()[1] is None
    True
    """
    series = texts if isinstance(texts, pl.Series) else pl.Series(list(texts))
    docs = series.cast(pl.String).drop_nulls().to_list()
    if not docs:
        raise reject("texts", "hold at least one text", got="none")
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(max_features=max_features, sublinear_tf=True)
    matrix = vectorizer.fit_transform(docs)
    clusters = max(1, min(k, len(set(docs))))
    kmeans = KMeans(n_clusters=clusters, n_init=4, random_state=seed).fit(matrix)
    vocab = np.asarray(vectorizer.get_feature_names_out())
    terms = tuple(
        tuple(str(t) for t in vocab[np.argsort(center)[::-1][:5]])
        for center in kmeans.cluster_centers_
    )
    counts = np.bincount(kmeans.labels_, minlength=clusters)
    shares = tuple(float(c) / len(docs) for c in counts)
    return TopicModel(clusters, terms, shares, vectorizer, kmeans)


@validate_params(
    frame=Frame(),
    column=Column("frame"),
    topics=[InstanceOf(TopicModel), None],
    backend=BACKEND,
)
def text_features(
    frame: Any,
    column: str,
    *,
    topics: TopicModel | None = None,
    backend: Backend = "polars",
) -> Any:
    """Columns describing a text column, to test with :func:`compare` or :func:`windowed`.

    Adds ``<column>.chars`` (characters), ``<column>.words`` (runs of letters or digits: a
    script written without spaces counts a whole run as one word),
    ``<column>.script`` (the Unicode script of most of the text's letters, from
    :data:`SCRIPTS`, ``"Other"`` for letters of another script, null without letters),
    ``<column>.share.<Script>`` for every script found in the column (share of its letters)
    and, with ``topics``, ``<column>.topic`` (the nearest reference topic cluster).

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    column : str
        A text column (e.g. ``question`` / ``answer`` of :func:`toolkit.quality.signals`).
    topics : TopicModel, optional
        From :func:`fit_topics` on the reference texts.
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        ``frame`` with the new columns.

    Examples
    --------
    >>> import polars as pl
    >>> f = pl.DataFrame({"q": ["What is the price?", "कीमत क्या है?", None]})
    >>> text_features(f, "q").select("q.words", "q.script").rows()
    [(4, 'Latin'), (3, 'Devanagari'), (None, None)]
    """
    data, texts = _texts(frame, column, "drift.text_features")
    letters = texts.str.count_matches(r"\p{L}").cast(pl.Int64)
    counts = {s: texts.str.count_matches(rf"[\p{{{s}}}&&\p{{L}}]").cast(pl.Int64) for s in SCRIPTS}
    known = pl.sum_horizontal(*counts.values()) if counts else pl.lit(0)
    counts_frame = pl.DataFrame(counts).with_columns(
        (letters - pl.select(known).to_series()).alias("Other")
    )
    names = [*SCRIPTS, "Other"]
    matrix = counts_frame.select(names).fill_null(0).to_numpy()
    dominant = np.argmax(matrix, axis=1) if matrix.size else np.zeros(0, dtype=np.int64)
    has_letters = (letters.fill_null(0) > 0).to_numpy()
    script = pl.Series(
        f"{column}.script",
        [names[d] if ok else None for d, ok in zip(dominant, has_letters, strict=True)],
        dtype=pl.String,
    )
    found = [s for s in names if counts_frame[s].fill_null(0).sum() > 0]
    shares = [
        pl.Series(
            f"{column}.share.{s}",
            (counts_frame[s] / letters.cast(pl.Float64)).fill_nan(None),
        )
        for s in found
    ]
    added = [
        texts.str.len_chars().cast(pl.Int64).alias(f"{column}.chars"),
        texts.str.count_matches(r"[\p{L}\p{M}\p{N}]+").cast(pl.Int64).alias(f"{column}.words"),
        script,
        *shares,
    ]
    if topics is not None:
        added.append(topics.assign(texts).alias(f"{column}.topic"))
    out = data.with_columns(added)
    return frame_out(out, backend)


@validate_params(
    frame=Frame(),
    column=Column("frame"),
    n=Interval(int, 1, None, closed="left"),
    buckets=Interval(int, 2, None),
    keep=Column("frame", many=True),
    backend=BACKEND,
)
def ngrams(
    frame: Any,
    column: str,
    *,
    n: int = 3,
    buckets: int = 4096,
    keep: Sequence[str] = ("start_time",),
    backend: Backend = "polars",
) -> Any:
    """One row per hashed character n-gram of a text column (the vocabulary distribution).

    Texts are lowercased and their whitespace collapsed; every character n-gram is hashed
    into one of ``buckets`` buckets (polars' hash, seeded: stable across runs). Testing
    the ``<column>.ngram`` column of the result with ``jensenshannon`` or ``psi`` (in
    :func:`compare` or :func:`windowed`) measures how far the vocabulary moved, without a
    model or a fixed dictionary: new words, another language or script, answers without
    their usual citations all move it. The rows are not independent samples, so do not use
    the p-value tests (``chisquare``) on them.

    Parameters
    ----------
    frame : polars.DataFrame or pandas.DataFrame
    column : str
        Text column.
    n : int, default 3
        Characters per n-gram.
    buckets : int, default 4096
        Hash buckets (collisions merge n-grams; more buckets, fewer collisions).
    keep : sequence of str, default ("start_time",)
        Columns of ``frame`` repeated on every row (the time column for :func:`windowed`).
    backend : {"polars", "pandas"}, default "polars"

    Returns
    -------
    polars.DataFrame or pandas.DataFrame
        The ``keep`` columns and ``<column>.ngram`` (String bucket id), one row per n-gram.

    Examples
    --------
    >>> import polars as pl
    >>> ngrams(pl.DataFrame({"t": ["abcd", None]}), "t", keep=[]).height
    2
    """
    data, _ = _texts(frame, column, "drift.ngrams")
    keep_list = [keep] if isinstance(keep, str) else list(keep)
    clean = pl.col(column).str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    name = f"{column}.ngram"
    exploded = (
        data.select(*keep_list, clean.alias("_t"))
        .filter(pl.col("_t").is_not_null() & (pl.col("_t").str.len_chars() >= n))
        .with_columns(
            pl.int_ranges(0, pl.col("_t").str.len_chars() - n + 1, dtype=pl.Int64).alias("_i")
        )
        .explode("_i")
    )
    out = exploded.select(
        *keep_list,
        (pl.col("_t").str.slice(pl.col("_i"), n).hash(seed=20261102) % buckets)
        .cast(pl.String)
        .alias(name),
    )
    return frame_out(out, backend)

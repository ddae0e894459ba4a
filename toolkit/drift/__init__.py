"""Drift: reference against current distributions, windowed drift, change points, text drift.

:func:`compare` tests each column of a current sample against a reference sample and returns
one row per column. :func:`windowed` does the same for every window (hour, day ...) of a
period against one reference window, in a single vectorised pass per column, and
:func:`detections` turns its rows into the first time each column drifted for good.
:func:`change_points` finds the times a metric series (hallucination-risk rate, p95 latency,
output length ...) changed level. :func:`text_features`, :func:`fit_topics` and
:func:`ngrams` turn free text into columns those functions can test (length, script,
topic cluster, hashed character n-grams) without a language model. :func:`plan` chooses
from the data what a drift analysis compares (window widths, reference window, columns);
:func:`share_shift`, :func:`most_drifted`, :func:`window_series` and
:func:`clean_reference` are the steps between those calls.

The tests (``test`` column):

========================  =============  ================================  =================
test                      column kind    statistic                         drifted when
========================  =============  ================================  =================
``ks``                    numeric        Kolmogorov-Smirnov D; p-value     p <= 0.05
``wasserstein``           numeric        Wasserstein-1 / reference std     statistic >= 0.1
``chisquare``             both           chi-square (2 x k homogeneity);   p <= 0.05
                                         p-value
``jensenshannon``         both           Jensen-Shannon distance (base e)  statistic >= 0.1
``psi``                   both           population stability index        statistic >= 0.1
========================  =============  ================================  =================

**Automatic choice** (Evidently's defaults, stated in the ``reason`` column of each row):
with at most 1,000 non-null reference values, ``ks`` for numeric columns and ``chisquare``
for categorical ones (p-value tests are reliable on small samples); above, ``wasserstein``
(numeric) or ``jensenshannon`` (categorical), because with large samples a p-value test
flags differences too small to matter. ``tests`` overrides the choice per column and
``thresholds`` the threshold per column.

Definitions, and where they differ from Evidently:

- Numeric columns are the integer and float columns; string, categorical, enum and boolean
  columns are categorical. Nulls (and NaN) are left out of both samples; ``n_reference`` and
  ``n_current`` count the values tested and ``nulls_reference`` / ``nulls_current`` the
  values left out.
- ``ks``: the exact two-sample statistic. :func:`compare` takes its p-value from
  ``scipy.stats.ks_2samp`` (exact for samples up to 10,000, else asymptotic);
  :func:`windowed` from Smirnov's asymptotic distribution, as ``ks_2samp(method="asymp")``.
- ``wasserstein``: ``scipy.stats.wasserstein_distance(ref, cur) / np.std(ref)`` (``ddof=0``),
  computed exactly; infinite when the reference is constant and the current sample is not.
- ``chisquare``: the test of homogeneity of the 2 x k table of counts (reference and current
  rows, categories present in either sample), ``scipy.stats.chi2_contingency(table,
  correction=False)``. Evidently uses a goodness-of-fit test against the reference shares
  instead, which is undefined when a category is new (a new locale is the drift one wants).
- ``jensenshannon``: ``scipy.spatial.distance.jensenshannon(p_ref, p_cur)`` (natural log:
  0 to 0.833) of the category shares, or of the shares in ``bins`` bins for numeric columns.
- ``psi``: sum of ``(c - r) * ln(c / r)`` over bins of current and reference shares, a share
  of 0 counted as 0.0001. Bands: < 0.1 no shift, 0.1-0.25 moderate, >= 0.25 major.
- Numeric columns are binned (``psi``, ``jensenshannon``, ``chisquare``) at the reference's
  quantiles, ``bins`` of them (default 10 for ``psi``, 30 for the others; fewer when the
  reference has ties), the first and last bins open-ended. Evidently bins both samples
  together with equal widths, which moves the bins with every current window.
- ``correction`` adjusts the p-values of the columns of one comparison (one window):
  ``"bonferroni"``, ``"holm"`` or ``"fdr_bh"`` (Benjamini-Hochberg); ``p_value_adjusted``
  holds the adjusted value and ``drifted`` is decided on it.

Examples
--------
>>> import polars as pl
>>> from toolkit.drift import compare
>>> ref = pl.DataFrame({"tokens": [10, 12, 11, 13, 12, 11], "locale": ["en"] * 6})
>>> cur = pl.DataFrame({"tokens": [30, 32, 31, 29, 33, 30], "locale": ["en", "hi"] * 3})
>>> compare(ref, cur).select("column", "test", "drifted", "n_reference", "n_current").rows()
[('tokens', 'ks', True, 6, 6), ('locale', 'chisquare', True, 6, 6)]
"""

from __future__ import annotations

from toolkit.drift._change_points import (
    change_points,
)
from toolkit.drift._compare import (
    DEFAULT_THRESHOLDS,
    TESTS,
    compare,
)
from toolkit.drift._plan import (
    WIDTHS,
    DriftPlan,
    clean_reference,
    default_columns,
    most_drifted,
    plan,
    share_shift,
    window_series,
    window_width,
)
from toolkit.drift._text import (
    SCRIPTS,
    TopicModel,
    fit_topics,
    ngrams,
    text_features,
)
from toolkit.drift._windowed import (
    detections,
    windowed,
)

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SCRIPTS",
    "TESTS",
    "WIDTHS",
    "DriftPlan",
    "TopicModel",
    "change_points",
    "clean_reference",
    "compare",
    "default_columns",
    "detections",
    "fit_topics",
    "most_drifted",
    "ngrams",
    "plan",
    "share_shift",
    "text_features",
    "window_series",
    "window_width",
    "windowed",
]

"""Bias audits: is the service as good to every group of users?

Any binary outcome of the calls (served or refused, TTFT within the SLO, grounded answer,
routed to the fallback ...) is compared across the values of one or more group columns
(locale, tier, and their intersections), with the metrics of AIF360, the reference
implementation, computed natively with polars so that millions of calls take a second:

- :func:`group_metrics` — one row per group: size, favorable rate, disparate impact,
  statistical parity difference, the ratio of unfavorable rates and, when a ground-truth
  label is given, true/false positive rates, equal opportunity and average odds
  differences; bootstrap confidence intervals; small groups and the four-fifths rule
  flagged. :func:`audit` wraps it with the overall numbers (Theil index) in a
  :class:`BiasAudit` that renders in a notebook.
- :func:`aif360_group_metrics`, :func:`aif360_theil_index`, :func:`aif360_dataset` — the
  same numbers through AIF360 itself (the two paths agree to 1e-9; the tests check it on
  COMPAS, German credit and constructed cases), and AIF360 datasets built from our frames.
- :func:`mitigate` — where a model makes the decision (an escalation, moderation or
  routing classifier trained on the calls): AIF360's Reweighing before training and one
  post-processing method (reject option classification), with a before/after table of
  accuracy and fairness on held-out data.
- :func:`load_compas` — ProPublica's COMPAS file with AIF360's ``CompasDataset`` rows, the
  classic sanity anchor of a bias audit.

Terms. The *favorable* outcome is the one a user wants (served, fast, grounded). Each group
is compared with a *reference*: the ``privileged`` groups when given, otherwise every other
group ("each group against the rest"). Disparate impact is the ratio of favorable rates
(group / reference), statistical parity difference their difference; the four-fifths rule
flags a ratio outside 0.8-1.25. When the favorable outcome is nearly universal (99 % of
calls are not refused) the ratio of favorable rates stays near 1 even if one group is
refused seven times as often: ``unfavorable_ratio`` (ratio of unfavorable rates) shows it.
A group is ``flagged`` when either ratio is outside the fair band *and* a two-proportion
z-test (Holm-adjusted over the groups) says chance does not explain it, unless the group
is too small to judge; bootstrap intervals say how precisely each number is known.

Heavy packages (aif360, scikit-learn) are imported inside the functions that use them;
AIF360's import-time noise is silenced without changing the logging or warnings state.

The package's parts: group metrics and the audit object (``_metrics``), the AIF360 path
(``_reference``, through the private adapter ``_aif360``), mitigation (``_mitigation``) and
the audits of the calls (``_calls``); :func:`load_compas` lives in :mod:`toolkit.datasets`
and is re-exported here.
"""

from __future__ import annotations

from toolkit.datasets import load_compas
from toolkit.fairness._calls import (
    USER_PREFIXES,
    CallOutcomes,
    DimensionAudit,
    audit_compas,
    audit_dimensions,
    audit_intersections,
    call_outcomes,
    decision_data,
    group_dimensions,
    within_strata,
)
from toolkit.fairness._metrics import BiasAudit, audit, group_metrics, theil_index
from toolkit.fairness._mitigation import (
    Mitigation,
    mitigate,
)
from toolkit.fairness._params import (
    BAND,
)
from toolkit.fairness._reference import (
    aif360_dataset,
    aif360_group_metrics,
    aif360_theil_index,
)

__all__ = [
    "BAND",
    "USER_PREFIXES",
    "BiasAudit",
    "CallOutcomes",
    "DimensionAudit",
    "Mitigation",
    "aif360_dataset",
    "aif360_group_metrics",
    "aif360_theil_index",
    "audit",
    "audit_compas",
    "audit_dimensions",
    "audit_intersections",
    "call_outcomes",
    "decision_data",
    "group_dimensions",
    "group_metrics",
    "load_compas",
    "mitigate",
    "theil_index",
    "within_strata",
]

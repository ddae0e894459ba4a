"""Loaders of public reference datasets, read from a path you downloaded them to.

Each loader reads one published file as its authors distribute it, checks it, and gives
the rows the reference implementation uses, so an analysis can be checked against a
known answer:

- :func:`load_compas` — ProPublica's COMPAS ``compas-scores-two-years.csv`` with AIF360's
  ``CompasDataset`` rows, the classic sanity anchor of a bias audit
  (:func:`toolkit.fairness.audit_compas`).

Workload traces (Azure, BurstGPT, Mooncake, ServeGen ...) are read by
:func:`toolkit.load_workload`, since they are a canonical table of their own.
"""

from __future__ import annotations

from toolkit.datasets._compas import load_compas

__all__ = ["load_compas"]

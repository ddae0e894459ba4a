"""Loaders of public reference datasets, read from a path you downloaded them to.

Each loader reads one published file as its authors distribute it, checks it, and gives
the rows the reference implementation uses, so an analysis can be checked against a
known answer:

- :func:`load_compas` — ProPublica's COMPAS ``compas-scores-two-years.csv`` with AIF360's
  ``CompasDataset`` rows, the classic sanity anchor of a bias audit
  (:func:`toolkit.fairness.audit_compas`).
- :func:`load_creditcard` — ULB / Worldline's credit-card fraud ``creditcard.csv`` (or a cut
  of it) as a ``predictions`` table without scores, ``Time`` anchored at a stated epoch.

Workload traces (Azure, BurstGPT, Mooncake, ServeGen ...) are read by
:func:`toolkit.load_workload`, since they are a canonical table of their own.
"""

from __future__ import annotations

from toolkit.datasets._compas import load_compas
from toolkit.datasets._creditcard import CREDITCARD_EPOCH, load_creditcard

__all__ = ["CREDITCARD_EPOCH", "load_compas", "load_creditcard"]

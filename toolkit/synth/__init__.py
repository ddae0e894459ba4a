"""A simulated week of an LLM service, with known incidents, written as real exports.

:func:`simulate_service` runs a discrete-event simulation of an LLM gateway in front of two GPU
pools served by vLLM (a small model on an L4 pool, a large model on an H100 pool) and
returns the ground truth of every request; :func:`write_sample` writes what such a fleet
exports: OTLP JSON Lines traces and logs, Prometheus scrapes of vLLM and DCGM metrics, an
nvidia-smi CSV log, ``truth.json`` (the incidents and the parameters) and ``SCENARIO.md``.
:func:`generate` does both. :func:`servegen_to_workload` draws a synthetic workload
from ServeGen's published statistics. Everything is deterministic for a seed, byte for byte.

Latency, queueing, time to first token and failures are not drawn: they emerge from the
load on the simulated engines (see :mod:`toolkit.synth._model`). Token lengths follow
lognormals fitted to public traces (:data:`FITS`). Traces are head-sampled by trace id
(``trace_sample``, as OpenTelemetry's ``TraceIdRatioBased`` sampler does), while metrics
see every request: scale span counts by ``1 / trace_sample`` to compare them.

Examples
--------
>>> from toolkit.synth import simulate_service
>>> sim = simulate_service(days=1, rps=0.05, seed=3, trace_sample=1.0)
>>> sim.requests.height > 1000, sim.requests["route"].unique().sort().to_list()
(True, ['chat', 'code', 'rag-qa'])
"""

from __future__ import annotations

from toolkit.synth._cli import register_cli
from toolkit.synth._model import Incidents, quiet_plan, random_plan
from toolkit.synth._sample import (
    DEFAULT_RPS,
    DEFAULT_SEED,
    DEFAULT_TRACE_SAMPLE,
    FITS,
    SAMPLE_FILES,
    ServiceSimulation,
    generate,
    simulate_service,
    write_sample,
)
from toolkit.synth._servegen import servegen_to_workload

__all__ = [
    "DEFAULT_RPS",
    "DEFAULT_SEED",
    "DEFAULT_TRACE_SAMPLE",
    "FITS",
    "SAMPLE_FILES",
    "Incidents",
    "ServiceSimulation",
    "generate",
    "quiet_plan",
    "random_plan",
    "register_cli",
    "servegen_to_workload",
    "simulate_service",
    "write_sample",
]

"""The simulated service and its exports: :func:`simulate_service`, :func:`write_sample`,
:func:`generate` (see :mod:`toolkit.synth`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from toolkit._validation import InstanceOf, Interval, validate_params
from toolkit.schema import TIME
from toolkit.synth import _model as model
from toolkit.synth import _text as text
from toolkit.synth import clinical, fraud
from toolkit.synth._writers import (
    AttrValue,
    Family,
    attributes,
    encode_line,
    format_number,
    gzip_writer,
    write_prometheus,
)

#: Parameters of the committed ``data/sample``.
DEFAULT_SEED = 20261102
DEFAULT_RPS = 1.2
DEFAULT_TRACE_SAMPLE = 0.02
FITS = model.FITS
SAMPLE_FILES = (
    "traces.jsonl.gz",
    "logs.jsonl.gz",
    "vllm_metrics.prom.gz",
    "dcgm_metrics.prom.gz",
    "nvidia_smi.csv.gz",
    clinical.CLINICAL_FILE,
    fraud.FRAUD_FILE,
    "truth.json",
    "SCENARIO.md",
)

NS = model.NS
START_NS = int(model.START.timestamp()) * NS
NET_IN_NS = 100_000
EVAL_FRACTION = 0.25
SCRAPE_S = 60
GATEWAY_VERSION = "1.14.2"
ROUTE_PATH = {"chat": "/v1/chat", "rag-qa": "/v1/rag-qa", "code": "/v1/code"}
OUTCOMES = ("ok", "timeout", "rejected")
FINISH = ("stop", "length", "content_filter")
REFUSAL = "I can't help with that request."

TTFT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
E2E_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 40.0)
QUEUE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)


@dataclass(frozen=True)
class Params:
    """The parameters a simulation ran with (recorded in ``truth.json``)."""

    days: int
    rps: float
    seed: int
    trace_sample: float
    start: str = "2026-11-02T00:00:00Z"


@dataclass
class ServiceSimulation:
    """A finished simulation: its parameters, the ground truth and what the writers need.

    Attributes
    ----------
    params : Params
        Days, mean arrival rate, seed and trace sampling ratio.
    requests : polars.DataFrame
        One row per request (sampled or not) with the true outcome and timings: ids,
        ``arrival_time``, route, tier, locale, prompt class, pool, replica, models, tokens,
        ``outcome`` (ok, timeout, rejected), ``finish_reason``, ``http_status``, the model
        call's ``call_start``/``call_end``/``first_token_time``, ``queue_s``, ``ttft_s``,
        ``latency_s``, whether the trace is exported (``sampled``), and for ``rag-qa`` the
        groundedness truth and the evaluation score (when evaluated).
    """

    params: Params
    requests: pl.DataFrame
    incidents: model.Incidents
    _arrays: dict[str, np.ndarray]
    _texts: dict[int, tuple[str, str, str]]


_PATH = InstanceOf(str, os.PathLike, description="a path")
#: The parameters of a simulation, as :func:`simulate_service` and :func:`generate` take them.
_SIMULATION: dict[str, object] = {
    "days": Interval(int, 1, 28),
    "rps": Interval(float, 0, 1000, closed="right"),
    "seed": Interval(int, 0, None),
    "trace_sample": Interval(float, 0, 1, closed="right"),
    "plan": [InstanceOf(model.Incidents), None],
}


def _scaled_pools(rps: float) -> None:
    """Keep the committed fleet for the default rate; scale replicas with larger rates."""


@validate_params(**_SIMULATION)
def simulate_service(
    days: int = 7,
    rps: float = DEFAULT_RPS,
    seed: int = DEFAULT_SEED,
    trace_sample: float = DEFAULT_TRACE_SAMPLE,
    plan: model.Incidents | None = None,
) -> ServiceSimulation:
    """Run the simulation and return its ground truth.

    Parameters
    ----------
    days : int, default 7
        Length of the simulated period, from Monday 2026-11-02T00:00:00Z (1 to 28).
        Incidents whose window lies beyond the end do not happen.
    rps : float, default 1.2
        Mean arrival rate (requests per second) over whole weeks. The fleet is fixed
        (4 L4 and 4 H100 GPUs, one vLLM replica each), so a larger rate saturates it more.
    seed : int, default 20261102
        Seed of the run; the same seed and parameters give the same bytes.
    trace_sample : float, default 0.04
        Share of requests whose traces are exported (head sampling by trace id). Logs of
        failed requests and all metrics cover every request.
    plan : Incidents, optional
        Which incidents happen, when, how strong and on which pool (:func:`random_plan`,
        :func:`quiet_plan`, or an :class:`Incidents` of your own); None: the sample week's.
        It also says whether the clinical assistant's release and the fraud model's season
        happen (and when), which :func:`write_sample` simulates. truth.json lists the
        incidents of the plan that fall inside the period, and nothing for a quiet plan.

    Returns
    -------
    ServiceSimulation
        With ``requests``, the per-request ground truth (polars).

    Raises
    ------
    ParameterError
        If a parameter is out of range.

    Examples
    --------
    >>> sim = simulate_service(days=1, rps=0.02, seed=1)
    >>> sorted(sim.requests["outcome"].unique().to_list())
    ['ok']
    """
    params = Params(days=days, rps=float(rps), seed=seed, trace_sample=float(trace_sample))
    rng = np.random.default_rng(seed)
    inc = plan if plan is not None else model.incidents_for(days)
    req = model.workload(rng, days, params.rps, inc)
    n = req.arrival_ns.size
    rag = req.route == 1
    g1 = rng.integers(800_000, 4_000_000, size=n)
    g2 = rng.integers(300_000, 2_000_000, size=n)
    net = rng.integers(200_000, 900_000, size=n)
    retr = np.where(rag, np.rint(np.exp(np.log(45e6) + 0.35 * rng.standard_normal(n))), 0)
    retr = retr.astype(np.int64)
    retr_start = req.arrival_ns + g1
    call_start = retr_start + retr + np.where(rag, 200_000, 0)
    engine_in = call_start + NET_IN_NS
    served = model.serve(req, engine_in, inc)
    ok = served.outcome == model.OK
    rejected = served.outcome == model.REJECTED
    reject_ns = rng.integers(1_000_000, 5_000_000, size=n)
    call_end = np.where(rejected, call_start + reject_ns, served.end_ns + net)
    gateway_end = call_end + g2
    # ids: 128-bit trace ids, 64-bit span ids; head sampling on the trace id's low 56 bits
    words = rng.integers(0, 2**63, size=(n, 6), dtype=np.int64)
    words[:, 2:] |= 1  # span ids must not be all zero
    threshold = round(params.trace_sample * 2**56)
    sampled = (words[:, 1] & (2**56 - 1)) < threshold
    stale = rag & (call_start >= inc.stale_index[0]) & (call_start < inc.stale_index[1])
    ungrounded = rag & (stale | (rng.random(n) < inc.base_ungrounded_p))
    evaluated = sampled & rag & ok & (req.finish != 2) & (rng.random(n) < EVAL_FRACTION)
    judge_noise = rng.normal(0.0, 0.04, size=n)
    released = (
        (req.pool == inc.release_pool_index)
        & (engine_in >= inc.release[0])
        & (engine_in < inc.release[1])
    )
    # rag-qa texts for the exported traces
    rag_rows = np.nonzero(sampled & rag)[0]
    questions, docs, answers, _ = text.rag_texts(
        rng, rag_rows.size, stale[rag_rows], ungrounded[rag_rows]
    )
    texts: dict[int, tuple[str, str, str]] = {}
    for k, i in enumerate(rag_rows.tolist()):
        answer = REFUSAL if req.finish[i] == 2 else answers[k]
        texts[i] = (questions[k], docs[k], answer)
    score = np.full(n, np.nan)
    ev_rows = np.nonzero(evaluated)[0]
    if ev_rows.size:
        ev = ev_rows.tolist()
        g = text.groundedness([texts[i][2] for i in ev], [texts[i][1] for i in ev])
        score[ev_rows] = np.round(np.clip(0.1 + 0.85 * g + judge_noise[ev_rows], 0, 1), 3)
    arrays = {
        "g1": g1,
        "retr": retr,
        "retr_start": retr_start,
        "call_start": call_start,
        "engine_in": engine_in,
        "call_end": call_end,
        "gateway_end": gateway_end,
        "words": words,
        "sampled": sampled,
        "score": score,
        "released": released,
        "stale": stale,
        "ungrounded": ungrounded,
    }
    requests = _truth_frame(req, served, arrays)
    return ServiceSimulation(params, requests, inc, {**arrays, **_req_arrays(req, served)}, texts)


def _req_arrays(req: model.Requests, served: model.Served) -> dict[str, np.ndarray]:
    return {
        "arrival": req.arrival_ns,
        "route": req.route,
        "tier": req.tier,
        "locale": req.locale,
        "pclass": req.prompt_class,
        "pool": req.pool,
        "input_tokens": req.input_tokens,
        "output_tokens": req.output_tokens,
        "finish": req.finish,
        "bulk": req.bulk,
        "replica": served.replica,
        "outcome": served.outcome,
        "admit": served.admit_ns,
        "first": served.first_token_ns,
        "end": served.end_ns,
        "kv": served.kv_tokens,
        "replica_pool": served.replica_pool,
    }


def _replica_names() -> list[str]:
    return [f"{p.service}-{k}" for p in model.POOLS for k in range(p.replicas)]


def _hex(words: np.ndarray, col: int, width: int = 16) -> list[str]:
    return [f"{v:0{width}x}" for v in words[:, col].tolist()]


def _truth_frame(
    req: model.Requests, served: model.Served, a: dict[str, np.ndarray]
) -> pl.DataFrame:
    words = a["words"]
    trace_id = [
        f"{h:016x}{lo:016x}"
        for h, lo in zip(words[:, 0].tolist(), words[:, 1].tolist(), strict=True)
    ]
    ok = served.outcome == model.OK
    pools = np.array([p.name for p in model.POOLS])
    names = np.array(_replica_names())
    resp = np.where(
        a["released"],
        np.array(model.RELEASED_REVISIONS)[req.pool],
        np.array(model.MODEL_REVISION)[req.pool],
    )

    def t(x: np.ndarray) -> pl.Series:
        return pl.Series(x + START_NS).cast(pl.Int64).cast(TIME)

    def masked_time(x: np.ndarray, m: np.ndarray) -> pl.Series:
        return (
            pl.Series(np.where(m, x + START_NS, 0))
            .cast(TIME)
            .zip_with(pl.Series(m), pl.Series([None] * m.size, dtype=TIME))
        )

    def secs(x: np.ndarray, m: np.ndarray) -> pl.Series:
        return pl.Series(np.where(m, x / 1e9, np.nan)).fill_nan(None)

    status = np.select(
        [served.outcome == model.OK, served.outcome == model.TIMEOUT], [200, 504], 503
    )
    return pl.DataFrame(
        {
            "request_id": np.arange(req.arrival_ns.size),
            "trace_id": trace_id,
            "gateway_span_id": _hex(words, 2),
            "call_span_id": _hex(words, 3),
            "sampled": a["sampled"],
            "arrival_time": t(req.arrival_ns),
            "route": np.array(model.ROUTES)[req.route],
            "tier": np.array(model.TIERS)[req.tier],
            "locale": np.array([loc.name for loc in model.LOCALES])[req.locale],
            "prompt_class": np.array(model.CLASS_NAMES)[req.prompt_class],
            "pool": pools[req.pool],
            "replica": names[served.replica],
            "request_model": np.array([p.model for p in model.POOLS])[req.pool],
            "response_model": pl.Series(resp).zip_with(
                pl.Series(ok), pl.Series([None] * ok.size, dtype=pl.String)
            ),
            "input_tokens": pl.Series(req.input_tokens).zip_with(
                pl.Series(ok), pl.Series([None] * ok.size, dtype=pl.Int64)
            ),
            "output_tokens": pl.Series(req.output_tokens).zip_with(
                pl.Series(ok), pl.Series([None] * ok.size, dtype=pl.Int64)
            ),
            "outcome": np.array(OUTCOMES)[served.outcome],
            "finish_reason": pl.Series(np.array(FINISH)[req.finish]).zip_with(
                pl.Series(ok), pl.Series([None] * ok.size, dtype=pl.String)
            ),
            "http_status": status,
            "call_start": t(a["call_start"]),
            "call_end": t(a["call_end"]),
            "first_token_time": masked_time(served.first_token_ns, ok),
            "queue_s": secs(served.admit_ns - a["engine_in"], ok),
            "ttft_s": secs(served.first_token_ns - a["call_start"], ok),
            "latency_s": (a["call_end"] - a["call_start"]) / 1e9,
            "bulk_client": req.bulk,
            "stale_index": a["stale"],
            "ungrounded": pl.Series(a["ungrounded"]).zip_with(
                pl.Series(req.route == 1), pl.Series([None] * ok.size, dtype=pl.Boolean)
            ),
            "groundedness": pl.Series(a["score"]).fill_nan(None),
        }
    )


# --- traces -----------------------------------------------------------------------------------


def _resource(service: str, extra: list[tuple[str, AttrValue | None]]) -> dict[str, Any]:
    return {
        "attributes": attributes(
            [
                ("service.name", service),
                ("deployment.environment.name", "prod"),
                *extra,
            ]
        )
    }


def _status(error: str | None) -> dict[str, Any]:
    return {"code": 2, "message": error} if error else {}


def _span(
    trace: str,
    span: str,
    parent: str,
    name: str,
    kind: int,
    start: int,
    end: int,
    attrs: list[tuple[str, AttrValue | None]],
    status: dict[str, Any],
    events: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"traceId": trace, "spanId": span}
    if parent:
        out["parentSpanId"] = parent
    out.update(
        {
            "name": name,
            "kind": kind,
            "startTimeUnixNano": str(start + START_NS),
            "endTimeUnixNano": str(end + START_NS),
            "attributes": attributes(attrs),
        }
    )
    if events:
        out["events"] = events
    if status:
        out["status"] = status
    return out


def _write_traces(sim: ServiceSimulation, path: Path, per_line: int = 200) -> int:
    a = sim._arrays
    rows = np.nonzero(a["sampled"])[0].tolist()
    words = a["words"]
    names = _replica_names()
    locales = [loc.name for loc in model.LOCALES]
    gw_res = _resource("llm-gateway", [("service.version", GATEWAY_VERSION)])
    pool_res = [
        _resource(p.service, [("host.name", p.host), ("deployment.pool", p.name)])
        for p in model.POOLS
    ]
    gw_scope = {"name": "llm-gateway", "version": GATEWAY_VERSION}
    genai_scope = {"name": "opentelemetry.instrumentation.openai_v2", "version": "2.1b0"}
    rag_scope = {"name": "llm-gateway.retrieval", "version": GATEWAY_VERSION}
    vllm_scope = {"name": "vllm.tracing", "version": "0.11.0"}
    count = 0
    with gzip_writer(path) as out:
        for b in range(0, len(rows), per_line):
            gw: list[dict[str, Any]] = []
            calls: list[dict[str, Any]] = []
            retrievals: list[dict[str, Any]] = []
            servers: list[list[dict[str, Any]]] = [[] for _ in model.POOLS]
            for i in rows[b : b + per_line]:
                w = words[i].tolist()
                trace = f"{w[0]:016x}{w[1]:016x}"
                gw_id, call_id, retr_id, srv_id = (f"{x:016x}" for x in w[2:6])
                route = model.ROUTES[a["route"][i]]
                tier = model.TIERS[a["tier"][i]]
                locale = locales[a["locale"][i]]
                pool = model.POOLS[a["pool"][i]]
                outcome = int(a["outcome"][i])
                status = (200, 504, 503)[outcome]
                gw_error = None if outcome == model.OK else str(status)
                dims: list[tuple[str, AttrValue | None]] = [
                    ("app.route", route),
                    ("user.tier", tier),
                    ("user.locale", locale),
                ]
                gw.append(
                    _span(
                        trace,
                        gw_id,
                        "",
                        f"POST {ROUTE_PATH[route]}",
                        2,
                        int(a["arrival"][i]),
                        int(a["gateway_end"][i]),
                        [
                            ("http.request.method", "POST"),
                            ("http.route", ROUTE_PATH[route]),
                            ("http.response.status_code", status),
                            *dims,
                            ("error.type", gw_error),
                        ],
                        _status(
                            None
                            if gw_error is None
                            else ("Gateway Timeout" if status == 504 else "Service Unavailable")
                        ),
                    )
                )
                content = i in sim._texts
                if content:
                    question, docs, answer = sim._texts[i]
                    retrievals.append(
                        _span(
                            trace,
                            retr_id,
                            gw_id,
                            "retrieval kb-index",
                            3,
                            int(a["retr_start"][i]),
                            int(a["retr_start"][i] + a["retr"][i]),
                            [
                                ("gen_ai.operation.name", "retrieval"),
                                ("gen_ai.data_source.id", "kb-index"),
                                ("gen_ai.request.top_k", 3),
                                ("gen_ai.retrieval.documents", docs),
                            ],
                            {},
                        )
                    )
                ok = outcome == model.OK
                finish = FINISH[a["finish"][i]] if ok else None
                call_start = int(a["call_start"][i])
                first = int(a["first"][i])
                error_type = (None, "timeout", "503")[outcome]
                response_model = (
                    (
                        model.RELEASED_REVISIONS[a["pool"][i]]
                        if a["released"][i]
                        else model.MODEL_REVISION[a["pool"][i]]
                    )
                    if ok
                    else None
                )
                msgs_in = msgs_out = None
                if content:
                    msgs_in = json.dumps(
                        [{"role": "user", "parts": [{"type": "text", "content": question}]}],
                        separators=(",", ":"),
                    )
                    if ok:
                        msgs_out = json.dumps(
                            [
                                {
                                    "role": "assistant",
                                    "parts": [{"type": "text", "content": answer}],
                                    "finish_reason": finish,
                                }
                            ],
                            separators=(",", ":"),
                        )
                events = None
                if not np.isnan(a["score"][i]):
                    value = float(a["score"][i])
                    events = [
                        {
                            "timeUnixNano": str(int(a["call_end"][i]) + START_NS),
                            "name": "gen_ai.evaluation.result",
                            "attributes": attributes(
                                [
                                    ("gen_ai.evaluation.name", "groundedness"),
                                    ("gen_ai.evaluation.score.value", value),
                                    (
                                        "gen_ai.evaluation.score.label",
                                        "grounded" if value >= 0.5 else "ungrounded",
                                    ),
                                ]
                            ),
                        }
                    ]
                calls.append(
                    _span(
                        trace,
                        call_id,
                        gw_id,
                        f"chat {pool.model}",
                        3,
                        call_start,
                        int(a["call_end"][i]),
                        [
                            ("gen_ai.operation.name", "chat"),
                            ("gen_ai.provider.name", "vllm"),
                            ("gen_ai.request.model", pool.model),
                            ("gen_ai.request.max_tokens", model.MAX_TOKENS[a["route"][i]]),
                            ("gen_ai.request.stream", True),
                            ("gen_ai.response.model", response_model),
                            ("gen_ai.response.finish_reasons", [finish] if finish else None),
                            (
                                "gen_ai.usage.input_tokens",
                                int(a["input_tokens"][i]) if ok else None,
                            ),
                            (
                                "gen_ai.usage.output_tokens",
                                int(a["output_tokens"][i]) if ok else None,
                            ),
                            (
                                "gen_ai.response.time_to_first_chunk",
                                (first - call_start) / 1e9 if ok else None,
                            ),
                            ("gen_ai.input.messages", msgs_in),
                            ("gen_ai.output.messages", msgs_out),
                            ("server.address", f"{pool.service}.inference.svc"),
                            ("server.port", pool.server_port),
                            ("deployment.pool", pool.name),
                            ("deployment.replica", names[a["replica"][i]]),
                            *dims,
                            ("app.prompt.category", model.CLASS_NAMES[a["pclass"][i]]),
                            ("error.type", error_type),
                        ],
                        _status(error_type),
                        events,
                    )
                )
                if ok:
                    e_in = int(a["engine_in"][i])
                    servers[a["pool"][i]].append(
                        _span(
                            trace,
                            srv_id,
                            call_id,
                            "llm_request",
                            2,
                            e_in,
                            int(a["end"][i]),
                            [
                                ("gen_ai.request.id", f"chatcmpl-{srv_id}"),
                                ("gen_ai.latency.time_in_queue", (int(a["admit"][i]) - e_in) / 1e9),
                                ("gen_ai.latency.time_to_first_token", (first - e_in) / 1e9),
                                ("gen_ai.latency.e2e", (int(a["end"][i]) - e_in) / 1e9),
                                ("deployment.replica", names[a["replica"][i]]),
                            ],
                            {},
                        )
                    )
                count += 1
            resource_spans = [
                {
                    "resource": gw_res,
                    "scopeSpans": [
                        s
                        for s in (
                            {"scope": gw_scope, "spans": gw},
                            {"scope": rag_scope, "spans": retrievals},
                            {"scope": genai_scope, "spans": calls},
                        )
                        if s["spans"]
                    ],
                }
            ]
            for p, spans in enumerate(servers):
                if spans:
                    resource_spans.append(
                        {
                            "resource": pool_res[p],
                            "scopeSpans": [{"scope": vllm_scope, "spans": spans}],
                        }
                    )
            out.write(encode_line({"resourceSpans": resource_spans}))
    return count


# --- timelines (vectorised) -------------------------------------------------------------------


def _scrape_times(days: int) -> np.ndarray:
    return np.arange(0, days * 86_400 + 1, SCRAPE_S, dtype=np.int64) * NS


def _active(
    starts: np.ndarray, ends: np.ndarray, t: np.ndarray, w: np.ndarray | None = None
) -> np.ndarray:
    """Sum of ``w`` (or count) of the intervals [start, end) that contain each time ``t``."""
    if w is None:
        return (
            np.searchsorted(np.sort(starts), t, side="right")
            - np.searchsorted(np.sort(ends), t, side="right")
        ).astype(np.float64)
    so = np.argsort(starts, kind="stable")
    eo = np.argsort(ends, kind="stable")
    cs = np.concatenate([[0.0], np.cumsum(w[so])])
    ce = np.concatenate([[0.0], np.cumsum(w[eo])])
    result: np.ndarray = (
        cs[np.searchsorted(starts[so], t, side="right")]
        - ce[np.searchsorted(ends[eo], t, side="right")]
    )
    return result


def _cumulative(times: np.ndarray, t: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Sum of ``w`` (or count) of the events at or before each time ``t``."""
    order = np.argsort(times, kind="stable")
    idx = np.searchsorted(times[order], t, side="right")
    if w is None:
        return idx.astype(np.float64)
    return np.concatenate([[0.0], np.cumsum(w[order].astype(np.float64))])[idx]


@dataclass
class _Replica:
    running: np.ndarray  # at each scrape
    waiting: np.ndarray
    kv: np.ndarray  # fraction
    run_avg: np.ndarray  # per scrape interval ending at the scrape, averaged
    kv_avg: np.ndarray


def _replica_timelines(sim: ServiceSimulation, t: np.ndarray) -> list[_Replica]:
    a = sim._arrays
    ok = a["outcome"] == model.OK
    queued = a["outcome"] != model.REJECTED
    wait_end = np.where(ok, a["admit"], a["end"])
    sub = (t[:, None] - (np.arange(6) * 10 * NS)[None, :]).ravel()  # 6 points per minute
    out = []
    for r, pool_i in enumerate(a["replica_pool"].tolist()):
        cap = model.POOLS[pool_i].kv_capacity_tokens
        mine = a["replica"] == r
        m_ok = mine & ok
        s, e, kv = a["admit"][m_ok], a["end"][m_ok], a["kv"][m_ok].astype(np.float64)
        mq = mine & queued
        running = _active(s, e, t)
        waiting = _active(a["engine_in"][mq], wait_end[mq], t)
        kv_t = _active(s, e, t, kv) / cap
        run_sub = _active(s, e, sub).reshape(t.size, 6).mean(axis=1)
        kv_sub = (_active(s, e, sub, kv) / cap).reshape(t.size, 6).mean(axis=1)
        out.append(_Replica(running, waiting, kv_t, run_sub, kv_sub))
    return out


# --- logs -------------------------------------------------------------------------------------


def _write_logs(
    sim: ServiceSimulation, path: Path, timelines: list[_Replica], t: np.ndarray
) -> int:
    a = sim._arrays
    rng = np.random.default_rng(sim.params.seed + 1)
    failed = a["outcome"] != model.OK
    rows = np.nonzero(a["sampled"] | failed)[0]
    observe = rng.integers(1_000_000, 50_000_000, size=rows.size)
    locales = [loc.name for loc in model.LOCALES]
    words = a["words"]
    gw_res = _resource("llm-gateway", [("service.version", GATEWAY_VERSION)])
    scope = {"name": "llm-gateway.access"}
    count = 0
    records: list[tuple[int, int, dict[str, Any]]] = []  # (time, order, record)
    for k, i in enumerate(rows.tolist()):
        outcome = int(a["outcome"][i])
        status = (200, 504, 503)[outcome]
        route = model.ROUTES[a["route"][i]]
        dur_ms = (int(a["gateway_end"][i]) - int(a["arrival"][i])) // 1_000_000
        sev = (9, 17, 13)[outcome]
        t_end = int(a["gateway_end"][i])
        w = words[i].tolist()
        records.append(
            (
                t_end,
                i,
                {
                    "timeUnixNano": str(t_end + START_NS),
                    "observedTimeUnixNano": str(t_end + START_NS + int(observe[k])),
                    "severityNumber": sev,
                    "severityText": ("INFO", "ERROR", "WARN")[outcome],
                    "body": {
                        "stringValue": f'"POST {ROUTE_PATH[route]} HTTP/1.1" {status} {dur_ms}ms'
                    },
                    "attributes": attributes(
                        [
                            ("http.request.method", "POST"),
                            ("http.route", ROUTE_PATH[route]),
                            ("http.response.status_code", status),
                            ("app.route", route),
                            ("user.tier", model.TIERS[a["tier"][i]]),
                            ("user.locale", locales[a["locale"][i]]),
                            ("deployment.pool", model.POOLS[a["pool"][i]].name),
                            ("error.type", None if outcome == model.OK else str(status)),
                        ]
                    ),
                    "traceId": f"{w[0]:016x}{w[1]:016x}",
                    "spanId": f"{w[2]:016x}",
                },
            )
        )
    records.sort(key=lambda x: (x[0], x[1]))
    names = _replica_names()
    server_logs: list[list[dict[str, Any]]] = [[] for _ in model.POOLS]
    for r, tl in enumerate(timelines):
        p = int(sim._arrays["replica_pool"][r])
        for k in np.nonzero((tl.waiting > 0) | (tl.kv >= 0.95))[0].tolist():
            ts = str(int(t[k]) + START_NS)
            run, wait, kv = int(tl.running[k]), int(tl.waiting[k]), float(tl.kv[k]) * 100
            attrs = attributes(
                [
                    ("deployment.replica", names[r]),
                    ("vllm.num_requests_running", run),
                    ("vllm.num_requests_waiting", wait),
                    ("vllm.kv_cache_usage_perc", round(kv / 100, 4)),
                ]
            )
            server_logs[p].append(
                {
                    "timeUnixNano": ts,
                    "observedTimeUnixNano": ts,
                    "severityNumber": 9,
                    "severityText": "INFO",
                    "body": {
                        "stringValue": (
                            f"Engine 000: Running: {run} reqs, Waiting: {wait} reqs, "
                            f"GPU KV cache usage: {kv:.1f}%"
                        )
                    },
                    "attributes": attrs,
                }
            )
            if kv >= 95.0:
                server_logs[p].append(
                    {
                        "timeUnixNano": ts,
                        "observedTimeUnixNano": ts,
                        "severityNumber": 13,
                        "severityText": "WARN",
                        "body": {
                            "stringValue": (
                                f"GPU KV cache usage at {kv:.1f}%: {wait} requests waiting "
                                "for free KV cache blocks"
                            )
                        },
                        "attributes": attrs,
                    }
                )
    pool_res = [
        _resource(p.service, [("host.name", p.host), ("deployment.pool", p.name)])
        for p in model.POOLS
    ]
    with gzip_writer(path) as out:
        per_line = 500
        for b in range(0, len(records), per_line):
            chunk = [rec for _, _, rec in records[b : b + per_line]]
            out.write(
                encode_line(
                    {
                        "resourceLogs": [
                            {
                                "resource": gw_res,
                                "scopeLogs": [{"scope": scope, "logRecords": chunk}],
                            }
                        ]
                    }
                )
            )
            count += len(chunk)
        for p, logs in enumerate(server_logs):
            logs.sort(
                key=lambda rec: (
                    int(rec["timeUnixNano"]),
                    rec["severityNumber"],
                    rec["attributes"][0]["value"]["stringValue"],
                )
            )
            for b in range(0, len(logs), per_line):
                chunk = logs[b : b + per_line]
                out.write(
                    encode_line(
                        {
                            "resourceLogs": [
                                {
                                    "resource": pool_res[p],
                                    "scopeLogs": [
                                        {"scope": {"name": "vllm.engine"}, "logRecords": chunk}
                                    ],
                                }
                            ]
                        }
                    )
                )
                count += len(chunk)
    return count


# --- metrics ----------------------------------------------------------------------------------


def _histogram(
    fam: Family,
    labels: list[tuple[str, str]],
    times: np.ndarray,
    values: np.ndarray,
    buckets: tuple[float, ...],
    t: np.ndarray,
) -> None:
    base = fam.name
    for le in buckets:
        counts = _cumulative(times, t, (values <= le).astype(np.float64))
        fam.add(f"{base}_bucket", [*labels, ("le", repr(le))], format_number(counts, True))
    total = _cumulative(times, t)
    fam.add(f"{base}_bucket", [*labels, ("le", "+Inf")], format_number(total, True))
    sums = np.round(_cumulative(times, t, values), 3)
    fam.add(f"{base}_sum", labels, format_number(sums, False))
    fam.add(f"{base}_count", labels, format_number(total, True))


def _write_vllm_metrics(
    sim: ServiceSimulation, path: Path, timelines: list[_Replica], t: np.ndarray
) -> None:
    a = sim._arrays
    ok = a["outcome"] == model.OK
    timeout = a["outcome"] == model.TIMEOUT
    fams = {
        name: Family(name, kind, help_text)
        for name, kind, help_text in (
            (
                "vllm:num_requests_running",
                "gauge",
                "Number of requests in model execution batches.",
            ),
            ("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed."),
            ("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage. 1 means 100 percent usage."),
            ("vllm:prompt_tokens", "counter", "Number of prefill tokens processed."),
            ("vllm:generation_tokens", "counter", "Number of generation tokens processed."),
            ("vllm:request_success", "counter", "Count of successfully processed requests."),
            (
                "vllm:time_to_first_token_seconds",
                "histogram",
                "Histogram of time to first token in seconds.",
            ),
            (
                "vllm:e2e_request_latency_seconds",
                "histogram",
                "Histogram of e2e request latency in seconds.",
            ),
            (
                "vllm:request_queue_time_seconds",
                "histogram",
                "Histogram of time spent in WAITING phase for request.",
            ),
        )
    }
    rp = a["replica_pool"]
    for p_i, pool in enumerate(model.POOLS):
        labels = [("engine", "0"), ("model_name", pool.model), ("pool", pool.name)]
        reps = [timelines[r] for r in np.nonzero(rp == p_i)[0].tolist()]
        running: np.ndarray = np.sum(np.array([x.running for x in reps]), axis=0)
        waiting: np.ndarray = np.sum(np.array([x.waiting for x in reps]), axis=0)
        kv: np.ndarray = np.round(np.array([x.kv for x in reps]).mean(axis=0), 4)
        fams["vllm:num_requests_running"].add(
            "vllm:num_requests_running", labels, format_number(running, True)
        )
        fams["vllm:num_requests_waiting"].add(
            "vllm:num_requests_waiting", labels, format_number(waiting, True)
        )
        fams["vllm:kv_cache_usage_perc"].add(
            "vllm:kv_cache_usage_perc", labels, format_number(kv, False)
        )
        m = ok & (a["pool"] == p_i)
        fams["vllm:prompt_tokens"].add(
            "vllm:prompt_tokens_total",
            labels,
            format_number(_cumulative(a["first"][m], t, a["input_tokens"][m]), True),
        )
        fams["vllm:generation_tokens"].add(
            "vllm:generation_tokens_total",
            labels,
            format_number(_cumulative(a["end"][m], t, a["output_tokens"][m]), True),
        )
        vllm_finish = np.where(a["finish"] == 1, 1, 0)
        for code, reason in ((0, "stop"), (1, "length")):
            sel = m & (vllm_finish == code)
            fams["vllm:request_success"].add(
                "vllm:request_success_total",
                [*labels, ("finished_reason", reason)],
                format_number(_cumulative(a["end"][sel], t), True),
            )
        sel = timeout & (a["pool"] == p_i)
        fams["vllm:request_success"].add(
            "vllm:request_success_total",
            [*labels, ("finished_reason", "abort")],
            format_number(_cumulative(a["end"][sel], t), True),
        )
        e_in = a["engine_in"][m]
        ends = a["end"][m]
        _histogram(
            fams["vllm:time_to_first_token_seconds"],
            labels,
            ends,
            (a["first"][m] - e_in) / 1e9,
            TTFT_BUCKETS,
            t,
        )
        _histogram(
            fams["vllm:e2e_request_latency_seconds"],
            labels,
            ends,
            (ends - e_in) / 1e9,
            E2E_BUCKETS,
            t,
        )
        _histogram(
            fams["vllm:request_queue_time_seconds"],
            labels,
            ends,
            (a["admit"][m] - e_in) / 1e9,
            QUEUE_BUCKETS,
            t,
        )
    with gzip_writer(path) as out:
        write_prometheus(out, list(fams.values()), ((t + START_NS) // 1_000_000).tolist())


def _gpu_uuid(host: str, index: int) -> str:
    h = np.random.default_rng(sum(host.encode()) * 31 + index).integers(0, 16, size=32)
    hexes = "".join("0123456789abcdef"[x] for x in h.tolist())
    return f"GPU-{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:32]}"


@dataclass
class _Gpu:
    host: str
    index: int
    uuid: str
    name: str
    pod: str
    util: np.ndarray
    mem_used: np.ndarray
    mem_total: int
    power: np.ndarray
    temp: np.ndarray
    clock: np.ndarray


def _gpu_samples(sim: ServiceSimulation, timelines: list[_Replica]) -> list[_Gpu]:
    """GPU telemetry per replica's GPU, following its batch occupancy and KV cache."""
    rng = np.random.default_rng(sim.params.seed + 2)
    names = _replica_names()
    out = []
    for r, tl in enumerate(timelines):
        p = model.POOLS[int(sim._arrays["replica_pool"][r])]
        k = r - int(np.nonzero(sim._arrays["replica_pool"] == model.POOL_INDEX[p.name])[0][0])
        busy = 1.0 - np.exp(-tl.run_avg / 1.5)
        util = np.clip(
            np.rint(100 * busy + rng.normal(0, 1.5, tl.run_avg.size) * (busy > 0)), 0, 100
        )
        clean = p.idle_w + (p.max_w - p.idle_w) * (util / 100) ** 1.1 * 0.93
        noisy = clean + rng.normal(0, 0.01 * p.max_w, util.size)
        power = np.round(np.clip(noisy, p.idle_w * 0.9, p.max_w), 0).astype(np.float64)
        target = 30.0 + 45.0 * power / p.max_w
        temp = np.empty_like(target)
        level = target[0]
        for j, x in enumerate(target.tolist()):
            level = level + 0.3 * (x - level)
            temp[j] = level
        temp = np.rint(temp)
        clock = np.where(
            util > 0, p.max_sm_mhz - 0.12 * p.max_sm_mhz * (power / p.max_w) ** 3, 345.0
        )
        clock = np.rint(clock / 15.0) * 15.0
        kv_mib = tl.kv_avg * p.kv_capacity_tokens * p.kv_bytes_per_token / 2**20
        used = np.rint(p.weights_mib + 1_200 + kv_mib)
        out.append(
            _Gpu(
                p.host,
                k,
                _gpu_uuid(p.host, k),
                p.gpu_name,
                names[r],
                util,
                used,
                p.gpu_mem_mib,
                power,
                temp,
                clock,
            )
        )
    return out


def _write_dcgm(gpus: list[_Gpu], path: Path, t: np.ndarray) -> None:
    spec = (
        ("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", "clock", True),
        ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "temp", True),
        ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power", False),
        ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "util", True),
        ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "free", True),
        ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "mem_used", True),
    )
    fams = []
    for name, help_text, attr, integer in spec:
        fam = Family(name, "gauge", help_text)
        for g in gpus:
            labels = [
                ("gpu", str(g.index)),
                ("UUID", g.uuid),
                ("device", f"nvidia{g.index}"),
                ("modelName", g.name),
                ("Hostname", g.host),
                ("container", "vllm"),
                ("namespace", "inference"),
                ("pod", g.pod),
            ]
            values = g.mem_total - g.mem_used if attr == "free" else getattr(g, attr)
            fam.add(name, labels, format_number(values, integer))
        fams.append(fam)
    with gzip_writer(path) as out:
        write_prometheus(out, fams, ((t + START_NS) // 1_000_000).tolist())


NVIDIA_SMI_HEADER = (
    "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], "
    "power.draw [W], temperature.gpu, clocks.current.sm [MHz]"
)


def _write_nvidia_smi(gpus: list[_Gpu], path: Path, t: np.ndarray, host: str) -> None:
    mine = [g for g in gpus if g.host == host]
    stamps = [
        (model.START + dt.timedelta(seconds=int(x // NS))).strftime("%Y/%m/%d %H:%M:%S.000")
        for x in t.tolist()
    ]
    with gzip_writer(path) as out:
        out.write((NVIDIA_SMI_HEADER + "\n").encode())
        cols = [
            (
                g,
                g.util.astype(np.int64).tolist(),
                g.mem_used.astype(np.int64).tolist(),
                g.power.tolist(),
                g.temp.astype(np.int64).tolist(),
                g.clock.astype(np.int64).tolist(),
            )
            for g in mine
        ]
        lines = []
        for k, stamp in enumerate(stamps):
            for g, util, used, power, temp, clock in cols:
                lines.append(
                    f"{stamp}, {g.index}, {g.uuid}, {g.name}, {util[k]} %, {used[k]} MiB, "
                    f"{g.mem_total} MiB, {power[k]:.2f} W, {temp[k]}, {clock[k]} MHz\n"
                )
        out.write("".join(lines).encode())


# --- truth, scenario, entry points --------------------------------------------------------------


def _iso(ns: int) -> str:
    return (model.START + dt.timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%dT%H:%M:%SZ")


#: Weekday hours (UTC) of the H100 pool's daily saturation, and the night used as reference.
PEAK_HOURS_UTC = (13, 18)
NIGHT_HOURS_UTC = (0, 6)


def _incidents(sim: ServiceSimulation) -> list[dict[str, Any]]:
    inc = sim.incidents
    end = sim.params.days * 86_400 * NS
    found: list[dict[str, Any]] = []
    release_pool = model.POOLS[inc.release_pool_index]
    released = model.RELEASED_REVISIONS[inc.release_pool_index]
    size = ("small", "large")[inc.release_pool_index]
    burst_pool = model.POOLS[inc.kv_burst_pool_index]
    burst_tier = model.TIERS[model.BURST_TIER[inc.kv_burst_pool_index]]

    def add(window: tuple[int, int], entry: dict[str, Any]) -> None:
        if window[0] < end and window[1] > window[0]:
            w = {"start": _iso(window[0]), "end": _iso(min(window[1], end))}
            found.append({"id": entry.pop("id"), "kind": entry.pop("kind"), "window": w, **entry})

    add(
        inc.release,
        {
            "id": "release-prefill-regression",
            "kind": "model_release_regression",
            "slice": {
                "deployment.pool": release_pool.name,
                "gen_ai.usage.input_tokens": f"> {inc.release_threshold_tokens}",
            },
            "cause": (
                f"release {released} of the {size} model on the {release_pool.name} "
                f"(rolled back at the window's end) runs prefill {inc.release_prefill_slowdown}x "
                f"slower for prompts above {inc.release_threshold_tokens} tokens"
            ),
            "signal": (
                "TTFT (gen_ai.response.time_to_first_chunk, vllm:time_to_first_token_seconds) "
                f"of long prompts on the {release_pool.name} rises, queues build behind slow "
                "prefills, "
                "TTFT SLO burn; gen_ai.response.model names the release; explainability "
                "finds input_tokens x deployment.pool"
            ),
        },
    )
    add(
        (inc.drift_start, end),
        {
            "id": "prompt-mix-drift",
            "kind": "data_drift",
            "slice": {"user.locale": model.NEW_LOCALE, "app.route": "chat"},
            "cause": (
                f"a launch in a new market: locale {model.NEW_LOCALE} ramps to "
                f"{inc.drift_new_locale_share:.0%} of traffic over {inc.drift_ramp_h:g} h with "
                f"{inc.new_locale_input_factor}x longer prompts, and chat prompts get "
                f"{inc.drift_input_factor}x longer for everyone (long-document feature)"
            ),
            "signal": (
                "user.locale distribution (chi-square / Jensen-Shannon / PSI) and "
                "gen_ai.usage.input_tokens distribution (KS / Wasserstein) before vs after"
            ),
        },
    )
    add(
        inc.stale_index,
        {
            "id": "stale-retrieval-index",
            "kind": "quality_regression",
            "slice": {"app.route": "rag-qa"},
            "cause": (
                f"the retrieval index serves an outdated snapshot (revision "
                f"{text.STALE_REVISION}) with documents about the wrong product; answers state "
                "facts and numbers absent from the retrieved documents"
            ),
            "signal": (
                "groundedness evaluation scores (gen_ai.evaluation.result) drop; answers in "
                "gen_ai.output.messages contain numbers not in gen_ai.retrieval.documents; "
                "no latency or error signal"
            ),
        },
    )
    add(
        (0, end) if inc.bias_refusal_factor > 1.0 else model.OFF,
        {
            "id": "locale-refusal-bias",
            "kind": "bias",
            "slice": {"user.locale": model.BIAS_LOCALE},
            "cause": (
                f"the content filter is miscalibrated for {model.BIAS_LOCALE}: refusal "
                f"probability {inc.bias_refusal_factor}x that of other locales for the same "
                "prompt category, all week"
            ),
            "signal": (
                "share of gen_ai.response.finish_reasons = content_filter by user.locale "
                "(disparate impact, two-proportion z-test), also within app.prompt.category"
            ),
        },
    )
    for day in range(min(sim.params.days, 7) if inc.saturation else 0):
        if day % 7 < 5:
            add(
                (
                    int((day * 24 + PEAK_HOURS_UTC[0]) * 3600 * NS),
                    int((day * 24 + PEAK_HOURS_UTC[1]) * 3600 * NS),
                ),
                {
                    "id": f"weekday-peak-saturation-{day}",
                    "kind": "capacity_saturation",
                    "slice": {"deployment.pool": "h100-pool"},
                    "cause": (
                        "the weekday afternoon peak (Europe and the Americas overlap) exceeds "
                        "the h100-pool's KV cache and prefill capacity"
                    ),
                    "signal": (
                        "vllm:num_requests_waiting and vllm:request_queue_time_seconds rise, "
                        "TTFT up, some timeouts (error.type timeout, HTTP 504); GPU "
                        "utilisation near 100%; nights stay idle (capacity plan)"
                    ),
                },
            )
    add(
        inc.kv_burst,
        {
            "id": "kv-cache-exhaustion-burst",
            "kind": "overload",
            "slice": {
                "deployment.pool": burst_pool.name,
                "user.tier": burst_tier,
                "app.route": "chat",
                "user.locale": model.LOCALES[0].name,
            },
            "cause": (
                f"a {burst_tier}-tier client from {model.LOCALES[0].name} floods chat with "
                f"~10k-token prompts; the {burst_pool.name}'s KV cache fills, queues hit their "
                "limit"
            ),
            "signal": (
                "vllm:kv_cache_usage_perc near 1 and KV-cache warnings in the "
                f"{burst_pool.service} logs, HTTP 503 (error.type 503) and 504 on the "
                f"{burst_pool.name}, queue time up"
            ),
        },
    )
    return found


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@validate_params(sim=InstanceOf(ServiceSimulation), out=_PATH)
def write_sample(sim: ServiceSimulation, out: str | Path) -> dict[str, Path]:
    """Write the exports of a simulation into a directory.

    Parameters
    ----------
    sim : ServiceSimulation
        From :func:`simulate_service`.
    out : str or path
        Directory (created if missing); the files of :data:`SAMPLE_FILES` are overwritten.

    Returns
    -------
    dict of str to Path
        Each written file by name.

    Examples
    --------
    >>> import tempfile
    >>> sim = simulate_service(days=1, rps=0.01, seed=1, trace_sample=1.0)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sorted(write_sample(sim, d)) == sorted(SAMPLE_FILES)
    True
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in SAMPLE_FILES}
    t = _scrape_times(sim.params.days)
    timelines = _replica_timelines(sim, t)
    n_traces = _write_traces(sim, paths["traces.jsonl.gz"])
    n_logs = _write_logs(sim, paths["logs.jsonl.gz"], timelines, t)
    _write_vllm_metrics(sim, paths["vllm_metrics.prom.gz"], timelines, t)
    gpus = _gpu_samples(sim, timelines)
    _write_dcgm(gpus, paths["dcgm_metrics.prom.gz"], t)
    nvsmi_host = model.POOLS[1].host
    _write_nvidia_smi(gpus, paths["nvidia_smi.csv.gz"], t, nvsmi_host)
    inc = sim.incidents
    clinical_truth = clinical.write_clinical(
        paths[clinical.CLINICAL_FILE],
        days=sim.params.days,
        seed=sim.params.seed,
        release=inc.clinical_release,
        release_at=inc.clinical_release_at,
    )
    season_day = fraud.DRIFT_DAY if inc.fraud_season_day is None else inc.fraud_season_day
    fraud_log = fraud.simulate_fraud(
        days=sim.params.days,
        seed=sim.params.seed,
        season_day=season_day if inc.fraud_season else None,
    )
    n_predictions = fraud.write_fraud(fraud_log, paths[fraud.FRAUD_FILE])
    others = [clinical_truth["incident"]] if clinical_truth["incident"] is not None else []
    if fraud_log.season_day is not None and fraud_log.season_day < sim.params.days:
        others.append(fraud.fraud_truth(fraud_log))
    r = sim.requests
    truth = {
        "incidents": [*_incidents(sim), *others],
        "simulation": {
            "generator": "toolkit.synth",
            "command": (
                f"genai-sre synth --days {sim.params.days} --rps {sim.params.rps!r} "
                f"--seed {sim.params.seed} --trace-sample {sim.params.trace_sample!r} --out DIR"
            ),
            **asdict(sim.params),
            "end": _iso(sim.params.days * 86_400 * NS),
            "scrape_interval_s": SCRAPE_S,
            "gateway_timeout_s": model.GATEWAY_TIMEOUT_S,
            "nvidia_smi_host": nvsmi_host,
            "nvidia_smi_tz": "UTC",
            "pools": [
                {
                    "name": p.name,
                    "service": p.service,
                    "model": p.model,
                    "host": p.host,
                    "gpu": p.gpu_name,
                    "replicas": p.replicas,
                    "max_num_seqs": p.max_num_seqs,
                    "kv_capacity_tokens": p.kv_capacity_tokens,
                    "max_model_len": p.max_model_len,
                    "max_waiting": p.max_waiting,
                    "prefill_tokens_per_s": p.prefill_tokens_per_s,
                }
                for p in model.POOLS
            ],
            "token_fits": {
                route: {
                    kind: {
                        "mu": f.mu,
                        "sigma": f.sigma,
                        "source": f.source,
                        "n": f.n,
                        "method": f.method,
                    }
                    for kind, f in zip(("input", "output"), fits, strict=True)
                }
                for route, fits in FITS.items()
            },
        },
        "counts": {
            "requests": r.height,
            "requests_by_outcome": {
                k: int(v) for k, v in r["outcome"].value_counts().sort("outcome").iter_rows()
            },
            "traced_requests": n_traces,
            "clinical_answers": clinical_truth["counts"]["answers"],
            "fraud_predictions": n_predictions,
            "log_records": n_logs,
            "scrapes_per_pool": int(t.size),
        },
        "sha256": {name: _sha256(paths[name]) for name in SAMPLE_FILES[:-2]},
    }
    paths["truth.json"].write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    paths["SCENARIO.md"].write_text(_scenario(sim, truth), encoding="utf-8")
    return paths


def _scenario(sim: ServiceSimulation, truth: dict[str, Any]) -> str:
    p = sim.params
    c = truth["counts"]
    ids = {incident["id"] for incident in truth["incidents"]}
    clinical_release = (
        "  raises the violation rate of three of them (the incident below)."
        if clinical.INCIDENT_ID in ids
        else "  would raise the violation rate of three of them; none this week (one version)."
    )
    fraud_season = (
        "  week). A travel season changes the transaction mix (the incident below)."
        if fraud.INCIDENT_ID in ids
        else "  week). The transaction mix stays the same all week (no season)."
    )
    lines = [
        "# The sample fleet: a week of an LLM service",
        "",
        f"Generated by `{truth['simulation']['command']}` (`toolkit.synth`); regenerating with",
        "the same parameters gives these files byte for byte (their SHA-256 are in truth.json).",
        "",
        "## The service",
        "",
        "A gateway (`llm-gateway`) serves three routes: `chat`, `rag-qa` (retrieval, then the",
        "model) and `code`, for users with `user.tier` (free, pro, enterprise) and `user.locale`.",
        "Free-tier chat and code go to a small model on the **l4-pool** (4 L4 GPUs on host",
        "`gpu-l4-0`, one vLLM replica each, service `vllm-l4`); everything else goes to a large",
        "model on the **h100-pool** (4 H100 GPUs on `gpu-h100-0`, service `vllm-h100`). The",
        "gateway sends each request to the replica with the fewest outstanding requests.",
        "",
        f"Arrivals: {c['requests']:,} requests over {p.days} days from {p.start} (a Monday),",
        f"mean {p.rps} requests/s, a non-homogeneous Poisson process per route x tier x locale",
        "following each locale's local working day and a weekly cycle (weekends quieter).",
        "Token lengths: lognormals fitted to public traces (chat: Azure 2023 conversation",
        "trace; rag-qa: Mooncake conversation trace; code: ServeGen language m-large), see",
        "`truth.json` -> simulation.token_fits.",
        "",
        "Nothing about latency is drawn at random: queueing, time to first token (queue +",
        "prefill, prompts prefilled one at a time per replica), decode time (steps that slow",
        "down with the batch size and the KV cache in use), timeouts (a queue wait over",
        f"{model.GATEWAY_TIMEOUT_S:g} s: HTTP 504, error.type `timeout`) and rejections (a replica",
        "queue at its limit: HTTP 503) all come out of the simulated engines.",
        "",
        "## What is in the files",
        "",
        "- `traces.jsonl.gz`: OTLP JSON Lines. **Traces are head-sampled**: "
        f"{p.trace_sample:.0%} of",
        f"  requests by trace id ({c['traced_requests']:,} traces). Each has a gateway server span",
        "  (`POST /v1/<route>`: http.*, user.tier, user.locale, app.route), for rag-qa a",
        "  `retrieval kb-index` span with `gen_ai.retrieval.documents`, the model call span",
        "  (`chat <model>`, client; gen_ai.* usage, finish reasons, time to first chunk,",
        "  deployment.pool and deployment.replica, the caller's dimensions, app.prompt.category,",
        "  error.type on failures) and, for calls that reached the model, vLLM's server span",
        "  (`llm_request`, service vllm-l4 / vllm-h100) with gen_ai.latency.time_in_queue.",
        "  rag-qa calls carry the question (`gen_ai.input.messages`) and the answer",
        "  (`gen_ai.output.messages`) on the call span; a quarter of them carry a",
        "  `gen_ai.evaluation.result` event (groundedness score 0-1, label).",
        "- `logs.jsonl.gz`: OTLP JSON Lines logs. Gateway access logs (with trace and span ids)",
        "  for every sampled request and for **every** failed request (sampled or not), and",
        "  vLLM engine stats lines (INFO) for each minute a replica had requests waiting, with",
        "  a WARN line when its KV cache was over 95% full.",
        "- `vllm_metrics.prom.gz`: Prometheus text, one scrape per minute per pool, every",
        "  sample with its timestamp (ms). Labels engine, model_name, pool. Gauges are the",
        "  pool's sum (running, waiting) or mean over replicas (kv_cache_usage_perc); counters",
        "  and histograms count every request of the pool. Histogram buckets are a subset of",
        "  vLLM's defaults (to keep the file small).",
        "- `dcgm_metrics.prom.gz`: DCGM exporter metrics for the 8 GPUs (labels gpu, UUID,",
        "  device, modelName, Hostname, container, namespace, pod = the vLLM replica), same",
        "  times. Utilisation follows the replica's batch occupancy; power and temperature",
        "  follow utilisation; memory used = weights + runtime + the KV cache in use (the",
        "  simulated server allocates KV blocks on demand, unlike vLLM's preallocation).",
        "- `nvidia_smi.csv.gz`: `nvidia-smi --query-gpu` log of host "
        f"`{truth['simulation']['nvidia_smi_host']}`",
        '  (4 H100), timestamps in UTC: `toolkit.load_gpu(path, tz="UTC", host="gpu-h100-0")`.',
        f"- `{clinical.CLINICAL_FILE}`: OTLP JSON Lines traces of a separate, small service,",
        f"  `{clinical.SERVICE}` (route `{clinical.ROUTE}`, about {clinical.ANSWERS_PER_DAY} "
        f"answers a day, {c['clinical_answers']:,} in all, every one traced): one `chat` client",
        "  span per answer with the patient's question (`gen_ai.input.messages`) and the answer",
        "  (`gen_ai.output.messages`) captured, `user.locale`, and the service's",
        "  `service.version`. The answers are checked against the healthcare guideline rules",
        "  shipped with the toolkit (`toolkit/data/compliance/healthcare.yaml`); a release",
        clinical_release,
        f"- `{fraud.FRAUD_FILE}`: the prediction log of a card-payment fraud model",
        f"  (`{fraud.MODEL_VERSION}`, {c['fraud_predictions']:,} transactions, about "
        f"{c['fraud_predictions'] // sim.params.days:,} a day), as a",
        "  user exports it: `time`, `prediction_id`, `model_version`, the features (channel,",
        "  merchant_category, amount_eur, cross_border, new_device, account_age_days,",
        "  tx_last_hour), the model's `score` (an alert at >= 0.5), and the `label` (1 = fraud)",
        "  with its `label_time` once a chargeback or review settled it, about a day later on",
        "  average: the last days' labels are mostly empty at the export time (the end of the",
        fraud_season,
        "- `truth.json`: the incidents below, the parameters, counts, file hashes.",
        "",
        "## The incidents",
        "",
    ]
    if not truth["incidents"]:
        lines += ["None: a quiet week.", ""]
    for incident in truth["incidents"]:
        w = incident["window"]
        lines += [
            f"### {incident['id']} ({incident['kind']})",
            "",
            f"- window: {w['start']} .. {w['end']}",
            f"- slice: {json.dumps(incident['slice'])}",
            f"- cause: {incident['cause']}",
            f"- signal: {incident['signal']}",
            "",
        ]
    lines += [
        "## Things to know",
        "",
        f"- Span counts are a {p.trace_sample:.0%} sample: multiply by {1 / p.trace_sample:g} to",
        "  compare with the vLLM counters, which see every request.",
        "- Rejected requests (HTTP 503) have a model call span of a few milliseconds with",
        "  error.type `503` and no token usage; timed-out ones (HTTP 504) last the gateway",
        "  timeout with error.type `timeout`.",
        "- Content-filter refusals are successful calls (HTTP 200) whose finish reason is",
        "  `content_filter`; the vLLM counters count them as `stop`.",
        "- vLLM server spans carry no token usage, so `toolkit.llm_calls` counts each call once.",
        "",
    ]
    return "\n".join(lines)


@validate_params(out=_PATH, **_SIMULATION)
def generate(
    out: str | Path,
    *,
    days: int = 7,
    rps: float = DEFAULT_RPS,
    seed: int = DEFAULT_SEED,
    trace_sample: float = DEFAULT_TRACE_SAMPLE,
    plan: model.Incidents | None = None,
) -> ServiceSimulation:
    """Simulate and write the exports into ``out`` (see :func:`simulate_service` and
    :func:`write_sample`).

    ``plan`` (an :class:`Incidents`; None: the sample week's) places every incident of the
    folder: the service's (which ones, when, how strong, on which pool, overlaps allowed),
    the clinical assistant's release and the fraud model's season; :func:`quiet_plan` gives
    a folder whose truth.json lists none, :func:`random_plan` a seeded random week.

    Examples
    --------
    >>> import tempfile, toolkit
    >>> with tempfile.TemporaryDirectory() as d:
    ...     sim = generate(d, days=1, rps=0.01, seed=2, trace_sample=1.0)
    ...     spans = toolkit.load_spans(f"{d}/traces.jsonl.gz")
    >>> spans["trace_id"].n_unique() == sim.requests.height
    True
    """
    sim = simulate_service(days=days, rps=rps, seed=seed, trace_sample=trace_sample, plan=plan)
    write_sample(sim, out)
    return sim

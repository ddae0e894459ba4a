"""Write a realistic OTLP JSON Lines trace export of an LLM gateway (for benchmarks).

Each line is one ``TracesData`` object with ``--per-line`` spans, as the collector's file
exporter writes them: a gateway server span, retrieval and tool spans, and GenAI client
spans with 8-20 attributes of mixed types (strings, ints as decimal strings, doubles,
bools, string arrays), some with events (evaluation results, exceptions).

    python benchmarks/otlp_export.py --spans 1000000 --out /tmp/export.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import random
from pathlib import Path
from typing import Any

import msgspec

MODELS = ["llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "mistral-small-latest"]
ROUTES = ["chat", "rag-qa", "code"]
TIERS = ["free", "pro", "enterprise"]
LOCALES = ["en-US", "de-DE", "fr-FR", "ja-JP", "pt-BR", "es-ES"]
POOLS = ["l4-pool", "h100-pool"]
FINISH = ["stop", "length", "content_filter"]


def _s(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def _i(key: str, value: int) -> dict[str, Any]:
    return {"key": key, "value": {"intValue": str(value)}}


def _d(key: str, value: float) -> dict[str, Any]:
    return {"key": key, "value": {"doubleValue": value}}


def _b(key: str, value: bool) -> dict[str, Any]:
    return {"key": key, "value": {"boolValue": value}}


def _span(
    rng: random.Random, trace: str, span_id: int, parent: int | None, t0: int, kind: str
) -> dict[str, Any]:
    duration = int(rng.lognormvariate(19.5, 0.8))  # ns, median ~0.3 s
    attrs: list[dict[str, Any]] = [
        _s("user.tier", rng.choice(TIERS)),
        _s("user.locale", rng.choice(LOCALES)),
        _s("app.route", rng.choice(ROUTES)),
        _s("deployment.pool", rng.choice(POOLS)),
    ]
    events: list[dict[str, Any]] = []
    name = "gateway /v1/chat"
    span_kind = 2
    if kind == "llm":
        model = rng.choice(MODELS)
        name = f"chat {model}"
        span_kind = 3
        inp = int(rng.paretovariate(1.3) * 200)
        out = int(rng.lognormvariate(5, 1))
        attrs += [
            _s("gen_ai.operation.name", "chat"),
            _s("gen_ai.provider.name", "openai"),
            _s("gen_ai.request.model", model),
            _s("gen_ai.response.model", model),
            _i("gen_ai.usage.input_tokens", inp),
            _i("gen_ai.usage.output_tokens", out),
            _d("gen_ai.request.temperature", round(rng.random(), 2)),
            _b("gen_ai.request.stream", rng.random() < 0.8),
            _d("gen_ai.response.time_to_first_chunk", duration / 1e9 * rng.random() * 0.3),
            {
                "key": "gen_ai.response.finish_reasons",
                "value": {"arrayValue": {"values": [{"stringValue": rng.choice(FINISH)}]}},
            },
        ]
        if rng.random() < 0.5:
            attrs.append(_i("gen_ai.usage.cache_read.input_tokens", inp // 2))
        if rng.random() < 0.2:
            events.append(
                {
                    "timeUnixNano": str(t0 + duration),
                    "name": "gen_ai.evaluation.result",
                    "attributes": [
                        _s("gen_ai.evaluation.name", "groundedness"),
                        _d("gen_ai.evaluation.score.value", round(rng.random(), 3)),
                    ],
                }
            )
    elif kind == "retrieval":
        name = "retrieval vector-index"
        span_kind = 3
        attrs += [
            _s("gen_ai.operation.name", "retrieval"),
            _i("retrieval.top_k", 5),
            _d("retrieval.max_score", rng.random()),
        ]
    status = {"code": 2, "message": "upstream timeout"} if rng.random() < 0.01 else {}
    if status:
        events.append(
            {
                "timeUnixNano": str(t0 + duration),
                "name": "exception",
                "attributes": [_s("exception.type", "TimeoutError")],
            }
        )
    span: dict[str, Any] = {
        "traceId": trace,
        "spanId": f"{span_id:016x}",
        "name": name,
        "kind": span_kind,
        "startTimeUnixNano": str(t0),
        "endTimeUnixNano": str(t0 + duration),
        "attributes": attrs,
    }
    if parent is not None:
        span["parentSpanId"] = f"{parent:016x}"
    if events:
        span["events"] = events
    if status:
        span["status"] = status
    return span


def generate(
    out: Path,
    spans: int,
    per_line: int = 500,
    seed: int = 7,
    start_ns: int = 1_763_683_200_000_000_000,
    spacing_ns: int = 50_000_000,
) -> int:
    """Write ``spans`` spans to ``out`` (gzip when the name ends in .gz); return bytes."""
    rng = random.Random(seed)
    encoder = msgspec.json.Encoder()
    opener: Any = gzip.open if out.suffix == ".gz" else open
    written = 0
    span_id = 1
    t = start_ns
    with opener(out, "wb") as fh:
        remaining = spans
        while remaining > 0:
            batch: list[dict[str, Any]] = []
            while len(batch) < min(per_line, remaining):
                trace = f"{rng.getrandbits(128):032x}"
                root = span_id
                batch.append(_span(rng, trace, root, None, t, "gateway"))
                span_id += 1
                for kind in ("retrieval", "llm", "llm")[: min(3, per_line - len(batch))]:
                    batch.append(_span(rng, trace, span_id, root, t + 1_000_000, kind))
                    span_id += 1
                t += spacing_ns
            remaining -= len(batch)
            doc = {
                "resourceSpans": [
                    {
                        "resource": {
                            "attributes": [
                                _s("service.name", "llm-gateway"),
                                _s("host.name", f"gw-{rng.randrange(4)}"),
                            ]
                        },
                        "scopeSpans": [
                            {
                                "scope": {"name": "gateway.tracing", "version": "1.4.0"},
                                "spans": batch,
                            }
                        ],
                    }
                ]
            }
            line = encoder.encode(doc) + b"\n"
            fh.write(line)
            written += len(line)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--per-line", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    size = generate(args.out, args.spans, args.per_line, args.seed)
    print(f"wrote {args.spans:,} spans, {size / 1e6:.1f} MB uncompressed, to {args.out}")


if __name__ == "__main__":
    main()

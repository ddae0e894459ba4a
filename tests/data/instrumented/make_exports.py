"""Make real exports from instrumentations of the ``openai`` Python client.

For each instrumentation in :data:`CONFIGS` this script

1. creates a virtual environment (under ``--venvs DIR``, by default a temporary folder, never
   in the repository) and installs the pinned packages from PyPI;
2. starts a small OpenAI-compatible server (:class:`MockOpenAI`, stdlib only) on 127.0.0.1;
3. starts a tiny OTLP/HTTP receiver in the venv (``--receive``), which decodes what it gets
   with the ``opentelemetry-proto`` classes and writes it the way the collector's file
   exporter would: JSON Lines (one ``TracesData``/``LogsData``/``MetricsData`` per line,
   the protobuf JSON mapping) and length-prefixed protobuf (4-byte big-endian length, then
   the message);
4. runs the client workload in the venv (``--client``): the real ``openai`` client under the
   instrumentation, exporting with the real OTLP/HTTP protobuf exporters, and recording its
   own truth about each call in ``truth.json``;
5. writes ``VERSIONS.json`` (every package of the venv, from ``importlib.metadata``).

Run from anywhere with any Python 3.10+ (the parent process uses the standard library only)::

    python tests/data/instrumented/make_exports.py [--venvs DIR] [--only NAME ...]

Outputs go to ``tests/data/instrumented/<name>/`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

_COMMON = [
    "openai==3.57.0",
    # openai 3.x depends on httpx2 only; openai-v2 2.4b0 imports httpx without declaring it.
    "httpx==0.28.1",
]

#: name -> packages to install, environment of the client, which instrumentor to use.
CONFIGS: dict[str, dict[str, Any]] = {
    "openai-v2-2.4b0": {
        "packages": [
            *_COMMON,
            "opentelemetry-instrumentation-openai-v2==2.4b0",
            # util-genai 1.3b0 breaks the import of 2.4b0 (no module
            # opentelemetry.util.genai.instruments); 1.1b0 works.
            "opentelemetry-util-genai==1.1b0",
            "opentelemetry-sdk==1.45.2",
            "opentelemetry-exporter-otlp-proto-http==1.45.2",
        ],
        "env": {
            "OTEL_SEMCONV_STABILITY_OPT_IN": "gen_ai_latest_experimental",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_AND_EVENT",
            "OTEL_INSTRUMENTATION_GENAI_EMIT_EVENT": "true",
        },
        "instrumentor": "openai_v2",
    },
    "openai-v2-2.3b0": {
        "packages": [
            *_COMMON,
            "opentelemetry-instrumentation-openai-v2==2.3b0",
            # with wrapt 2, 2.3b0's instrument() raises TypeError (wrap_function_wrapper).
            "wrapt<2",
            "opentelemetry-sdk==1.45.2",
            "opentelemetry-exporter-otlp-proto-http==1.45.2",
        ],
        "env": {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true"},
        "instrumentor": "openai_v2",
    },
    "openinference": {
        "packages": [
            *_COMMON,
            "openinference-instrumentation-openai==0.1.66",
            "opentelemetry-sdk==1.45.2",
            "opentelemetry-exporter-otlp-proto-http==1.45.2",
        ],
        "env": {},
        "instrumentor": "openinference",
    },
    "openllmetry": {
        "packages": [
            *_COMMON,
            "opentelemetry-instrumentation-openai==0.62.4",
            "opentelemetry-sdk==1.45.2",
            "opentelemetry-exporter-otlp-proto-http==1.45.2",
        ],
        "env": {"TRACELOOP_TRACE_CONTENT": "true"},
        "instrumentor": "openllmetry",
    },
}

# --- the workload ---------------------------------------------------------------------------

#: Models whose name chooses an error mode of the mock server.
RATE_LIMIT_MODEL = "mock-rate-limit"
SERVER_ERROR_MODEL = "mock-server-error"
STREAM_BREAK_MODEL = "mock-stream-break"
#: A model that reports reasoning and cached tokens in its usage.
REASONING_MODEL = "o3-mini"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}

#: The calls, in order. ``marker`` is put in the prompt so a call can be found by its text.
WORKLOAD: list[dict[str, Any]] = [
    {"kind": "chat", "model": "gpt-4o-mini", "prompt": "Say hello politely."},
    {"kind": "chat", "model": "gpt-4o", "prompt": "Explain queueing theory.", "max_tokens": 4},
    {"kind": "chat", "model": "gpt-4o-mini", "prompt": "Weather in Paris?", "tools": True},
    {"kind": "chat", "model": "gpt-4o-mini", "prompt": "Count to five.", "system": True},
    {"kind": "chat", "model": REASONING_MODEL, "prompt": "Prove that 2 is prime."},
    {"kind": "stream", "model": "gpt-4o-mini", "prompt": "Write a haiku.", "usage": True},
    {"kind": "stream", "model": "gpt-4o", "prompt": "List three colours.", "usage": False},
    {
        "kind": "stream",
        "model": "gpt-4o",
        "prompt": "Describe the sea at length.",
        "usage": True,
        "max_tokens": 3,
    },
    {
        "kind": "stream",
        "model": "gpt-4o-mini",
        "prompt": "Weather in Rome?",
        "usage": True,
        "tools": True,
    },
    {"kind": "stream", "model": REASONING_MODEL, "prompt": "Is 91 prime?", "usage": True},
    {"kind": "embeddings", "model": "text-embedding-3-small", "input": "one sentence"},
    {"kind": "embeddings", "model": "text-embedding-3-large", "input": ["first", "second"]},
    {"kind": "chat", "model": RATE_LIMIT_MODEL, "prompt": "This call is rate limited."},
    {"kind": "chat", "model": SERVER_ERROR_MODEL, "prompt": "This call fails on the server."},
    {
        "kind": "stream",
        "model": RATE_LIMIT_MODEL,
        "prompt": "Streamed and rate limited.",
        "usage": True,
    },
    {"kind": "stream", "model": STREAM_BREAK_MODEL, "prompt": "This stream breaks.", "usage": True},
    {"kind": "embeddings", "model": SERVER_ERROR_MODEL, "input": "embedding that fails"},
    {"kind": "chat", "model": "gpt-4o-mini", "prompt": "Goodbye.", "temperature": 0.2},
]


def marker(index: int) -> str:
    """The unique text put in the prompt of call ``index``."""
    return f"[call-{index:02d}]"


# --- the mock OpenAI server (stdlib; runs in the parent) ------------------------------------

_WORDS = [
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliett",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
]


def _count_tokens(text: str) -> int:
    """Deterministic 'tokens': whitespace-separated words."""
    return len(text.split())


def _response_model(model: str) -> str:
    return {"gpt-4o-mini": "gpt-4o-mini-2024-07-18", "gpt-4o": "gpt-4o-2024-08-06"}.get(
        model, model + "-2025-01-31" if model == REASONING_MODEL else model
    )


def _prompt_tokens(messages: list[dict[str, Any]]) -> int:
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += _count_tokens(content)
        total += 3
    return total


def _reply(messages: list[dict[str, Any]]) -> list[str]:
    """The words of the answer: derived from the last user message's marker and length."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), {})
    text = str(last.get("content", ""))
    n = 5 + len(text) % 7
    mark = text.split("]", maxsplit=1)[0] + "]" if text.startswith("[") else "[call-??]"
    return ["Answer", mark] + [_WORDS[(len(text) + i) % len(_WORDS)] for i in range(n)]


def _usage(model: str, prompt: int, completion: int) -> dict[str, Any]:
    reasoning = 16 if model == REASONING_MODEL else 0
    cached = 8 if model == REASONING_MODEL else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion + reasoning,
        "total_tokens": prompt + completion + reasoning,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class MockOpenAI(BaseHTTPRequestHandler):
    """``/v1/chat/completions`` and ``/v1/embeddings``, with error modes chosen by model name."""

    protocol_version = "HTTP/1.1"
    counter = 0
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except ConnectionError:  # the client dropped a connection after a broken stream
            self.close_connection = True

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-request-id", f"req_{self._next_id()}")
        self.end_headers()
        self.wfile.write(data)

    @classmethod
    def _next_id(cls) -> int:
        with cls.lock:
            cls.counter += 1
            return cls.counter

    def _error(self, model: str) -> bool:
        if model == RATE_LIMIT_MODEL:
            self._json(
                429,
                {
                    "error": {
                        "message": "Rate limit reached for requests",
                        "type": "requests",
                        "param": None,
                        "code": "rate_limit_exceeded",
                    }
                },
            )
            return True
        if model == SERVER_ERROR_MODEL:
            self._json(
                500,
                {
                    "error": {
                        "message": "The server had an error while processing your request.",
                        "type": "server_error",
                        "param": None,
                        "code": None,
                    }
                },
            )
            return True
        return False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        model = str(body.get("model", ""))
        if self._error(model):
            return
        if self.path.endswith("/chat/completions"):
            self._chat(body, model)
        elif self.path.endswith("/embeddings"):
            self._embeddings(body, model)
        else:
            self._json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def _embeddings(self, body: dict[str, Any], model: str) -> None:
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.125 * (i + 1), -0.5, 0.25]}
            for i in range(len(inputs))
        ]
        tokens = sum(_count_tokens(str(t)) for t in inputs)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _chat(self, body: dict[str, Any], model: str) -> None:
        messages = body.get("messages", [])
        words = _reply(messages)
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        finish = "stop"
        tool_call = None
        if body.get("tools"):
            finish = "tool_calls"
            city = "Rome" if "Rome" in json.dumps(messages) else "Paris"
            tool_call = {
                "id": "call_weather_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
            }
            words = []
        elif limit is not None and len(words) > int(limit):
            words = words[: int(limit)]
            finish = "length"
        prompt = _prompt_tokens(messages)
        completion = len(words) if tool_call is None else 9
        usage = _usage(model, prompt, completion)
        ident = f"chatcmpl-{self._next_id():04d}"
        created = 1_764_547_200
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(ident, created, model, words, tool_call, finish, usage, include_usage)
            return
        message: dict[str, Any] = {"role": "assistant", "content": " ".join(words) or None}
        if tool_call is not None:
            message["tool_calls"] = [tool_call]
        self._json(
            200,
            {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": _response_model(model),
                "system_fingerprint": "fp_mock",
                "choices": [
                    {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
                ],
                "usage": usage,
            },
        )

    def _chunk(self, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        data = f"data: {text}\n\n".encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
        time.sleep(0.005)

    def _stream(
        self,
        ident: str,
        created: int,
        model: str,
        words: list[str],
        tool_call: dict[str, Any] | None,
        finish: str,
        usage: dict[str, Any],
        include_usage: bool,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        base = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": _response_model(model),
            "system_fingerprint": "fp_mock",
        }

        def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}
            return {**base, "choices": [choice], **({"usage": None} if include_usage else {})}

        time.sleep(0.02)  # time to first token
        self._chunk(chunk({"role": "assistant", "content": ""}))
        if tool_call is not None:
            fn = tool_call["function"]
            first = {
                "index": 0,
                "id": tool_call["id"],
                "type": "function",
                "function": {"name": fn["name"], "arguments": ""},
            }
            self._chunk(chunk({"tool_calls": [first]}))
            args = fn["arguments"]
            for piece in (args[: len(args) // 2], args[len(args) // 2 :]):
                self._chunk(chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        for i, word in enumerate(words):
            self._chunk(chunk({"content": (" " if i else "") + word}))
            if model == STREAM_BREAK_MODEL and i == 2:
                # Close the connection without the terminating chunk: an incomplete body.
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
        self._chunk(chunk({}, finish))
        if include_usage:
            self._chunk({**base, "choices": [], "usage": usage})
        self._chunk("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return server, f"http://{host}:{port}"


# --- the OTLP receiver (runs in the venv: needs opentelemetry-proto) -----------------------

_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})


def _hex_ids(value: Any) -> Any:
    """OTLP JSON writes ids as hex, where the protobuf JSON mapping writes bytes as base64."""
    import base64

    if isinstance(value, dict):
        return {
            k: base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str) else _hex_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(v) for v in value]
    return value


def receive(out: Path) -> None:
    """Receive OTLP/HTTP protobuf and write JSON Lines and length-prefixed protobuf files.

    Prints the receiver's URL on stdout, then serves until stdin closes.
    """
    import gzip
    import struct

    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.logs.v1 import logs_pb2
    from opentelemetry.proto.metrics.v1 import metrics_pb2
    from opentelemetry.proto.trace.v1 import trace_pb2

    routes: dict[str, tuple[str, Any, Any, Any, str]] = {
        "/v1/traces": (
            "traces",
            trace_service_pb2.ExportTraceServiceRequest,
            trace_service_pb2.ExportTraceServiceResponse,
            trace_pb2.TracesData,
            "resource_spans",
        ),
        "/v1/logs": (
            "logs",
            logs_service_pb2.ExportLogsServiceRequest,
            logs_service_pb2.ExportLogsServiceResponse,
            logs_pb2.LogsData,
            "resource_logs",
        ),
        "/v1/metrics": (
            "metrics",
            metrics_service_pb2.ExportMetricsServiceRequest,
            metrics_service_pb2.ExportMetricsServiceResponse,
            metrics_pb2.MetricsData,
            "resource_metrics",
        ),
    }
    lock = threading.Lock()
    out.mkdir(parents=True, exist_ok=True)

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            route = routes.get(self.path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            signal, request_cls, response_cls, data_cls, field = route
            request = request_cls.FromString(body)
            data = data_cls()
            getattr(data, field).extend(getattr(request, field))
            mapped = _hex_ids(json_format.MessageToDict(data))
            line = json.dumps(mapped, separators=(",", ":"))
            raw = data.SerializeToString()
            with lock:
                with open(out / f"{signal}.jsonl", "a", encoding="utf-8") as f:
                    f.write(line + "\n")
                if signal != "metrics":  # metrics as JSON Lines only, to keep them small
                    with open(out / f"{signal}.pb", "ab") as f:
                        f.write(struct.pack(">I", len(raw)) + raw)
            reply = response_cls().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    server, url = _serve(Receiver)
    print(url, flush=True)
    sys.stdin.read()
    server.shutdown()


# --- the client workload (runs in the venv) ------------------------------------------------


def _setup_telemetry(name: str, otlp: str) -> Any:
    from opentelemetry import _logs, metrics, trace
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": f"instrumented-{name}"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(f"{otlp}/v1/traces")))
    trace.set_tracer_provider(tracer_provider)
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(f"{otlp}/v1/logs"))
    )
    _logs.set_logger_provider(logger_provider)
    try:  # the events API, which older instrumentations write their content events through
        from opentelemetry._events import set_event_logger_provider
        from opentelemetry.sdk._events import EventLoggerProvider

        set_event_logger_provider(EventLoggerProvider(logger_provider))
    except ImportError:
        pass
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(f"{otlp}/v1/metrics"), export_interval_millis=3_600_000
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    metrics.set_meter_provider(meter_provider)
    return tracer_provider, logger_provider, meter_provider


def _instrument(kind: str) -> None:
    if kind == "openai_v2":
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    elif kind == "openinference":
        from openinference.instrumentation.openai import OpenAIInstrumentor
    elif kind == "openllmetry":
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor
    else:
        raise ValueError(kind)
    OpenAIInstrumentor().instrument()


def _one_call(client: Any, index: int, spec: dict[str, Any]) -> dict[str, Any]:
    """Make one call; return the client's own record of it."""
    mark = marker(index)
    kind = spec["kind"]
    truth: dict[str, Any] = {
        "index": index,
        "marker": mark,
        "operation": "embeddings" if kind == "embeddings" else "chat",
        "request_model": spec["model"],
        "response_model": None,
        "streaming": kind == "stream",
        "input_tokens": None,
        "output_tokens": None,
        "cached_input_tokens": None,
        "reasoning_tokens": None,
        "finish_reason": None,
        "error_type": None,
        "is_error": False,
        "first_chunk": False,
        "prompt": None,
        "output_text": None,
    }
    try:
        if kind == "embeddings":
            inputs = spec["input"]
            inputs = (
                [f"{mark} {t}" for t in inputs]
                if isinstance(inputs, list)
                else (f"{mark} {inputs}")
            )
            truth["prompt"] = inputs
            response = client.embeddings.create(model=spec["model"], input=inputs)
            truth["response_model"] = response.model
            truth["input_tokens"] = response.usage.prompt_tokens
            return truth
        messages: list[dict[str, Any]] = []
        if spec.get("system"):
            messages.append({"role": "system", "content": "You are terse."})
        prompt = f"{mark} {spec['prompt']}"
        truth["prompt"] = prompt
        messages.append({"role": "user", "content": prompt})
        kwargs: dict[str, Any] = {"model": spec["model"], "messages": messages}
        if "max_tokens" in spec:
            kwargs["max_tokens"] = spec["max_tokens"]
        if "temperature" in spec:
            kwargs["temperature"] = spec["temperature"]
        if spec.get("tools"):
            kwargs["tools"] = [WEATHER_TOOL]
        if kind == "chat":
            response = client.chat.completions.create(**kwargs)
            truth["response_model"] = response.model
            truth["finish_reason"] = response.choices[0].finish_reason
            truth["output_text"] = response.choices[0].message.content
            _usage_truth(truth, response.usage)
            return truth
        kwargs["stream"] = True
        if spec.get("usage"):
            kwargs["stream_options"] = {"include_usage": True}
        stream = client.chat.completions.create(**kwargs)
        text = []
        for chunk in stream:
            truth["response_model"] = chunk.model
            if chunk.usage is not None:
                _usage_truth(truth, chunk.usage)
            for choice in chunk.choices:
                truth["first_chunk"] = True
                if choice.delta.content:
                    text.append(choice.delta.content)
                if choice.finish_reason:
                    truth["finish_reason"] = choice.finish_reason
        truth["output_text"] = "".join(text) or None
        return truth
    except Exception as exc:
        truth["error_type"] = type(exc).__name__
        truth["error_module"] = type(exc).__module__
        truth["is_error"] = True
        return truth


def _usage_truth(truth: dict[str, Any], usage: Any) -> None:
    truth["input_tokens"] = usage.prompt_tokens
    truth["output_tokens"] = usage.completion_tokens
    details = getattr(usage, "prompt_tokens_details", None)
    truth["cached_input_tokens"] = getattr(details, "cached_tokens", None)
    details = getattr(usage, "completion_tokens_details", None)
    truth["reasoning_tokens"] = getattr(details, "reasoning_tokens", None)


def client(name: str, server: str, otlp: str, kind: str, out: Path) -> None:
    """Run :data:`WORKLOAD` under instrumentation ``kind``; write ``truth.json``."""
    tracer_provider, logger_provider, meter_provider = _setup_telemetry(name, otlp)
    _instrument(kind)
    import openai

    api = openai.OpenAI(base_url=f"{server}/v1", api_key="sk-mock", max_retries=0)
    calls = []
    for index, spec in enumerate(WORKLOAD):
        started = time.time_ns()
        record = _one_call(api, index, spec)
        record["client_start_unix_nano"] = started
        calls.append(record)
        time.sleep(0.01)
    tracer_provider.force_flush()
    logger_provider.force_flush()
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()  # one export of the cumulative metrics
    truth = {
        "instrumentation": name,
        "note": "One record per call, in call order (spans start in the same order); "
        "'marker' is in each prompt. Tokens are what the server's usage said (null when "
        "the client got no usage). first_chunk: a streamed call received a chunk.",
        "calls": calls,
    }
    (out / "truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")


def versions(out: Path) -> None:
    """Write VERSIONS.json: every distribution installed in this interpreter's environment."""
    import importlib.metadata as md
    import platform
    import re

    # names normalised as PyPI does (PEP 503): pydantic_core -> pydantic-core
    packages = {
        re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower(): d.version for d in md.distributions()
    }
    body = {"python": platform.python_version(), "packages": dict(sorted(packages.items()))}
    (out / "VERSIONS.json").write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")


# --- the parent -----------------------------------------------------------------------------


def _venv(venvs: Path, name: str, packages: list[str]) -> Path:
    path = venvs / name
    python = path / "bin" / "python"
    stamp = path / "requirements.txt"
    wanted = "\n".join(packages) + "\n"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    stamp.write_text(wanted)
    return python


def generate(name: str, venvs: Path, out_root: Path) -> None:
    config = CONFIGS[name]
    python = _venv(venvs, name, config["packages"])
    out = out_root / name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    server, server_url = _serve(MockOpenAI)
    env = {**os.environ, **config["env"]}
    for key in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_EXPORTER", "OTEL_SERVICE_NAME"):
        env.pop(key, None)
    receiver = subprocess.Popen(
        [str(python), __file__, "--receive", "--out", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert receiver.stdout is not None
        otlp = receiver.stdout.readline().strip()
        subprocess.run(
            [
                str(python),
                __file__,
                "--client",
                "--name",
                name,
                "--server",
                server_url,
                "--otlp",
                otlp,
                "--instrumentor",
                config["instrumentor"],
                "--out",
                str(out),
            ],
            check=True,
            env=env,
        )
        subprocess.run([str(python), __file__, "--versions", "--out", str(out)], check=True)
    finally:
        assert receiver.stdin is not None
        receiver.stdin.close()
        receiver.wait(timeout=30)
        server.shutdown()
    print(f"{name}: {sorted(p.name for p in out.iterdir())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--venvs", type=Path, help="folder for the virtual environments")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder")
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="instrumentations")
    parser.add_argument("--receive", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--versions", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--otlp", help=argparse.SUPPRESS)
    parser.add_argument("--instrumentor", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receive:
        receive(args.out)
        return
    if args.client:
        client(args.name, args.server, args.otlp, args.instrumentor, args.out)
        return
    if args.versions:
        versions(args.out)
        return
    names = args.only or sorted(CONFIGS)
    if args.venvs is None:
        with tempfile.TemporaryDirectory(prefix="instrumented-venvs-") as tmp:
            for name in names:
                generate(name, Path(tmp), args.out)
    else:
        args.venvs.mkdir(parents=True, exist_ok=True)
        for name in names:
            generate(name, args.venvs, args.out)


if __name__ == "__main__":
    main()

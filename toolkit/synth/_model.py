"""The simulated LLM service behind :mod:`toolkit.synth`: workload, fleet and engine.

Everything here is deterministic for a seed: one :class:`numpy.random.Generator` drawn in a
fixed order, lists and tuples only (no iteration over sets), integer nanoseconds for every
time, no wall clock.

The pieces:

- :func:`workload` draws the requests: a non-homogeneous Poisson process per segment
  (route x tier x locale) whose rate is piecewise constant per minute and follows a
  diurnal curve in the locale's local time, a weekly curve per route, and the incidents'
  extra traffic; token lengths from lognormals fitted to public traces (``FITS``).
- :func:`serve` runs the discrete-event simulation of the gateway and the vLLM replicas:
  least-outstanding routing inside a pool, a FIFO waiting queue per replica, admission
  bounded by ``max_num_seqs`` and the KV-cache capacity, prefill served one prompt at a
  time per replica (so prompts queue behind each other), decode steps whose time grows
  with the batch size and the KV cache in use. Queue waits over the gateway's timeout
  become timeouts; a full queue makes the gateway reject (503).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from toolkit._validation import reject

NS = 1_000_000_000
MINUTE_NS = 60 * NS

# --- fitted token-length distributions ------------------------------------------------------
#
# Lognormal fits by maximum likelihood (mean and population standard deviation of the
# natural log of the token counts), computed 2026-11-21 from /work/shared/data/real
# (SOURCES.md gives each file's provenance). tests/test_synth.py refits them from the files.
# For ServeGen the per-window pmfs of chunk-1-dataset.json (37 non-empty 6-hour windows) are
# summed with equal weight per window and the lognormal is fitted to that pmf (weighted MLE).


@dataclass(frozen=True)
class LognormalFit:
    """A lognormal fitted to a public trace: ``log(tokens) ~ Normal(mu, sigma)``."""

    mu: float
    sigma: float
    source: str
    n: int
    method: str


FIT_METHOD = "lognormal MLE: mu = mean(log x), sigma = std(log x) (ddof=0)"
FIT_METHOD_PMF = "lognormal weighted MLE on the pmf summed over non-empty windows"
FIT_DATE = "2026-11-21"

#: route -> (input fit, output fit)
FITS: dict[str, tuple[LognormalFit, LognormalFit]] = {
    # Azure LLM inference trace 2023, conversation (Splitwise): chat
    "chat": (
        LognormalFit(
            6.633313,
            0.985154,
            "azure_llm_2023/AzureLLMInferenceTrace_conv.csv ContextTokens",
            19366,
            FIT_METHOD,
        ),
        LognormalFit(
            5.018997,
            0.859009,
            "azure_llm_2023/AzureLLMInferenceTrace_conv.csv GeneratedTokens",
            19366,
            FIT_METHOD,
        ),
    ),
    # Mooncake FAST'25 conversation trace (long, document-heavy contexts): rag-qa
    "rag-qa": (
        LognormalFit(
            8.736702,
            1.199117,
            "mooncake/conversation_trace.jsonl input_length",
            12031,
            FIT_METHOD,
        ),
        LognormalFit(
            5.336352,
            1.358372,
            "mooncake/conversation_trace.jsonl output_length",
            12031,
            FIT_METHOD,
        ),
    ),
    # ServeGen (Alibaba Bailian) language m-large, chunk 1: code
    "code": (
        LognormalFit(
            5.852412,
            0.667793,
            "servegen/language_m-large/chunk-1-dataset.json input_tokens",
            37,
            FIT_METHOD_PMF,
        ),
        LognormalFit(
            3.942357,
            0.628625,
            "servegen/language_m-large/chunk-1-dataset.json output_tokens",
            37,
            FIT_METHOD_PMF,
        ),
    ),
}

# --- the service -------------------------------------------------------------------------------

START = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # a Monday
ROUTES = ("chat", "rag-qa", "code")
ROUTE_SHARE = (0.55, 0.28, 0.17)
#: requests' max_tokens per route (outputs clipped there finish with "length")
MAX_TOKENS = (1024, 512, 2048)
#: weekend load relative to weekdays, per route
WEEKEND = (0.75, 0.3, 0.35)
TIERS = ("free", "pro", "enterprise")
TIER_SHARE = (0.6, 0.3, 0.1)


@dataclass(frozen=True)
class Locale:
    name: str
    utc_offset_h: float
    share: float


LOCALES = (
    Locale("en-US", -5.0, 0.34),
    Locale("en-GB", 0.0, 0.12),
    Locale("de-DE", 1.0, 0.12),
    Locale("fr-FR", 1.0, 0.08),
    Locale("es-MX", -6.0, 0.07),
    Locale("pt-BR", -3.0, 0.08),
    Locale("ja-JP", 9.0, 0.09),
    Locale("tr-TR", 3.0, 0.10),
    Locale("hi-IN", 5.5, 0.0),  # appears with the prompt-mix drift
)
NEW_LOCALE = "hi-IN"
BIAS_LOCALE = "tr-TR"

#: prompt classes per route with their share and base content-filter refusal probability
PROMPT_CLASSES: dict[str, tuple[tuple[str, float, float], ...]] = {
    "chat": (
        ("general", 0.70, 0.004),
        ("creative", 0.12, 0.012),
        ("medical", 0.08, 0.03),
        ("legal", 0.05, 0.02),
        ("sensitive", 0.05, 0.25),
    ),
    "rag-qa": (("kb-question", 1.0, 0.003),),
    "code": (("code", 0.96, 0.002), ("security", 0.04, 0.08)),
}
CLASS_NAMES = tuple(c for r in ROUTES for c, _, _ in PROMPT_CLASSES[r])


@dataclass(frozen=True)
class Pool:
    """A GPU pool: replicas of one model, one GPU each, and their engine's cost model."""

    name: str
    service: str
    model: str
    host: str
    gpu_name: str
    gpu_mem_mib: int
    replicas: int
    max_num_seqs: int
    kv_capacity_tokens: int
    max_model_len: int
    max_waiting: int
    prefill_tokens_per_s: float
    step_base_s: float
    step_per_seq_s: float
    step_per_kv_token_s: float
    weights_mib: int
    kv_bytes_per_token: int
    idle_w: float
    max_w: float
    max_sm_mhz: int
    server_port: int = 8000


POOLS = (
    Pool(
        "l4-pool",
        "vllm-l4",
        "llama-3.1-8b-instruct",
        "gpu-l4-0",
        "NVIDIA L4",
        23034,
        replicas=4,
        max_num_seqs=64,
        kv_capacity_tokens=81_920,
        max_model_len=16_384,
        max_waiting=16,
        prefill_tokens_per_s=6_000.0,
        step_base_s=0.026,
        step_per_seq_s=0.00025,
        step_per_kv_token_s=1.0e-7,
        weights_mib=8_600,
        kv_bytes_per_token=131_072,
        idle_w=16.0,
        max_w=72.0,
        max_sm_mhz=2040,
    ),
    Pool(
        "h100-pool",
        "vllm-h100",
        "llama-3.3-70b-instruct",
        "gpu-h100-0",
        "NVIDIA H100 80GB HBM3",
        81559,
        replicas=4,
        max_num_seqs=48,
        kv_capacity_tokens=65_536,
        max_model_len=32_768,
        max_waiting=24,
        prefill_tokens_per_s=4_500.0,
        step_base_s=0.024,
        step_per_seq_s=0.00035,
        step_per_kv_token_s=4.0e-8,
        weights_mib=68_500,
        kv_bytes_per_token=163_840,
        idle_w=70.0,
        max_w=700.0,
        max_sm_mhz=1980,
    ),
)
POOL_INDEX = {p.name: i for i, p in enumerate(POOLS)}

#: Base model revisions, one per pool (in the order of ``POOLS``).
MODEL_REVISION = ("llama-3.1-8b-instruct-2026-09", "llama-3.3-70b-instruct-2026-10")
#: The revisions the release incident serves during its window, one per pool: the release
#: pool's calls name its entry.
RELEASED_REVISIONS = ("llama-3.1-8b-instruct-2026-11", "llama-3.3-70b-instruct-2026-11")
#: The h100-pool's released revision (the sample week's release).
RELEASED_REVISION = RELEASED_REVISIONS[1]

#: The tier of the KV-cache burst's client per pool: ``pool_of`` routes free-tier chat to
#: the l4-pool and pro-tier chat to the h100-pool.
BURST_TIER = (0, 1)

GATEWAY_TIMEOUT_S = 30.0
#: max_num_batched_tokens: a prompt up to this many tokens is prefilled within one step
CHUNK_TOKENS = 2048

# --- incidents ------------------------------------------------------------------------------


def _t(day: int, hour: float) -> int:
    """Nanoseconds since START of day ``day`` (0 = Monday) at ``hour`` UTC."""
    return round((day * 24 + hour) * 3600 * NS)


@dataclass(frozen=True)
class Incidents:
    """A plan: which incidents the simulated week holds, when, how strong and where.

    Times are ns since START (Monday 2026-11-02 00:00 UTC); a window is ``(start, end)``
    and :data:`OFF` (``(0, 0)``) means the incident does not happen. The defaults are the
    sample week's plan. Windows may overlap.

    The service's incidents:

    - ``stale_index``: the retrieval index serves an outdated snapshot (rag-qa answers
      ungrounded with probability ``stale_ungrounded_p``, otherwise ``base_ungrounded_p``).
    - ``release``: a model release on ``release_pool`` prefills prompts longer than
      ``release_threshold_tokens`` ``release_prefill_slowdown`` times slower; its calls name
      the pool's :data:`RELEASED_REVISIONS` entry.
    - ``drift_start``: the prompt-mix drift (:data:`NEVER`: none): locale hi-IN ramps to
      ``drift_new_locale_share`` over ``drift_ramp_h`` hours with prompts
      ``new_locale_input_factor`` times longer, and chat prompts grow ``drift_input_factor``.
    - ``kv_burst``: an en-US chat client floods ``kv_burst_pool`` with ~10k-token prompts at
      ``kv_burst_rps_per_base`` times the mean rate (free tier on the l4-pool, pro tier on
      the h100-pool: the routing table :func:`pool_of` sends it there).
    - ``bias_refusal_factor``: the content filter refuses tr-TR this many times as often,
      all week (1.0: no bias).
    - ``saturation``: whether truth.json lists the weekday-peak saturation of the h100-pool
      (it is not placed but emerges from the load, so the plan says whether to expect it).

    The sample's other two services:

    - ``clinical_release``: the clinical assistant's release that breaks guideline rules
      more often, at ``clinical_release_at`` (None: 10:00 UTC of day 4 of 7, scaled with the
      days); off, the service keeps its old version and model all week.
    - ``fraud_season``: the fraud model's travel season (a covariate shift that lowers its
      precision) from day ``fraud_season_day`` (None: day 3) on; off, the transaction mix
      stays the same all week.

    Raises
    ------
    ParameterError
        If ``release_pool`` or ``kv_burst_pool`` is not a pool's name, or a timing of the
        clinical release or the fraud season is negative.

    Examples
    --------
    >>> Incidents(kv_burst_pool="h100-pool").kv_burst_pool
    'h100-pool'
    >>> Incidents(release_pool="a100-pool")
    Traceback (most recent call last):
    ...
    toolkit.errors.ParameterError: The 'release_pool' parameter of synth.Incidents must be \
one of 'l4-pool', 'h100-pool'. Got 'a100-pool' instead.
    """

    stale_index: tuple[int, int] = (_t(1, 8.0), _t(1, 14.0))
    release: tuple[int, int] = (_t(2, 9.5), _t(3, 15.0))
    release_threshold_tokens: int = 4096
    release_prefill_slowdown: float = 2.6
    drift_start: int = _t(3, 0.0)
    drift_ramp_h: float = 12.0
    drift_new_locale_share: float = 0.16
    drift_input_factor: float = 1.35
    new_locale_input_factor: float = 1.8
    kv_burst: tuple[int, int] = (_t(4, 13.0), _t(4, 14.5))
    kv_burst_rps_per_base: float = 2.6
    bias_refusal_factor: float = 7.0
    stale_ungrounded_p: float = 0.65
    base_ungrounded_p: float = 0.04
    saturation: bool = True
    release_pool: str = "h100-pool"
    kv_burst_pool: str = "l4-pool"
    clinical_release: bool = True
    clinical_release_at: int | None = None
    fraud_season: bool = True
    fraud_season_day: int | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in POOLS]
        for name in ("release_pool", "kv_burst_pool"):
            value = getattr(self, name)
            if value not in names:
                raise reject(
                    name,
                    "be one of " + ", ".join(repr(n) for n in names),
                    value,
                    function="synth.Incidents",
                )
        for name in ("clinical_release_at", "fraud_season_day"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise reject(name, "be None or an integer >= 0", value, function="synth.Incidents")

    @property
    def release_pool_index(self) -> int:
        """The index in :data:`POOLS` of the release's pool."""
        return POOL_INDEX[self.release_pool]

    @property
    def kv_burst_pool_index(self) -> int:
        """The index in :data:`POOLS` of the KV-cache burst's pool."""
        return POOL_INDEX[self.kv_burst_pool]


#: The window of an incident that does not happen.
OFF: tuple[int, int] = (0, 0)
#: A start no simulated period reaches (the drift that does not happen).
NEVER = 2**62


def incidents_for(days: int) -> Incidents:
    """The default incident placement; runs shorter than a week keep the ones that fit."""
    return Incidents()


def quiet_plan() -> Incidents:
    """A plan with no incident at all: a quiet week (run it at a small rps).

    None of the service's incidents, no weekday saturation expected, no clinical release
    (the assistant keeps its version all week) and no fraud season: truth.json lists
    nothing.

    Examples
    --------
    >>> quiet_plan().release, quiet_plan().bias_refusal_factor
    ((0, 0), 1.0)
    >>> quiet_plan().clinical_release, quiet_plan().fraud_season
    (False, False)
    """
    return Incidents(
        stale_index=OFF,
        release=OFF,
        drift_start=NEVER,
        kv_burst=OFF,
        bias_refusal_factor=1.0,
        saturation=False,
        clinical_release=False,
        fraud_season=False,
    )


def random_plan(seed: int, days: int = 7, *, quiet: float = 0.2, keep: float = 0.5) -> Incidents:
    """A seeded random plan: which incidents happen, when, how strong and on which pool.

    With probability ``quiet`` the plan is :func:`quiet_plan` (no incident at all);
    otherwise each incident happens with probability ``keep``: the stale index, the release
    (on a pool drawn uniformly), the prompt-mix drift, the KV-cache burst (on a pool drawn
    uniformly), the locale bias, the clinical assistant's release and the fraud model's
    season, each on a random day and hour, the service's at a random strength; windows may
    overlap. The weekday saturation is left out (``saturation=False``): it follows the rate,
    not a plan. A seed's plan draws the pools, the clinical release and the fraud season
    after everything else, so its other fields are what plans drew before those existed.

    Examples
    --------
    >>> random_plan(3) == random_plan(3), random_plan(3) == random_plan(4)
    (True, False)
    >>> plan = random_plan(5)
    >>> plan.release_pool, plan.kv_burst_pool, plan.clinical_release, plan.fraud_season
    ('l4-pool', 'h100-pool', False, False)
    """
    rng = np.random.default_rng(seed)
    if rng.random() < quiet:
        return quiet_plan()
    last = max(days - 1, 1)

    def at(lo_day: float, hi_day: float) -> int:
        return round(rng.uniform(lo_day, hi_day) * 86400 * NS)

    def window(hours: tuple[float, float], lo_day: float = 0.3) -> tuple[int, int]:
        start = at(lo_day, last)
        return (start, start + round(rng.uniform(*hours) * 3600 * NS))

    on = rng.random(5) < keep
    # in the order plans have always drawn them
    stale_index = window((3.0, 8.0)) if on[0] else OFF
    release = window((6.0, 30.0), lo_day=1.0) if on[1] else OFF
    release_prefill_slowdown = float(rng.uniform(2.2, 3.2))
    drift_start = at(1.5, max(last - 1.5, 1.6)) if on[2] else NEVER
    drift_new_locale_share = float(rng.uniform(0.12, 0.2))
    kv_burst = window((1.0, 2.0), lo_day=0.5) if on[3] else OFF
    kv_burst_rps_per_base = float(rng.uniform(2.2, 3.2))
    bias_refusal_factor = float(rng.uniform(4.0, 8.0)) if on[4] else 1.0
    # drawn after the others, so that those stay what a seed gave before
    release_pool, kv_burst_pool = (POOLS[int(i)].name for i in rng.integers(0, len(POOLS), 2))
    clinical_on, fraud_on = (bool(x) for x in rng.random(2) < keep)
    clinical_release_at = at(0.5, last)
    fraud_season_day = int(rng.integers(1, max(days - 1, 2)))
    return Incidents(
        stale_index=stale_index,
        release=release,
        release_prefill_slowdown=release_prefill_slowdown,
        drift_start=drift_start,
        drift_new_locale_share=drift_new_locale_share,
        kv_burst=kv_burst,
        kv_burst_rps_per_base=kv_burst_rps_per_base,
        bias_refusal_factor=bias_refusal_factor,
        saturation=False,
        release_pool=release_pool,
        kv_burst_pool=kv_burst_pool,
        clinical_release=clinical_on,
        clinical_release_at=clinical_release_at if clinical_on else None,
        fraud_season=fraud_on,
        fraud_season_day=fraud_season_day if fraud_on else None,
    )


# --- workload ---------------------------------------------------------------------------------


def _diurnal(local_hour: np.ndarray) -> np.ndarray:
    """Load by local hour: night trough ~0.12, morning and afternoon peaks at 1."""
    h = local_hour
    morning = np.exp(-0.5 * ((h - 11.0) / 2.2) ** 2)
    afternoon = np.exp(-0.5 * ((h - 15.5) / 2.4) ** 2)
    evening = 0.45 * np.exp(-0.5 * ((h - 21.0) / 1.8) ** 2)
    return 0.05 + np.maximum(morning, afternoon) * 0.95 + evening * 0.5


@dataclass
class Requests:
    """The drawn workload, one entry per request, sorted by arrival."""

    arrival_ns: np.ndarray
    route: np.ndarray  # int8 index into ROUTES
    tier: np.ndarray
    locale: np.ndarray
    prompt_class: np.ndarray  # index into CLASS_NAMES
    pool: np.ndarray
    input_tokens: np.ndarray
    output_tokens: np.ndarray
    finish: np.ndarray  # 0 stop, 1 length, 2 content_filter
    bulk: np.ndarray  # bool: the kv-burst client's requests


def pool_of(route: np.ndarray, tier: np.ndarray) -> np.ndarray:
    """Routing table: free-tier chat and code go to the small model, the rest to the large."""
    free = tier == 0
    small = ((route == 0) & free) | ((route == 2) & free)
    return np.where(small, 0, 1).astype(np.int8)


def workload(rng: np.random.Generator, days: int, rps: float, inc: Incidents) -> Requests:
    """Draw every request of the simulated period (vectorised)."""
    minutes = days * 1440
    t_min = np.arange(minutes, dtype=np.int64)
    hour_utc = (t_min % 1440) / 60.0
    t_ns = t_min * MINUTE_NS
    # locale shares over time: the new locale ramps in at drift_start
    ramp = np.clip((t_ns - inc.drift_start) / (inc.drift_ramp_h * 3600 * NS), 0.0, 1.0)
    shares = np.array([loc.share for loc in LOCALES])[:, None] * np.ones((1, minutes))
    new_i = [loc.name for loc in LOCALES].index(NEW_LOCALE)
    shares[new_i] = inc.drift_new_locale_share * ramp
    shares[:new_i] *= 1.0 - inc.drift_new_locale_share * ramp
    rates = []  # (segment keys, per-minute expected counts)
    keys = []
    for li, loc in enumerate(LOCALES):
        local_h = (hour_utc + loc.utc_offset_h) % 24.0
        local_day = ((t_min + round((loc.utc_offset_h * 60))) // 1440) % 7
        weekend = local_day >= 5
        diurnal = _diurnal(local_h)
        for ri in range(len(ROUTES)):
            weekly = np.where(weekend, WEEKEND[ri], 1.0)
            base = shares[li] * ROUTE_SHARE[ri] * diurnal * weekly
            for ti in range(len(TIERS)):
                rates.append(base * TIER_SHARE[ti])
                keys.append((ri, ti, li))
    intensity = np.array(rates)  # segments x minutes, relative
    # scale so that the mean rate over whole weeks (without the burst) is rps
    per_min = intensity * (rps * 60.0 * minutes / intensity.sum())
    counts = rng.poisson(per_min)  # segments x minutes
    seg_idx, min_idx = np.nonzero(counts)
    n_each = counts[seg_idx, min_idx]
    seg = np.repeat(seg_idx, n_each)
    minute = np.repeat(min_idx, n_each).astype(np.int64)
    keys_arr = np.array(keys, dtype=np.int8)
    route = keys_arr[seg, 0]
    tier = keys_arr[seg, 1]
    locale = keys_arr[seg, 2]
    bulk = np.zeros(seg.size, dtype=bool)
    # the kv-burst client: chat from en-US with very long prompts, of the tier that the
    # routing table sends to the burst's pool (free on the l4-pool, pro on the h100-pool)
    b0, b1 = inc.kv_burst
    if b1 <= minutes * MINUTE_NS:
        m0, m1 = b0 // MINUTE_NS, b1 // MINUTE_NS
        burst_counts = rng.poisson(inc.kv_burst_rps_per_base * rps * 60.0, size=int(m1 - m0))
        nb = int(burst_counts.sum())
        minute = np.concatenate([minute, np.repeat(np.arange(m0, m1), burst_counts)])
        route = np.concatenate([route, np.zeros(nb, np.int8)])
        tier = np.concatenate([tier, np.full(nb, BURST_TIER[inc.kv_burst_pool_index], np.int8)])
        locale = np.concatenate([locale, np.zeros(nb, np.int8)])
        bulk = np.concatenate([bulk, np.ones(nb, bool)])
    n = minute.size
    arrival = minute * MINUTE_NS + rng.integers(0, MINUTE_NS, size=n, dtype=np.int64)
    order = np.argsort(arrival, kind="stable")
    arrival, route, tier, locale, bulk = (
        arrival[order],
        route[order],
        tier[order],
        locale[order],
        bulk[order],
    )
    # prompt classes
    pclass = np.zeros(n, dtype=np.int16)
    u = rng.random(n)
    offset = 0
    refuse_p = np.zeros(n)
    for ri, r in enumerate(ROUTES):
        sel = route == ri
        cum = 0.0
        chosen = np.full(n, -1, dtype=np.int16)
        for ci, (_, share, p) in enumerate(PROMPT_CLASSES[r]):
            hit = sel & (chosen < 0) & (u < cum + share)
            chosen[hit] = offset + ci
            refuse_p[hit] = p
            cum += share
        last = sel & (chosen < 0)
        chosen[last] = offset + len(PROMPT_CLASSES[r]) - 1
        refuse_p[last] = PROMPT_CLASSES[r][-1][2]
        pclass[sel] = chosen[sel]
        offset += len(PROMPT_CLASSES[r])
    bias_i = [loc.name for loc in LOCALES].index(BIAS_LOCALE)
    refuse_p = np.where(
        locale == bias_i, np.minimum(refuse_p * inc.bias_refusal_factor, 0.9), refuse_p
    )
    # token lengths
    z_in = rng.standard_normal(n)
    z_out = rng.standard_normal(n)
    mu_in = np.array([FITS[r][0].mu for r in ROUTES])[route]
    sd_in = np.array([FITS[r][0].sigma for r in ROUTES])[route]
    mu_out = np.array([FITS[r][1].mu for r in ROUTES])[route]
    sd_out = np.array([FITS[r][1].sigma for r in ROUTES])[route]
    after_drift = arrival >= inc.drift_start
    factor = np.where(after_drift & (route == 0), inc.drift_input_factor, 1.0)
    factor = np.where(locale == new_i, factor * inc.new_locale_input_factor, factor)
    inp = np.exp(mu_in + sd_in * z_in) * factor
    inp = np.where(bulk, np.exp(np.log(10_000.0) + 0.2 * z_in), inp)
    pool = pool_of(route, tier)
    max_tok = np.array(MAX_TOKENS)[route]
    max_len = np.array([p.max_model_len for p in POOLS])[pool]
    inp_i = np.clip(np.rint(inp), 1, max_len - max_tok).astype(np.int64)
    out = np.exp(mu_out + sd_out * z_out)
    out = np.where(bulk, np.exp(np.log(350.0) + 0.3 * z_out), out)
    out_i = np.maximum(np.rint(out), 1).astype(np.int64)
    finish = np.where(out_i > max_tok, 1, 0).astype(np.int8)
    out_i = np.minimum(out_i, max_tok)
    refused = rng.random(n) < refuse_p
    refusal_len = rng.integers(12, 48, size=n)
    out_i = np.where(refused, refusal_len, out_i)
    finish = np.where(refused, 2, finish).astype(np.int8)
    return Requests(arrival, route, tier, locale, pclass, pool, inp_i, out_i, finish, bulk)


# --- the engine -------------------------------------------------------------------------------

#: outcomes
OK, TIMEOUT, REJECTED = 0, 1, 2


@dataclass
class Served:
    """What happened to each request in the engine (times in ns since START; -1 = never)."""

    replica: np.ndarray  # global replica index
    outcome: np.ndarray
    admit_ns: np.ndarray
    first_token_ns: np.ndarray
    end_ns: np.ndarray
    kv_tokens: np.ndarray
    batch_at_admit: np.ndarray
    replica_pool: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))


def serve(
    req: Requests, call_start_ns: np.ndarray, inc: Incidents, release_on: bool = True
) -> Served:
    """Run the discrete-event simulation of the pools; returns per-request timings."""
    n = req.arrival_ns.size
    order = np.argsort(call_start_ns, kind="stable")
    replica_pool = np.concatenate(
        [np.full(p.replicas, i, dtype=np.int8) for i, p in enumerate(POOLS)]
    )
    first_replica = np.concatenate([[0], np.cumsum([p.replicas for p in POOLS])[:-1]])
    nrep = replica_pool.size
    running = [0] * nrep
    kv_used = [0] * nrep
    waiting: list[deque[int]] = [deque() for _ in range(nrep)]
    prefill_free = [0] * nrep
    heap: list[tuple[int, int, int]] = []  # (end_ns, request, replica)
    out_replica = np.full(n, -1, dtype=np.int16)
    outcome = np.zeros(n, dtype=np.int8)
    admit = np.full(n, -1, dtype=np.int64)
    first = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    batch = np.zeros(n, dtype=np.int32)
    kv_need = (req.input_tokens + req.output_tokens).tolist()
    inp = req.input_tokens.tolist()
    outt = req.output_tokens.tolist()
    start = call_start_ns.tolist()
    pools = req.pool.tolist()
    timeout_ns = int(GATEWAY_TIMEOUT_S * NS)
    rel0, rel1 = inc.release if release_on else (-1, -1)
    thr = inc.release_threshold_tokens
    slow = inc.release_prefill_slowdown
    params = [
        (
            p.max_num_seqs,
            p.kv_capacity_tokens,
            p.prefill_tokens_per_s,
            p.step_base_s,
            p.step_per_seq_s,
            p.step_per_kv_token_s,
            i == inc.release_pool_index,
        )
        for i, p in enumerate(POOLS)
    ]
    admit_l = [-1] * n
    first_l = [-1] * n
    end_l = [-1] * n
    batch_l = [0] * n
    outcome_l = [0] * n
    rep_l = [-1] * n

    def try_admit(r: int, now: int) -> None:
        q = waiting[r]
        max_seqs, kv_cap, prefill_tps, base, per_seq, per_kv, on_release = params[replica_pool[r]]
        while q:
            i = q[0]
            if now - start[i] > timeout_ns:
                q.popleft()
                outcome_l[i] = TIMEOUT
                end_l[i] = start[i] + timeout_ns
                continue
            need = kv_need[i]
            if running[r] >= max_seqs or kv_used[r] + need > kv_cap:
                return
            q.popleft()
            running[r] += 1
            kv_used[r] += need
            admit_l[i] = now
            b = running[r]
            step = base + per_seq * b + per_kv * kv_used[r]
            ptime = inp[i] / prefill_tps
            if on_release and rel0 <= start[i] < rel1 and inp[i] > thr:
                ptime *= slow
            if inp[i] <= CHUNK_TOKENS:
                # fits in one step's token budget: chunked prefill interleaves it at once
                p_end = now + int((ptime + step) * NS)
            else:
                # long prompts are prefilled chunk by chunk, one prompt after another
                p0 = now if now > prefill_free[r] else prefill_free[r]
                p_end = p0 + int((ptime + step) * NS)
                prefill_free[r] = p0 + int(ptime * NS)
            first_l[i] = p_end
            e = p_end + int((outt[i] - 1) * step * NS)
            end_l[i] = e
            batch_l[i] = b
            heapq.heappush(heap, (e, i, r))

    for i in order.tolist():
        t = start[i]
        while heap and heap[0][0] <= t:
            e, j, r = heapq.heappop(heap)
            running[r] -= 1
            kv_used[r] -= kv_need[j]
            try_admit(r, e)
        pi = pools[i]
        r0 = int(first_replica[pi])
        best = r0
        best_load = running[r0] + len(waiting[r0])
        for r in range(r0 + 1, r0 + POOLS[pi].replicas):
            load = running[r] + len(waiting[r])
            if load < best_load:
                best, best_load = r, load
        rep_l[i] = best
        if len(waiting[best]) >= POOLS[pi].max_waiting:
            outcome_l[i] = REJECTED
            end_l[i] = t
            continue
        waiting[best].append(i)
        try_admit(best, t)
    while heap:
        e, j, r = heapq.heappop(heap)
        running[r] -= 1
        kv_used[r] -= kv_need[j]
        try_admit(r, e)
    for r in range(nrep):
        for i in waiting[r]:
            outcome_l[i] = TIMEOUT
            end_l[i] = start[i] + timeout_ns
    out_replica[:] = rep_l
    outcome[:] = outcome_l
    admit[:] = admit_l
    first[:] = first_l
    end[:] = end_l
    batch[:] = batch_l
    return Served(
        out_replica,
        outcome,
        admit,
        first,
        end,
        np.asarray(kv_need, np.int64),
        batch,
        replica_pool,
    )

"""Retrieval documents, questions and answers of the simulated ``rag-qa`` route.

A small product knowledge base (entities x attributes, each with a value) is the index. A
question asks one attribute of one entity; retrieval returns three documents; a grounded
answer restates the value of the retrieved document and cites it, an ungrounded one states
a value that no retrieved document holds. While the index is stale, retrieval returns
outdated documents about another product, so answers cannot be grounded in them.

The knowledge base is fixed (its own generator seed), whatever the run's seed.
"""

from __future__ import annotations

import json

import numpy as np

ENTITIES = (
    "Atlas router",
    "Borealis gateway",
    "Cobalt switch",
    "Delta storage array",
    "Ember camera",
    "Falcon laptop",
    "Garnet tablet",
    "Helix firewall",
    "Iris monitor",
    "Juniper access point",
)
ATTRIBUTES = (
    ("warranty period", "months", 12, 60),
    ("maximum throughput", "Gbps", 1, 400),
    ("battery life", "hours", 4, 30),
    ("operating temperature limit", "C", 35, 70),
    ("list price", "EUR", 90, 9000),
    ("weight", "kg", 1, 40),
    ("support response time", "hours", 1, 48),
    ("storage capacity", "TB", 1, 512),
)
REVISION = "2026-10"
STALE_REVISION = "2024-03"

_KB_RNG = np.random.default_rng(20261102)
#: current value of (entity, attribute)
VALUES = _KB_RNG.integers(
    [[lo for _, _, lo, _ in ATTRIBUTES]] * len(ENTITIES),
    [[hi + 1 for _, _, _, hi in ATTRIBUTES]] * len(ENTITIES),
)
#: the values an outdated index holds (different from the current ones)
STALE_VALUES = VALUES + _KB_RNG.integers(1, 9, size=VALUES.shape)


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def document(entity: int, attribute: int, stale: bool, score: float) -> dict[str, object]:
    """One retrieved document as exported in ``gen_ai.retrieval.documents``."""
    name, unit, _, _ = ATTRIBUTES[attribute]
    ent = ENTITIES[entity]
    value = int((STALE_VALUES if stale else VALUES)[entity, attribute])
    rev = STALE_REVISION if stale else REVISION
    return {
        "id": f"kb-{_slug(ent)}-{_slug(name)}@{rev}",
        "score": score,
        "content": (f"{ent} datasheet, revision {rev}. The {name} of the {ent} is {value} {unit}."),
    }


def rag_texts(
    rng: np.random.Generator, n: int, stale: np.ndarray, ungrounded: np.ndarray
) -> tuple[list[str], list[str], list[str], list[str]]:
    """Question, documents JSON, answer text and the cited document id for ``n`` calls.

    ``stale`` marks calls served by the stale index (documents about another product, at
    the outdated revision); ``ungrounded`` marks answers stating a value no document holds.
    """
    ent = rng.integers(0, len(ENTITIES), size=n)
    att = rng.integers(0, len(ATTRIBUTES), size=n)
    other_att = (att + rng.integers(1, len(ATTRIBUTES), size=(n, 2)).T).T % len(ATTRIBUTES)
    wrong_ent = (ent + rng.integers(1, len(ENTITIES), size=n)) % len(ENTITIES)
    scores = np.round(np.sort(rng.uniform(0.55, 0.95, size=(n, 3)), axis=1)[:, ::-1], 3)
    fake_shift = rng.integers(2, 12, size=n)
    questions: list[str] = []
    docs: list[str] = []
    answers: list[str] = []
    cited: list[str] = []
    for i in range(n):
        e, a = int(ent[i]), int(att[i])
        name, unit, _, _ = ATTRIBUTES[a]
        questions.append(f"What is the {name} of the {ENTITIES[e]}?")
        de = int(wrong_ent[i]) if stale[i] else e
        picked = [a, int(other_att[i, 0]), int(other_att[i, 1])]
        found = [document(de, k, bool(stale[i]), float(scores[i, j])) for j, k in enumerate(picked)]
        docs.append(json.dumps(found, separators=(",", ":")))
        if ungrounded[i] or stale[i]:
            value = int(VALUES[e, a]) + int(fake_shift[i]) * (1 if not stale[i] else 0)
            answers.append(f"The {name} of the {ENTITIES[e]} is {value} {unit}.")
            cited.append("")
        else:
            doc_id = str(found[0]["id"])
            answers.append(
                f"According to {doc_id}, the {name} of the {ENTITIES[e]} is "
                f"{int(VALUES[e, a])} {unit}."
            )
            cited.append(doc_id)
    return questions, docs, answers, cited


def groundedness(answers: list[str], docs: list[str]) -> np.ndarray:
    """The share of an answer's content words and numbers found in its documents (0..1)."""
    out = np.zeros(len(answers))
    stop = {"the", "of", "is", "according", "to", "a", "an"}
    for i, (ans, doc) in enumerate(zip(answers, docs, strict=True)):
        text = " ".join(str(d["content"]) for d in json.loads(doc)).lower()
        vocab = set(text.replace(".", " ").replace(",", " ").split())
        words = [
            w
            for w in ans.lower().replace(".", " ").replace(",", " ").split()
            if w not in stop and "@" not in w
        ]
        numbers = [w for w in words if w.isdigit()]
        word_share = sum(w in vocab for w in words) / max(len(words), 1)
        num_share = sum(w in vocab for w in numbers) / max(len(numbers), 1)
        out[i] = word_share * num_share
    return out

"""The output contract: one parser shared by every reward and every scorer, and its writer.

    <think> reasoning </think>
    <answer> JSON </answer>

Decisions about what models really emit:

* Text before ``<think>`` or after ``</answer>`` is tolerated for reading the answer, but the
  completion is then not *well formed* (the ``format`` reward gives 0).
* When several ``<answer>`` blocks appear, the last complete one is read (models often
  restate); ``well_formed`` requires exactly one ``<think>`` and one ``<answer>`` block.
* A Markdown code fence around the JSON (```` ```json ... ``` ````) is tolerated.
* The JSON must be strict JSON: trailing commas, single quotes, comments, NaN/Infinity are
  rejected (the answer is then unparsed).
* A GMNER answer is a list of objects with a string ``entity``, a ``type`` among PER, LOC,
  ORG, OTHER, and ``bbox`` either ``null`` or a list of 4 finite numbers (not strings, not
  booleans; ``1e400``, which JSON reads as infinity, and integers beyond float range are not
  finite). Extra keys are ignored. One item that breaks these rules makes the whole answer
  invalid: the contract is all-or-nothing, so a model cannot earn credit for half-formed output.
* A MATE answer is a JSON object with exactly the key ``answer``.
* Deeply nested JSON that exhausts the parser's recursion is unparsed, not an error.

``parse_completion`` reads the whole contract at once (the answer and the verdicts its
reasoning states, see ``verdicts``), never raises, and caches by completion text, so the N
reward functions that TRL calls one after another parse each completion once.
"""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

from mcr.caches import cached
from mcr.contract.verdicts import MAX_ENTITIES, read_verdicts
from mcr.data.schema import GMNER_TYPES

MAX_COORD = 10**300  # ints beyond float range make a box invalid, like NaN and Infinity
_THINK_OPEN, _THINK_CLOSE, _ANSWER_OPEN, _ANSWER_CLOSE = "<think>", "</think>", "<answer>", "</answer>"


class PredEntity(NamedTuple):
    entity: str
    type: str
    bbox: tuple[float, float, float, float] | None
    key: str = ""  # the span as rewards compare it: case-folded, white space collapsed


def span_key(span: str) -> str:
    """The rewards' span key: white space collapsed and case-folded."""
    return " ".join(span.split()).casefold()


class ParsedCompletion(NamedTuple):
    think: str | None  # the reasoning, when a <think> block is present
    answer_text: str | None  # raw text of the last complete <answer> block
    answer: Any  # the answer's JSON value; None when absent or not strict JSON
    json_ok: bool  # the answer block holds strict JSON
    well_formed: bool  # exactly <think>...</think> then <answer>...</answer>, nothing else around
    entities: tuple[PredEntity, ...] | None  # the answer as a GMNER list; None when it is not one
    # per answered entity, the (type codes, shown decisions) its reasoning states (see
    # ``verdicts``); None without a <think> block, a GMNER answer, or when too long to read
    verdicts: tuple[tuple[frozenset[str], frozenset[bool]], ...] | None = None
    text_outside: bool = False  # text stands before <think> or after the answer's </answer>


def completion_text(completion: Any) -> str:
    """The assistant text of a completion given as a string or as TRL's conversational list."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        content = completion[-1].get("content", "") if isinstance(completion[-1], dict) else ""
        if isinstance(content, list):
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else ""
    return ""


def _strip_fence(text: str) -> str:
    text = text.strip()
    if len(text) >= 6 and text.startswith("```") and text.endswith("```"):
        body = text[3:-3]
        first, sep, rest = body.partition("\n")
        if sep and (not first.strip() or first.strip().isalnum()):  # a language tag such as ```json
            body = rest
        return body.strip()
    return text


def _reject_constant(name: str) -> None:
    raise ValueError(f"non-standard JSON constant {name}")


def loads_strict(text: str) -> tuple[bool, Any]:
    """Strict JSON (no NaN/Infinity); ``(ok, value)``, never raises."""
    try:
        return True, json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return False, None


def is_number(value: Any) -> bool:
    """A finite JSON number: not a string, not a boolean, no int beyond float range. Never raises."""
    kind = type(value)
    if kind is float:
        return math.isfinite(value)
    if kind is int:  # (bool is not int here) an int too large for a float would overflow later
        return -MAX_COORD <= value <= MAX_COORD
    return False


def is_box(value: Any) -> bool:
    """The one box check: a JSON list of 4 finite numbers (not strings, not booleans, not ints
    beyond float range). Never raises, whatever ``value`` is."""
    return type(value) is list and len(value) == 4 and all(map(is_number, value))


def gmner_entities(answer: Any) -> tuple[PredEntity, ...] | None:
    """The answer as GMNER entities, or None when it breaks the contract anywhere."""
    if not isinstance(answer, list):
        return None
    out = []
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("entity"), str):
            return None
        if item.get("type") not in GMNER_TYPES or "bbox" not in item:
            return None
        bbox = item["bbox"]
        if bbox is not None:
            if not is_box(bbox):
                return None
            bbox = tuple(map(float, bbox))
        out.append(PredEntity(item["entity"], item["type"], bbox, span_key(item["entity"])))
    return tuple(out)


@cached(maxsize=8192)
def parse_completion(text: str) -> ParsedCompletion:
    """Parse one completion under the output contract. Never raises; cached by text."""
    think = None
    t_open = text.find(_THINK_OPEN)
    t_close = text.find(_THINK_CLOSE, t_open + len(_THINK_OPEN)) if t_open >= 0 else -1
    if t_open >= 0 and t_close >= 0:
        think = text[t_open + len(_THINK_OPEN) : t_close].strip()

    a_open = text.rfind(_ANSWER_OPEN)
    a_close = text.find(_ANSWER_CLOSE, a_open + len(_ANSWER_OPEN)) if a_open >= 0 else -1
    answer_text = text[a_open + len(_ANSWER_OPEN) : a_close] if a_open >= 0 and a_close >= 0 else None
    if answer_text is None and a_open >= 0:
        # the last <answer> is unterminated: fall back to the last complete block, if any
        a_close = text.rfind(_ANSWER_CLOSE, 0, a_open)
        a_open = text.rfind(_ANSWER_OPEN, 0, a_close) if a_close >= 0 else -1
        if a_open >= 0:
            answer_text = text[a_open + len(_ANSWER_OPEN) : a_close]

    json_ok, answer = loads_strict(_strip_fence(answer_text)) if answer_text is not None else (False, None)
    text_outside = bool(t_open > 0 and text[:t_open].strip()) or bool(
        answer_text is not None and text[a_close + len(_ANSWER_CLOSE) :].strip()
    )
    well_formed = (
        think is not None
        and answer_text is not None
        and json_ok
        and not text_outside
        and not text[t_close + len(_THINK_CLOSE) : a_open].strip()
        and text.count(_THINK_OPEN) == 1
        and text.count(_THINK_CLOSE) == 1
        and text.count(_ANSWER_OPEN) == 1
        and text.count(_ANSWER_CLOSE) == 1
    )
    entities = gmner_entities(answer) if json_ok else None
    verdicts = None
    if entities is not None and think is not None and len(entities) <= MAX_ENTITIES:
        found = read_verdicts(think, list(dict.fromkeys(p.key for p in entities)))
        empty = (frozenset(), frozenset())
        verdicts = tuple(
            (frozenset(found[p.key][0]), frozenset(found[p.key][1])) if p.key in found else empty
            for p in entities
        )
    return ParsedCompletion(
        think, answer_text, answer, json_ok, well_formed, entities, verdicts, text_outside
    )


def render_completion(think: str, answer: Any) -> str:
    """A completion in the output contract: the reasoning, then the answer as JSON."""
    return f"<think>\n{think}\n</think>\n<answer>{json.dumps(answer, ensure_ascii=False)}</answer>"

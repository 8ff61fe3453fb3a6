"""The output contract every reward and scorer reads, in one place.

    <think> reasoning in one of the styles </think>
    <answer> JSON </answer>

``parse`` reads a completion once (cached by text) and checks boxes with one ``is_box``;
``verdicts`` reads the per-entity verdicts a reasoning states; ``matching`` decodes gold,
computes IoU and matches entities one to one. Nothing here knows about models, data sets,
rewards or scorers: they all import it.
"""

from mcr.contract.matching import GoldEntity, count_correct, decode_gold, f1, iou, match_spans, normalize_span
from mcr.contract.parse import (
    GMNER_TYPES,
    ParsedCompletion,
    PredEntity,
    completion_text,
    is_box,
    is_number,
    parse_completion,
    render_completion,
    span_key,
)

__all__ = [
    "GMNER_TYPES",
    "GoldEntity",
    "ParsedCompletion",
    "PredEntity",
    "completion_text",
    "count_correct",
    "decode_gold",
    "f1",
    "iou",
    "is_box",
    "is_number",
    "match_spans",
    "normalize_span",
    "parse_completion",
    "render_completion",
    "span_key",
]

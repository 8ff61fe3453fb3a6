"""The error every recipe check raises, and its message for a key the schema does not know."""

from __future__ import annotations

import difflib


class RecipeError(ValueError):
    """A recipe or override that does not fit the schema."""


def key_error(dotted: str, valid: list[str], where: str) -> RecipeError:
    """An unknown key ``dotted`` in ``where``: the close matches and the valid keys of its section."""
    section, _, key = dotted.rpartition(".")
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return RecipeError(
        f"unknown key {dotted!r} in {where}{hint}\nvalid keys under "
        f"{section or 'the top level'!r}: {', '.join(sorted(valid))}"
    )

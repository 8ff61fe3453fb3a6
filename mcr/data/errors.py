"""The one error type for malformed benchmark data."""

from __future__ import annotations

from pathlib import Path


class DataFormatError(ValueError):
    """Malformed input data. The message always names the file (and line, or record id)."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        record: str | None = None,
    ) -> None:
        where = []
        if file is not None:
            where.append(f"{file}:{line}" if line is not None else str(file))
        if record is not None:
            where.append(f"record {record!r}")
        self.file, self.line, self.record, self.problem = file, line, record, problem
        super().__init__(f"{', '.join(where)}: {problem}" if where else problem)

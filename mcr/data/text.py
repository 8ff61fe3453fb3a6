"""UTF-8 text files, read so that damage is an error naming the file, the line and the byte.

Every benchmark loader reads its text through here: ``read_lines`` line by line (CoNLL, JSON
Lines, dict literals), ``read_text`` whole (JSON documents). A UTF-8 byte order mark at the
start of a file is accepted and dropped (editors on Windows write one). Lines end at ``\\n``,
as ``grep -n`` and editors count them; a ``\\r`` before it is dropped too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mcr.data.errors import DataFormatError

BOM = b"\xef\xbb\xbf"


def _is_char_start(data: bytes, pos: int) -> bool:
    """Whether a well-formed UTF-8 character starts at ``data[pos]``."""
    for size in range(1, 5):
        try:
            data[pos : pos + size].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return True
    return False


def decode_problem(err: UnicodeDecodeError, *, file_offset: int, column: int) -> str:
    """What is wrong, for bytes of a line that are not UTF-8: the bytes (up to 8 of a run), their
    byte offset in the file (from 0) and their position in the line (in bytes, from 1)."""
    data, end = err.object, err.end
    while end < len(data) and end - err.start < 8 and not _is_char_start(data, end):
        end += 1
    shown = " ".join(f"0x{b:02x}" for b in data[err.start : end])
    more = " ..." if end < len(data) and not _is_char_start(data, end) else ""
    plural = "s" if end - err.start > 1 else ""
    return (
        f"not UTF-8 text: byte{plural} {shown}{more} at byte offset {file_offset} of the file "
        f"(byte {column} of the line) cannot be decoded ({err.reason}); expected UTF-8"
    )


def _open(path: Path, what: str):
    if not path.is_file():
        raise DataFormatError(f"no such {what} file", file=path)
    try:
        return open(path, "rb")
    except OSError as err:
        raise DataFormatError(f"cannot read the {what} file: {err.strerror}", file=path) from None


def read_lines(path: str | Path, what: str = "text") -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for each line of a UTF-8 file, without its line ending.

    Bytes that are not UTF-8 raise :class:`DataFormatError` naming the file, the line, the byte
    offset in the file and the bytes themselves; so does a file that cannot be read."""
    path = Path(path)
    with _open(path, what) as f:
        offset, lineno = 0, 0
        try:
            for lineno, raw in enumerate(f, start=1):
                body = raw[len(BOM) :] if lineno == 1 and raw.startswith(BOM) else raw
                start = offset + len(raw) - len(body)
                try:
                    line = body.decode("utf-8")
                except UnicodeDecodeError as err:
                    problem = decode_problem(err, file_offset=start + err.start, column=err.start + 1)
                    raise DataFormatError(problem, file=path, line=lineno) from None
                offset += len(raw)
                yield lineno, line.removesuffix("\n").removesuffix("\r")
        except OSError as err:
            raise DataFormatError(
                f"reading stopped after line {lineno}: {err.strerror or err}", file=path
            ) from None


def decode_utf8(data: bytes, path: str | Path) -> str:
    """``data``, the bytes of the file at ``path``, as text (a byte order mark dropped); bytes
    that are not UTF-8 raise :class:`DataFormatError` naming the file, the line, the byte offset
    and the bytes."""
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as err:
        start = skip + err.start
        line_start = max(data.rfind(b"\n", 0, start) + 1, skip)  # columns do not count a BOM
        line_end = data.find(b"\n", start)
        line = data[line_start : len(data) if line_end < 0 else line_end]
        try:  # everything before ``start`` is UTF-8, so the line fails at the same byte
            line.decode("utf-8")
        except UnicodeDecodeError as on_line:
            err = on_line
        problem = decode_problem(err, file_offset=start, column=start - line_start + 1)
        raise DataFormatError(problem, file=path, line=data.count(b"\n", 0, start) + 1) from None


def read_text(path: str | Path, what: str = "text") -> str:
    """The whole text of a UTF-8 file, checked as :func:`decode_utf8` checks it."""
    path = Path(path)
    with _open(path, what) as f:
        try:
            data = f.read()
        except OSError as err:
            raise DataFormatError(f"cannot read the {what} file: {err.strerror or err}", file=path) from None
    return decode_utf8(data, path)

"""Read what an offline W&B run wrote, from disk: its record file, and the tables it logged.

W&B keeps a logged table (with its images) in a ``run_table`` artifact; the run's record file
(``run-<id>.wandb``, a LevelDB-style log of protobuf records) lists the artifact's files and
where they are staged on disk, which is what ``wandb sync`` uploads.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from wandb.proto import wandb_internal_pb2

_BLOCK, _HEADER = 32768, 7


def records(wandb_file: Path):
    """The run's protobuf records, in order."""
    data, pos, pending = Path(wandb_file).read_bytes(), _HEADER, b""  # the file header is 7 bytes too
    while pos + _HEADER <= len(data):
        if _BLOCK - pos % _BLOCK < _HEADER:  # a block's tail too short for a chunk header
            pos += _BLOCK - pos % _BLOCK
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        chunk, pos = data[pos + _HEADER : pos + _HEADER + length], pos + _HEADER + length
        if kind == 0:
            continue
        pending = chunk if kind in (1, 2) else pending + chunk  # 1 whole, 2 first, 3 middle, 4 last
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def finished_records(wandb_file: Path, timeout_s: float = 60.0) -> list:
    """The run's records once its exit record is on disk: W&B's service process writes the record
    file behind the run, so right after ``finish()`` on a busy machine its end may not be there yet."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = list(records(wandb_file))
        if (found and found[-1].WhichOneof("record_type") == "exit") or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def logged_tables(run_dir: Path, key: str) -> list[tuple[dict, dict[str, Path]]]:
    """Every version of table ``key``: (its JSON, {path in the artifact: file on disk})."""
    (wandb_file,) = Path(run_dir).glob("run-*.wandb")
    found = []
    for record in finished_records(wandb_file):
        if record.WhichOneof("record_type") == "artifact" and record.artifact.type == "run_table":
            files = {entry.path: Path(entry.local_path) for entry in record.artifact.manifest.contents}
            if f"{key}.table.json" in files:
                found.append((json.loads(files[f"{key}.table.json"].read_text()), files))
    return found

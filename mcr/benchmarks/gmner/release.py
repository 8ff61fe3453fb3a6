"""Loader for the Twitter-GMNER release layout (Yu et al., ACL 2023; v1 and v2.0).

    <root>/txt/{train,dev,test}.txt   CoNLL: ``IMGID:<id>`` line, ``token<TAB>tag`` lines, blank line
    <root>/xml/<id>.xml               Pascal-VOC boxes, ``<name>`` = entity tokens joined by spaces
    <images>/<id>.jpg                 images, distributed separately

The synthetic generator (:mod:`mcr.benchmarks.gmner.synthetic`) writes the same layout, so this one
loader serves both. Malformed input raises :class:`DataFormatError` naming file and line.

Tags are read as conlleval and seqeval's default mode read them: an ``I-X`` that does not
continue an ``X`` entity (after ``O``, at the start of a post, or after another type) starts a
new entity. Real releases carry such tags (Twitter-GMNER v1's test split: ``Nike O`` then
``SNKRS I-OTHER``); each one read that way is a *repair*, logged with its file and line and
counted in ``mcr data stats`` (``repaired_tags``).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from mcr.data.errors import DataFormatError
from mcr.data.schema import GMNER_TYPES, Box, Entity, Record
from mcr.data.text import decode_utf8, read_lines

logger = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


@dataclass
class _RawPost:
    id: str
    line: int
    tokens: list[str]
    tags: list[str]


@dataclass(frozen=True)
class VocAnnotation:
    """The content of one VOC xml file: the image size and ``(name, box)`` per object."""

    size: tuple[int, int]
    objects: tuple[tuple[str, Box], ...]


def read_conll(path: str | Path) -> Iterator[_RawPost]:
    """Yield the posts of one CoNLL file with ``IMGID:`` lines, checking its structure."""
    path = Path(path)
    post: _RawPost | None = None
    for lineno, line in read_lines(path, "CoNLL"):
        if line.startswith("IMGID:"):
            if post is not None and post.tokens:
                yield post
            elif post is not None:
                raise DataFormatError(f"post {post.id!r} has no tokens", file=path, line=post.line)
            image_id = line[len("IMGID:") :].strip()
            if not image_id:
                raise DataFormatError("empty image id after 'IMGID:'", file=path, line=lineno)
            if (
                image_id in (".", "..")
                or len(image_id.encode()) > 200
                or any(c in "/\\" or ord(c) < 32 for c in image_id)
            ):
                raise DataFormatError(
                    f"image id {image_id[:60]!r} cannot name a file (expected e.g. 797970 or O_2371)",
                    file=path,
                    line=lineno,
                )
            post = _RawPost(image_id, lineno, [], [])
        elif not line.strip():
            if post is not None and post.tokens:
                yield post
                post = None
        else:
            if post is None:
                raise DataFormatError(
                    f"token line before any 'IMGID:' line: {line[:60]!r}", file=path, line=lineno
                )
            token, sep, tag = line.rpartition("\t")
            if not sep or not token:
                raise DataFormatError(f"expected 'token<TAB>tag', got {line[:60]!r}", file=path, line=lineno)
            post.tokens.append(token)
            post.tags.append(tag.strip())
    if post is not None:
        if not post.tokens:
            raise DataFormatError(f"post {post.id!r} has no tokens", file=path, line=post.line)
        yield post


def bio_spans(
    tags: list[str], types: tuple[str, ...] | None, *, file: Path, first_line: int
) -> tuple[list[tuple[int, int, str]], list[int]]:
    """``(start, end, type)`` of each entity of a BIO tag sequence, and the lines of the ``I-X``
    tags that began an entity (conlleval's reading); an unknown tag or type raises."""
    spans: list[tuple[int, int, str]] = []
    repaired: list[int] = []
    current: tuple[int, str] | None = None
    for i, tag in enumerate([*tags, "O"]):
        line = first_line + 1 + i
        if tag == "O" or tag.startswith(("B-", "I-")):
            etype = _tag_type(tag, types, file, line) if tag != "O" else None
            continues = tag.startswith("I-") and current is not None and current[1] == etype
            if current is not None and not continues:
                spans.append((current[0], i, current[1]))
                current = None
            if etype is not None and not continues:
                if tag.startswith("I-"):
                    repaired.append(line)
                current = (i, etype)
        else:
            raise DataFormatError(
                f"unknown tag {tag!r} (expected O, B-<type> or I-<type>)", file=file, line=line
            )
    return spans, repaired


def _tag_type(tag: str, types: tuple[str, ...] | None, file: Path, line: int) -> str:
    etype = tag[2:]
    if not etype or (types is not None and etype not in types):
        raise DataFormatError(
            f"unknown entity type in tag {tag!r}; expected one of {list(types or [])}", file=file, line=line
        )
    return etype


_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

_CUT_SHORT = {
    expat.errors.codes[e] for e in (expat.errors.XML_ERROR_NO_ELEMENTS, expat.errors.XML_ERROR_UNCLOSED_TOKEN)
}


def _parse_xml(path: Path) -> tuple[ET.Element, dict[ET.Element, int]]:
    """The root element of an xml file, and the line each element starts on."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataFormatError(f"cannot read xml: {err.strerror}", file=path) from None
    if not data.strip():
        raise DataFormatError("empty xml file; expected a Pascal-VOC <annotation>", file=path, line=1)
    builder, lines = ET.TreeBuilder(), {}
    parser = expat.ParserCreate()

    def start(tag: str, attributes: dict[str, str]) -> None:
        lines[builder.start(tag, attributes)] = parser.CurrentLineNumber

    parser.StartElementHandler, parser.EndElementHandler = start, builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        declared = _XML_ENCODING.match(data)
        if not data.startswith((b"\xff\xfe", b"\xfe\xff")) and (
            declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")
        ):
            decode_utf8(data, path)  # bytes that are not UTF-8: say which, and where
        problem = f"unreadable xml: {err}"
        if err.code in _CUT_SHORT and err.lineno > data.rstrip().count(b"\n"):  # on the last line
            problem += " (the file ends before the xml does: cut short?)"
        raise DataFormatError(problem, file=path, line=err.lineno) from None
    return builder.close(), lines


def read_voc_xml(path: str | Path) -> VocAnnotation:
    """Parse a Pascal-VOC xml file; boxes must lie inside the image and have positive area.
    Errors name the file and the line of the element at fault."""
    path = Path(path)
    root, lines = _parse_xml(path)

    def number(node: ET.Element | None, tag: str, what: str, line: int | None) -> float:
        child = None if node is None else node.find(tag)
        if child is None or child.text is None or not child.text.strip():
            where = lines.get(node, line)  # the parent's line, or the caller's when there is no parent
            raise DataFormatError(f"{what} has no <{tag}> (expected a number)", file=path, line=where)
        try:
            value = float(child.text.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise DataFormatError(
                f"{what}: <{tag}> is not a finite number: {child.text.strip()[:40]!r}",
                file=path,
                line=lines.get(child),
            )
        return value

    size_node = root.find("size")
    root_line = lines.get(root)
    width = number(size_node, "width", "<size>", root_line)
    height = number(size_node, "height", "<size>", root_line)
    if width <= 0 or height <= 0:
        raise DataFormatError(
            f"image size {width:g}x{height:g} is not positive", file=path, line=lines.get(size_node)
        )
    objects = []
    for k, obj in enumerate(root.iter("object"), start=1):
        name_node = obj.find("name")
        if name_node is None or not (name_node.text or "").strip():
            raise DataFormatError(f"<object> #{k} has no <name>", file=path, line=lines.get(obj))
        name = " ".join(name_node.text.split())
        what = f"<object> #{k} ({name!r})"
        bb = obj.find("bndbox")
        box = tuple(number(bb, t, what, lines.get(obj)) for t in ("xmin", "ymin", "xmax", "ymax"))
        x1, y1, x2, y2 = box
        if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
            raise DataFormatError(
                f"{what}: box {list(box)} is outside the {width:g}x{height:g} image or has no area",
                file=path,
                line=lines.get(bb),
            )
        objects.append((name, box))
    return VocAnnotation((int(width), int(height)), tuple(objects))


def find_image(images_dir: str | Path, image_id: str) -> Path | None:
    for ext in IMAGE_EXTENSIONS:
        candidate = Path(images_dir) / f"{image_id}{ext}"
        if candidate.is_file():
            return candidate
    return None


def load_twitter_gmner(
    root: str | Path,
    split: str,
    *,
    images: str | Path | None = None,
    require_images: bool = False,
    types: tuple[str, ...] | None = GMNER_TYPES,
) -> list[Record]:
    """Load one split of a Twitter-GMNER release into :class:`Record` objects.

    Args:
        root: the release root, holding ``txt/`` and ``xml/``.
        split: ``train``, ``dev`` or ``test``.
        images: the folder of ``<id>.jpg`` images (the release ships them separately).
        require_images: raise when an image is missing instead of leaving ``images`` empty.
        types: allowed entity types (None accepts any, e.g. Twitter-FMNERG's fine types).
    """
    root = Path(root)
    txt = root / "txt" / f"{split}.txt"
    if not txt.is_file():
        raise DataFormatError(
            f"no such split file (expected {root}/txt/{{{','.join(SPLITS)}}}.txt)", file=txt
        )
    if require_images and images is None:
        raise ValueError("require_images=True needs the images folder")
    records, seen = [], {}
    for post in read_conll(txt):
        if post.id in seen:
            raise DataFormatError(
                f"image id {post.id!r} repeats the post at line {seen[post.id]}", file=txt, line=post.line
            )
        seen[post.id] = post.line
        records.append(_to_record(post, txt, root, images, require_images, types))
    if not records:
        raise DataFormatError(
            "no posts: the file is empty (expected 'IMGID:<id>' lines, each followed by "
            "'token<TAB>tag' lines)",
            file=txt,
        )
    repaired = [line for r in records for line in r.extra["repaired_tags"]]
    if repaired:
        shown = ", ".join(map(str, repaired[:10])) + (
            f" and {len(repaired) - 10} more" if len(repaired) > 10 else ""
        )
        logger.warning(
            "%s: %d I- tag(s) that continue no entity were read as starting one (conlleval's reading), "
            "at line(s) %s",
            txt,
            len(repaired),
            shown,
        )
    return records


def _to_record(
    post: _RawPost,
    txt: Path,
    root: Path,
    images: str | Path | None,
    require_images: bool,
    types: tuple[str, ...] | None,
) -> Record:
    spans, repaired = bio_spans(post.tags, types, file=txt, first_line=post.line)
    xml_path = root / "xml" / f"{post.id}.xml"
    voc = read_voc_xml(xml_path) if xml_path.is_file() else None
    boxes_by_name: dict[str, list[Box]] = {}
    for name, box in voc.objects if voc else ():
        boxes_by_name.setdefault(name, []).append(box)
    entities = []
    for start, end, etype in spans:
        text = " ".join(post.tokens[start:end])
        entities.append(Entity(text, etype, start, end, tuple(boxes_by_name.get(text, ()))))
    unmatched = set(boxes_by_name) - {e.text for e in entities}
    if unmatched:
        # Kept visible rather than dropped silently; `mcr data stats` counts them too.
        logger.warning(
            "%s: boxes named %s match no entity of post %r (%s:%d)",
            xml_path,
            sorted(unmatched),
            post.id,
            txt,
            post.line,
        )
    image_paths: tuple[str, ...] = ()
    if images is not None:
        found = find_image(images, post.id)
        if found is not None:
            image_paths = (str(found),)
        elif require_images:
            raise DataFormatError(
                f"image not found: {Path(images) / (post.id + '.jpg')}",
                file=txt,
                line=post.line,
                record=post.id,
            )
    return Record(
        id=post.id,
        tokens=tuple(post.tokens),
        entities=tuple(entities),
        images=image_paths,
        image_size=voc.size if voc else None,
        source=f"{txt}:{post.line}",
        extra={"unmatched_boxes": sum(len(boxes_by_name[n]) for n in unmatched), "repaired_tags": repaired},
    )


def check_images(records: list[Record], images: str | Path) -> None:
    """Raise, naming every missing one (up to 10), unless each record has its image in ``images``."""
    missing = [r for r in records if not r.images]
    if missing:
        shown = ", ".join(f"{r.id} ({r.source})" for r in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise DataFormatError(
            f"{len(missing)} of {len(records)} images are missing from {images}: {shown}{more}"
        )


def gmner_stats(records: list[Record]) -> dict:
    """Counts in the form of the release's published split sizes."""
    types = Counter(e.type for r in records for e in r.entities)
    return {
        "tweets": len(records),
        "entities": sum(len(r.entities) for r in records),
        "groundable": sum(e.groundable for r in records for e in r.entities),
        "boxes": sum(len(e.boxes) for r in records for e in r.entities),
        "types": dict(sorted(types.items())),
        "unmatched_boxes": sum(r.extra.get("unmatched_boxes", 0) for r in records),
        "repaired_tags": sum(len(r.extra.get("repaired_tags", ())) for r in records),
    }

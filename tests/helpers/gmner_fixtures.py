"""Writers of small Twitter-GMNER releases in the official format, for loader tests."""

from __future__ import annotations

from pathlib import Path

from PIL import Image


def voc(width: int, height: int, objects: list[tuple[str, tuple[int, int, int, int]]]) -> str:
    body = "".join(
        f"<object><name>{name}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
        f"<bndbox><xmin>{x1}</xmin><ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>\n"
        for name, (x1, y1, x2, y2) in objects
    )
    return (
        f"<annotation>\n<folder>twitter</folder>\n<size><width>{width}</width><height>{height}</height>"
        f"<depth>3</depth></size>\n<segmented>0</segmented>\n{body}</annotation>\n"
    )


def write_release(
    root: Path,
    splits: dict[str, str],
    xmls: dict[str, str] | None = None,
    images: dict[str, tuple[int, int]] | None = None,
) -> Path:
    """``splits``: split -> raw CoNLL text; ``xmls``: image id -> xml text; ``images``: id -> size."""
    (root / "txt").mkdir(parents=True, exist_ok=True)
    (root / "xml").mkdir(parents=True, exist_ok=True)
    for split, text in splits.items():
        (root / "txt" / f"{split}.txt").write_text(text, encoding="utf-8")
    for image_id, xml in (xmls or {}).items():
        (root / "xml" / f"{image_id}.xml").write_text(xml, encoding="utf-8")
    if images:
        (root / "images").mkdir(exist_ok=True)
        for image_id, size in images.items():
            Image.new("RGB", size, (128, 128, 128)).save(root / "images" / f"{image_id}.jpg")
    return root


# Tricky but valid: URL, '#', '@', emoji, ids like O_2371 and 16_05_01_127, an entity with
# two boxes, an entity with none, a post without xml, and CRLF-free UTF-8.
OFFICIAL_TRAIN = (
    "IMGID:797970\n"
    "RT\tO\n@NBA\tO\n:\tO\nKevin\tB-PER\nDurant\tI-PER\nand\tO\nthe\tO\nWarriors\tB-ORG\nin\tO\n"
    "Oakland\tB-LOC\n#NBAFinals\tO\n🔥\tO\nhttp://t.co/AbC123\tO\n"
    "\n"
    "IMGID:O_2371\n"
    "Obama\tB-PER\nvisits\tO\nNew\tB-LOC\nYork\tI-LOC\nCity\tI-LOC\n😂\tO\n"
    "\n"
    "IMGID:16_05_01_127\n"
    "Happy\tO\nbirthday\tO\nTaylor\tB-PER\nSwift\tI-PER\n!\tO\n#Grammys\tB-OTHER\n"
    "\n"
)
OFFICIAL_XMLS = {
    "797970": voc(
        500,
        375,
        [
            ("Kevin Durant", (10, 20, 110, 220)),
            ("Kevin Durant", (300, 40, 380, 200)),
            ("Warriors", (150, 100, 290, 300)),
        ],
    ),
    "O_2371": voc(640, 480, [("Obama", (0, 0, 640, 480))]),
}

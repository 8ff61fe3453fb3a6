"""Samples per second of the evaluation's batched generation against one sample at a time.

Both run the same prompts (synthetic GMNER test posts with their images) through
``mcr.eval.generate.generate`` on the tiny model, greedy, a fixed number of new tokens;
batch 1 and batch N alternate so that both see the same machine state. Target: >= 3x at
batch 16.

    python bench/eval_throughput.py [--n 32] [--batch 16] [--max-new-tokens 64] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from PIL import Image


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=32, help="prompts per pass")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from transformers import AutoModelForImageTextToText

    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.rows import rows as gmner_rows
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner
    from mcr.eval.generate import generate
    from mcr.image_space import ImageSpace
    from mcr.models import load_processor
    from mcr.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_model(Path(tmp) / "model", seed=0)
        data = write_synthetic_gmner(Path(tmp) / "data", n=max(30, args.n * 10), seed=0, progress=False)
        records = load_twitter_gmner(data, "train", images=data / "images")[: args.n]
        rows = list(gmner_rows(records, ImageSpace(3136, 50176)))
        for row in rows:
            with Image.open(row["image"]) as image:
                row["image"] = image.convert("RGB")
        processor = load_processor(str(model_dir), min_pixels=3136, max_pixels=50176)
        model = AutoModelForImageTextToText.from_pretrained(model_dir).eval()
        # the untrained model rarely stops early, so both settings generate the same token count
        model.generation_config.eos_token_id = None

        def run(batch_size: int) -> float:
            start = time.perf_counter()
            generate(
                model,
                processor,
                rows,
                batch_size=batch_size,
                max_new_tokens=args.max_new_tokens,
                desc=f"batch {batch_size}",
            )
            return len(rows) / (time.perf_counter() - start)

        single, batched = [], []
        for _ in range(args.repeats):
            single.append(run(1))
            batched.append(run(args.batch))
    one, many = statistics.median(single), statistics.median(batched)
    print(f"\n{args.n} prompts, {args.max_new_tokens} new tokens each, tiny model, median of {args.repeats}:")
    print(f"  one at a time     {one:8.2f} samples/s")
    print(f"  batch {args.batch:<3}         {many:8.2f} samples/s")
    print(f"  ratio             {many / one:8.2f}x   (target >= 3x at batch 16)")


if __name__ == "__main__":
    main()

"""The tasks MCR trains and evaluates on, each with the same few operations.

A task knows how to load a split, turn examples into GRPO rows (conversational prompt, image,
``gold`` column, ``text`` column), render an MRSI SFT example in a style, and score raw model
outputs by its benchmark's official rule. The entry points (``train_sft.py``,
``train_grpo.py``, ``eval/evaluate.py``) stay task-agnostic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from mcr.config import Recipe
from mcr.data.grpo_dataset import grpo_rows, image_sizes, user_prompt
from mcr.data.mate import MateInstance, load_mate_split
from mcr.data.schema import Record
from mcr.rewards.format import format_score


class Task(Protocol):
    name: str
    data_format: str
    default_split: str

    def load(self, recipe: Recipe, split: str) -> list: ...

    def rows(self, recipe: Recipe, examples: Sequence) -> list[dict]: ...

    def sft_example(self, recipe: Recipe, example: Any, style: str) -> dict: ...

    def score(self, examples: Sequence, rows: Sequence[dict], completions: Sequence[str]) -> dict: ...

    def format_score(self, completion: str) -> float: ...

    def headline(self, metrics: dict) -> dict[str, float]: ...


class GmnerTask:
    name = "gmner"
    data_format = "twitter-gmner"
    default_split = "test"

    def load(self, recipe: Recipe, split: str) -> list[Record]:
        from mcr.data.twitter_gmner import check_images, load_twitter_gmner

        records = load_twitter_gmner(recipe.data.root, split, images=recipe.images_dir)
        check_images(records, recipe.images_dir)
        return records

    def rows(self, recipe: Recipe, examples: Sequence[Record]) -> list[dict]:
        return list(
            grpo_rows(
                examples,
                task=self.name,
                min_pixels=recipe.model.min_pixels,
                max_pixels=recipe.model.max_pixels,
            )
        )

    def sft_example(self, recipe: Recipe, example: Record, style: str) -> dict:
        from mcr.mrsi import gmner_sft_example

        return gmner_sft_example(
            example,
            style,
            task=self.name,
            min_pixels=recipe.model.min_pixels,
            max_pixels=recipe.model.max_pixels,
        )

    def score(self, examples: Sequence[Record], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        from mcr.eval.gmner import prediction_from_text, score_gmner

        predictions = {
            row["id"]: prediction_from_text(text, tuple(row["image_size"]), tuple(row["input_size"]))
            for row, text in zip(rows, completions, strict=True)
        }
        return score_gmner(examples, predictions)

    def format_score(self, completion: str) -> float:
        return format_score(completion, self.name)

    def headline(self, metrics: dict) -> dict[str, float]:
        return {
            "GMNER F1": metrics["gmner"]["f1"],
            "MNER F1": metrics["mner"]["f1"],
            "EEG F1": metrics["eeg"]["f1"],
        }


def _position(obj: dict) -> str:
    x, y = obj["3d_coords"][:2]
    return f"x = {x}, y = {y}"


class MateTask:
    name = "mate"
    data_format = "mate"
    default_split = "test"
    visual = ("color", "shape")

    def load(self, recipe: Recipe, split: str) -> list[MateInstance]:
        return load_mate_split(recipe.data.root, split, images=recipe.data.images)

    def rows(self, recipe: Recipe, examples: Sequence[MateInstance]) -> list[dict]:
        rows = []
        for inst in examples:
            size, input_size = image_sizes(
                inst.image, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
            )
            rows.append(
                {
                    "id": inst.id,
                    "prompt": user_prompt(self.name, scene=inst.scene, question=inst.question),
                    "image": inst.image,
                    "gold": json.dumps({"answer": inst.answer}),
                    "text": f"{inst.scene}\n{inst.question}",
                    "image_size": size,
                    "input_size": input_size,
                }
            )
        return rows

    def context(self, inst: MateInstance) -> dict[str, Any]:
        """What a MATE style may use: the question's pointer and target, where each lives, the
        answer, and — when the data carry it (the synthetic set) — the object itself."""
        obj = inst.gold_object
        modality = {True: "image", False: "scene description"}
        pointer_value = obj[inst.pointer_attribute] if obj else "the value the question gives"
        described = None
        if obj:
            described = {
                **obj,
                "position": _position(obj),
                "size_word": "small" if obj["size"] < 0.5 else "large",
            }
        return {
            "question": inst.question,
            "pointer": inst.pointer_attribute.replace("3d_coords", "3D coordinates"),
            "pointer_value": pointer_value,
            "pointer_modality": modality[inst.pointer_attribute in self.visual],
            "target": inst.target_attribute.replace("3d_coords", "3D coordinates"),
            "target_modality": modality[inst.target_attribute in self.visual],
            "answer": inst.answer,
            "obj": described,
        }

    def sft_example(self, recipe: Recipe, example: MateInstance, style: str) -> dict:
        from mcr.mrsi import render_completion, render_style

        (row,) = self.rows(recipe, [example])
        completion = render_completion(
            render_style(self.name, style, **self.context(example)), {"answer": example.answer}
        )
        return {
            "id": row["id"],
            "style": style,
            "prompt": row["prompt"],
            "completion": [{"role": "assistant", "content": completion}],
            "image": row["image"],
            "gold": row["gold"],
            "text": row["text"],
        }

    def score(
        self, examples: Sequence[MateInstance], rows: Sequence[dict], completions: Sequence[str]
    ) -> dict:
        from mcr.eval.mate import score_mate

        return score_mate(examples, {row["id"]: text for row, text in zip(rows, completions, strict=True)})

    def format_score(self, completion: str) -> float:
        return format_score(completion, self.name)

    def headline(self, metrics: dict) -> dict[str, float]:
        return {"accuracy": metrics["accuracy"]}


TASKS: dict[str, Task] = {"gmner": GmnerTask(), "mate": MateTask()}


def get_task(recipe: Recipe) -> Task:
    if recipe.task not in TASKS:
        raise ValueError(f"unknown task {recipe.task!r}; expected one of {sorted(TASKS)}")
    task = TASKS[recipe.task]
    if recipe.data.format != task.data_format:
        raise ValueError(
            f"task {task.name!r} reads data.format {task.data_format!r}, not {recipe.data.format!r}"
        )
    return task

"""bench/binding.py: each task's answer is what its list says, the loop trains the answer's first
token, and a model learns the control (an answer in the question) where it learns anything."""

from __future__ import annotations

import json
import random
import re

import pytest

from mcr.benchmarks.gmner.synthetic import COLORS, SHAPES
from mcr.pretrain.corpus import NO, YES

from helpers.runs import load_bench

LIST = re.compile(r"Objects: (.*)\. (Do you see|Which colour is) (?:the )?(.*)\?$")


def parse(prompt: str) -> tuple[list[tuple[str, str]], str]:
    found = LIST.match(prompt)
    assert found, prompt
    looks = [tuple(look.split(" ")) for look in found.group(1).split("; ")]
    return looks, found.group(3)


@pytest.mark.parametrize("task", ["member", "exists", "crossed", "recall", "control"])
def test_every_answer_follows_from_the_list_and_both_answers_are_common(task):
    bench = load_bench("binding")
    rng, answers, near_misses = random.Random(0), [], 0
    for _ in range(400):
        prompt, answer = bench.question(rng, task)
        looks, asked = parse(prompt)
        assert 1 <= len(looks) <= 4 and len(set(looks)) == len(looks)
        if task == "member":
            assert asked in COLORS and answer == (YES if asked in {c for c, _ in looks} else NO)
        elif task == "exists":
            color, shape = asked.split(" ")
            assert answer == (YES if (color, shape) in looks else NO)
            near_misses += answer == NO and any(color == c or shape == s for c, s in looks)
        elif task == "crossed":  # every absent look is a listed colour with a listed shape
            color, shape = asked.split(" ")
            assert answer == (YES if (color, shape) in looks else NO)
            if answer == NO:
                assert color in {c for c, _ in looks} and shape in {s for _, s in looks}
        elif task == "recall":
            assert asked in SHAPES and len({s for _, s in looks}) == len(looks)  # shapes distinct
            assert (answer, asked) in looks
        else:
            assert answer == (YES if asked in bench.CONTROL_YES else NO)
        answers.append(answer)
    counts = {a: answers.count(a) for a in set(answers)}
    if task != "recall":
        assert set(counts) == {YES, NO} and min(counts.values()) > 120
    else:
        assert len(counts) >= 6  # most colours are answers
    if task == "exists":
        assert near_misses > 50  # absent looks that share a colour or a shape with a listed one


def test_the_same_seed_draws_the_same_questions_and_unknown_names_fail_clearly():
    bench = load_bench("binding")
    draw = [bench.question(random.Random(3), "exists") for _ in range(2)]
    assert draw[0] == draw[1]
    with pytest.raises(ValueError, match="unknown task 'where'"):
        bench.question(random.Random(0), "where")
    with pytest.raises(ValueError, match="unknown init 'bert'"):
        bench.build_model("bert", 0, None)


def test_the_loop_trains_the_answers_first_token_and_learns_the_control(tmp_path):
    """The control's answer is in the question: the shipped base learns it within 300 steps, and the
    encoded batch points at each prompt's last token and each answer's first."""
    bench = load_bench("binding")
    model, tokenizer = bench.build_model("base", 0, tmp_path)
    ids, mask, (rows, last), answers, images, of_answers = bench.encode(
        tokenizer, [("Objects: red circle. Do you see red?", YES), ("Do?", NO)]
    )
    assert images == {}  # words only: no pixels for the model
    assert of_answers.all()  # no steps: every trained token is an answer's
    assert rows.tolist() == [0, 1]
    assert int(mask[1].sum()) == int(last[1]) + 1 and int(last[0]) == int(mask[0].sum()) - 1
    assert ids[1, int(last[1]) + 1 :].eq(tokenizer.pad_token_id).all()
    assert answers.tolist() == [tokenizer(" yes")["input_ids"][0], tokenizer(" no")["input_ids"][0]]
    curve = bench.train(
        model, tokenizer, lambda rng: bench.question(rng, "control"),
        steps=300, batch=16, lr=1e-3, seed=0, every=150, held_out=64,
        also={"crossed": lambda rng: bench.question(rng, "crossed")},
    )  # fmt: skip
    assert [p["step"] for p in curve] == [150, 300]
    assert all(0.0 <= p["crossed"] <= 1.0 for p in curve)  # measured beside, never trained
    assert curve[-1]["accuracy"] >= 0.95 and curve[-1]["loss"] < 0.2
    row = bench.table([{"task": "control", "init": "base", "seed": 0, "curve": curve}]).splitlines()[-1]
    assert row.startswith("| control | base | 0 |") and "(crossed " in row


def test_a_run_with_a_first_task_trains_every_seed_and_labels_its_start(tmp_path):
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "exists", "--inits", "base", "--seeds", "0", "1", "--steps", "10", "--every", "5",
         "--first", "member", "--first-steps", "5", "--threads", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert [(r["init"], r["seed"]) for r in results] == [("base, 5 steps of member first", s) for s in (0, 1)]
    assert all([p["step"] for p in r["curve"]] == [5, 10] and "crossed" in r["curve"][0] for r in results)


def test_exists_rarely_asks_a_crossed_look_so_finding_the_words_anywhere_nearly_always_works():
    """Of the absent looks ``exists`` asks about, about one in ten is a listed colour with a listed
    shape: the rest are answered by finding either word missing, which ``crossed`` rules out."""
    bench = load_bench("binding")
    absent = crossed = 0
    for i in range(2000):
        prompt, answer = bench.question(random.Random(i), "exists")
        looks, asked = parse(prompt)
        color, shape = asked.split(" ")
        if answer == NO:
            absent += 1
            crossed += color in {c for c, _ in looks} and shape in {s for _, s in looks}
    assert 0.05 < crossed / absent < 0.15


def test_spec_changes_the_fresh_inits_and_names_the_run(tmp_path):
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "crossed", "--inits", "random", "--steps", "4", "--every", "2", "--threads", "1",
         "--spec", "final_norm_gain=1", "previous_token_attention=8", "--out", str(tmp_path)]
    )  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results[0]["init"] == "random final_norm_gain=1 previous_token_attention=8"
    assert "exists" in results[0]["curve"][0]  # measured beside crossed
    model, _ = bench.build_model("random", 0, tmp_path / "again", {"final_norm_gain": 1.0})
    assert model.model.language_model.norm.weight.detach().max().item() == 1.0
    with pytest.raises(SystemExit, match="'depth=2': expected FIELD=VALUE"):
        bench.parse_spec(["depth=2"])
    with pytest.raises(SystemExit, match="rotary_frequencies is not a number"):
        bench.parse_spec(["rotary_frequencies=1"])
    with pytest.raises(ValueError, match="--spec changes the fresh inits"):
        bench.build_model("base", 0, tmp_path, {"final_norm_gain": 1.0})


def test_one_token_looks_ask_the_same_questions_with_each_look_one_token():
    """--one-token: the same draw, every "<colour> <shape>" written as its own word, each word one
    token of the base's tokenizer and no two looks alike."""
    from transformers import AutoTokenizer

    from mcr.shipped import resolve_model_path

    bench = load_bench("binding")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("mcr:tiny-base"))
    words = list(bench.LOOK_WORDS.values())
    assert len(set(words)) == len(bench.LOOKS) == len(words)
    assert all(len(tokenizer(" " + word)["input_ids"]) == 1 for word in words)
    for i in range(200):
        prompt, answer = bench.question(random.Random(i), "exists_crossed")
        written, same = bench.question(random.Random(i), "exists_crossed", one_token=True)
        looks, asked = parse(prompt)
        listed = "; ".join(bench.LOOK_WORDS[look] for look in looks)
        assert same == answer
        assert written == f"Objects: {listed}. Do you see the {bench.LOOK_WORDS[tuple(asked.split(' '))]}?"


def test_a_first_task_can_be_asked_with_one_token_looks_before_the_two_token_task(tmp_path, monkeypatch):
    """--first-one-token: the first stage's questions have one-token looks, the run's own do not."""
    bench = load_bench("binding")
    stages = []
    train = bench.train

    def recording(model, tokenizer, draw, **kwargs):
        prompt, _ = draw(random.Random(0))
        stages.append(any(color in prompt for color in COLORS))  # looks written as words
        return train(model, tokenizer, draw, **kwargs)

    monkeypatch.setattr(bench, "train", recording)
    bench.main(
        ["--tasks", "exists_crossed", "--inits", "base", "--steps", "2", "--every", "2", "--threads", "1",
         "--first", "exists_crossed", "--first-steps", "2", "--first-one-token", "--out", str(tmp_path)]
    )  # fmt: skip
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert results[0]["init"] == "base, 2 steps of exists_crossed (one-token looks) first"
    assert stages == [False, True]  # one-token looks first, then colours and shapes


def test_repeat_trains_each_shape_of_the_repeat_read_at_its_colour():
    """The dense task: every trained token is the shape listed after the colour it is read at
    (colours distinct, so the pair decides it), and nothing else is trained."""
    from transformers import AutoTokenizer

    from mcr.shipped import resolve_model_path

    bench = load_bench("binding")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("mcr:tiny-base"))
    examples = [bench.draw_example(random.Random(i), "repeat") for i in range(50)]
    batch = bench.encode(tokenizer, examples)
    ids, (rows, positions), targets = batch.ids, batch.read, batch.targets
    assert batch.answers.all()  # every shape of the repeat is an answer: no steps
    trained_per_row = [0] * len(examples)
    for row, position, target in zip(rows.tolist(), positions.tolist(), targets.tolist(), strict=True):
        text = "".join(t for t, _ in examples[row])
        listed = dict(tuple(look.split(" ")) for look in text[9:].split(".")[0].split("; "))
        color = tokenizer.decode([int(ids[row, position])]).strip()
        assert int(ids[row, position + 1]) == target  # the loss reads the next token
        assert tokenizer.decode([target]).strip() == listed[color]
        trained_per_row[row] += 1
    for example, trained in zip(examples, trained_per_row, strict=True):
        listed = "".join(t for t, _ in example)[9:].split(".")[0].split("; ")
        assert 2 <= len({look.split(" ")[0] for look in listed}) == len(listed) <= 4  # colours distinct
        assert trained == 4  # a shape for each of the four colours asked again
    with pytest.raises(ValueError, match="no one-token form"):
        bench.draw_example(random.Random(0), "repeat", one_token=True)


def test_mix_draws_half_the_examples_from_its_task_and_measures_it_beside(tmp_path):
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "exists", "--inits", "base", "--steps", "4", "--every", "2", "--mix", "repeat",
         "--threads", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    (result,) = json.loads((tmp_path / "results.json").read_text())["results"]
    assert result["init"] == "base, half the examples repeat"
    assert all({"crossed", "repeat"} <= set(p) for p in result["curve"])
    row = bench.table([result]).splitlines()[-1]
    assert "(repeat " in row and "(crossed " in row


def drawn_looks(image) -> set[tuple[str, str]]:
    """The (colour, shape) of each object of a ``seen_`` image, read from the pixels of each of its
    four 56-pixel cells: how much of the object's box it fills (square 1, circle 0.79, triangle
    and diamond 0.5) and, for those two, whether its bottom row is filled (a triangle's base) or a
    point (a diamond's)."""
    import numpy as np

    pixels = np.asarray(image).astype(int)
    looks = set()
    for top, left in ((0, 0), (0, 56), (56, 0), (56, 56)):
        cell = pixels[top : top + 56, left : left + 56]
        for color, rgb in COLORS.items():
            ys, xs = (np.abs(cell - np.array(rgb)).sum(-1) == 0).nonzero()
            if not len(ys):
                continue
            filled = len(ys) / ((ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1))
            pointed = "triangle" if (ys == ys.max()).sum() > 0.5 * (xs.max() - xs.min() + 1) else "diamond"
            looks.add((color, "square" if filled > 0.9 else "circle" if filled > 0.7 else pointed))
    return looks


def test_seen_questions_are_answered_by_the_image_and_crossed_looks_join_two_drawn_words():
    """Each ``seen_`` image draws its looks on the bench's 2x2-cell grid; "yes" exactly when the
    named look is drawn, and every crossed "no" names a drawn colour and a drawn shape."""
    bench = load_bench("binding")
    answers = {"seen_exists": [], "seen_crossed": []}
    for task in answers:
        for i in range(120):
            example = bench.draw_example(random.Random(i), task)
            assert example.image.size == (112, 112)
            drawn = drawn_looks(example.image)
            assert 1 <= len(drawn) <= 4
            color, shape = re.fullmatch(r"Do you see the (\w+) (\w+)\?", example.example[0]).groups()
            assert example.example[1] == (YES if (color, shape) in drawn else NO), (i, drawn, color, shape)
            if task == "seen_crossed" and example.example[1] == NO:
                assert color in {c for c, _ in drawn} and shape in {s for _, s in drawn}
            answers[task].append(example.example[1])
    for task, said in answers.items():
        assert 0.35 < said.count(YES) / len(said) < 0.7, task


def test_seen_repeat_trains_the_shape_drawn_in_each_colour_after_the_images_tokens():
    """The dense task about an image: its 16 visual tokens come first, and every trained token is
    the shape the image draws in the colour it is read at."""
    from transformers import AutoTokenizer

    from mcr.shipped import resolve_model_path

    bench = load_bench("binding")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("mcr:tiny-base"))
    examples = [bench.draw_example(random.Random(i), "seen_repeat") for i in range(20)]
    batch = bench.encode(tokenizer, [*examples, ("Objects: red circle. Do you see red?", YES)])
    start, pad, end = tokenizer.convert_tokens_to_ids(bench.VISION_TOKENS)
    assert batch.images["image_grid_thw"].tolist() == [[1, 8, 8]] * 20  # 64 patches, 16 tokens each
    assert batch.images["pixel_values"].shape[0] == 20 * 64
    for row in range(20):
        assert batch.ids[row, :18].tolist() == [start, *[pad] * 16, end]
    assert batch.ids[20, :18].ne(pad).all()  # the words-only row has no visual tokens
    rows, positions = batch.read
    trained = [0] * 21
    for row, position, target in zip(rows.tolist(), positions.tolist(), batch.targets.tolist(), strict=True):
        color = tokenizer.decode([int(batch.ids[row, position])]).strip()
        if row < 20:
            assert tokenizer.decode([target]).strip() == dict(drawn_looks(examples[row].image))[color]
        trained[row] += 1
    assert trained == [4] * 20 + [1]
    with pytest.raises(ValueError, match="no one-token form"):
        bench.draw_example(random.Random(0), "seen_repeat", one_token=True)
    with pytest.raises(ValueError, match="do not fit the 4 cells of a seen_ image"):
        [bench.draw_example(random.Random(i), "seen_repeat", max_objects=6) for i in range(20)]


def test_first_tasks_train_in_turn_before_a_seen_task_and_words_only_models_are_refused(tmp_path, capsys):
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "seen_exists_crossed", "--inits", "base", "--steps", "2", "--every", "2", "--batch", "4",
         "--first", "repeat", "seen_repeat", "--first-steps", "2", "3", "--threads", "1",
         "--out", str(tmp_path)]
    )  # fmt: skip
    (result,) = json.loads((tmp_path / "results.json").read_text())["results"]
    assert result["init"] == "base, 2 steps of repeat then 3 steps of seen_repeat first"
    first = [(f["task"], f["curve"][-1]["step"]) for f in result["first"]]
    assert first == [("repeat", 2), ("seen_repeat", 3)]
    assert {"seen_exists", "seen_crossed"} <= set(result["curve"][-1])
    with pytest.raises(SystemExit):
        bench.main(["--tasks", "seen_crossed", "--inits", "gpt2", "--out", str(tmp_path)])
    assert "seen_crossed ask about images; gpt2 read words only" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.main(["--tasks", "exists", "--first", "repeat", "member", "--first-steps", "1", "2", "3"])
    assert "one for each of the 2 --first tasks" in capsys.readouterr().err


def test_seen_checks_ask_four_looks_an_image_each_answered_by_the_image():
    """The dense yes / no task: four looks an image, "yes" exactly when drawn, a crossed look
    (a drawn colour with a drawn shape) among the "no"s, and only the answers trained."""
    bench = load_bench("binding")
    kinds = {"drawn": 0, "crossed": 0, "absent": 0}
    for i in range(100):
        example = bench.draw_example(random.Random(i), "seen_checks")
        drawn = drawn_looks(example.image)
        assert 2 <= len(drawn) <= 4
        segments = example.example[1:]
        assert [trained for _, trained in segments] == [False, True, False] * 4
        for (asked, _), (answer, _) in zip(segments[0::3], segments[1::3], strict=True):
            color, shape = asked.strip(" ?").split(" ")
            assert answer.strip() == (YES if (color, shape) in drawn else NO)
            crossed = color in {c for c, _ in drawn} and shape in {s for _, s in drawn}
            kinds["drawn" if (color, shape) in drawn else "crossed" if crossed else "absent"] += 1
    assert 160 < kinds["drawn"] < 240 and kinds["crossed"] > 70 and kinds["absent"] > 70, kinds


def test_a_fresh_model_of_any_seed_reads_the_base_tokenizers_image_tokens(tmp_path):
    """Each seed's fresh model is built with its own tokenizer; the bench feeds the base's, so the
    model must look for the base's image tokens (seed 1's own ids differ) and train on images."""
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "seen_repeat", "--inits", "mimetic", "--seeds", "1", "--steps", "1", "--every", "1",
         "--batch", "2", "--threads", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    model, tokenizer = bench.build_model("mimetic", 1, tmp_path / "again")
    assert model.config.image_token_id == tokenizer.convert_tokens_to_ids("<|image_pad|>")


def test_seen_reasoned_asks_the_checks_questions_each_after_recalling_the_named_colours_shapes():
    """The reasoned checks draw the same images and questions as ``seen_checks`` for a seed; each
    answer follows a STEP that names the shapes the image draws in the asked colour ("none" when
    it draws none), and the answer is that step's shape compared with the asked one."""
    bench = load_bench("binding")
    two_shapes = 0
    for i in range(100):
        checks = bench.draw_example(random.Random(i), "seen_checks")
        reasoned = bench.draw_example(random.Random(i), "seen_reasoned")
        assert checks.image.tobytes() == reasoned.image.tobytes()
        drawn = drawn_looks(reasoned.image)
        segments = reasoned.example[1:]
        roles = [trained for _, trained in segments]
        assert roles == [False, False, bench.STEP, False, True, False] * 4
        pairs = zip(checks.example[1::3], checks.example[2::3], strict=True)
        asked_checks = [(asked, answer) for (asked, _), (answer, _) in pairs]
        for j in range(4):
            asked, named, step, _, answer, _ = (text for text, _ in segments[6 * j : 6 * j + 6])
            assert (asked, answer) == asked_checks[j]
            color, shape = asked.strip(" ?").split(" ")
            assert named == f" {color} is"
            in_color = [s for s in SHAPES if (color, s) in drawn]
            assert step.strip() == (" and ".join(in_color) or "none")
            assert answer.strip() == (YES if shape in in_color else NO)
            two_shapes += len(in_color) > 1
    assert two_shapes > 0  # a colour drawn twice is recalled with both its shapes


class AnswersFromTheStep:
    """A stand-in model, to test how answers are read: after "is" it writes circle; after the
    step (at the comma) it says yes when the step just written is circle, else no; after yes's
    first token, its second. Every other prediction is token 0."""

    def __init__(self, tokenizer):
        self.after_is = {tokenizer(" is")["input_ids"][-1]: tokenizer(" circle")["input_ids"][0]}
        self.comma, self.circle = tokenizer(",")["input_ids"][0], tokenizer(" circle")["input_ids"][0]
        self.yes, self.no = tokenizer(" yes")["input_ids"], tokenizer(" no")["input_ids"][0]

    def __call__(self, input_ids, attention_mask, **images):
        from types import SimpleNamespace

        import torch

        predicted = torch.zeros_like(input_ids)
        for is_token, shape in self.after_is.items():
            predicted[input_ids == is_token] = shape
        before = torch.roll(input_ids, 1, dims=1)
        at_comma = input_ids == self.comma
        predicted[at_comma & (before == self.circle)] = self.yes[0]
        predicted[at_comma & (before != self.circle)] = self.no
        predicted[input_ids == self.yes[0]] = self.yes[1]
        logits = torch.nn.functional.one_hot(predicted, num_classes=int(input_ids.max()) + 2).float()
        return SimpleNamespace(logits=logits)


def test_written_answers_follow_the_models_own_steps_where_teacher_forcing_gives_it_the_gold():
    """Teacher-forced, an answer is read after the gold step; written, after the step the model
    wrote itself. A model that writes circle as a step's first token and decides from the step's
    last says yes, written, after every one-token step and no after "none" (two tokens: circle
    and token 0); teacher-forced, it says yes exactly where the gold step is circle. The STEP
    tokens are not counted among the answers."""
    from transformers import AutoTokenizer

    from mcr.shipped import resolve_model_path

    bench = load_bench("binding")
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path("mcr:tiny-base"))
    examples = [bench.draw_example(random.Random(i), "seen_reasoned") for i in range(60)]
    examples = [e for e in examples if not any(" and " in text for text, _ in e.example)][:20]
    batch = bench.encode(tokenizer, examples)
    steps = [text.strip() for e in examples for text, role in e.example if role == bench.STEP]
    answers = [text.strip() for e in examples for text, role in e.example if role is True]
    assert int((~batch.answers).sum()) == sum(len(tokenizer(f" {s}")["input_ids"]) for s in steps)
    yes = answers.count(YES)
    assert 0 < yes < len(answers)
    model = AnswersFromTheStep(tokenizer)
    tokens = 2 * yes + answers.count(NO)  # " yes" is two tokens, " no" one
    assert steps.count("none") > 0 and tokens > len(answers)
    written = 2 * yes + steps.count("none")  # yes after every drawn shape, no after "none"
    assert bench.written_accuracy(model, batch) == round(written / tokens, 3)
    # teacher-forced: yes's first token right when the gold step is circle, its second always; no
    # right when the gold step is not circle
    right = sum(
        (2 if step == "circle" else 1) if answer == YES else int(step != "circle")
        for step, answer in zip(steps, answers, strict=True)
    )
    logits = bench.answer_logits(model, batch).argmax(-1)
    forced = (logits[batch.answers] == batch.targets[batch.answers]).float().mean().item()
    assert round(forced, 3) == round(right / tokens, 3)
    assert round(forced, 3) != bench.written_accuracy(model, batch)


def test_reuse_first_keeps_the_model_after_its_first_tasks_and_starts_the_same_run_from_it(
    tmp_path, capsys, monkeypatch
):
    """A second run with the same first tasks and settings loads the kept model instead of
    training them again and gives the same curve; other first steps, or another numerical path,
    train (and keep) anew."""
    bench = load_bench("binding")
    run = ["--tasks", "exists", "--inits", "mimetic", "--steps", "4", "--every", "2", "--batch", "4",
           "--first", "repeat", "member", "--threads", "1", "--reuse-first",
           "--out", str(tmp_path)]  # fmt: skip
    curves = []
    for first_steps in (["3", "2"], ["3", "2"], ["3", "1"]):
        bench.main([*run, "--first-steps", *first_steps])
        (result,) = json.loads((tmp_path / "results.json").read_text())["results"]
        curves.append((result["curve"], result["first"], result["init"]))
    out = capsys.readouterr().out
    assert out.count("the model kept in") == 1 and out.count("-- first repeat, 3 steps") == 2
    assert [c["accuracy"] for c in curves[1][0]] == [c["accuracy"] for c in curves[0][0]]
    assert curves[1][1:] == curves[0][1:]
    assert curves[2][2] == "mimetic, 3 steps of repeat then 1 steps of member first"
    assert len(list((tmp_path / "first").iterdir())) == 2
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    bench.main([*run, "--first-steps", "3", "2"])
    assert "the model kept in" not in capsys.readouterr().out
    assert len(list((tmp_path / "first").iterdir())) == 3


@pytest.mark.parametrize("task", ["seen_checks_crossed", "seen_reasoned_crossed"])
def test_the_crossed_checks_ask_only_crossed_looks(task):
    """Measured beside the checks: every asked look joins a drawn colour with a drawn shape and is
    not drawn, so every answer is "no"; images without a crossed look are drawn again."""
    bench = load_bench("binding")
    for i in range(60):
        example = bench.draw_example(random.Random(i), task)
        drawn = drawn_looks(example.image)
        asked = [text for text, _ in example.example if text.endswith("?")]
        answers = [text.strip() for text, role in example.example if role is True]
        assert len(asked) == 4 and answers == [NO] * 4
        for look in asked:
            color, shape = look.strip(" ?").split(" ")
            assert (color, shape) not in drawn
            assert color in {c for c, _ in drawn} and shape in {s for _, s in drawn}


def test_a_reasoned_run_measures_its_steps_and_its_answers_as_generated(tmp_path):
    """The reasoned checks report the answers after gold steps, the steps themselves, the answers
    after the model's own steps, and the crossed looks alone as generated; the checks beside them
    report theirs as generated too."""
    bench = load_bench("binding")
    bench.main(
        ["--tasks", "seen_reasoned", "seen_checks", "--inits", "mimetic", "--steps", "1", "--every", "1",
         "--batch", "2", "--held-out", "6", "--threads", "1", "--out", str(tmp_path)]
    )  # fmt: skip
    reasoned, checks = json.loads((tmp_path / "results.json").read_text())["results"]
    assert {"accuracy", "steps", "written", "seen_reasoned_crossed"} <= set(reasoned["curve"][0])
    assert {"written", "seen_checks_crossed", "seen_crossed"} <= set(checks["curve"][0])
    assert "steps" not in checks["curve"][0]  # no step in the plain checks

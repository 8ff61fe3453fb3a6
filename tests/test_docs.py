"""The documentation quotes the project as it is.

For README.md and every docs/**/*.md, in code (fenced blocks and inline code):

* every ``bash launch.sh <mode>`` names a mode launch.sh handles, and its options are launch.sh's;
* every ``mcr <command> [<subcommand>] ... --flag`` names commands and flags the real ``mcr``
  parser accepts (``mcr.cli.build_parser``; ``mcr recipe`` and ``mcr ablation`` parse their own);
* every ``python <script>.py --flag`` of the repository names a flag the script declares;
* every repository path (``mcr/contract/parse.py``, ``recipes/tiny.yaml``, ``docs/...``) exists,
  and every ``mcr.<module>[.<name>]`` names a module (and a name it defines);
* every ``recipe=NAME`` names ``recipes/NAME.yaml``;

and outside code every relative markdown link resolves, to a heading too when it names one.

Paths that runs or users make (``outputs/``, ``/data/``, ``/path/``, ...) are not the repository's,
and quotes with placeholders (``<name>``, ``*``, ``...``, ``$VAR``) are skipped; ``{a,b}`` lists
are expanded and each one checked.
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# a quoted path whose first part is one of these is a path in the repository
REPO_DIRS = ("mcr", "bench", "docs", "recipes", "rewards", "eval", "templates", "tests", "assets", ".ci")
REPO_FILES = ("launch.sh", "pyproject.toml", "README.md", "LICENSE", "train_sft.py", "train_grpo.py")
# paths that runs or users make, never the repository's
NOT_REPO = ("outputs/", "/data/", "/path/", "/tmp/", "~/")
PLACEHOLDERS = ("<", "*", "...", "…", "$")
# a path part in capitals (recipes/NAME.yaml, assets/NAME) is a placeholder; README and LICENSE are not
_CAPITALS = re.compile(r"(?:^|/)(?!README\b|LICENSE\b)[A-Z][A-Z0-9_]*(?:\.|/|$)")
# where the mcr.* packages live in the repository (pyproject.toml's package-dir)
PACKAGE_DIRS = {
    "mcr": "mcr",
    "mcr.rewards": "rewards",
    "mcr.eval": "eval",
    "mcr.recipes": "recipes",
    "mcr.templates": "templates",
    "mcr.assets": "assets",
}
# commands that mcr.cli.main parses itself, before build_parser: subcommands and flags (the
# stages' modules parse recipe=NAME key=value ... and --help)
SELF_PARSED = {
    "recipe": ((), ("--get", "--help", "-h")),
    "ablation": (("plan", "table"), ()),
    "sft": ((), ("--help", "-h")),
    "grpo": ((), ("--help", "-h")),
    "evaluate": ((), ("--help", "-h")),
    "pipeline": (("plan",), ("--help", "-h")),
}

_INLINE = re.compile(r"(`+)(.+?)\1", re.S)
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_LAUNCH = re.compile(r"(?<![\w./-])bash\s+launch\.sh\b(.*)")
_MCR = re.compile(r"(?<![\w./:$-])mcr\s+(.*)")
_PYTHON = re.compile(r"(?<![\w./-])python3?\s+(\S+\.py)\b(.*)")
_RECIPE = re.compile(r"(?<![\w.])recipe=([\w-]+)")
_MODULE = re.compile(r"(?<![\w./])mcr(?:\.[A-Za-z_]\w*)+")
_PATH_SPLIT = re.compile(r"[=,;()\[\]\"']+")
_BRACES = re.compile(r"\{([^{}]*,[^{}]*)\}")
_COMMAND_END = re.compile(r"\s(?:#|&&|\|\||\||;|>).*")
_COMMENT = re.compile(r"(?:^|\s)#.*")


@dataclass(frozen=True)
class Code:
    """A piece of code in a markdown file: a fenced line (continuations joined) or an inline span."""

    line: int
    text: str


def split_markdown(text: str) -> tuple[list[Code], str]:
    """The file's code (fenced lines, then inline spans) and its prose, code blanked out (lines kept)."""
    code: list[Code] = []
    prose: list[str] = []
    fenced = False
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if _FENCE.match(line):
            fenced = not fenced
            prose.append("")
            continue
        if fenced:
            start, joined = pending if pending else (number, "")
            joined += line
            if line.rstrip().endswith("\\"):
                pending = (start, joined.rstrip()[:-1] + " ")
            else:
                code.append(Code(start, joined))
                pending = None
            prose.append("")
        else:
            prose.append(line)
    body = "\n".join(prose)
    for match in _INLINE.finditer(body):
        code.append(Code(body.count("\n", 0, match.start()) + 1, " ".join(match.group(2).split())))
    return code, _INLINE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), body)


def expand_braces(token: str) -> list[str]:
    """``a/{b,c}.py`` -> ``a/b.py``, ``a/c.py`` (every ``{x,y}`` list, one level)."""
    match = _BRACES.search(token)
    if not match:
        return [token]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in expand_braces(token[: match.start()] + choice + token[match.end() :])
    ]


def _command_tokens(rest: str) -> list[str]:
    """The words of a command line up to a comment, a pipe or the next command."""
    return _COMMAND_END.sub("", " " + rest).split()


def _flag(token: str) -> str | None:
    """``--out``, ``[--seed``, ``--split=x`` -> the flag; None for any other word."""
    token = token.strip("[]()`,")
    if re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", token):
        return token.split("=", 1)[0]
    return None


def _is_word(token: str) -> bool:
    return re.fullmatch(r"[a-z][\w-]*", token) is not None


# launch.sh


@functools.cache
def launch_modes() -> frozenset[str]:
    """The modes launch.sh's last ``case "${1:-}" in`` takes as its first argument."""
    source = (ROOT / "launch.sh").read_text()
    match = re.search(r'case "\$\{1:-\}" in\s*\n\s*([\w|]+)\)', source)
    assert match, "launch.sh: no case over its first argument"
    return frozenset(match.group(1).split("|"))


@functools.cache
def launch_options() -> frozenset[str]:
    """The options launch.sh's parse_launch_options reads (``--config)``, ``-h|--help)``)."""
    source = (ROOT / "launch.sh").read_text()
    body = source[source.index("parse_launch_options() {") :]
    body = body[: body.index("\n}\n")]
    return frozenset(
        option
        for pattern in re.findall(r"^\s*((?:-[-\w]+\|?)+)\)", body, re.M)
        for option in pattern.split("|")
    )


def launch_problems(code: str) -> list[str]:
    problems = []
    for match in _LAUNCH.finditer(code):
        tokens = _command_tokens(match.group(1))
        mode = "pipeline"
        if tokens and _is_word(tokens[0]) and "=" not in tokens[0]:
            mode = tokens.pop(0)
            if mode not in launch_modes():
                problems.append(
                    f"bash launch.sh {mode}: no such mode (launch.sh has {sorted(launch_modes())})"
                )
                continue
        if mode == "test":  # the rest goes to pytest
            continue
        for token in tokens:
            flag = _flag(token)
            if flag and flag not in launch_options():
                problems.append(f"bash launch.sh {flag}: no such option ({sorted(launch_options())})")
    return problems


# mcr


@functools.cache
def mcr_parser() -> argparse.ArgumentParser:
    from mcr.cli import build_parser

    return build_parser()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _flags(parsers: list[argparse.ArgumentParser]) -> set[str]:
    """Every option of these parsers and of the commands under them."""
    flags: set[str] = set()
    for parser in parsers:
        flags.update(o for action in parser._actions for o in action.option_strings)
        flags |= _flags(list(_subcommands(parser).values()))
    return flags


def mcr_problems(code: str) -> list[str]:
    problems = []
    for match in _MCR.finditer(code):
        tokens = _command_tokens(match.group(1))
        if not tokens or not _is_word(tokens[0].split("{")[0] or "x"):
            continue
        if tokens[0] in SELF_PARSED:
            subcommands, allowed = SELF_PARSED[tokens[0]]
            words = [t for t in tokens[1:] if _is_word(t) and "=" not in t]
            if subcommands and words and words[0] not in subcommands:
                problems.append(f"mcr {tokens[0]} {words[0]}: no such command ({sorted(subcommands)})")
            for flag in filter(None, map(_flag, tokens[1:])):
                if flag not in allowed:
                    problems.append(f"mcr {tokens[0]} {flag}: no such option")
            continue
        nodes, named = [mcr_parser()], ["mcr"]
        for token in tokens:
            commands = [_subcommands(node) for node in nodes]
            if not all(commands) or _flag(token):
                break
            names = expand_braces(token)
            if not all(_is_word(name) for name in names):
                break  # a placeholder (NAME, <kind>, [...]): any command below may follow
            missing = [name for name in names if not all(name in c for c in commands)]
            if missing:
                known = sorted(set().union(*commands))
                problems.append(f"{' '.join(named)} {' '.join(missing)}: no such command ({known})")
                nodes = []
                break
            nodes = [c[name] for c in commands for name in names]
            named.append(token)
        allowed = _flags(nodes)
        for flag in filter(None, map(_flag, tokens)):
            if nodes and flag not in allowed:
                problems.append(f"{' '.join(named)} {flag}: no such option")
    return problems


# python scripts of the repository


@functools.cache
def script_flags(script: str) -> frozenset[str] | None:
    """The options a script declares with ``add_argument`` (None: it has no argument parser)."""
    source = (ROOT / script).read_text()
    if "add_argument(" not in source:
        return None
    return frozenset([*re.findall(r"add_argument\(\s*\"(--?[\w-]+)\"", source), "-h", "--help"])


def python_problems(code: str) -> list[str]:
    problems = []
    for match in _PYTHON.finditer(code):
        script, rest = match.group(1), match.group(2)
        if not (ROOT / script).is_file():
            continue  # the path check names it
        flags = script_flags(script)
        tokens = _command_tokens(rest)
        if "--" in tokens:  # what follows is recipe overrides
            tokens = tokens[: tokens.index("--")]
        for flag in filter(None, map(_flag, tokens)):
            if flags is not None and flag not in flags:
                problems.append(f"python {script} {flag}: no such option")
    return problems


# paths, modules and recipes


def _repo_path(token: str) -> str | None:
    """The token as a repository path to check, or None when it is not one."""
    token = token.strip("`.,:;!?").removeprefix("./")
    if not token or any(p in token for p in PLACEHOLDERS) or token.startswith(NOT_REPO):
        return None
    if _CAPITALS.search(token):
        return None
    if "://" in token or token.startswith(("/", "#")):
        return None
    first = token.split("/", 1)[0]
    if ("/" in token and first in REPO_DIRS) or token in REPO_FILES:
        return token.split("#", 1)[0]
    return None


def path_problems(code: str) -> list[str]:
    problems = []
    for word in code.split():
        for expanded in expand_braces(word):
            for token in _PATH_SPLIT.split(expanded):
                path = _repo_path(token)
                if path and not (ROOT / path).exists():
                    problems.append(f"{path}: no such file or folder in the repository")
    return problems


@functools.cache
def _defined_names(module: Path) -> frozenset[str]:
    tree = ast.parse(module.read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def module_problem(dotted: str) -> str | None:
    """Why ``mcr.a.b[.name]`` names no module of the repository (or no name in it), if it does not."""
    parts = dotted.split(".")
    k = max(k for k in range(1, len(parts) + 1) if ".".join(parts[:k]) in PACKAGE_DIRS)
    folder, rest = ROOT / PACKAGE_DIRS[".".join(parts[:k])], parts[k:]
    for i, name in enumerate(rest):
        if (folder / name).is_dir():
            folder = folder / name
            continue
        if (folder / f"{name}.py").is_file():
            module, attributes = folder / f"{name}.py", rest[i + 1 :]
        else:
            module, attributes = folder / "__init__.py", rest[i:]
        if attributes and (not module.is_file() or attributes[0] not in _defined_names(module)):
            return f"{dotted}: {module.relative_to(ROOT)} defines no {attributes[0]!r}"
        return None
    return None


def module_problems(code: str) -> list[str]:
    return [p for m in _MODULE.finditer(code) if (p := module_problem(m.group(0)))]


def recipe_problems(code: str) -> list[str]:
    return [
        f"recipe={name}: no recipes/{name}.yaml"
        for name in _RECIPE.findall(code)
        if not name.isupper() and not (ROOT / "recipes" / f"{name}.yaml").is_file()
    ]


# links


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a file's headings (outside fenced code)."""
    anchors: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        anchor, n = slug, 1
        while anchor in anchors:
            anchor, n = f"{slug}-{n}", n + 1
        anchors.add(anchor)
    return anchors


def link_problems(prose: str, source: Path, text: str) -> list[tuple[int, str]]:
    """(line, problem) for each relative link of ``prose`` that does not resolve (``text``: the file)."""
    problems = []
    for match in _LINK.finditer(prose):
        target = match.group(1)
        line = prose.count("\n", 0, match.start()) + 1
        if re.match(r"[a-z][\w+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve() if path else source
        if path and not resolved.exists():
            problems.append((line, f"link {target}: {path} does not exist"))
            continue
        if anchor and (not path or resolved.suffix == ".md"):
            headings = heading_anchors(resolved.read_text() if path else text)
            if anchor not in headings:
                problems.append((line, f"link {target}: {resolved.name} has no heading #{anchor}"))
    return problems


# the checks together


CODE_CHECKS = (
    launch_problems,
    mcr_problems,
    python_problems,
    path_problems,
    module_problems,
    recipe_problems,
)


def check_markdown(text: str, source: Path) -> list[str]:
    """Every problem of one markdown text, as ``file:line: what``."""
    name = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source
    code, prose = split_markdown(text)
    problems = [
        f"{name}:{c.line}: {p}"
        for c in code
        for check in CODE_CHECKS
        for p in check(c.text if check is path_problems else _COMMENT.sub("", c.text))
    ]
    problems += [f"{name}:{line}: {p}" for line, p in link_problems(prose, source, text)]
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_docs_quote_what_exists(doc: Path):
    problems = check_markdown(doc.read_text(), doc)
    assert not problems, "\n".join(problems)


def test_the_commands_mcr_parses_itself_are_known():
    """SELF_PARSED follows mcr.cli.main: the commands it takes before build_parser, their words."""
    import inspect

    from mcr import cli

    parsed = set(re.findall(r'argv\[:1\] == \["([\w-]+)"\]', inspect.getsource(cli.main)))
    assert "in STAGES" in inspect.getsource(cli.main)
    assert parsed | set(cli.STAGES) == set(SELF_PARSED)
    assert all(f'"{flag}"' in inspect.getsource(cli._recipe) for flag in SELF_PARSED["recipe"][1])
    assert str(SELF_PARSED["ablation"][0]).replace("'", '"') in inspect.getsource(cli._ablation)
    assert 'argv[:1] == ["plan"]' in (ROOT / "mcr" / "pipeline.py").read_text()  # mcr pipeline plan


def test_the_docs_are_found():
    assert ROOT / "README.md" in DOCS and ROOT / "docs" / "glossary.md" in DOCS
    assert launch_modes() >= {"setup", "test", "train", "pipeline", "ablation"}
    assert {"--config", "--nproc", "--entry"} <= launch_options()


BROKEN = """\
# Title

Run `bash launch.sh trian recipe=tiny` or `bash launch.sh --nprocs 2`, then
`mcr score gmner --gold-rot /data/x --pred p.jsonl` and `mcr frobnicate --out x`;
`mcr data stats {mate,nope}`, `mcr ablation plot recipe=tiny`, `mcr recipe --got seed`.
The parser is `mcr/contract/parsing.py`, the recipe `recipes/tiny.yml`, also `recipe=nope` and
`mcr.rewards.NO_SUCH_NAME`; see [the record](docs/results/nowhere.md), [a heading](#no-heading)
and [the guide](README.md#no-such-section).

```bash
python bench/seeds.py --seed 0 -- recipe=tiny
accelerate launch train_grpo.py recipe=tiny model.init_adapter=outputs/tiny-sft \\
    --config_file recipes/accelerate/zero9.yaml
```
"""

FINE = """\
# Title

## A section

`bash launch.sh`, `bash launch.sh test -m "not slow"`, `bash launch.sh pipeline --nproc 2 recipe=tiny`,
`mcr score {gmner,mate} ... --pred FILE.jsonl`, `mcr data stats grefcoco --root /data/grefcoco`,
`mcr pretrain-tiny [--scale F] [--probe-every N]`, `mcr recipe recipe=NAME --get KEY`, `mcr ablation plan`,
`mcr data synth gmner --out outputs/data/x --n 10`, `mcr.rewards.REGISTRY`, `mcr.contract.parse`,
`outputs/tiny/eval/gmner/<checkpoint>/`, `/path/to/images`, `templates/mrsi/{gmner,mate}/`,
`templates/mrsi/gmner/*.jinja`, `rewards/<name>/mean`, `recipes/NAME.yaml`, `assets/tiny-base/README.md`,
recipe=NAME, [up](#a-section).

```bash
python bench/seeds.py --seeds 0 --paths default --out DIR -- mrsi.seed=1
mcr data stats gmner --root /path/to/Twitter10000_v2.0 --split test   # --nothing-here
```
"""


def test_the_checker_reports_each_kind_of_broken_quote():
    problems = "\n".join(check_markdown(BROKEN, ROOT / "README.md"))
    for expected in (
        "bash launch.sh trian: no such mode",
        "bash launch.sh --nprocs: no such option",
        "mcr score gmner --gold-rot: no such option",
        "mcr frobnicate: no such command",
        "mcr data stats nope: no such command",
        "mcr ablation plot: no such command",
        "mcr recipe --got: no such option",
        "mcr/contract/parsing.py: no such file",
        "recipes/tiny.yml: no such file",
        "recipe=nope: no recipes/nope.yaml",
        "mcr.rewards.NO_SUCH_NAME: rewards/__init__.py defines no 'NO_SUCH_NAME'",
        "link docs/results/nowhere.md: docs/results/nowhere.md does not exist",
        "link #no-heading: README.md has no heading #no-heading",
        "link README.md#no-such-section: README.md has no heading #no-such-section",
        "python bench/seeds.py --seed: no such option",
        "recipes/accelerate/zero9.yaml: no such file",
    ):
        assert expected in problems, f"not reported: {expected}\n{problems}"
    assert problems.count("\n") + 1 == 16, problems


def test_the_checker_passes_legitimate_quotes():
    fake = ROOT / "docs" / "fake.md"
    assert check_markdown(FINE, fake) == []


def test_heading_anchors_follow_github():
    anchors = heading_anchors("# MCR — Modality-aware\n## The `pointing` style\n## Setup\n## Setup\n")
    assert anchors == {"mcr--modality-aware", "the-pointing-style", "setup", "setup-1"}

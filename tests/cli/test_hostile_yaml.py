"""Hostile YAML in every YAML input (issue 13): config, rules, suppressions, price catalogs, the
LLM model-tiers file and the billing AI-services file, each through the CLI.

Every hostile document (alias bombs of several shapes, recursive aliases, Python and unknown
tags, impossible dates, invalid UTF-8, oversize files, control characters) must exit 2 with one
line naming the file (and the line where there is one), no traceback, and no scan work; a valid
file that uses a few aliases still works.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.core.yamlsrc import MAX_ALIASES, MAX_BYTES, SourceError, load_documents
from tests.paths import ROOT, TEST_DATA

DATA = TEST_DATA / "billing"
LLM_LOG = ROOT / "src" / "aifinops_cli" / "demo" / "data" / "llm" / "openai-chat.jsonl"


@dataclass(frozen=True)
class Hostile:
    name: str
    content: bytes
    line: int | None  # the line the message must name, when there is one
    says: str  # a word the message must contain


def bomb(width: int, depth: int) -> str:
    """A 'billion laughs': each level lists `width` aliases of the level above."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for n in range(1, depth + 1):
        lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def hostile_documents(seed: int = 13) -> Iterator[Hostile]:
    rnd = random.Random(seed)
    for width, depth in ((9, 9), (10, 6), (50, 4), (4, 30)):
        text = bomb(width, depth)
        yield Hostile(f"bomb-{width}x{depth}", text.encode(), None, "alias")
    many = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    yield Hostile("alias-budget", many.encode(), 2, "aliases")
    yield Hostile("recursive", b"a: &a [1, *a]\n", 1, "recursive")
    yield Hostile("recursive-map", b"x: &m {k: *m}\n", 1, "recursive")
    for tag in (
        "!!python/object/apply:os.system ['id']",
        "!!python/name:os.system",
        "!!python/object/new:dict {}",
        "!custom 1",
        "!!binary 'not base64 @@'",
    ):
        pad = rnd.randint(0, 5)
        yield Hostile(f"tag-{tag.split()[0]}", ("# c\n" * pad + f"key: {tag}\n").encode(), pad + 1, "YAML")
    for day in ("2026-02-30", "2026-13-01", "2025-02-29", "2026-04-31 10:00:00"):
        pad = rnd.randint(0, 5)
        yield Hostile(f"date-{day}", ("# c\n" * pad + f"when: {day}\n").encode(), pad + 1, "invalid value")
    for byte in (b"\xff", b"\xc3\x28", b"\xed\xa0\x80"):  # bad lead byte, bad continuation, surrogate
        pad = rnd.randint(0, 5)
        yield Hostile(f"utf8-{byte.hex()}", b"# c\n" * pad + b"key: caf" + byte + b"\n", pad + 1, "UTF-8")
    yield Hostile("control-char", b"a: 1\nb: x\x01y\n", 2, "control")
    yield Hostile("oversize", b"# " + b"x" * MAX_BYTES + b"\n", None, "MiB")
    yield Hostile("syntax", b"a: [1, 2\nb: 3\n", None, "invalid YAML")


CASES = list(hostile_documents())


@dataclass(frozen=True)
class InputPath:
    """One way a YAML file reaches aifinops, as the argv that makes it read `file`."""

    name: str
    argv: Callable[[Path, Path], list[str]]  # (hostile file, tmp dir) -> argv


def _config(tmp: Path, body: str) -> Path:
    path = tmp / "config.yaml"
    path.write_text(body, encoding="utf-8")
    return path


BILLING = ["--scanner", "billing", "--billing", str(DATA / "cur_legacy.csv"), "-f", "json"]
INPUTS = [
    InputPath("config", lambda f, tmp: ["-c", str(f), "scan", *BILLING]),
    InputPath("rules", lambda f, tmp: ["scan", "--rules", str(f), *BILLING]),
    InputPath("rules-validate", lambda f, tmp: ["rules", "validate", str(f)]),
    InputPath("suppressions", lambda f, tmp: ["scan", "--suppressions", str(f), *BILLING]),
    InputPath(
        "catalog",
        lambda f, tmp: ["-c", str(_config(tmp, f"pricing:\n  catalogs: ['{f}']\n")), "scan", *BILLING],
    ),
    InputPath(
        "llm-tiers",
        lambda f, tmp: [
            "-c",
            str(_config(tmp, f"llm:\n  tiers_file: '{f}'\n")),
            "scan",
            "--scanner",
            "llm",
            "--llm-logs",
            str(LLM_LOG),
            "-f",
            "json",
        ],
    ),
    InputPath(
        "billing-ai-services",
        lambda f, tmp: ["-c", str(_config(tmp, f"billing:\n  ai_services: '{f}'\n")), "scan", *BILLING],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("source", INPUTS, ids=[i.name for i in INPUTS])
def test_hostile_yaml_is_exit_2_with_file_and_line(tmp_path: Path, source: InputPath, case: Hostile) -> None:
    hostile = tmp_path / "hostile.yaml"
    hostile.write_bytes(case.content)
    result = CliRunner().invoke(app, source.argv(hostile, tmp_path))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, result.stderr
    err = result.stderr
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert str(hostile) in err and case.says.lower() in err.lower(), err
    if case.line is not None:
        assert f"{hostile}:{case.line}" in err, err
    assert result.stdout == ""  # nothing was scanned, no report


def test_few_aliases_are_fine_and_the_config_applies(tmp_path: Path) -> None:
    """A config sharing one mapping by alias (within the budget) loads and takes effect: the
    AI flow rule's avoidable share set to 0.5 gives 1,000 GB x $0.02 x 0.5 = $10.00."""
    cfg = _config(
        tmp_path,
        "rules:\n  billing-inter-region-egress: {params: &p {avoidable_share: 0.5}}\n"
        "  billing-ai-egress: {params: *p}\n",
    )
    result = CliRunner().invoke(app, ["-c", str(cfg), "scan", *BILLING])
    assert result.exit_code == 0, result.stderr
    import json

    (f,) = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "billing-ai-egress"]
    assert f["estimated_monthly_savings_usd"] == 10.0


def test_loader_budget_figures() -> None:
    """The 9x9 bomb (700 bytes) is refused before anything expands; a 100-alias file passes."""
    text = bomb(9, 9)
    assert len(text) < 800
    with pytest.raises(SourceError, match="alias"):
        load_documents(text, "bomb.yaml")
    ok = "a: &a 1\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    (doc,) = load_documents(ok, "ok.yaml")
    assert doc.data["b"] == [1] * MAX_ALIASES and doc.line_of(("b",)) == 2


def test_suppression_with_impossible_expiry_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "supp.yaml"
    path.write_text(
        "suppressions:\n  - rule: aws-*\n    reason: drill\n    expires: 2026-02-30\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["scan", "--suppressions", str(path), *BILLING])
    assert result.exit_code == 2 and f"{path}:4" in result.stderr, result.stderr


def test_suppression_expiry_with_a_time_is_a_date(tmp_path: Path) -> None:
    """`expires: 2020-01-01 10:00` (a YAML timestamp) compared a datetime with a date: a crash."""
    path = tmp_path / "supp.yaml"
    path.write_text(
        "suppressions:\n  - rule: billing-*\n    reason: drill\n    expires: 2020-01-01 10:00:00\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["scan", "--suppressions", str(path), *BILLING])
    assert result.exit_code == 0, (result.exception, result.stderr)
    import json

    doc = json.loads(result.stdout)
    assert doc["suppressions"]["expired"][0]["expires"] == "2020-01-01"

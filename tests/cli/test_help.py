"""The help: panels for scan, every format named, no typer type placeholders, the root flags
after a command too, one list of formats for the commands other than scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from aifinops_cli.cli.common import SummaryFormat
from aifinops_cli.cli.help import SCAN_PANELS, hoist_globals
from aifinops_cli.core.registry import load_providers
from aifinops_cli.output import formatters
from tests.paths import TEST_DATA

CUR = TEST_DATA / "billing" / "cur_legacy.csv"
PLACEHOLDERS = ("<bool>", "<list[", "<str>", "<path>", "<int>", "<float>", "<Path>")


def _tree() -> Any:
    return typer.main.get_command(app)


def _paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        out += _paths(sub, (*prefix, name))
    return out


def _help(*path: str) -> str:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, (path, result.output)
    return result.stdout


@pytest.mark.parametrize("path", _paths(_tree()), ids=lambda p: " ".join(p) or "aifinops")
def test_no_type_placeholders(path: tuple[str, ...]) -> None:
    text = _help(*path)
    assert not [p for p in PLACEHOLDERS if p in text], text


def test_scan_help_panels_and_every_format() -> None:
    text = _help("scan")
    for panel in [*SCAN_PANELS, *(cls.panel() for cls in load_providers().values())]:
        assert f"─ {panel} ─" in text, panel
    line = " ".join(text.split())  # the --format help, unwrapped
    start = line.index("Report formats:")
    listed = line[start : line.index("(repeatable", start)]
    assert sorted(formatters()) == [n.strip(" ,") for n in listed.removeprefix("Report formats:").split()]
    assert "html" in listed  # the one the issue found missing


def test_no_command_reuses_a_root_flag() -> None:
    """The root's flags move in front of any command, so no command may define one itself."""
    root = _tree()
    flags = {o for p in root.params for o in (*p.opts, *p.secondary_opts)}
    for path in _paths(root)[1:]:
        command = root
        for name in path:
            command = command.commands[name]
        own = {
            o for p in command.params for o in (*getattr(p, "opts", ()), *getattr(p, "secondary_opts", ()))
        }
        assert not own & flags, (path, own & flags)


def test_hoist_globals() -> None:
    params = _tree().params
    assert hoist_globals(params, ["scan", "-q", "--demo"]) == ["-q", "scan", "--demo"]
    assert hoist_globals(params, ["-c", "a.yaml", "scan", "--debug", "--config", "b.yaml"]) == [
        "-c",
        "a.yaml",
        "--debug",
        "--config",
        "b.yaml",
        "scan",
    ]
    assert hoist_globals(params, ["rules", "validate", "--config=c.yaml", "x"]) == [
        "--config=c.yaml",
        "rules",
        "validate",
        "x",
    ]
    assert hoist_globals(params, ["scan", "--no-color", "--", "-q"]) == ["--no-color", "scan", "--", "-q"]
    assert hoist_globals(params, ["scan", "--help"]) == ["scan", "--help"]  # the command's help


def test_quiet_after_the_command(tmp_path: Path) -> None:
    args = ["--scanner", "billing", "--billing", str(CUR), "-f", "json", "--output-dir", str(tmp_path)]
    loud = CliRunner().invoke(app, ["scan", *args])
    assert loud.exit_code == 0, loud.stderr
    assert "wrote " in loud.stderr
    for argv in (["-q", "scan", *args], ["scan", *args, "-q"], ["scan", "-q", *args]):
        quiet = CliRunner().invoke(app, argv)
        assert quiet.exit_code == 0, (argv, quiet.stderr)
        assert "wrote " not in quiet.stderr, argv


def test_config_after_the_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("scan: [unclosed\n")
    before = CliRunner().invoke(app, ["--config", str(bad), "history", "--state-dir", str(tmp_path)])
    after = CliRunner().invoke(app, ["history", "--state-dir", str(tmp_path), "--config", str(bad)])
    assert before.exit_code == after.exit_code == 2
    assert "bad.yaml" in after.stderr and after.stderr == before.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["history"],
        ["diff", "a.json", "b.json"],
        ["forecast", "--demo"],
        ["rules", "list"],
        ["scanners", "list"],
    ],
)
def test_one_format_list(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--format", "csv"])
    assert result.exit_code == 2
    assert all(f"'{f.value}'" in result.stderr for f in SummaryFormat), result.stderr
    words = [w for w in command if not w.endswith(".json") and not w.startswith("-")]
    assert "<table|json|markdown>" in " ".join(_help(*words).split())


def test_forecast_demo_markdown_and_80_columns() -> None:
    md = CliRunner().invoke(app, ["forecast", "--demo", "--format", "markdown"])
    assert md.exit_code == 0, md.stderr
    rows = [
        line.split(" | ") for line in md.stdout.splitlines() if line.startswith("| ") and "---" not in line
    ]
    header, body = rows[0], rows[1 : 1 + sum(1 for r in rows[1:] if len(r) == len(rows[0]))]
    assert header[:3] == ["| Owner", "Service", "Month to date"]
    to_date = {(r[0].removeprefix("| "), r[1]): float(r[2].replace(",", "")) for r in body}
    # the (all) row is the sum of the groups' month to date
    total = to_date.pop(("(all)", "(all)"))
    assert total == pytest.approx(sum(to_date.values()), abs=0.01 * len(to_date))
    narrow = CliRunner().invoke(app, ["forecast", "--demo"], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.stderr
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines())
    assert "not shown at this width:" in narrow.stdout  # the notes and errors, named


@pytest.mark.parametrize("command", [["rules", "list"], ["scanners", "list"]])
def test_lists_fit_80_columns(command: list[str]) -> None:
    result = CliRunner().invoke(app, command, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    assert "not shown at this width:" in result.stdout  # what was left out is named
    wide = CliRunner().invoke(app, command, env={"COLUMNS": "250"})
    assert "not shown at this width" not in wide.stdout


def test_rules_list_markdown_has_a_row_per_rule() -> None:
    """`rules list --format markdown`: the heading counts the rules and the table has one row per
    rule of the JSON list, in its order, with its category."""
    doc = json.loads(CliRunner().invoke(app, ["rules", "list", "--format", "json"]).stdout)
    md = CliRunner().invoke(app, ["rules", "list", "--format", "markdown"])
    assert md.exit_code == 0, md.stderr
    assert md.stdout.startswith(f"# {len(doc)} rules\n")
    rows = [
        line.split(" | ") for line in md.stdout.splitlines() if line.startswith("| ") and "---" not in line
    ]
    assert rows[0][:3] == ["| ID", "Category", "Severity"]
    assert [(r[0].removeprefix("| "), r[1]) for r in rows[1:]] == [(r["id"], r["category"]) for r in doc]


def test_the_config_env_var_is_the_one_the_help_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config` help names $AIFINOPS_CONFIG (read by core/config.py), and no second, undocumented
    variable; a broken file given that way is exit 2 at its name."""
    root_help = " ".join(_help().split())
    assert "$AIFINOPS_CONFIG," in root_help and "AIFINOPS_CONFIG_FILE" not in root_help
    bad = tmp_path / "bad.yaml"
    bad.write_text("scan: [unclosed\n")
    monkeypatch.setenv("AIFINOPS_CONFIG", str(bad))
    result = CliRunner().invoke(app, ["rules", "list"])
    assert result.exit_code == 2 and "bad.yaml" in result.stderr

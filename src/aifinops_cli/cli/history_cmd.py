"""`aifinops history` (the tax over time) and `aifinops diff OLD NEW` (what changed between runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.table import Table
from rich.text import Text

from aifinops_cli.cli.common import FormatOption, SummaryFormat, fail, global_options, stdout_console
from aifinops_cli.core.config import find_config_file, load_config
from aifinops_cli.core.history import (
    TREND_DIMENSIONS,
    TREND_RUNS,
    History,
    HistoryError,
    resolve_state_dir,
)
from aifinops_cli.core.history import (
    diff as diff_reports,
)
from aifinops_cli.core.money import signed_usd, usd
from aifinops_cli.core.report import resource_label
from aifinops_cli.output.markdown import table as md_table
from aifinops_cli.output.safe import plain
from aifinops_cli.output.table import Column, fit_table, left_out

TOP_KEYS = 6
BAR = 24
# a diff table too wide for the terminal loses these first (highest first); the change stays
DIFF_DROPS = {"Before": 3, "After": 2, "Region": 3, "Severity": 2}


Format = SummaryFormat  # the formats every command prints (cli/common.py)


StateDir = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        envvar="AIFINOPS_STATE_DIR",
        help="History directory (default: config history.path, else $XDG_STATE_HOME/aifinops or "
        "~/.local/state/aifinops).",
    ),
]
FormatOpt = FormatOption


def _cells(row: list[Any]) -> list[Text]:
    """Recorded values (owners, resource ids, tags) as cells: never rich markup, no control codes."""
    return [Text(plain(v)) for v in row]


def _state_dir(ctx: typer.Context, explicit: Path | None) -> Path:
    opts = global_options(ctx)
    config = load_config(find_config_file(opts.config))  # a SourceError is exit 2 (errors.py)
    return resolve_state_dir(explicit, config.section("history"), config.source)


def _emit_json(ctx: typer.Context, data: Any) -> None:
    stdout_console(global_options(ctx)).file.write(json.dumps(data, indent=2, default=str) + "\n")


def history(
    ctx: typer.Context,
    by: Annotated[
        str, typer.Option("--by", help=f"Break down by {', '.join(TREND_DIMENSIONS)}.")
    ] = "category",
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many recent runs.")] = TREND_RUNS,
    state_dir: StateDir = None,
    output_format: FormatOpt = Format.TABLE,
) -> None:
    """The fragmentation tax over the recorded runs, by category, owner, rule, provider or severity."""
    directory = _state_dir(ctx, state_dir)
    with History.open(directory, create=False) as store:  # a HistoryError is exit 2 (errors.py)
        trend = store.trend(by, last)
    key = f"by_{by}"
    if output_format is Format.JSON:
        _emit_json(ctx, {"state_dir": str(directory), "by": by, "runs": trend})
        return
    if not trend:
        fail(f"no runs recorded in {directory}: record one with `aifinops scan --record`")
    latest = trend[-1][key]
    keys = list(latest)[:TOP_KEYS]
    for point in reversed(trend):  # keys only seen in older runs still get a column
        for k in point[key]:
            if k not in keys and len(keys) < TOP_KEYS:
                keys.append(k)
    top = max(p["monthly_waste_usd"] for p in trend) or 1.0
    rows: list[list[Any]] = []
    previous: float | None = None
    for p in trend:
        parts = p[key]
        other = sum(v for k, v in parts.items() if k not in keys)
        delta = "" if previous is None else signed_usd(p["monthly_waste_usd"] - previous)
        previous = p["monthly_waste_usd"]
        mark = "" if p["coverage_complete"] else " *"
        when = str(p["finished_at"] or "")[:16].replace("T", " ")
        rows.append(
            [
                str(p["run_id"]),
                when + mark,
                usd(p["monthly_waste_usd"]),
                delta,
                str(p["findings"]),
                *(usd(parts.get(k, 0.0)) for k in keys),
                *([usd(other)] if other else []),
                "█" * max(1, round(p["monthly_waste_usd"] / top * BAR)) if p["monthly_waste_usd"] else "",
            ]
        )
    has_other = any(len(r) > 6 + len(keys) for r in rows)
    columns = [
        "Run",
        "Finished",
        "Monthly waste",
        "Change",
        "Findings",
        *keys,
        *(["other"] if has_other else []),
        "Trend",
    ]
    rows = [r if len(r) == len(columns) else [*r[:-1], usd(0.0), r[-1]] for r in rows]
    note = (
        "* = some scopes could not be scanned in that run"
        if any(not p["coverage_complete"] for p in trend)
        else ""
    )
    if output_format is Format.MARKDOWN:
        out = [f"# Fragmentation tax over time, by {by}", "", *md_table(columns, rows), ""]
        if note:
            out += [note, ""]
        stdout_console(global_options(ctx)).file.write("\n".join(out))
        return
    # too wide for the terminal: "other" goes first, then the trend bar, then the smallest keys,
    # the findings count and the time; the run, its total and its change always stay
    drops = {
        "Finished": 2,
        "Findings": 4,
        **{k: 10 + j for j, k in enumerate(keys)},
        "Trend": 25,
        "other": 30,
    }
    cols = [
        Column(
            col,
            "right" if 2 <= i < len(columns) - 1 else "left",
            drops.get(col, 0) if i in (1, *range(4, len(columns))) else 0,
        )
        for i, col in enumerate(columns)
    ]
    cells = [[Text(plain(v), style="red" if i == len(r) - 1 else "") for i, v in enumerate(r)] for r in rows]
    console = stdout_console(global_options(ctx))
    t = fit_table(
        cols,
        cells,
        console.width,
        title=Text(plain(f"Fragmentation tax over time, by {by} ({directory})"), style="italic"),
        title_justify="left",
    )
    console.print(t)
    gone = left_out(cols[:-1], cells, t, " (see --format markdown)")  # the bar is no loss
    if gone is not None:
        console.print(gone)
    if note:
        console.print(Text(note, style="yellow"))


def _load_side(ref: str, directory: Path) -> tuple[str, dict[str, Any]]:
    """A JSON report file, or a recorded run (id, latest, previous, latest~N)."""
    path = Path(ref)
    if path.is_file():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {path}: {exc}")
        except json.JSONDecodeError as exc:
            fail(f"{path}:{exc.lineno}: not JSON: {exc.msg}")
        except RecursionError:
            fail(f"{path}: not an aifinops JSON report (nested too deeply)")
        if (
            not isinstance(doc, dict)
            or not isinstance(doc.get("findings"), list)
            or any(not isinstance(f, dict) or "fingerprint" not in f for f in doc["findings"])
        ):
            fail(f"{path}: not an aifinops JSON report (no findings with fingerprints)")
        return str(path), doc
    try:
        with History.open(directory, create=False) as store:
            run_id = store.resolve(ref)
            return f"run {run_id}", store.report(run_id)
    except HistoryError as exc:
        fail(f"{ref}: not a file, and {exc}")


def _item_rows(items: list[dict[str, Any]], value: str = "monthly_savings_usd") -> list[list[str]]:
    return [
        [
            i["severity"],
            i["rule_id"],
            resource_label(i["resource_id"], i["resource_name"] or ""),
            i["region"] or "",
            i["owner"],
            usd(i[value] or 0.0),
        ]
        for i in items
    ]


def _changed_rows(items: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            i["rule_id"],
            i["resource_id"],
            usd(i["previous_monthly_savings_usd"]),
            usd(i["monthly_savings_usd"]),
            signed_usd(i["delta_usd"]),
            ", ".join(f"{k}: {a} → {b}" for k, (a, b) in i["changes"].items()),
        ]
        for i in items
    ]


def diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="A JSON report, or a run: id, latest, previous, latest~N.")],
    new: Annotated[str, typer.Argument(help="A JSON report, or a run: id, latest, previous, latest~N.")],
    state_dir: StateDir = None,
    output_format: FormatOpt = Format.TABLE,
) -> None:
    """New, resolved and changed findings between two reports or recorded runs, and the $ change."""
    directory = _state_dir(ctx, state_dir)
    old_label, old_doc = _load_side(old, directory)
    new_label, new_doc = _load_side(new, directory)
    try:
        d = diff_reports(old_doc, new_doc)
        _render_diff(ctx, d, old_label, new_label, output_format)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        fail(f"{old_label} / {new_label}: not aifinops JSON reports ({type(exc).__name__}: {exc})")


def _render_diff(
    ctx: typer.Context, d: dict[str, Any], old_label: str, new_label: str, output_format: Format
) -> None:
    d["old"]["label"], d["new"]["label"] = old_label, new_label
    if output_format is Format.JSON:
        _emit_json(ctx, d)
        return
    c = d["counts"]
    headline = (
        f"Monthly waste {usd(d['old']['monthly_waste_usd'])} ({old_label}) → "
        f"{usd(d['new']['monthly_waste_usd'])} ({new_label}): {signed_usd(d['delta_usd'])}"
    )
    summary = [
        ["New", str(c["new"]), signed_usd(d["new_usd"])],
        ["Resolved", str(c["resolved"]), signed_usd(-d["resolved_usd"])],
        ["Changed", str(c["changed"]), signed_usd(d["changed_usd"])],
        ["Unchanged", str(c["unchanged"]), ""],
    ]
    if c["unseen"]:
        summary.insert(2, ["Not seen (scope not scanned)", str(c["unseen"]), signed_usd(-d["unseen_usd"])])
    item_cols = ["Severity", "Rule", "Resource", "Region", "Owner", "Monthly waste"]
    changed_cols = ["Rule", "Resource", "Before", "After", "Change", "What changed"]
    sections = [
        (title, item_cols, _item_rows(d[key]))
        for title, key in (
            ("New", "new_findings"),
            ("Resolved", "resolved_findings"),
            ("Not seen: the newer run did not scan their scope", "unseen_findings"),
        )
    ]
    sections.append(("Changed", changed_cols, _changed_rows(d["changed_findings"])))
    if output_format is Format.MARKDOWN:
        out = [
            "# aifinops diff",
            "",
            f"**{headline}**",
            "",
            *md_table(["", "Findings", "Monthly waste"], summary),
            "",
        ]
        for title, cols, rows in sections:
            if rows:
                out += [f"## {title}", "", *md_table(cols, rows), ""]
        stdout_console(global_options(ctx)).file.write("\n".join(out))
        return
    console = stdout_console(global_options(ctx))
    console.print(Text(plain(headline), style="bold"))
    t = Table(show_edge=False)
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("", "left"),
        ("Findings", "right"),
        ("Monthly waste", "right"),
    )
    for col, just in columns:
        t.add_column(col, justify=just)
    for r in summary:
        t.add_row(*_cells(r))
    console.print(t)
    for title, cols, rows in sections:
        if not rows:
            continue
        fitted = [
            Column(
                col,
                "right" if col in ("Monthly waste", "Before", "After", "Change") else "left",
                DIFF_DROPS.get(col, 0),
            )
            for col in cols
        ]
        cells = [_cells(r) for r in rows]
        t = fit_table(fitted, cells, console.width, title=title, title_justify="left")
        console.print(t)
        gone = left_out(fitted, cells, t, " (see --format markdown or json)")
        if gone is not None:
            console.print(gone)

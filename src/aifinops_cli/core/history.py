"""Scan history: every recorded run in one embedded SQLite file, plus the diff between two runs.

Why SQLite rather than DuckDB: a nightly scan writes while someone runs `aifinops history` on
the same host; SQLite in WAL mode lets readers in during a write, whereas DuckDB holds a
process-exclusive lock on its file. The data is small (one row per finding per run).

Layout of the state directory (default `$XDG_STATE_HOME/aifinops`, else
`~/.local/state/aifinops`; `--state-dir`, `$AIFINOPS_STATE_DIR` or config `history.path`):

    history.sqlite   runs (one row per run, the full JSON report compressed) and findings
                     (one row per finding per run, for trends by category and owner)
    scan.lock        the run lock (see core/lock.py)

`diff()` is a pure function over two JSON report documents, so it works the same on two files,
two recorded runs, or a file against a run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aifinops_cli.core.report import UNOWNED
from aifinops_cli.errors import AifinopsError

DB_NAME = "history.sqlite"
DEFAULT_KEEP_RUNS = 400  # over a year of daily runs; config history.keep_runs
STORE_VERSION = 2  # 2: findings.overlaps (a finding another provider's finding already counts)
TREND_RUNS = 30
TREND_DIMENSIONS = ("category", "owner", "rule", "provider", "severity")
_CHANGE_FIELDS = (
    "estimated_monthly_savings_usd",
    "monthly_cost_usd",
    "severity",
    "confidence",
    "owner",
    "suppressed",
    "overlaps",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    tool_version TEXT,
    scanners TEXT NOT NULL,            -- JSON list, sorted: runs are compared with like runs
    findings INTEGER NOT NULL,
    suppressed INTEGER NOT NULL,
    monthly_waste_usd REAL NOT NULL,
    coverage_complete INTEGER NOT NULL,
    visibility_score INTEGER,
    report BLOB NOT NULL               -- zlib-compressed JSON report
);
CREATE TABLE IF NOT EXISTS findings (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    owner TEXT,
    provider TEXT,
    account TEXT,
    region TEXT,
    resource_id TEXT,
    resource_name TEXT,
    monthly_cost_usd REAL NOT NULL,
    savings_usd REAL NOT NULL,
    suppressed INTEGER NOT NULL,
    overlaps TEXT,                     -- fingerprint of the finding that counts this money
    PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX IF NOT EXISTS findings_fingerprint ON findings(fingerprint);
"""


class HistoryError(AifinopsError):
    """The store cannot be opened or a run reference does not resolve (a usage error)."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "aifinops"


def resolve_state_dir(
    explicit: Path | None, history_section: dict[str, Any] | None = None, config_source: str | None = None
) -> Path:
    """--state-dir / $AIFINOPS_STATE_DIR (the CLI passes either as `explicit`), then config
    `history.path` (relative to the config file), then the XDG default."""
    if explicit is not None:
        return explicit.expanduser()
    configured = (history_section or {}).get("path")
    if configured:
        path = Path(str(configured)).expanduser()
        if not path.is_absolute() and config_source and config_source != "defaults":
            path = Path(config_source).expanduser().parent / path
        return path
    return default_state_dir()


def _r(x: float) -> float:
    return round(x + 0.0, 2)


def _counted(f: dict[str, Any]) -> float:
    """What a finding adds to the fragmentation tax: nothing while suppressed or counted elsewhere."""
    if f.get("suppressed") or f.get("overlaps"):
        return 0.0
    return float(f.get("estimated_monthly_savings_usd") or 0.0)


def _item(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "fingerprint": f.get("fingerprint"),
        "rule_id": f.get("rule_id"),
        "title": f.get("title"),
        "category": f.get("category"),
        "severity": f.get("severity"),
        "provider": f.get("provider"),
        "region": f.get("region"),
        "resource_id": f.get("resource_id"),
        "resource_name": f.get("resource_name") or "",
        "owner": f.get("owner") or UNOWNED,
        "suppressed": bool(f.get("suppressed")),
        "monthly_savings_usd": _r(_counted(f)),
    }


def _unseen(f: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether a finding missing from `new` may only be missing because `new` did not look.

    A region that failed to scan, or a provider no scanner covered, is not a fix.
    """
    provider = str(f.get("provider") or "")
    scanners = [str(s) for s in new.get("scanners", [])]
    if provider and scanners and not any(s == provider or s.startswith(provider + ".") for s in scanners):
        return True
    for scope in (new.get("coverage") or {}).get("scopes", []):
        if scope.get("status") == "ok":
            continue
        scanner = str(scope.get("scanner") or "")
        if provider and not (scanner == provider or scanner.startswith(provider + ".")):
            continue
        if scope.get("scope") in ("*", f.get("region"), f.get("account")):
            return True
    return False


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """New, resolved, changed (and unseen) findings between two reports, with the $ change.

    Dollars are what each finding adds to the tax (0 while suppressed), so
    `delta = new - resolved - unseen + changed` equals the difference of the two totals.
    """
    old_f = {f["fingerprint"]: f for f in old.get("findings", [])}
    new_f = {f["fingerprint"]: f for f in new.get("findings", [])}
    added = [_item(new_f[k]) for k in new_f if k not in old_f]
    gone = [k for k in old_f if k not in new_f]
    unseen = [_item(old_f[k]) for k in gone if _unseen(old_f[k], new)]
    resolved = [_item(old_f[k]) for k in gone if not _unseen(old_f[k], new)]
    changed = []
    unchanged = 0
    for k, nf in new_f.items():
        of = old_f.get(k)
        if of is None:
            continue
        changes = {
            name: [of.get(name), nf.get(name)] for name in _CHANGE_FIELDS if of.get(name) != nf.get(name)
        }
        if not changes:
            unchanged += 1
            continue
        item = _item(nf)
        item["previous_monthly_savings_usd"] = _r(_counted(of))
        item["delta_usd"] = _r(_counted(nf) - _counted(of))
        item["changes"] = changes
        changed.append(item)
    added.sort(key=lambda i: (-i["monthly_savings_usd"], i["fingerprint"]))
    resolved.sort(key=lambda i: (-i["monthly_savings_usd"], i["fingerprint"]))
    unseen.sort(key=lambda i: (-i["monthly_savings_usd"], i["fingerprint"]))
    changed.sort(key=lambda i: (-abs(i["delta_usd"]), i["fingerprint"]))
    old_total = sum(_counted(f) for f in old_f.values())
    new_total = sum(_counted(f) for f in new_f.values())

    def by(doc: dict[str, Any], key: str) -> dict[str, float]:
        return dict((doc.get("summary") or {}).get(key) or {})

    breakdown = {}
    for key in ("by_category", "by_owner"):
        before, after = by(old, key), by(new, key)
        breakdown[key] = {
            k: {
                "old": before.get(k, 0.0),
                "new": after.get(k, 0.0),
                "delta_usd": _r(after.get(k, 0.0) - before.get(k, 0.0)),
            }
            for k in dict.fromkeys([*after, *before])
        }
    return {
        "old": {
            "finished_at": old.get("finished_at"),
            "monthly_waste_usd": _r(old_total),
            "findings": len(old_f),
            "scanners": old.get("scanners", []),
        },
        "new": {
            "finished_at": new.get("finished_at"),
            "monthly_waste_usd": _r(new_total),
            "findings": len(new_f),
            "scanners": new.get("scanners", []),
        },
        "delta_usd": _r(new_total - old_total),
        "new_usd": _r(sum(i["monthly_savings_usd"] for i in added)),
        "resolved_usd": _r(sum(i["monthly_savings_usd"] for i in resolved)),
        "unseen_usd": _r(sum(i["monthly_savings_usd"] for i in unseen)),
        "changed_usd": _r(sum(i["delta_usd"] for i in changed)),
        "counts": {
            "new": len(added),
            "resolved": len(resolved),
            "unseen": len(unseen),
            "changed": len(changed),
            "unchanged": unchanged,
        },
        "new_findings": added,
        "resolved_findings": resolved,
        "unseen_findings": unseen,
        "changed_findings": changed,
        "breakdown": breakdown,
    }


@dataclass(frozen=True)
class Run:
    id: int
    recorded_at: str
    finished_at: str
    scanners: list[str]
    findings: int
    suppressed: int
    monthly_waste_usd: float
    coverage_complete: bool
    visibility_score: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.id,
            "recorded_at": self.recorded_at,
            "finished_at": self.finished_at,
            "scanners": self.scanners,
            "findings": self.findings,
            "suppressed": self.suppressed,
            "monthly_waste_usd": self.monthly_waste_usd,
            "coverage_complete": self.coverage_complete,
            "visibility_score": self.visibility_score,
        }


def _run(row: sqlite3.Row) -> Run:
    return Run(
        id=row["id"],
        recorded_at=row["recorded_at"],
        finished_at=row["finished_at"] or "",
        scanners=json.loads(row["scanners"]),
        findings=row["findings"],
        suppressed=row["suppressed"],
        monthly_waste_usd=row["monthly_waste_usd"],
        coverage_complete=bool(row["coverage_complete"]),
        visibility_score=row["visibility_score"],
    )


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    """Bring an older store up to STORE_VERSION in place; old rows keep their meaning."""
    with conn:
        if version < 2:
            columns = {r[1] for r in conn.execute("PRAGMA table_info(findings)")}
            if "overlaps" not in columns:  # rows from before overlaps existed all count
                conn.execute("ALTER TABLE findings ADD COLUMN overlaps TEXT")
        conn.execute("UPDATE meta SET value=? WHERE key='store_version'", (str(STORE_VERSION),))


class History:
    """The run store. Open it with `History.open(state_dir)` as a context manager."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn, self.path = conn, path

    @classmethod
    @contextmanager
    def open(cls, state_dir: Path, create: bool = True) -> Iterator[History]:
        path = state_dir / DB_NAME
        if not create and not path.is_file():
            raise HistoryError(
                f"no history at {path}: record runs with `aifinops scan --record` "
                "(or point --state-dir / AIFINOPS_STATE_DIR at the right place)"
            )
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=30)
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot open history store {path}: {exc}") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.executescript(_SCHEMA)
            version = conn.execute("SELECT value FROM meta WHERE key='store_version'").fetchone()
            if version is None:
                conn.execute("INSERT INTO meta VALUES ('store_version', ?)", (str(STORE_VERSION),))
                conn.commit()
            elif int(version[0]) > STORE_VERSION:
                raise HistoryError(
                    f"{path} was written by a newer aifinops (store version "
                    f"{version[0]}); upgrade aifinops to read it"
                )
            elif int(version[0]) < STORE_VERSION:
                _migrate(conn, int(version[0]))
        except sqlite3.Error as exc:
            conn.close()
            raise HistoryError(f"cannot use history store {path}: {exc}") from None
        try:
            yield cls(conn, path)
        finally:
            conn.close()

    # writing -------------------------------------------------------------------------------

    def record(self, doc: dict[str, Any]) -> int:
        """Store one JSON report document; returns the new run id."""
        summary = doc.get("summary") or {}
        visibility = doc.get("visibility") or {}
        findings = doc.get("findings", [])
        recorded = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO runs (recorded_at, started_at, finished_at, tool_version, scanners, "
                "findings, suppressed, monthly_waste_usd, coverage_complete, visibility_score, "
                "report) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    recorded,
                    doc.get("started_at"),
                    doc.get("finished_at"),
                    (doc.get("tool") or {}).get("version"),
                    json.dumps(sorted(doc.get("scanners", []))),
                    int(summary.get("findings", 0)),
                    int(doc.get("suppressed_findings", 0)),
                    float(summary.get("monthly_waste_usd", 0.0)),
                    int(bool((doc.get("coverage") or {}).get("complete", True))),
                    visibility.get("score"),
                    zlib.compress(json.dumps(doc, default=str).encode()),
                ),
            )
            run_id = int(cur.lastrowid or 0)
            self.conn.executemany(
                "INSERT OR REPLACE INTO findings (run_id, fingerprint, rule_id, category, severity, "
                "owner, provider, account, region, resource_id, resource_name, monthly_cost_usd, "
                "savings_usd, suppressed, overlaps) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        run_id,
                        f["fingerprint"],
                        f["rule_id"],
                        f["category"],
                        f["severity"],
                        f.get("owner"),
                        f.get("provider"),
                        f.get("account"),
                        f.get("region"),
                        f.get("resource_id"),
                        f.get("resource_name"),
                        float(f["monthly_cost_usd"]),
                        float(f["estimated_monthly_savings_usd"]),
                        int(bool(f.get("suppressed"))),
                        f.get("overlaps") or None,
                    )
                    for f in findings
                ],
            )
        return run_id

    def update_report(self, run_id: int, doc: dict[str, Any]) -> None:
        """Replace a run's stored report (the scan adds its own history section after recording)."""
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET report=? WHERE id=?",
                (zlib.compress(json.dumps(doc, default=str).encode()), run_id),
            )

    def prune(self, keep: int) -> int:
        """Forget all but the `keep` most recent runs (cron must not grow the store forever)."""
        with self.conn:
            cur = self.conn.execute(
                "DELETE FROM runs WHERE id NOT IN (SELECT id FROM runs ORDER BY id DESC LIMIT ?)", (keep,)
            )
        return int(cur.rowcount or 0)

    # reading -------------------------------------------------------------------------------

    def runs(self, last: int | None = None) -> list[Run]:
        """Recorded runs, oldest first (the `last` most recent when given)."""
        sql = "SELECT * FROM runs ORDER BY id DESC"
        rows = self.conn.execute(sql + (" LIMIT ?" if last else ""), (last,) if last else ()).fetchall()
        return [_run(r) for r in reversed(rows)]

    def report(self, run_id: int) -> dict[str, Any]:
        row = self.conn.execute("SELECT report FROM runs WHERE id=?", (run_id,)).fetchone()
        if row is None:
            raise HistoryError(f"no recorded run {run_id} in {self.path} (see `aifinops history`)")
        report: dict[str, Any] = json.loads(zlib.decompress(row[0]))
        return report

    def resolve(self, ref: str) -> int:
        """A run reference: an id, `latest`, `previous`, or `latest~N` (N runs before the latest)."""
        text = ref.strip().lower()
        back = 0
        if text.startswith("latest"):
            rest = text[len("latest") :]
            if rest.startswith("~") and rest[1:].isdigit():
                back = int(rest[1:])
            elif rest:
                raise HistoryError(f"bad run reference {ref!r}: use an id, latest, previous or latest~N")
        elif text == "previous":
            back = 1
        elif text.isdigit():
            run_id = int(text)
            if self.conn.execute("SELECT 1 FROM runs WHERE id=?", (run_id,)).fetchone() is None:
                raise HistoryError(f"no recorded run {run_id} in {self.path} (see `aifinops history`)")
            return run_id
        else:
            raise HistoryError(
                f"{ref!r} is neither a report file nor a run reference (an id, latest, previous or latest~N)"
            )
        row = self.conn.execute("SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET ?", (back,)).fetchone()
        if row is None:
            raise HistoryError(f"{ref!r}: only {len(self.runs())} run(s) recorded in {self.path}")
        return int(row[0])

    def previous(self, scanners: list[str]) -> tuple[Run, dict[str, Any]] | None:
        """The latest run made with the same scanners: the fair thing to compare with."""
        row = self.conn.execute(
            "SELECT * FROM runs WHERE scanners=? ORDER BY id DESC LIMIT 1", (json.dumps(sorted(scanners)),)
        ).fetchone()
        if row is None:
            return None
        run = _run(row)
        return run, self.report(run.id)

    def trend(self, by: str = "category", last: int = TREND_RUNS) -> list[dict[str, Any]]:
        """Per run (oldest first): the total and the unsuppressed waste by one dimension."""
        if by not in TREND_DIMENSIONS:
            raise HistoryError(
                f"cannot break history down by {by!r}; choose from {', '.join(TREND_DIMENSIONS)}"
            )
        column = {"rule": "rule_id"}.get(by, by)
        runs = self.runs(last)
        if not runs:
            return []
        first = runs[0].id
        rows = self.conn.execute(
            f"SELECT run_id, COALESCE({column}, ?) AS k, SUM(savings_usd) AS usd, COUNT(*) AS n "
            "FROM findings WHERE suppressed = 0 AND overlaps IS NULL AND run_id >= ? "
            "GROUP BY run_id, k",
            (UNOWNED, first),
        ).fetchall()
        split: dict[int, dict[str, float]] = {}
        for r in rows:
            split.setdefault(r["run_id"], {})[r["k"]] = _r(r["usd"])
        out = []
        for run in runs:
            parts = split.get(run.id, {})
            out.append(
                {**run.to_dict(), f"by_{by}": dict(sorted(parts.items(), key=lambda kv: (-kv[1], kv[0])))}
            )
        return out


def since_last_run(
    previous: tuple[Run, dict[str, Any]] | None, current: dict[str, Any], trend: list[dict[str, Any]]
) -> dict[str, Any]:
    """The report's `history` section: the diff with the previous like run, and the trend."""
    out: dict[str, Any] = {"run_id": None, "previous_run": None, "trend": trend}
    if previous is not None:
        run, doc = previous
        d = diff(doc, current)
        out["previous_run"] = {
            "run_id": run.id,
            "finished_at": run.finished_at,
            **{
                k: d[k]
                for k in (
                    "delta_usd",
                    "new_usd",
                    "resolved_usd",
                    "unseen_usd",
                    "changed_usd",
                    "counts",
                    "new_findings",
                    "resolved_findings",
                    "unseen_findings",
                    "changed_findings",
                )
            },
            "previous_monthly_waste_usd": d["old"]["monthly_waste_usd"],
            "monthly_waste_usd": d["new"]["monthly_waste_usd"],
        }
    return out

"""Bad flags, config, baseline and destinations (issue 13): exit 2 with one line naming
file:line before any scan work; -q still says why a run failed; a broken log file or a hostile
output path never sinks a finished scan nor replaces what is not a regular file.

"Before any scan work" is checked with a billing input that does not exist: had the scan run, it
would exit 3 with a coverage warning; a usage error exits 2 first.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aifinops_cli.cli.app import app
from tests.paths import ROOT, TEST_DATA

DATA = TEST_DATA / "billing"
CUR = str(DATA / "cur_legacy.csv")
GOOD = ["--scanner", "billing", "--billing", CUR]
NO_SCAN = ["--scanner", "billing", "--billing", "/nonexistent/never-read.csv"]
LLM_LOG = str(ROOT / "src" / "aifinops_cli" / "demo" / "data" / "llm" / "openai-chat.jsonl")


def invoke(*args: str) -> object:
    result = CliRunner().invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return result


def usage_error(*args: str, says: str = "") -> str:
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "(exit 2: usage or input error" in lines[0], result.stderr
    assert "never-read" not in result.stderr  # refused before the scan looked at its input
    assert says.lower() in lines[0].lower(), lines[0]
    return lines[0]


# -- flags -------------------------------------------------------------------------------------

SET_CASES = [
    ("X=[", "invalid YAML"),
    ("lookback_days=99999999999", "1 to 63"),
    ("lookback_days=0", "1 to 63"),
    ("lookback_days=true", "1 to 63"),
    ("lookback_days=[1]", "one value"),
    ("aws-ec2-idle-gpu.cpu_max_pct={a: 1}", "one value"),
    ("nokey", "KEY=VALUE"),
    ("aws-ec2-idle-gpu.nope=1", "unknown parameter"),
    ("no-such-rule.x=1", "no rule"),
    ("aws-ec2-idle-gpu.cpu_max_pct=!!python/name:os.system", "invalid YAML"),
]


@pytest.mark.parametrize(("item", "says"), SET_CASES)
def test_bad_set_is_exit_2(item: str, says: str) -> None:
    usage_error("scan", *NO_SCAN, "--set", item, says=says)


@pytest.mark.parametrize("formats", ["json,csv", "table,markdown,html"])
def test_several_formats_without_output_dir_refused_before_the_scan(formats: str) -> None:
    usage_error("scan", *NO_SCAN, "-f", formats, says="--output-dir")


NO_LLM_SCAN = ["--scanner", "llm", "--llm-logs", "/nonexistent/never-read.jsonl"]
FLAG_CASES = [
    ([*NO_SCAN, "--billing-format", "excel"], "--billing-format"),
    ([*NO_LLM_SCAN, "--llm-log-format", "otel2"], "--llm-log-format"),
    ([*NO_SCAN, "--provider", "azure"], "unknown provider"),
    ([*NO_SCAN, "--scanner", "nope"], "unknown scanner"),
    ([*NO_SCAN, "-f", "yaml"], "unknown format"),
    ([*NO_SCAN, "--lookback-days", "99999999999"], "lookback-days"),
]


@pytest.mark.parametrize(("args", "says"), FLAG_CASES)
def test_bad_flag_is_exit_2_before_the_scan(args: list[str], says: str) -> None:
    result = invoke("scan", *args)
    assert result.exit_code == 2, result.stderr  # had the scan run: exit 3, input not found
    assert says in result.stderr and "warning:" not in result.stderr


def test_output_and_output_dir_together_refused(tmp_path: Path) -> None:
    usage_error(
        "scan",
        *NO_SCAN,
        "-o",
        str(tmp_path / "a.json"),
        "--output-dir",
        str(tmp_path),
        "-f",
        "json",
        says="exclusive",
    )


# -- config ------------------------------------------------------------------------------------

CONFIG_CASES = [
    ("lookback_days: 99999999999\n", 1, "1 to 63"),
    ("lookback_days: true\n", 1, "expected int"),
    ("owner_tag_keys: team\n", 1, "expected list"),
    ("rules:\n  aws-ec2-idle-gpu: {params: [1, 2]}\n", 2, "params"),
    ("rules:\n  aws-ec2-idle-gpu: {enabled: maybe}\n", 2, "true or false"),
    ("pricing:\n  catalogs: [/nonexistent/catalog.yaml]\n", None, "cannot read price catalog"),
    ("pricing:\n  overrides: [1]\n", 2, "pricing.overrides.0: expected a mapping"),
    ("pricing:\n  discount_pct: {aws: lots}\n", 2, "percentage from 0 to 100, got 'lots'"),
    ("history:\n  keep_runs: 1\n", None, "keep_runs"),
    ("llm:\n  tiers_file: /nonexistent/tiers.yaml\n", 2, "cannot read"),
    ("llm:\n  loop_window_calls: six\n", 2, "whole number"),
    ("llm:\n  retry_gap_seconds: [30]\n", 2, "number"),
    ("llm:\n  discount_pct: '10%'\n", 2, "number"),
    ("llm:\n  budgets: [1]\n", 2, "mapping"),
    ("llm:\n  simple_request: {max_input_tokens: many}\n", 2, "whole number"),
    ("llm:\n  prices: [{model: x}]\n", 2, "input_per_1m"),
    ("llm:\n  prices: [x]\n", 2, "mapping"),
    ("llm:\n  prices: {model: x}\n", 2, "list"),
    ("llm:\n  attribute_keys: {planet: [p]}\n", 2, "unknown attribute"),
    ("llm:\n  database: disk\n", 2, "memory"),
    ("llm:\n  colour: blue\n", 2, "unknown setting"),
    ("llm: [1]\n", 1, "expected dict"),
]


@pytest.mark.parametrize(("body", "line", "says"), CONFIG_CASES)
def test_bad_config_is_exit_2_naming_file_and_line(
    tmp_path: Path, body: str, line: int | None, says: str
) -> None:
    cfg = tmp_path / "conf.yaml"
    cfg.write_text(body, encoding="utf-8")
    args = (
        NO_SCAN if "llm" not in body else ["--scanner", "llm", "--llm-logs", "/nonexistent/never-read.jsonl"]
    )
    message = usage_error("-c", str(cfg), "scan", *args, says=says)
    assert (f"{cfg}:{line}:" if line else str(cfg)) in message or "catalog.yaml" in message


def test_llm_config_is_checked_before_reading_logs(tmp_path: Path) -> None:
    """Before: a bad llm: setting was a failed scope after the other scanners ran (exit 0 with
    billing alongside, nothing on stderr with -q)."""
    cfg = tmp_path / "conf.yaml"
    cfg.write_text("llm:\n  loop_window_calls: six\n", encoding="utf-8")
    result = invoke(
        "-q",
        "-c",
        str(cfg),
        "scan",
        "--scanner",
        "billing,llm",
        "--billing",
        CUR,
        "--llm-logs",
        LLM_LOG,
        "-f",
        "json",
    )
    assert result.exit_code == 2 and f"{cfg}:2:" in result.stderr and result.stdout == ""


# -- project config (./aifinops.yaml found in the working directory) ---------------------------

PROJECT_REFUSED = [
    ("history:\n  path: /tmp/elsewhere\n", 2, "history.path"),
    ("llm:\n  memory_limit: \"1GB'; COPY (SELECT 1) TO '/tmp/x'; --\"\n", 2, "llm.memory_limit"),
    ("llm:\n  database: file\n", 2, "llm.database"),
    ("suppressions: /etc/aifinops/all.yaml\n", 1, "below its own directory"),
    ("suppressions: [../../hide-everything.yaml]\n", 1, "below its own directory"),
    ("pricing:\n  catalogs: [/etc/passwd]\n", 2, "below its own directory"),
    ("llm:\n  tiers_file: ../tiers.yaml\n", 2, "below its own directory"),
]


@pytest.mark.parametrize(("body", "line", "says"), PROJECT_REFUSED)
def test_project_config_may_not_choose_writes_engines_or_outside_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, line: int, says: str
) -> None:
    (tmp_path / "aifinops.yaml").write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    message = usage_error("scan", *NO_SCAN, says=says)
    assert f"aifinops.yaml:{line}:" in message and "--config" in message


def test_the_same_settings_are_allowed_from_an_explicit_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    (tmp_path / "aifinops.yaml").write_text(f"history:\n  path: {state}\n  record: true\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("-c", "aifinops.yaml", "scan", *GOOD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert (state / "history.sqlite").exists() or any(state.iterdir())


def test_project_config_still_tunes_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thresholds in ./aifinops.yaml apply: avoidable share 0.5 of the AI flow's
    1,000 GB x $0.02 = $10.00 (the default 0.8 gives $16.00)."""
    (tmp_path / "aifinops.yaml").write_text(
        "rules:\n  billing-ai-egress: {params: {avoidable_share: 0.5}}\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = invoke("scan", *GOOD, "-f", "json")
    assert result.exit_code == 0, result.stderr
    (f,) = [f for f in json.loads(result.stdout)["findings"] if f["rule_id"] == "billing-ai-egress"]
    assert f["estimated_monthly_savings_usd"] == 10.0


# -- baseline ----------------------------------------------------------------------------------

BASELINES = [
    (b'{"findings": [], "x": "caf\xff"}', "UTF-8"),
    (b"{not json", "not JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "baseline"),
    (b'{"findings": 5}', "findings"),
    (b'["a"]', "findings"),
    (b"", "not JSON"),
]


@pytest.mark.parametrize(("content", "says"), BASELINES)
def test_bad_baseline_is_exit_2(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(content)
    message = usage_error("scan", *NO_SCAN, "--baseline", str(path), says=says)
    assert str(path) in message


def test_baseline_that_is_a_directory(tmp_path: Path) -> None:
    usage_error("scan", *NO_SCAN, "--baseline", str(tmp_path), says="directory")


def test_diff_of_json_that_is_no_report(tmp_path: Path) -> None:
    """A finding with only a fingerprint still diffs (crashed on a None resource id before); one
    whose savings are not a number is exit 2, not an internal error."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text('{"findings": [{"fingerprint": "x"}]}', encoding="utf-8")
    b.write_text('{"findings": []}', encoding="utf-8")
    result = invoke("diff", str(a), str(b))
    assert result.exit_code == 0 and "Resolved" in result.stdout
    a.write_text(
        '{"findings": [{"fingerprint": "x", "estimated_monthly_savings_usd": "lots"}]}', encoding="utf-8"
    )
    result = invoke("diff", str(a), str(b))
    assert result.exit_code == 2 and "not aifinops JSON reports" in result.stderr


# -- -q: failures and gate trips still say one line --------------------------------------------


def test_quiet_scan_that_scans_nothing_says_why() -> None:
    result = invoke("-q", "scan", *NO_SCAN, "-f", "json")
    assert result.exit_code == 3
    (line,) = result.stderr.strip().splitlines()
    assert "never-read.csv" in line and "(exit 3: no scope could be scanned)" in line


def test_quiet_gate_trip_says_what_failed() -> None:
    """CUR test export: the AI flow's $16.00 + ... findings; --fail-on low trips on every one."""
    result = invoke("-q", "scan", *GOOD, "-f", "json", "--fail-on", "low")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    gate = [f for f in doc["findings"] if not f["suppressed"]]
    total = sum(f["estimated_monthly_savings_usd"] for f in gate)
    (line,) = result.stderr.strip().splitlines()
    assert f"{len(gate)} new finding(s) at or above low (${total:,.2f}/month)" in line
    assert "(exit 1: new findings at or above --fail-on)" in line


def test_quiet_usage_error_says_so() -> None:
    result = invoke("-q", "scan", *NO_SCAN, "--set", "X=[")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1


# -- --log-file --------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_log_file_on_a_full_disk_keeps_the_scan(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = invoke("scan", *GOOD, "-f", "json", "-o", str(out), "--log-file", "/dev/full")
    assert result.exit_code == 0, result.stderr
    assert "Logging error" not in result.stderr
    assert result.stderr.count("cannot write the log file /dev/full") == 1
    assert json.loads(out.read_text())["findings"]


def test_log_file_that_is_a_directory(tmp_path: Path) -> None:
    usage_error("scan", *NO_SCAN, "--log-file", str(tmp_path), says="directory")


# -- output paths ------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    mode = os.lstat(path).st_mode
    return (
        "link"
        if stat.S_ISLNK(mode)
        else "file"
        if stat.S_ISREG(mode)
        else "dir"
        if stat.S_ISDIR(mode)
        else "char"
        if stat.S_ISCHR(mode)
        else "fifo"
        if stat.S_ISFIFO(mode)
        else "?"
    )


def _fifo(tmp: Path) -> Path:
    path = tmp / "fifo"
    os.mkfifo(path)
    return path


def _dir(tmp: Path) -> Path:
    (tmp / "d").mkdir()
    return tmp / "d"


def _link_to_null(tmp: Path) -> Path:
    (tmp / "null-link").symlink_to("/dev/null")
    return tmp / "null-link"


def _under_file(tmp: Path) -> Path:
    (tmp / "plain").write_text("x")
    return tmp / "plain" / "report.json"


REFUSED = [
    ("char-device", lambda tmp: Path("/dev/null"), "character device"),
    ("directory", _dir, "directory"),
    ("fifo", _fifo, "FIFO"),
    ("link-to-device", _link_to_null, "symlink"),
    ("under-a-file", _under_file, "not a directory"),
]


@pytest.mark.parametrize(("name", "make", "says"), REFUSED, ids=[r[0] for r in REFUSED])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_output_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, name: str, make, says: str, fmt: str
) -> None:
    target = make(tmp_path)
    before = _kind(target) if os.path.lexists(target) else None
    usage_error("scan", *NO_SCAN, "-f", fmt, "-o", str(target), says=says)
    if before is not None:
        assert _kind(target) == before  # /dev/null is still a device, the FIFO still a FIFO


def test_output_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    usage_error(
        "scan", *NO_SCAN, "-f", "json,csv", "--output-dir", str(tmp_path / "f"), says="not a directory"
    )


def test_output_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    result = invoke("scan", *GOOD, "-f", "json", "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert _kind(link) == "link" and json.loads(real.read_text())["findings"]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600  # the existing file's mode is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]  # no temp left


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a symlink another owner")
def test_output_symlink_of_another_user_is_refused(tmp_path: Path) -> None:
    """A link planted in a shared output directory, aimed at a file the victim can write."""
    victim = tmp_path / "victim.conf"
    victim.write_text("keep me")
    out = tmp_path / "shared"
    out.mkdir()
    (out / "aifinops-report.json").symlink_to(victim)
    os.lchown(out / "aifinops-report.json", 4242, 4242)
    usage_error("scan", *NO_SCAN, "-f", "json", "--output-dir", str(out), says="another user")
    assert victim.read_text() == "keep me"


def test_output_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    assert invoke("scan", *GOOD, "-f", "csv", "-o", str(link)).exit_code == 0
    assert (tmp_path / "new.json").read_text().startswith("fingerprint,")


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_output_dash_is_stdout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("scan", *GOOD, "-f", fmt, "-o", "-")
    assert result.exit_code == 0 and not (tmp_path / "-").exists()
    assert "billing-ai-egress" in result.stdout or "$16.00" in result.stdout

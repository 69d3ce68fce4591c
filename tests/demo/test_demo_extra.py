"""moto is in the `demo` extra, not the base install: `scan --demo` without it is one line naming the
extra, exit 2; the demo and its fakes stay out of production code.

moto is made unimportable for a real `aifinops` process (`sys.modules["moto"] = None` before the
CLI's own `main` runs, as on a machine where the extra was never installed); nothing of ours is
mocked.
"""

from __future__ import annotations

import ast
from pathlib import Path

import aifinops_cli
from tests.conftest import run_without

PACKAGE = Path(aifinops_cli.__file__).parent


def test_scan_demo_without_moto_names_the_extra(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    proc = run_without("moto", tmp_path, "scan", "--demo", "--format", "json", "--output", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.splitlines()  # one line, nothing else (no progress, no warnings)
    assert line.startswith("aifinops: error: ") and "moto" in line
    assert "pip install 'aifinops[demo]'" in line
    assert line.endswith("(exit 2: usage or input error, nothing scanned)")
    assert proc.stdout == "" and not out.exists()  # nothing scanned, no report written


def test_forecast_demo_does_not_need_moto(tmp_path: Path) -> None:
    # the forecast demo is a generated FOCUS file: no fake AWS account behind it
    proc = run_without("moto", tmp_path, "forecast", "--demo", "--no-anomalies", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert '"forecasts"' in proc.stdout


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports (absolute), and every string naming one of ours (importlib)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("aifinops_cli.")
        ):
            found.append((node.lineno, node.value))
    return found


def test_production_code_imports_neither_moto_nor_the_demo() -> None:
    # demo/ (with its fakes) sits outside the layers: only the CLI's --demo branches reach into it
    production = [p for p in PACKAGE.rglob("*.py") if "demo" not in p.relative_to(PACKAGE).parts]
    assert len(production) > 50  # the walk found the package, not an empty folder
    moto, demo = [], []
    for path in production:
        where = path.relative_to(PACKAGE).as_posix()
        for line, name in _imports(path):
            if name == "moto" or name.startswith("moto."):
                moto.append(f"{where}:{line}")
            if (
                name == "aifinops_cli.demo" or name.startswith("aifinops_cli.demo.")
            ) and not where.startswith("cli/"):
                demo.append(f"{where}:{line} {name}")
    assert moto == []
    assert demo == []

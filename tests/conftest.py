"""Shared fixtures: a moto server behind a recording proxy, clean AWS env, a CLI runner."""

from __future__ import annotations

import fcntl
import functools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Bytecode caches on, for this process and every one it starts (the xdist workers are started
# after this file is read, the CLI's subprocesses later). Where PYTHONDONTWRITEBYTECODE is set,
# as on some CI images, each of the suite's ~60 processes compiled the package's ~150 modules and
# pytest rewrote the ~120 test files again: collecting took 13.6 s of CPU a worker instead of
# 5.4, and `import aifinops_cli.cli.app` 1.1 s instead of 0.7. The caches land in __pycache__
# folders, which .gitignore leaves out.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

import boto3  # noqa: E402
import pytest  # noqa: E402
import requests  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from aifinops_cli.cli.app import app  # noqa: E402
from aifinops_cli.scanners.aws.common import share_service_models  # noqa: E402

share_service_models()  # this process hosts moto's server (below): its sessions parse each model once
from tests.fakes.aws_proxy import AwsFarEnd  # noqa: E402

# No test's estate uses moto's catalog of ~1,300 Amazon images a region (it changes between moto
# releases, and each image brings a snapshot moto lists whatever OwnerIds says); the demo turns it
# off the same way (demo.aws._DEMO_ENV).
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` starts one worker more than there are cores: a few tests spend seconds waiting
    (a scan deadline, a hanging far end) or on a child process (the session demo), and the
    spare worker fills that time (2 cores: 3 workers, the suite 3:08 -> 2:30 wall).
    PYTEST_XDIST_AUTO_NUM_WORKERS still decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) + 1


# Test modules that scan through google-cloud-compute: one work unit under `--dist loadscope`, so
# one worker imports it (about 4 s of CPU a process: the package's __init__ builds every Compute
# API client and message) instead of every worker. Another module that imports it still works.
GCP_CLIENT_MODULES = (
    "tests/scanners/gcp/",
    "tests/pricing/test_pricing_gcp.py",
    "tests/pricing/test_pricing_readonly.py",
    "tests/core/test_unpriced.py",
    "tests/core/test_unpriced_rank.py",
    "tests/core/test_isolation_runner.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadscope` with the modules above as one scope (pytest-xdist's `loadgroup` would
    say it with marks, but it stopped grouping under pytest 9.2's node ids: pytest-xdist#1386)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduler(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope: str = super()._split_scope(nodeid)
            return "gcp-client" if scope.startswith(GCP_CLIENT_MODULES) else scope

    return Scheduler(config, log)


def _one_command_per_app() -> None:
    """typer's CliRunner turns the app into a click command on every invoke (about 40 ms), and
    that new command builds its parameters' coercers again on its first parse (about as much):
    some 600 invokes in the suite. The app is complete once imported, and `main()` builds its
    command once per process; the tests' invokes now do too, one command per app object."""
    import typer.testing

    build = getattr(typer.testing, "_get_command", None)
    if build is None:  # typer moved it: every invoke builds its own command again, still correct
        return
    typer.testing._get_command = functools.cache(build)  # type: ignore[attr-defined]


def pytest_configure(config: pytest.Config) -> None:
    _one_command_per_app()
    config.addinivalue_line(
        "markers",
        "writes_aws: the test writes to the shared moto estate it "
        "was given (shared_estate), so the next test gets a fresh one",
    )


@pytest.fixture(autouse=True)
def _wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("AIFINOPS_CONFIG", raising=False)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials and nothing from the developer's own AWS setup."""
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # moto's server mishandles gzip-compressed PutMetricData bodies (used only for seeding)
    monkeypatch.setenv("AWS_DISABLE_REQUEST_COMPRESSION", "true")


@pytest.fixture(scope="session")
def _far_end() -> Iterator[AwsFarEnd]:
    with AwsFarEnd() as far_end:
        yield far_end


@dataclass
class _Held:
    """Which shared estate this worker's moto server was last seeded with, and the ids it then
    held (moto's state is per process: a reset, or an in-process `mock_aws` such as the demo's,
    wipes it for every server in the process)."""

    key: str | None = None
    ids: tuple[str, ...] = ()


@pytest.fixture(scope="session")
def _held() -> _Held:
    return _Held()


@functools.cache
def _probe(moto_url: str) -> Any:
    """An EC2 client straight to the moto server (past the recording proxy), made once: botocore
    builds a client's ~600 EC2 methods anew each time, and the probe runs twice a test."""
    return boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _moto_ids(far_end: AwsFarEnd) -> tuple[str, ...]:
    """The instance and volume ids moto's us-east-1 holds now (every shared estate has some)."""
    ec2 = _probe(far_end.moto_url)
    ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    ids += [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]]
    return tuple(sorted(ids))


def _clear_recorder(far_end: AwsFarEnd) -> None:
    far_end.recorder.calls.clear()
    far_end.recorder.faults.clear()
    far_end.recorder.release.clear()  # a hang fault holds again (an earlier test may have let go)


@pytest.fixture
def far_end(_far_end: AwsFarEnd, _held: _Held, aws_env: None, monkeypatch: pytest.MonkeyPatch) -> AwsFarEnd:
    """A reset moto server; botocore reaches it through AWS_ENDPOINT_URL via the proxy."""
    _held.key = None
    requests.post(f"{_far_end.moto_url}/moto-api/reset", timeout=120)
    _clear_recorder(_far_end)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _far_end.url)
    return _far_end


@pytest.fixture
def shared_estate(
    _far_end: AwsFarEnd,
    _held: _Held,
    aws_env: None,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> Callable[..., AwsFarEnd]:
    """`shared_estate(key, seed)`: the moto server holding the estate `seed` builds, seeded once
    per worker and reused by the next test asking for the same key (seeding costs seconds a
    region; a scan only reads, which test_aws_scan and test_aws_ml assert). It is reseeded when
    anything else touched moto since: a `far_end` test, another estate, a module's own reset or
    an in-process demo. A test that writes to AWS is marked `writes_aws` (or its fixture
    passes `writes=True`): it gets the estate as seeded, and the next test a fresh one."""

    def use(key: str, seed: Callable[[], None], writes: bool = False) -> AwsFarEnd:
        monkeypatch.setenv("AWS_ENDPOINT_URL", _far_end.url)
        _clear_recorder(_far_end)  # an earlier test's faults must not meet the probe or the seed
        if _held.key != key or _moto_ids(_far_end) != _held.ids:
            _held.key = None
            requests.post(f"{_far_end.moto_url}/moto-api/reset", timeout=120)
            seed()
            _held.key, _held.ids = key, _moto_ids(_far_end)
        if writes or request.node.get_closest_marker("writes_aws") is not None:
            _held.key = None
        _clear_recorder(_far_end)
        return _far_end

    return use


def _demo_once(root: Path, name: str, *args: str) -> tuple[Path, int, str]:
    """`aifinops -q scan --demo ARGS --output-dir ROOT/NAME` in a process of its own, once per
    test run: under pytest-xdist the first worker to ask runs it and the others wait for its
    files (the workers' temporary folders share a parent). Its folder, exit code and stderr."""
    out, status = root / name, root / f"{name}.status"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not status.exists():
            out.mkdir(exist_ok=True)
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "aifinops_cli",
                    "-q",
                    "scan",
                    "--demo",
                    *args,
                    "--output-dir",
                    str(out),
                ],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "COLUMNS": "200"},
            )
            status.write_text(f"{result.returncode}\n{result.stderr}")
    code, _, stderr = status.read_text().partition("\n")
    return out, int(code), stderr


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`scan --demo` as a user runs it (its own process: moto's in-process state stays out of
    it), once per test run: its JSON, Markdown, CSV, table, HTML and observations reports, which
    tests only read."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out, code, stderr = _demo_once(
        root, "demo-reports", "--format", "json,markdown,csv,table,html,observations"
    )
    assert code == 0, stderr
    return out


@pytest.fixture(scope="session")
def demo_rerun_dir(demo_dir: Path) -> Path:
    """A second `scan --demo` in a process of its own, as a CI job runs it the next time: gated
    (`--fail-on high`) on the first one's JSON report as its baseline. It runs the AWS scanners
    only: moto draws their resources' ids from a seeded random stream, so theirs are the
    fingerprints another process could get wrong. The GCP and Kubernetes fakes serve ids written
    in the estate, and the log and billing findings are named from the files' contents; leaving
    them out saves their client libraries' imports (google-cloud-compute alone is ~2 s of CPU).
    Once per test run, like `demo_dir`; its exit code is in `returncode`."""
    first = json.loads((demo_dir / "aifinops-report.json").read_text())
    aws = [name for name in first["scanners"] if name.split(".")[0] == "aws"]
    baseline = str(demo_dir / "aifinops-report.json")
    scanners = [arg for name in aws for arg in ("--scanner", name)]
    out, code, stderr = _demo_once(
        demo_dir.parent,
        "demo-rerun",
        *scanners,
        "--fail-on",
        "high",
        "--baseline",
        baseline,
        "--format",
        "json",
    )
    assert (out / "aifinops-report.json").exists(), stderr
    (out / "returncode").write_text(str(code))
    return out


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_cli(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_json(runner: CliRunner, *args: str) -> dict[str, Any]:
    result = run_cli(runner, *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def by_rule_and_name(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """A JSON report's findings as {rule id: {resource name: finding}}."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule_id"], {})[f["resource_name"]] = f
    return out


def run_without(module: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`aifinops ARGS` in a child process in which `module` cannot be imported (as on a machine
    where it was never installed), running this checkout's sources (an absolute path: a relative
    PYTHONPATH would not survive the child's cwd)."""
    code = (
        f"import sys; sys.modules[{module!r}] = None; sys.argv[0] = 'aifinops'; "
        "from aifinops_cli.cli.app import main; main()"
    )
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]),
        "NO_COLOR": "1",
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )

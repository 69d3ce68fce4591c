"""Which scanners a scan imports: only the providers in play, plus plugins we cannot place."""

from __future__ import annotations

import subprocess
import sys

from aifinops_cli.core.registry import entry_names, for_providers, load_scanners


def test_provider_filter() -> None:
    wanted = for_providers({"llm", "billing"})
    assert [n for n in entry_names() if wanted(n)] == ["billing", "llm"]
    assert wanted("acme.mainframe")  # a third-party provider: loaded and asked
    assert not wanted("aws.ec2") and not wanted("k8s.gpu")
    assert set(load_scanners(wanted)) == {"billing", "llm"}


def test_llm_scan_does_not_import_cloud_clients(tmp_path) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text('{"timestamp": "2026-11-01T00:00:00Z", "provider": "openai", "model": "gpt-4o-mini", '
                   '"input_tokens": 10, "output_tokens": 5}\n', encoding="utf-8")
    code = ("import sys\nfrom aifinops_cli.cli.app import main\n"
            f"sys.argv = ['aifinops', '-q', 'scan', '--llm-logs', {str(log)!r}, '--format', 'json', "
            f"'--output', {str(tmp_path / 'r.json')!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "clients = ('boto3', 'kubernetes', 'google.cloud.compute_v1')\n"
            "print(sorted(m for m in clients if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "r.json").exists()

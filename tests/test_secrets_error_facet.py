"""The provider's own errorMessage facet (Airflow FAIL events) is redacted by the signing transport (#11 item 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from openlineage.client.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run

from provlineage.keys import write_key_pair
from provlineage.transport import SigningTransport
from provlineage.transport.config import SigningConfig

CLI = [sys.executable, "-c", "from provlineage.cli import main; main()"]
PASSWORD = "Pr0d-S3cret-pw"


def test_a_password_in_a_foreign_error_facet_never_reaches_the_signed_log(tmp_path: Path) -> None:
    keys = write_key_pair(tmp_path / "keys", "ed25519")
    log = tmp_path / "lineage.jsonl"
    config = {
        "private_key": str(keys.private_key),
        "state_dir": str(tmp_path / "state"),
        "strict": True,
        "transport": {"type": "provlineage.transport.FileLogTransport", "path": str(log)},
    }
    client = OpenLineageClient(transport=SigningTransport(SigningConfig.from_dict(config)))
    trace = (
        "Traceback (most recent call last):\n"
        f'  File "dag.py", line 3, in load\n    connect("postgresql://etl:{PASSWORD}@db:5432/prod")\n'
        f"OperationalError: could not connect to postgresql://etl:{PASSWORD}@db:5432/prod"
    )
    client.emit(
        RunEvent(
            eventType=RunState.FAIL,
            eventTime="2026-11-30T10:00:00Z",
            run=Run(
                runId="01900000-0000-7000-8000-000000000001",
                facets={
                    "errorMessage": error_message_run.ErrorMessageRunFacet(
                        message=f"connect to postgresql://etl:{PASSWORD}@db:5432/prod failed",
                        programmingLanguage="python",
                        stackTrace=trace,
                    )
                },
            ),
            job=Job(namespace="airflow", name="etl.load"),
            producer="https://github.com/apache/airflow/tree/providers-openlineage/2.20.3",
        )
    )
    text = log.read_text()
    assert PASSWORD not in text
    assert "postgresql://etl:***@db:5432/prod" in text  # only the secret part goes; the rest stays readable
    verified = subprocess.run(
        [*CLI, "verify", str(log), "--public-key", str(keys.public_key)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

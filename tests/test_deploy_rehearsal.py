"""The offline deploy rehearsal (infra/rehearse.py) passes.

It builds the deploy virtualenv from requirements.txt (reused while that is
unchanged), packages the `rehearsal` stage, deploys infra/myblog.yaml and the
stage to moto server, checks what AWS would have and runs the packaged
function on a real-shaped API Gateway event. Deselect with
`-m "not deploy_rehearsal"`; CI runs it.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.deploy_rehearsal
def test_deploy_rehearsal_passes():
    result = subprocess.run(
        [sys.executable, str(REPO / "infra" / "rehearse.py")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("rehearsal: ") and " 0 failed" in summary, summary
    for expected in (
        "zappa deploy rehearsal",
        "zappa update rehearsal",
        "filter prefix media/originals/",
        "stream mapping: StartingPosition TRIM_HORIZON",
        "schedule rule: rate(5 minutes)",
        "under 15 MB",
        "GET https://",
    ):
        assert any(line.startswith("[ ok ]") and expected in line for line in output.splitlines()), expected

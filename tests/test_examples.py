import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def test_lecture_example_runs_and_prints_the_lecture_numbers():
    script = EXAMPLES / "lecture_in_ten_lines.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert "-126.78690966" in out.stdout and "-3208.83947888" in out.stdout
    assert "grid search: 1.9191919191919187" in out.stdout
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.startswith("lr=")}
    assert "diverged" in lines["lr=5"] and "converged" in lines["lr=2"]
    assert "max_steps" in lines["lr=4"] and "max_steps" in lines["lr=0.001667"]

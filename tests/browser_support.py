"""What the real-browser tests share beyond the studio launcher: the artifacts folder, the page wait and a tiny model.

The ``streamlit run app.py`` launcher and the Chromium path live in :mod:`bench.studio_server`
(the Generate-page benchmark uses them too; tests may import bench, bench never imports tests).
Modules that drive a browser skip themselves when Chromium is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PAGE_S = 45  # longest wait for one page to render (the first Generate run loads the model)

sys.path.insert(0, str(ROOT / "scripts"))


def tiny_output_dir(out: Path) -> Path:
    """Make ``out`` an output folder whose active model is a tiny random-weight model; returns ``out``."""
    from tests.tiny_models import saved_tiny_model

    folder = saved_tiny_model(out / "runs" / "tiny", end_bias=-3.0)
    (out / "active_model.txt").write_text(str(folder.resolve()), encoding="utf-8")
    return out

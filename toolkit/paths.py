"""Where the project's non-Python files live."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
REFERENCE_MODELS = ROOT.parent / "shared" / "reference" / "models"

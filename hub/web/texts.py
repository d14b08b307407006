"""The web UI's Danish texts (``da.yaml``), loaded once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEXTS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent / "da.yaml").read_text(encoding="utf-8"))

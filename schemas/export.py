"""Write the JSON Schema files under ``schemas/json``. ``python -m schemas.export``."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.concerns import RoutedConcern
from schemas.disclosures import Checkpoint, LogEntry
from schemas.events import CanonicalEvent
from schemas.outcomes import EventOutcome

JSON_DIR = Path(__file__).resolve().parent / "json"
MODELS: dict[str, type[BaseModel]] = {
    "canonical-event.v1.json": CanonicalEvent,
    "routed-concern.v1.json": RoutedConcern,
    "event-outcome.v1.json": EventOutcome,
    "disclosure-log-entry.v1.json": LogEntry,
    "disclosure-log-checkpoint.v1.json": Checkpoint,
}


def render(model: type[BaseModel]) -> str:
    schema = model.model_json_schema(by_alias=True)
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    JSON_DIR.mkdir(exist_ok=True)
    for name, model in MODELS.items():
        (JSON_DIR / name).write_text(render(model), encoding="utf-8")


if __name__ == "__main__":
    main()

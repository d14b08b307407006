"""The recognizer protocol.

The pattern and identifier recognizers themselves (CPR, phone, e-mail, handle, address, plate,
date of birth, case number, account, IP, link, id number, street + house number) are compiled
Rust: :mod:`.compiled` and the extension in ``native/`` (one source of truth for their
patterns, gates and validations). A recognizer a caller writes in Python (the ``Recognizer``
protocol below) runs next to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class Recognizer(Protocol):
    """A detector: ``kind`` names what it finds; ``find`` yields ``(start, end)`` offsets;
    ``detector`` (a short id) and ``reason`` (a sentence for a data-protection officer, never
    the value) explain each finding."""

    @property
    def kind(self) -> str: ...

    @property
    def detector(self) -> str: ...

    @property
    def reason(self) -> str: ...

    def find(self, text: str) -> Iterator[tuple[int, int]]: ...

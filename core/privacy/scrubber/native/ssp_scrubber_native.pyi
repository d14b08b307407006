"""The scrubber's pattern and identifier recognizers, compiled (Rust, pyo3)."""

from collections.abc import Callable

class Recognizers:
    """All thirteen recognizers; immutable, shareable between threads."""

    def __init__(
        self, iban_valid: Callable[[str], bool], common_word: Callable[[str], bool]
    ) -> None: ...
    def find_all(self, text: str, year: int) -> list[tuple[int, int, int]]:
        """``(recognizer index, start, end)`` of every finding, offsets in code points."""
    def find(self, index: int, text: str, year: int) -> list[tuple[int, int]]:
        """``(start, end)`` of one recognizer's findings."""

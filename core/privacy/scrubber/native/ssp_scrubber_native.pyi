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

class Names:
    """The name recognizer's per-text rules; Python answers what a token is (once per
    distinct token, the answers kept)."""

    def __init__(
        self,
        words: dict[str, frozenset[str]],
        flat: dict[str, str],
        cue_keywords: list[str],
        token_info: Callable[[str], object],
        spellings: Callable[[str], tuple[str, tuple[str, ...], bool]],
        place_like: Callable[[str], bool],
        is_place: Callable[[str], bool],
    ) -> None: ...
    def find(self, text: str, known_names: list[str]) -> list[tuple[int, int, int, int]]:
        """``(start, end, person, why)`` of every name, offsets in code points."""

"""The values the scrubber returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Finding kinds, in the order a conflict is settled: when two findings overlap, the kind
# earlier here wins (an e-mail address beats the name inside it, an address beats the surname
# in "H.C. Andersens Boulevard", a CPR number beats the date of birth inside it, a case number
# beats the date-like "27.24.00" inside it, a link beats the handle inside it, a labelled
# "kørekort 12345678" is an id, not a phone; "12.34.56.78" is a phone number, not an IP).
KINDS = (
    "cpr", "dob", "case_number", "email", "url", "account", "id", "handle", "phone", "ip",
    "plate", "address", "name",
)

PLACEHOLDERS = {
    "cpr": "[CPR]",
    "phone": "[TELEFON]",
    "email": "[EMAIL]",
    "handle": "[HANDLE]",
    "address": "[ADRESSE]",
    "plate": "[NUMMERPLADE]",
    "dob": "[FØDSELSDATO]",
    "case_number": "[SAGSNUMMER]",
    "account": "[KONTONUMMER]",
    "ip": "[IP-ADRESSE]",
    "url": "[LINK]",
    "id": "[ID-NUMMER]",
}


class Finding(NamedTuple):
    """One identifier found: its kind and its offsets ``[start, end)`` into the *input* text.

    A NamedTuple (immutable, the same fields as before): built about three times faster than
    a frozen dataclass, and a scrub builds one per finding."""

    kind: str
    start: int
    end: int
    # Which detector found it and why, in words a data-protection officer can read
    # ("cpr: ten digits whose first six are a valid date"). Never the value itself.
    detector: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """The scrubbed text and what was removed (offsets into the input; never the values)."""

    text: str
    findings: list[Finding] = field(default_factory=list)

    def __repr__(self) -> str:  # the text is already scrubbed, but keep reprs short in logs
        return f"ScrubResult(findings={len(self.findings)})"

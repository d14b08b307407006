"""``ssp-hub audit subject-access CPR --out FILE``: a citizen's access answer, in Danish."""

from __future__ import annotations


def subject_access() -> None:
    """Placeholder until implemented."""
    raise NotImplementedError

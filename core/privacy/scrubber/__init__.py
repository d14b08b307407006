"""Danish free-text scrubbing: identifiers out, typed placeholders in (issue 3, section 4).

    from core.privacy.scrubber import Scrubber, ScrubResult, Finding

A presidio-style registry of small recognizers (:mod:`.compiled` for CPR, phone, e-mail,
handle, address, plate and the other identifiers, compiled Rust in ``native/``; :mod:`.names`
for persons, its per-text rules compiled too (``native/src/names.rs``), backed by the gazetteer in
:mod:`.gazetteer` and ``data/``), one conflict-resolution step and one rendering step
(:mod:`.scrubber`). No network, no model download, no Faker at run time.
"""

from core.privacy.scrubber.model import Finding, ScrubResult
from core.privacy.scrubber.scrubber import Scrubber

__all__ = ["Finding", "ScrubResult", "Scrubber"]

"""Social services (the case system, "fagsystemet"): an XML export of concern notes.

::

    <?xml version="1.0" encoding="UTF-8"?>
    <bekymringer>
      <bekymring id="BF-2026-000412">
        <sagsbehandlerenhed>Børn og Familie, Familieafdelingen</sagsbehandlerenhed>
        <barn cpr="…" navn="…" adresse="…"/>
        <relaterede><person rolle="mor" cpr="…" navn="…"/></relaterede>
        <kategori>gruppekonflikt</kategori> <omraade>stege</omraade> <alvor>middel</alvor>
        <beskrivelse>…</beskrivelse> <noedvendighed>…</noedvendighed>
        <samtykke>givet</samtykke> <tidspunkt>2026-03-02T14:05:00+01:00</tidspunkt>
      </bekymring>
    </bekymringer>

Each ``<bekymring>`` becomes a ``concern``; ``line`` is its 1-based index among the root's
child elements. Field by field: ``connectors/README.md``.

**Untrusted XML.** A document type declaration is refused before anything is expanded: no
internal entities (billion laughs, quadratic blow-up), no external entities (file or network
reads). ``defusedxml`` parses (``forbid_dtd=True``), and a textual pre-check refuses
``<!DOCTYPE`` and ``<!ENTITY`` first with a precise reason; it alone would miss a UTF-16
document, defusedxml does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar, Literal
from xml.etree import ElementTree as ET  # only fed through the guarded parser below
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from connectors.base import (
    RECORD,
    Bad,
    BadFile,
    Connector,
    Refused,
    Result,
    area,
    category,
    consent,
    ident,
    need,
    need_cpr,
    role,
    severity,
    text,
    timestamp,
    validate,
)
from connectors.base import (
    cpr as opt_cpr,
)
from schemas.events import Agency, CanonicalEvent, Kind

SYSTEM = "fagsystem"
ROOT = "bekymringer"
RECORD_TAG = "bekymring"
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
DTD_REFUSED = "a DOCTYPE or ENTITY declaration is not allowed (not expanded, not read)"


def parse_xml(data: bytes) -> ET.Element:
    """Parse untrusted XML or raise :class:`BadFile` (never expanding an entity)."""
    if _DTD.search(data):
        # Refuse a DTD before any parser sees it: entity expansion attacks need one.
        raise BadFile(DTD_REFUSED)
    if not data.strip():
        raise BadFile("the file is empty")
    try:
        root: ET.Element = defused_fromstring(data, forbid_dtd=True, forbid_entities=True,
                                              forbid_external=True)
    except DefusedXmlException:
        # A DTD the text check missed (another encoding, e.g. UTF-16): refused, not read.
        raise BadFile(DTD_REFUSED) from None
    except (expat.ExpatError, ET.ParseError, ValueError):
        raise BadFile("not well-formed XML") from None
    return root


@dataclass(frozen=True)
class SocialConcern(Connector):
    """``social-concern``: the case system's XML export of concern notes → ``concern`` events.
    ``line`` is the 1-based index of the record among the root's child elements."""

    name: ClassVar[str] = "social-concern"
    agency: ClassVar[Agency] = Agency.social
    media_type: ClassVar[str] = "application/xml"
    system: ClassVar[str] = SYSTEM
    numbering: ClassVar[Literal["line", "record"]] = "record"

    def _results(self, data: bytes) -> Iterator[Result]:
        root = parse_xml(data)
        if root.tag != ROOT:
            raise BadFile(f"the root element is not <{ROOT}>")
        for index, element in enumerate(root, start=1):
            if element.tag != RECORD_TAG:
                yield Refused(index, RECORD, f"not a <{RECORD_TAG}> element")
                continue
            yield self._one(index, partial(self._concern, element))

    def _concern(self, el: ET.Element) -> CanonicalEvent:
        record_id = ident(el.get("id"), "@id")
        unit = need(_text(el, "sagsbehandlerenhed"), "sagsbehandlerenhed")
        child = el.find("barn")
        if child is None:
            raise Bad("barn", "missing")
        subject_cpr = need_cpr(child.get("cpr"), "barn/@cpr")
        subject = {
            "cpr": subject_cpr,
            "name": text(child.get("navn"), "barn/@navn", required=False),
            "address": text(child.get("adresse"), "barn/@adresse", required=False),
        }
        where = dict(_WHERE)
        related = _related(el.find("relaterede"), where)
        cat = category(need(_text(el, "kategori"), "kategori"), "kategori")
        where_area = area(need(_text(el, "omraade"), "omraade"), "omraade")
        sev = severity(need(_text(el, "alvor"), "alvor"), "alvor")
        description = text(_text(el, "beskrivelse"), "beskrivelse", required=False) or ""
        necessity = text(_text(el, "noedvendighed"), "noedvendighed", required=False) or ""
        agreed = consent(need(_text(el, "samtykke"), "samtykke"), "samtykke")
        when = timestamp(_text(el, "tidspunkt"), "tidspunkt")
        payload = self.envelope(record_id, occurred_at=when, unit=unit, subject=subject) | {
            "kind": Kind.concern,
            "related_persons": related,
            "category": cat,
            "area": where_area,
            "severity": sev,
            "description": description,
            "consent": agreed,
            "necessity": necessity,
        }
        return validate(payload, where)


_WHERE = {
    "source.unit": "sagsbehandlerenhed", "subject.cpr": "barn/@cpr", "subject.name": "barn/@navn",
    "subject.address": "barn/@adresse", "related_persons": "relaterede", "category": "kategori",
    "area": "omraade", "severity": "alvor", "description": "beskrivelse",
    "necessity": "noedvendighed", "consent": "samtykke", "occurred_at": "tidspunkt",
}


def _text(el: ET.Element, tag: str) -> str | None:
    """The text of the first child ``tag`` (its own text and that of any nested markup)."""
    child = el.find(tag)
    return None if child is None else "".join(child.itertext())


def _related(el: ET.Element | None, where: dict[str, str]) -> list[dict[str, Any]]:
    """``<relaterede><person rolle cpr navn/>…``; refusals say ``relaterede/person[n]/@felt``."""
    if el is None:
        return []
    out = []
    for n, person in enumerate(el.findall("person"), start=1):
        at = f"relaterede/person[{n}]"
        for src, dst in (("rolle", "role"), ("cpr", "cpr"), ("navn", "name")):
            where[f"related_persons.{n - 1}.{dst}"] = f"{at}/@{src}"
        out.append({
            "role": role(need(person.get("rolle"), f"{at}/@rolle"), f"{at}/@rolle"),
            "cpr": opt_cpr(person.get("cpr"), f"{at}/@cpr", required=False),
            "name": text(person.get("navn"), f"{at}/@navn", required=False),
        })
    return out

"""Police (døgnrapport): JSON Lines, one døgnrapport entry per line.

Two kinds of entry, told apart by ``type``::

    {"journalnr": "0500-80731-00412-26", "type": "haendelse", "tidspunkt": "…",
     "person": {"cpr": "…", "navn": "…"}, "kategori": "gruppekonflikt", "sted": "Stege Havn",
     "omraade": "stege", "alvor": "middel", "beskrivelse": "…", "noedvendighed": "…"}
    {"journalnr": "0500-80731-00415-26", "type": "registrering", "tidspunkt": "…",
     "person": {"cpr": "…", "navn": "…"}, "sted": "Stege Havn", "omraade": "stege"}

``haendelse`` (an incident about a named young person) becomes a ``concern``;
``registrering`` (a named young person registered in a place) becomes a
``police_registration`` *signal* that the hub counts per area and never forwards as such.
``line`` is the physical line in the file. Field by field: ``connectors/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Literal

from connectors.base import (
    NOT_TEXT_FILE,
    Bad,
    BadFile,
    Connector,
    Refused,
    Result,
    area,
    category,
    consent,
    fold,
    ident,
    need,
    need_cpr,
    severity,
    text,
    timestamp,
    validate,
)
from schemas.events import Agency, CanonicalEvent, Category, Consent, Kind, Severity

SYSTEM = "døgnrapport"
DEFAULT_UNIT = "Sydsjællands og Lolland-Falsters Politi"
INCIDENT = "haendelse"
REGISTRATION = "registrering"

# The sender's necessity statement for a registration that carries none of its own.
REGISTRATION_NECESSITY = (
    "Politiets registrering af en navngiven ung på et bestemt sted, videregivet efter "
    "retsplejelovens § 115, stk. 1, som signal. Hubben tæller registreringerne pr. område og "
    "sender kun en samlet bekymring uden personoplysninger til SSP-beredskabet og det "
    "opsøgende arbejde, når politikkens grænse er nået; den enkelte registrering videregives "
    "ikke."
)


@dataclass(frozen=True)
class PoliceDoegnrapport(Connector):
    """``police-doegnrapport``: døgnrapport entries (JSON Lines) → ``concern`` (haendelse) or
    ``police_registration`` (registrering). ``line`` is the physical line, 1-based."""

    name: ClassVar[str] = "police-doegnrapport"
    agency: ClassVar[Agency] = Agency.police
    media_type: ClassVar[str] = "application/x-ndjson"
    system: ClassVar[str] = SYSTEM
    numbering: ClassVar[Literal["line", "record"]] = "line"

    # source.unit when an entry names no `enhed`
    default_unit: str = field(default=DEFAULT_UNIT)

    def _results(self, data: bytes) -> Iterator[Result]:
        data = data.removeprefix(b"\xef\xbb\xbf")
        if not data.strip():
            raise BadFile("the file is empty")
        if b"\x00" in data:  # JSON text never holds a raw NUL: this is no døgnrapport
            raise BadFile(NOT_TEXT_FILE)
        # Line by line, bytes first: one damaged line (bad UTF-8, cut-off JSON) refuses that
        # line only. A lone \r before \n (Windows) is whitespace to the JSON parser.
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                entry = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                yield Refused(number, "<line>", "not UTF-8 text")
                continue
            except (ValueError, RecursionError):
                yield Refused(number, "<line>", "not valid JSON")
                continue
            if not isinstance(entry, dict):
                yield Refused(number, "<line>", "not a JSON object")
                continue
            yield self._one(number, partial(self._entry, entry))

    def _entry(self, entry: dict[str, Any]) -> CanonicalEvent:
        journal = ident(entry.get("journalnr"), "journalnr")
        kind = fold(need(entry.get("type"), "type"))
        if kind not in (INCIDENT, REGISTRATION):
            raise Bad("type", f"unknown value (expected {INCIDENT} or {REGISTRATION})")
        when = timestamp(entry.get("tidspunkt"), "tidspunkt")
        person = entry.get("person")
        if person is None:
            raise Bad("person", "missing")
        if not isinstance(person, dict):
            raise Bad("person", "not a JSON object")
        young = need_cpr(person.get("cpr"), "person.cpr")
        name = text(person.get("navn"), "person.navn", required=False)
        unit = text(entry.get("enhed"), "enhed", required=False) or self.default_unit
        place = text(entry.get("sted"), "sted", required=kind == REGISTRATION)
        where_area = area(need(entry.get("omraade"), "omraade"), "omraade")
        # Several young people can share a case: the entry is the case and the person.
        payload = self.envelope(journal, kind, young, occurred_at=when, unit=unit,
                                subject={"cpr": young, "name": name}) | {"area": where_area}
        description = text(entry.get("beskrivelse"), "beskrivelse", required=False) or ""
        necessity = text(entry.get("noedvendighed"), "noedvendighed", required=False)
        samtykke = text(entry.get("samtykke"), "samtykke", required=False)
        agreed = consent(samtykke, "samtykke") if samtykke else Consent.not_sought
        if kind == INCIDENT:
            payload |= {
                "kind": Kind.concern,
                "category": category(need(entry.get("kategori"), "kategori"), "kategori"),
                "severity": severity(need(entry.get("alvor"), "alvor"), "alvor"),
                # the canonical concern has no place field; the place stays in the text
                "description": f"Sted: {place}. {description}".strip() if place else description,
                "necessity": necessity or "",
                "consent": agreed,
            }
        else:
            payload |= {
                "kind": Kind.police_registration,
                "category": Category.insecurity,
                "severity": Severity.low,
                "description": description,
                "necessity": necessity or REGISTRATION_NECESSITY,
                "consent": agreed,
                "registration": {"place": place},
            }
        return validate(payload, _WHERE)


_WHERE = {
    "source.unit": "enhed", "subject.cpr": "person.cpr", "subject.name": "person.navn",
    "occurred_at": "tidspunkt", "category": "kategori", "severity": "alvor", "area": "omraade",
    "description": "beskrivelse", "necessity": "noedvendighed", "consent": "samtykke",
    "registration.place": "sted",
}

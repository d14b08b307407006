"""Social services connector (issue 5 §1): the case system's XML export of concern notes,
mapped to canonical events v1; untrusted XML is never expanded. Real parsing, no mocks."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

import connectors
from connectors.base import NOT_CPR, Mapped, Refused, Result
from connectors.social import DTD_REFUSED, SocialConcern
from schemas.events import Agency, Area, Category, Collaboration, Consent, Kind, Severity

SAMPLES = Path(connectors.__file__).parent / "samples"
SOCIAL = SocialConcern()
SAMPLE = (SAMPLES / "socialforvaltning-bekymringer.xml").read_bytes()
CHILD = "1703094327"  # born 2009-03-17
CHILD_NAME = "Jonas Winther Hansen"
ADDRESS = "Storegade 41, 4780 Stege"


def mapped(results: list[Result]) -> list[Mapped]:
    return [r for r in results if isinstance(r, Mapped)]


def refused(results: list[Result]) -> list[Refused]:
    return [r for r in results if isinstance(r, Refused)]


def record(*, id_: str | None = "BF-1", unit: str | None = "Børn og Familie, Ungeenheden",
           barn: str | None = f'<barn cpr="{CHILD}" navn="{CHILD_NAME}" adresse="{ADDRESS}"/>',
           related: str = '<relaterede><person rolle="far" cpr="1109791383" '
                          'navn="Jesper Winther Hansen"/></relaterede>',
           kategori: str | None = "gruppekonflikt", omraade: str | None = "stege",
           alvor: str | None = "middel", beskrivelse: str | None = "Konflikt ved havnen.",
           noedvendighed: str | None = "SSP-beredskabet skal have det samlede billede.",
           samtykke: str | None = "søgt",
           tidspunkt: str | None = "2026-03-05T13:00:00+01:00") -> str:
    def el(tag: str, value: str | None) -> str:
        return "" if value is None else f"<{tag}>{value}</{tag}>"

    attr = "" if id_ is None else f' id="{id_}"'
    return (f"<bekymring{attr}>{el('sagsbehandlerenhed', unit)}{barn or ''}{related}"
            f"{el('kategori', kategori)}{el('omraade', omraade)}{el('alvor', alvor)}"
            f"{el('beskrivelse', beskrivelse)}{el('noedvendighed', noedvendighed)}"
            f"{el('samtykke', samtykke)}{el('tidspunkt', tidspunkt)}</bekymring>")


def doc(*records: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<bekymringer>'
            + "".join(records) + "</bekymringer>\n").encode("utf-8")


def one(results: list[Result]) -> Result:
    assert len(results) == 1, results
    return results[0]


# -- the sample export ---------------------------------------------------------------------

SAMPLE_REFUSALS = [
    (5, "barn/@cpr", "0113104422"),
    (6, "kategori", "omsorgssvigt"),
    (7, "tidspunkt", None),
    (8, "relaterede/person[2]/@rolle", "nabo"),
]


def test_sample_maps_5_and_refuses_4() -> None:
    results = SOCIAL.parse(SAMPLE)
    assert Counter(type(r).__name__ for r in results) == {"Mapped": 5, "Refused": 4}
    assert [(r.line, r.field) for r in refused(results)] == [
        (line, fld) for line, fld, _ in SAMPLE_REFUSALS]
    assert [m.line for m in mapped(results)] == [1, 2, 3, 4, 9]


@pytest.mark.parametrize(("index", "fld", "value"), SAMPLE_REFUSALS)
def test_sample_refusals_echo_nothing(index: int, fld: str, value: str | None) -> None:
    from xml.etree import ElementTree as ET  # the sample is our own, trusted file

    element = list(ET.fromstring(SAMPLE))[index - 1]  # noqa: S314
    barn = element.find("barn")
    assert barn is not None
    [refusal] = [r for r in refused(SOCIAL.parse(SAMPLE)) if r.line == index]
    assert refusal.field == fld
    for secret in (barn.get("cpr"), barn.get("navn"), barn.get("adresse"), element.get("id"),
                   value or barn.get("cpr"), "Frandsen"):
        assert secret
        assert secret not in refusal.reason


def test_sample_links_to_the_school_and_the_police_by_cpr() -> None:
    """The same young people appear in all three agencies' samples (the joint view)."""
    cprs = {m.event.subject.cpr for m in mapped(SOCIAL.parse(SAMPLE))}
    assert {"1506124285", "1110129824", "1408069265"} <= cprs


def test_record_maps_field_by_field() -> None:
    result = one(SOCIAL.parse(doc(record())))
    assert isinstance(result, Mapped)
    assert result.line == 1
    e = result.event
    assert e.kind is Kind.concern
    assert e.source.model_dump() == {"agency": Agency.social, "system": "fagsystem",
                                     "unit": "Børn og Familie, Ungeenheden"}
    assert (e.subject.cpr, e.subject.name, e.subject.address) == (CHILD, CHILD_NAME, ADDRESS)
    assert [(p.role, p.cpr, p.name) for p in e.related_persons] == [
        ("father", "1109791383", "Jesper Winther Hansen")]
    assert (e.category, e.area, e.severity, e.consent) == (
        Category.group_conflict, Area.stege, Severity.medium, Consent.sought)
    assert e.collaboration is Collaboration.SSP
    assert e.description == "Konflikt ved havnen."
    assert e.necessity == "SSP-beredskabet skal have det samlede billede."
    assert e.occurred_at.isoformat() == "2026-03-05T13:00:00+01:00"


@pytest.mark.parametrize(("danish", "role"), [
    ("mor", "mother"), ("far", "father"), ("værge", "guardian"), ("søskende", "sibling"),
    ("bror", "brother"), ("søster", "sister"), ("plejemor", "foster_mother"),
    ("plejefar", "foster_father"), ("stedfar", "stepfather"), ("bedstemor", "grandmother"),
    ("kontaktperson", "contact_person"), ("Mor", "mother"), ("vaerge", "guardian"),
])
def test_danish_roles(danish: str, role: str) -> None:
    result = one(SOCIAL.parse(doc(record(
        related=f'<relaterede><person rolle="{danish}" navn="X Y"/></relaterede>'))))
    assert isinstance(result, Mapped)
    assert [p.role for p in result.event.related_persons] == [role]


@pytest.mark.parametrize(("danish", "area"), [
    ("præstø", Area.praestoe), ("Præstø", Area.praestoe), ("praestoe", Area.praestoe),
    ("stege", Area.stege), ("Vordingborg", Area.vordingborg), ("andet", Area.other),
])
def test_danish_areas(danish: str, area: Area) -> None:
    result = one(SOCIAL.parse(doc(record(omraade=danish))))
    assert isinstance(result, Mapped)
    assert result.event.area is area


def test_nested_markup_and_entities_of_xml_itself_are_text() -> None:
    result = one(SOCIAL.parse(doc(record(beskrivelse="Slag &amp; spark <b>ved</b> havnen"))))
    assert isinstance(result, Mapped)
    assert result.event.description == "Slag & spark ved havnen"


def test_a_young_adult_is_ssp_plus() -> None:
    result = one(SOCIAL.parse(doc(record(
        barn='<barn cpr="1408069265" navn="Mikkel Aagaard Olsen"/>', related=""))))
    assert isinstance(result, Mapped)
    assert result.event.collaboration is Collaboration.SSP_PLUS
    assert result.event.subject.address is None
    assert result.event.related_persons == []


@pytest.mark.parametrize(("overrides", "fld", "reason"), [
    ({"id_": None}, "@id", "missing"),
    ({"unit": None}, "sagsbehandlerenhed", "missing"),
    ({"unit": "  "}, "sagsbehandlerenhed", "missing"),
    ({"barn": None}, "barn", "missing"),
    ({"barn": f'<barn navn="{CHILD_NAME}"/>'}, "barn/@cpr", "missing"),
    ({"barn": f'<barn cpr="1713094327" navn="{CHILD_NAME}"/>'}, "barn/@cpr", NOT_CPR),
    ({"related": '<relaterede><person rolle="far" cpr="1109791384x"/></relaterede>'},
     "relaterede/person[1]/@cpr", NOT_CPR),
    ({"related": '<relaterede><person cpr="1109791383"/></relaterede>'},
     "relaterede/person[1]/@rolle", "missing"),
    ({"kategori": "omsorgssvigt"}, "kategori", None),
    ({"omraade": "Nykøbing F"}, "omraade", None),
    ({"omraade": None}, "omraade", "missing"),
    ({"alvor": "alvorlig"}, "alvor", None),
    ({"samtykke": None}, "samtykke", "missing"),
    ({"tidspunkt": "5. marts 2026"}, "tidspunkt", None),
    ({"tidspunkt": "2008-01-01T10:00:00+01:00"}, "tidspunkt",
     "lies before the birth date given by barn/@cpr"),
    ({"unit": "x" * 201}, "sagsbehandlerenhed", None),
])
def test_refusals_name_the_source_field(overrides: dict[str, str | None], fld: str,
                                        reason: str | None) -> None:
    result = one(SOCIAL.parse(doc(record(**overrides))))  # type: ignore[arg-type]
    assert isinstance(result, Refused), result
    assert (result.line, result.field) == (1, fld)
    if reason is not None:
        assert result.reason == reason
    for secret in (CHILD, CHILD_NAME, "Storegade", "1109791383", "omsorgssvigt", "Nykøbing",
                   "alvorlig", "marts", "BF-1", "xxxxxxxxxx"):
        assert secret not in result.reason


def test_records_are_numbered_among_the_root_children() -> None:
    data = doc(record(id_="BF-1"), "<kommentar>eksport ok</kommentar>", record(id_="BF-2"),
               record(id_="BF-3", kategori="omsorgssvigt"))
    results = SOCIAL.parse(data)
    assert [(r.line, type(r).__name__) for r in results] == [
        (1, "Mapped"), (2, "Refused"), (3, "Mapped"), (4, "Refused")]
    assert results[1] == Refused(2, "<record>", "not a <bekymring> element")


def test_ids_follow_the_record_id() -> None:
    first = [m.event.event_id for m in mapped(SOCIAL.parse(SAMPLE))]
    assert first == [m.event.event_id for m in mapped(SOCIAL.parse(SAMPLE))]
    assert len(set(first)) == len(first)
    a = one(SOCIAL.parse(doc(record(id_="BF-9"))))
    a_again = one(SOCIAL.parse(doc(record(id_="BF-9", alvor="høj"))))
    b = one(SOCIAL.parse(doc(record(id_="BF-10"))))
    assert isinstance(a, Mapped)
    assert isinstance(a_again, Mapped)
    assert isinstance(b, Mapped)
    assert a.event.event_id == a_again.event.event_id != b.event.event_id


# -- untrusted XML -----------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bekymringer><bekymring id="&lol9;"><beskrivelse>&lol9;</beskrivelse></bekymring></bekymringer>
"""
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<bekymringer><bekymring id="1"><beskrivelse>&x;</beskrivelse></bekymring>'
            b'</bekymringer>')


@pytest.mark.parametrize("data", [
    BILLION_LAUGHS,
    EXTERNAL,
    b'<!doctype bekymringer SYSTEM "http://example.invalid/x.dtd"><bekymringer/>',
    b"<!DOCTYPE bekymringer><bekymringer/>",
    # UTF-16: the bytes hold no '<!DOCTYPE', so only the parser's own DTD hook can catch it
    BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>'
                           ).decode().encode("utf-16"),
    EXTERNAL.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>'
                     ).decode().encode("utf-16"),
], ids=["billion-laughs", "external-entity", "external-dtd", "empty-doctype",
        "billion-laughs-utf16", "external-entity-utf16"])
def test_a_dtd_is_refused_without_expanding_or_reading_anything(data: bytes) -> None:
    started = time.perf_counter()
    results = SOCIAL.parse(data)
    assert results == [Refused(0, "<file>", DTD_REFUSED)]
    assert time.perf_counter() - started < 1.0


def test_an_undeclared_entity_is_not_well_formed() -> None:
    assert SOCIAL.parse(b"<bekymringer>&lol9;</bekymringer>") == [
        Refused(0, "<file>", "not well-formed XML")]


@pytest.mark.parametrize(("data", "reason"), [
    (b"", "the file is empty"),
    (b"  \n", "the file is empty"),
    (b"<bekymringer><bekymring>", "not well-formed XML"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not well-formed XML"),
    (b'[{"notat_id": "BN-1"}]', "not well-formed XML"),
    (b"elev_cpr;elev_navn\n0104124117;Oliver", "not well-formed XML"),
    (b"<notater><bekymring/></notater>", "the root element is not <bekymringer>"),
])
def test_files_that_are_not_a_social_export(data: bytes, reason: str) -> None:
    assert SOCIAL.parse(data) == [Refused(0, "<file>", reason)]


def test_an_empty_export_has_no_records_and_a_bom_or_latin1_declaration_is_fine() -> None:
    assert SOCIAL.parse(b"<bekymringer/>") == []
    assert len(mapped(SOCIAL.parse(b"\xef\xbb\xbf" + doc(record())))) == 1
    latin1 = doc(record()).decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    result = one(SOCIAL.parse(latin1.encode("latin-1")))
    assert isinstance(result, Mapped)
    assert result.event.source.unit == "Børn og Familie, Ungeenheden"

"""Sample events for ``ssp-hub demo``.

Every person, CPR number, address and case note in this module is fictional. The names of
schools, units and towns follow Vordingborg Kommune's SSP action plan so the demo looks
familiar, but no event describes a real young person or a real case.

The data is deterministic: event ids are derived with ``uuid.uuid5`` from a fixed namespace
and the event's index, so the same demo data (and the same idempotency keys) appear on every
run.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Final

import connectors

__all__ = ["DEMO_DELIVERY", "NATIVE_SAMPLES", "native_sample", "sample_events"]

# The agencies' native sample exports (connectors/README.md, "Samples"), by connector name. They
# ship with the package, so an installed hub has them too.
NATIVE_SAMPLES: Final[dict[str, str]] = {
    "school-absence": "elevfravaer-2026-03.csv",
    "school-concern": "bekymringsnotater.json",
    "social-concern": "socialforvaltning-bekymringer.xml",
    "police-doegnrapport": "doegnrapport-2026-03-02.jsonl",
}

# How ``ssp-hub demo`` delivers each native sample: every delivery mode of issue 5 at least once.
DEMO_DELIVERY: Final[dict[str, str]] = {
    "school-concern": "http",
    "social-concern": "http",
    "school-absence": "file-drop",
    "police-doegnrapport": "kafka",
}


def native_sample(connector: str) -> Path:
    """The path of ``connector``'s native sample export."""
    return Path(connectors.__file__).resolve().parent / "samples" / NATIVE_SAMPLES[connector]

_NAMESPACE: Final = uuid.UUID("321214cf-61e8-5a2a-921c-49735d87421a")

_POLICE_UNIT: Final = "Sydsjællands og Lolland-Falsters Politi, Vordingborg"
_BOERN_OG_FAMILIE: Final = "Børn og Familie, Vordingborg"
_UNGECENTERET: Final = "Ungecenteret"

_SYSTEMS: Final[dict[str, str]] = {
    "school": "elevadministration",
    "social": "fagsystem-boern-familie",
    "police": "polsas",
}

# Fictional young people. Birth dates (from the CPR) are noted for the ages at occurred_at.
_SUBJECTS: Final[dict[str, dict[str, str]]] = {
    # born 2011-03-14
    "mikkel": {
        "cpr": "1403114127",
        "name": "Mikkel Sørensen",
        "address": "Algade 12, 4720 Præstø",
        "school": "Præstø Skole",
        "class": "8.b",
    },
    # born 2010-02-03
    "oliver": {
        "cpr": "0302105585",
        "name": "Oliver Madsen",
        "address": "Adelgade 40, 4720 Præstø",
        "school": "Præstø Skole",
        "class": "9.a",
    },
    # born 2010-02-19
    "viktor": {
        "cpr": "1902104473",
        "name": "Viktor Holm",
        "address": "Klosternakken 5, 4720 Præstø",
        "school": "Præstø Skole",
        "class": "9.b",
    },
    # born 2012-07-22
    "sofie": {
        "cpr": "2207125318",
        "name": "Sofie Larsen",
        "address": "Storegade 31, 4780 Stege",
        "school": "Stege Skole",
        "class": "7.a",
    },
    # born 2011-08-27
    "lucas": {
        "cpr": "2708119371",
        "name": "Lucas Andersen",
        "address": "Kirkevej 7, 4780 Stege",
        "school": "Stege Skole",
        "class": "8.a",
    },
    # born 2011-05-06
    "laura": {
        "cpr": "0605115230",
        "name": "Laura Jakobsen",
        "address": "Møllevej 11, 4780 Stege",
        "school": "Stege Skole",
        "class": "8.b",
    },
    # born 2010-11-05
    "emil": {
        "cpr": "0511106043",
        "name": "Emil Nielsen",
        "address": "Algade 54, 4760 Vordingborg",
        "school": "Vordingborg Skole",
        "class": "9.c",
    },
    # born 2010-09-30
    "amira": {
        "cpr": "3009107214",
        "name": "Amira Hassan",
        "address": "Chr. Richardts Vej 8, 4760 Vordingborg",
        "school": "Vordingborg Skole",
        "class": "9.a",
    },
    # born 2012-10-15
    "ida": {
        "cpr": "1510124866",
        "name": "Ida Poulsen",
        "address": "Kastanievej 3, 4760 Vordingborg",
        "school": "Vordingborg Skole",
        "class": "7.b",
    },
    # born 2008-05-25; has left school
    "ahmad": {
        "cpr": "2505089012",
        "name": "Ahmad Rahimi",
        "address": "Marienbergvej 14, 4760 Vordingborg",
    },
    # born 2008-04-18; dropped out of vocational school
    "jonas": {
        "cpr": "1804088125",
        "name": "Jonas Petersen",
        "address": "Næstvedvej 21, 4760 Vordingborg",
    },
    # born 2013-01-09
    "freja": {
        "cpr": "0901134402",
        "name": "Freja Christensen",
        "address": "Kalvehave Havnevej 4, 4771 Kalvehave",
        "school": "Kalvehave Skole",
        "class": "6.b",
    },
    # born 2012-12-12
    "anton": {
        "cpr": "1212127790",
        "name": "Anton Berg",
        "address": "Stensbyvej 30, 4771 Kalvehave",
        "school": "Kalvehave Skole",
        "class": "7.a",
    },
    # born 2004-06-12 (SSP+ / PSP)
    "noah": {
        "cpr": "1206046139",
        "name": "Noah Rasmussen",
        "address": "Valdemarsgade 17, 4760 Vordingborg",
    },
    # born 2006-12-01 (SSP+)
    "mathias": {
        "cpr": "0112067248",
        "name": "Mathias Kristensen",
        "address": "Lendemarkevej 9, 4780 Stege",
    },
    # born 2003-09-09 (SSP+)
    "william": {
        "cpr": "0909034651",
        "name": "William Olsen",
        "address": "Rosagervej 6, 4720 Præstø",
    },
}

# Guardians and other related persons (all fictional, born 1975-1988; Omar born 2006).
_RELATED: Final[dict[str, dict[str, str]]] = {
    "mikkel_mor": {"role": "guardian", "cpr": "0807831318", "name": "Hanne Sørensen"},
    "oliver_far": {"role": "guardian", "cpr": "2211781427", "name": "Kim Madsen"},
    "oliver_mor": {"role": "guardian", "cpr": "1504802236", "name": "Lone Madsen"},
    "viktor_far": {"role": "guardian", "cpr": "1403761907", "name": "Carsten Holm"},
    "sofie_mor": {"role": "guardian", "cpr": "0302852048", "name": "Mette Larsen"},
    "lucas_mor": {"role": "guardian", "cpr": "1909843164", "name": "Tina Andersen"},
    "lucas_far": {"role": "guardian", "cpr": "0106812513", "name": "Brian Andersen"},
    "laura_mor": {"role": "guardian", "cpr": "1207812926", "name": "Susanne Jakobsen"},
    "emil_far": {"role": "guardian", "cpr": "2712771139", "name": "Jesper Nielsen"},
    "amira_far": {"role": "guardian", "cpr": "0101752817", "name": "Khalid Hassan"},
    "amira_bror": {"role": "sibling", "cpr": "0306064871", "name": "Omar Hassan"},
    "ida_mor": {"role": "guardian", "cpr": "0609862524", "name": "Pia Poulsen"},
    "ahmad_mor": {"role": "guardian", "cpr": "1011792618", "name": "Fatima Rahimi"},
    "jonas_mor": {"role": "guardian", "cpr": "1702743511", "name": "Anne Petersen"},
    "freja_mor": {"role": "guardian", "cpr": "2508882342", "name": "Camilla Christensen"},
    "anton_far": {"role": "guardian", "cpr": "3112833016", "name": "Thomas Berg"},
}


def _co_involved(subject: str) -> dict[str, str]:
    """Another sample subject named in an event as involved in the same incident."""
    person = _SUBJECTS[subject]
    return {"role": "co_involved", "cpr": person["cpr"], "name": person["name"]}


def _event(
    *,
    index: int,
    agency: str,
    unit: str,
    occurred_at: str,
    subject: str,
    category: str,
    area: str,
    severity: str,
    consent: str,
    description: str,
    necessity: str,
    related: tuple[str, ...] = (),
    co_involved: tuple[str, ...] = (),
    kind: str = "concern",
    system: str | None = None,
    collaboration: str = "SSP",
    purpose: str = "crime_prevention",
) -> tuple[str, dict[str, object]]:
    related_persons = [dict(_RELATED[key]) for key in related]
    related_persons += [_co_involved(key) for key in co_involved]
    event: dict[str, object] = {
        "event_id": str(uuid.uuid5(_NAMESPACE, f"sample-event-{index:03d}")),
        "schema_version": 1,
        "kind": kind,
        "occurred_at": occurred_at,
        "source": {
            "agency": agency,
            "system": system if system is not None else _SYSTEMS[agency],
            "unit": unit,
        },
        "collaboration": collaboration,
        "purpose": purpose,
        "subject": dict(_SUBJECTS[subject]),
        "related_persons": related_persons,
        "category": category,
        "area": area,
        "severity": severity,
        "description": description,
        "consent": consent,
        "necessity": necessity,
    }
    return agency, event


def sample_events() -> list[tuple[str, dict[str, object]]]:
    """(agency, canonical event v1 as a JSON-ready dict) pairs for the demo."""
    return [
        # --- Mikkel (Præstø, 14-15): school, police, social ---------------------------------
        _event(
            index=1,
            agency="school",
            unit="Præstø Skole",
            occurred_at="2026-01-13T10:20:00+01:00",
            subject="mikkel",
            category="group_conflict",
            area="praestoe",
            severity="medium",
            consent="given",
            description=(
                "Mikkel har de seneste uger været central i flere konflikter mellem to "
                "drengegrupper fra 8. og 9. årgang. I dag kom det til skub og trusler i "
                "frikvarteret, og en elev fortæller, at der er aftalt et slagsmål efter skole."
            ),
            necessity=(
                "Konflikten breder sig uden for skolen, og vi har brug for, at SSP og politiet "
                "kender til den, så der kan gribes ind, før nogen kommer til skade."
            ),
            related=("mikkel_mor",),
        ),
        _event(
            index=2,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-01-24T22:40:00+01:00",
            subject="mikkel",
            category="crime",
            area="praestoe",
            severity="medium",
            consent="sought",
            description=(
                "Patruljen antraf Mikkel sammen med tre ældre unge ved Præstø Havn, hvor der kort "
                "forinden var anmeldt hærværk mod bådeklubbens klubhus. Mikkel blev kørt hjem til "
                "sin mor; der er ikke rejst sigtelse."
            ),
            necessity=(
                "Mikkel er ny i et miljø med ældre unge, som politiet kender. En tidlig, "
                "koordineret indsats med skole og kommune kan forhindre, at han glider ind i "
                "kriminalitet."
            ),
            related=("mikkel_mor",),
            system="døgnrapport",
        ),
        _event(
            index=3,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-02-05T13:15:00+01:00",
            subject="mikkel",
            category="wellbeing",
            area="praestoe",
            severity="medium",
            consent="given",
            description=(
                "Mor har selv henvendt sig, fordi hun er bekymret for, at Mikkel kommer sent hjem "
                "og har fået nye, ældre venner. Familien ønsker støtte."
            ),
            necessity=(
                "Mor har givet samtykke til, at SSP inddrages, så skole, politi og forvaltning kan "
                "lægge en fælles plan for Mikkel."
            ),
            related=("mikkel_mor",),
        ),
        _event(
            index=4,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-03-07T01:10:00+01:00",
            subject="mikkel",
            category="crime",
            area="praestoe",
            severity="high",
            consent="not_sought",
            description=(
                "Mikkel registreret i forbindelse med indbrud i kiosk på Adelgade, Præstø, sammen "
                "med Oliver. Mikkel var under 15 år på gerningstidspunktet; sagen sendes til SSP "
                "med henblik på bekymringssamtale."
            ),
            necessity=(
                "Mikkel er under den kriminelle lavalder, og en bekymringssamtale med forældre og "
                "SSP er det relevante næste skridt."
            ),
            related=("mikkel_mor",),
            co_involved=("oliver",),
            kind="police_registration",
            system="døgnrapport",
        ),
        # --- Oliver (Præstø, 16) -------------------------------------------------------------
        _event(
            index=5,
            agency="school",
            unit="Præstø Skole",
            occurred_at="2026-02-16T08:30:00+01:00",
            subject="oliver",
            category="school_absence",
            area="praestoe",
            severity="medium",
            consent="sought",
            description=(
                "Oliver har 24 % ulovligt fravær i indeværende skoleår, mest om mandagen. "
                "Forældrene er indkaldt til fraværsmøde to gange, men er ikke mødt op."
            ),
            necessity=(
                "Fraværet er steget hurtigt, og vi ved, at Oliver bruger skoletiden sammen med "
                "ældre unge i byen. Vi har bedt forældrene om samtykke, men har ikke fået svar."
            ),
            related=("oliver_far", "oliver_mor"),
            kind="school_absence",
        ),
        _event(
            index=6,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-03-07T01:25:00+01:00",
            subject="oliver",
            category="crime",
            area="praestoe",
            severity="high",
            consent="not_sought",
            description=(
                "Oliver blev anholdt i forbindelse med indbrud i kiosk på Adelgade sammen med en "
                "yngre dreng. Han er sigtet og løsladt efter afhøring; forældrene er underrettet."
            ),
            necessity=(
                "Oliver trækker yngre børn med ind i kriminalitet. Der er brug for en koordineret "
                "indsats mellem skole, Børn og Familie og politi."
            ),
            related=("oliver_far", "oliver_mor"),
            co_involved=("mikkel",),
        ),
        _event(
            index=7,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-03-19T11:00:00+01:00",
            subject="oliver",
            category="substance_abuse",
            area="praestoe",
            severity="medium",
            consent="given",
            description=(
                "Ved opfølgningsmødet fortalte Oliver åbent, at han ryger hash flere gange om ugen "
                "og køber det gennem ældre unge i Præstø. Forældrene er orienteret og ønsker "
                "hjælp."
            ),
            necessity=(
                "Forældrene og Oliver har givet samtykke til, at SSP orienteres, så "
                "misbrugsindsatsen kan kobles med skolens fraværsplan."
            ),
            related=("oliver_far", "oliver_mor"),
        ),
        # --- Viktor (Præstø, 15-16): extremism ---------------------------------------------
        _event(
            index=8,
            agency="school",
            unit="Præstø Skole",
            occurred_at="2026-02-24T12:45:00+01:00",
            subject="viktor",
            category="extremism",
            area="praestoe",
            severity="medium",
            consent="sought",
            description=(
                "Viktor har i undervisningen flere gange fremsat nedsættende udtalelser om "
                "muslimer og vist klassekammerater memes med nazistisk symbolik. Han siger, at han "
                'er med i en online-gruppe, der "forbereder sig på racekrig".'
            ),
            necessity=(
                "Udtalelserne er gået fra provokation til noget, der ligner en ekstremistisk "
                "overbevisning. Vi ønsker infohus-beredskabets vurdering."
            ),
            related=("viktor_far",),
        ),
        _event(
            index=9,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-03-14T09:30:00+01:00",
            subject="viktor",
            category="extremism",
            area="praestoe",
            severity="high",
            consent="not_sought",
            description=(
                "Politiet har via et tip fået oplysning om, at Viktor har delt billeder af våben "
                "og højreekstremt materiale på Telegram. Der er ikke grundlag for sigtelse."
            ),
            necessity=(
                "Der ønskes en forebyggende indsats via infohus i samarbejde med skolen og "
                "forvaltningen, før Viktor bliver yderligere tilknyttet miljøet."
            ),
            related=("viktor_far",),
        ),
        _event(
            index=10,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-04-15T14:00:00+02:00",
            subject="viktor",
            category="wellbeing",
            area="praestoe",
            severity="medium",
            consent="given",
            description=(
                "Far til Viktor har været til møde og fortæller, at Viktor sidder ved computeren "
                "det meste af natten og næsten ikke ser jævnaldrende længere."
            ),
            necessity=(
                "Far har givet samtykke til, at oplysningerne deles i SSP, så indsatsen mod "
                "ekstremisme kan ses sammen med Viktors trivsel."
            ),
            related=("viktor_far",),
        ),
        # --- Sofie (Stege, 13) -------------------------------------------------------------
        _event(
            index=11,
            agency="school",
            unit="Stege Skole",
            occurred_at="2026-01-20T13:30:00+01:00",
            subject="sofie",
            category="wellbeing",
            area="stege",
            severity="medium",
            consent="given",
            description=(
                "Sofie virker trist og indesluttet og har fortalt sin kontaktlærer, at hun bliver "
                "holdt udenfor og får grimme beskeder på Snapchat."
            ),
            necessity=(
                "Mor er orienteret og har givet samtykke til, at SSP kontaktes, da beskederne "
                "kommer fra unge uden for skolen."
            ),
            related=("sofie_mor",),
        ),
        _event(
            index=12,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-02-10T10:00:00+01:00",
            subject="sofie",
            category="substance_abuse",
            area="stege",
            severity="medium",
            consent="sought",
            description=(
                "Det opsøgende team har flere fredage set Sofie ved Stege Havn sammen med en "
                "gruppe ældre drenge, hvor der drikkes alkohol."
            ),
            necessity=(
                "Sofie er 13 år og i en sårbar periode. Vi har bedt mor om samtykke til at "
                "orientere skole og politi og afventer svar."
            ),
            related=("sofie_mor",),
        ),
        _event(
            index=13,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-04-11T23:30:00+02:00",
            subject="sofie",
            category="insecurity",
            area="stege",
            severity="medium",
            consent="not_sought",
            description=(
                "En gruppe på 6-8 unge, herunder Sofie og Lucas, har flere weekender opholdt sig "
                "ved busterminalen i Stege og skabt utryghed for buspassagerer. Patruljen talte "
                "med de unge og noterede navne."
            ),
            necessity=(
                "Der er gentagne henvendelser fra borgere. SSP bør kende gruppen, så det opsøgende "
                "arbejde kan prioriteres i Stege."
            ),
            related=("sofie_mor",),
            co_involved=("lucas",),
            system="døgnrapport",
        ),
        # --- Lucas (Stege, 14) -------------------------------------------------------------
        _event(
            index=14,
            agency="school",
            unit="Stege Skole",
            occurred_at="2026-03-03T11:10:00+01:00",
            subject="lucas",
            category="group_conflict",
            area="stege",
            severity="high",
            consent="sought",
            description=(
                "Lucas var i dag involveret i et slagsmål med to elever fra 9. årgang i "
                "skolegården; en elev blev slået i ansigtet og måtte på skadestuen. Konflikten "
                "stammer ifølge eleverne fra en online-gruppe."
            ),
            necessity=(
                "Konflikten er ikke løst og kan blusse op igen uden for skoletid. Vi har bedt "
                "forældrene om samtykke til at inddrage SSP."
            ),
            related=("lucas_mor", "lucas_far"),
        ),
        _event(
            index=15,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-04-26T17:20:00+02:00",
            subject="lucas",
            category="crime",
            area="stege",
            severity="medium",
            consent="not_sought",
            description=(
                "Lucas blev standset på en ulovligt ombygget knallert uden hjelm på Storegade i "
                "Stege. Knallerten er muligvis stjålet; det undersøges særskilt."
            ),
            necessity=(
                "Lucas optræder nu i flere sager. SSP bør kunne se det samlede billede og tage en "
                "bekymringssamtale med familien."
            ),
            related=("lucas_mor", "lucas_far"),
        ),
        _event(
            index=16,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-05-06T09:45:00+02:00",
            subject="lucas",
            category="wellbeing",
            area="stege",
            severity="low",
            consent="refused",
            description=(
                "Forældrene har takket nej til en familierådgiver. Vi er fortsat bekymrede for "
                "Lucas' trivsel og hans tilknytning til en gruppe ældre unge."
            ),
            necessity=(
                "Forældrene ønsker ikke, at vi deler oplysninger. Vi sender kun det nødvendige, så "
                "SSP ved, at forvaltningen har en åben sag."
            ),
            related=("lucas_mor", "lucas_far"),
        ),
        # --- Laura (Stege, 14-15) ----------------------------------------------------------
        _event(
            index=17,
            agency="school",
            unit="Stege Skole",
            occurred_at="2026-04-14T08:50:00+02:00",
            subject="laura",
            category="substance_abuse",
            area="stege",
            severity="medium",
            consent="sought",
            description=(
                "Laura kom i dag i skole og lugtede af alkohol, og hun har fortalt en "
                "klassekammerat, at hun tog piller til en fest i weekenden."
            ),
            necessity=(
                "Der er tegn på et begyndende misbrug. Vi har bedt mor om samtykke til, at SSP "
                "inddrages."
            ),
            related=("laura_mor",),
        ),
        _event(
            index=18,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-05-16T00:45:00+02:00",
            subject="laura",
            category="substance_abuse",
            area="stege",
            severity="high",
            consent="not_sought",
            description=(
                "Laura blev fundet stærkt beruset ved en privatfest på Østmøn og blev kørt til "
                "Nykøbing F. Sygehus. Forældrene er underrettet."
            ),
            necessity=(
                "Det er anden episode på kort tid. Skolen og Børn og Familie bør vide det for at "
                "kunne følge op over for Laura og hendes mor."
            ),
            related=("laura_mor",),
            system="døgnrapport",
        ),
        # --- Emil (Vordingborg, 15) --------------------------------------------------------
        _event(
            index=19,
            agency="school",
            unit="Vordingborg Skole",
            occurred_at="2026-01-27T12:15:00+01:00",
            subject="emil",
            category="substance_abuse",
            area="vordingborg",
            severity="medium",
            consent="given",
            description=(
                "Emil blev i dag fundet på skolens toilet med en e-cigaret med et ukendt indhold; "
                "han virkede påvirket og sløv. Far hentede ham."
            ),
            necessity=(
                "Far har givet samtykke til, at SSP orienteres, så vi kan finde ud af, hvor "
                "stoffet kommer fra."
            ),
            related=("emil_far",),
        ),
        _event(
            index=20,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-02-14T21:50:00+01:00",
            subject="emil",
            category="substance_abuse",
            area="vordingborg",
            severity="high",
            consent="not_sought",
            description=(
                "Emil blev antruffet ved Vordingborg Station i påvirket tilstand og i besiddelse "
                "af en mindre mængde hash. Han blev kørt hjem; far kendte ikke til forbruget."
            ),
            necessity=(
                "Emil er 15 år. En hurtig fælles indsats med skolen og forvaltningen er nødvendig "
                "for at forebygge, at han kommer dybere ind i misbrug og kriminalitet."
            ),
            related=("emil_far",),
            system="døgnrapport",
        ),
        _event(
            index=21,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-03-10T15:30:00+01:00",
            subject="emil",
            category="crime",
            area="vordingborg",
            severity="high",
            consent="given",
            description=(
                "Efter underretninger fra skole og politi har vi haft samtale med Emil og hans "
                "far. Emil fortæller om søvnproblemer og om pres fra ældre unge, som han skylder "
                "penge."
            ),
            necessity=(
                "Gælden kan bruges til at presse Emil til at sælge stoffer. Far har givet samtykke "
                "til, at politiet orienteres via SSP."
            ),
            related=("emil_far",),
        ),
        _event(
            index=22,
            agency="school",
            unit="Vordingborg Skole",
            occurred_at="2026-04-28T09:00:00+02:00",
            subject="emil",
            category="school_absence",
            area="vordingborg",
            severity="medium",
            consent="sought",
            description=(
                "Emils fravær er steget markant efter påske; han har været væk 7 hele dage og "
                "kommer ofte først efter frokost."
            ),
            necessity=(
                "Fraværet hænger sammen med den bekymring, SSP allerede kender til. Vi har bedt "
                "far om samtykke til at dele fraværsoplysningerne."
            ),
            related=("emil_far",),
        ),
        # --- Amira (Vordingborg, 15): honour-related conflict --------------------------------
        _event(
            index=23,
            agency="school",
            unit="Vordingborg Skole",
            occurred_at="2026-02-03T14:20:00+01:00",
            subject="amira",
            category="negative_social_control",
            area="vordingborg",
            severity="high",
            consent="not_sought",
            description=(
                "Amira har fortalt sin lærer, at hun ikke må deltage i lejrskolen eller være "
                "sammen med veninder efter skole, og at hendes storebror kontrollerer hendes "
                "telefon."
            ),
            necessity=(
                "Forældrene er bevidst ikke inddraget, da det vurderes at kunne udsætte Amira for "
                "fare. Vi ønsker beredskabets vurdering."
            ),
            related=("amira_far", "amira_bror"),
        ),
        _event(
            index=24,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-02-12T10:30:00+01:00",
            subject="amira",
            category="honour_related_conflict",
            area="vordingborg",
            severity="acute",
            consent="overridden",
            description=(
                "Amira er mødt op hos Børn og Familie og fortæller, at hun frygter at blive sendt "
                "til familiens hjemland i vinterferien og ikke komme tilbage."
            ),
            necessity=(
                "Amira har bedt os om ikke at inddrage politiet, men der er risiko for en "
                "genopdragelsesrejse. Deling er nødvendig for at beskytte hende."
            ),
            related=("amira_far", "amira_bror"),
        ),
        _event(
            index=25,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-02-13T08:15:00+01:00",
            subject="amira",
            category="honour_related_conflict",
            area="vordingborg",
            severity="acute",
            consent="not_sought",
            description=(
                "Politiet har fået oplysninger om, at Amira muligvis skal udrejse med familien i "
                "vinterferien. Der koordineres med kommunens infohustovholder."
            ),
            necessity=(
                "Sagen skal håndteres i infohus-beredskabet sammen med skole og Børn og Familie, "
                "før familien rejser."
            ),
            related=("amira_far", "amira_bror"),
        ),
        # --- Ida (Vordingborg, 13) ---------------------------------------------------------
        _event(
            index=26,
            agency="school",
            unit="Vordingborg Skole",
            occurred_at="2026-04-21T13:05:00+02:00",
            subject="ida",
            category="insecurity",
            area="vordingborg",
            severity="medium",
            consent="given",
            description=(
                "Ida fortæller, at hun er utryg ved at gå hjem fra skole, fordi en gruppe ældre "
                "piger har truet hende og filmet hende. Videoerne er delt på TikTok."
            ),
            necessity=(
                "Pigerne går ikke på skolen, og mor har givet samtykke til, at SSP og politiet "
                "inddrages."
            ),
            related=("ida_mor",),
        ),
        _event(
            index=27,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-05-04T11:20:00+02:00",
            subject="ida",
            category="wellbeing",
            area="vordingborg",
            severity="medium",
            consent="refused",
            description=(
                "Ida har fået det markant dårligere efter episoderne og har fortalt sin lærer om "
                "tanker om selvskade. Forældrene har takket nej til samtaleforløb."
            ),
            necessity=(
                "Forældrene ønsker ikke, at oplysningerne deles. Vi vurderer, at skolen og SSP "
                "skal kende til risikoen for at kunne handle."
            ),
            related=("ida_mor",),
        ),
        # --- Ahmad (Vordingborg, 17): radicalisation ---------------------------------------
        _event(
            index=28,
            agency="social",
            unit=_UNGECENTERET,
            occurred_at="2026-03-24T13:40:00+01:00",
            subject="ahmad",
            category="radicalisation",
            area="vordingborg",
            severity="high",
            consent="sought",
            description=(
                "Ahmad har i samtaler med sin mentor udtrykt sympati for voldelige islamistiske "
                "grupper og deler propagandavideoer i en lukket chatgruppe. Han har trukket sig "
                "fra sine venner og fodboldklubben."
            ),
            necessity=(
                "Udviklingen er gået hurtigt. Vi har spurgt Ahmad og hans mor om samtykke og "
                "ønsker infohus-beredskabets vurdering."
            ),
            related=("ahmad_mor",),
        ),
        _event(
            index=29,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-04-02T15:00:00+02:00",
            subject="ahmad",
            category="radicalisation",
            area="vordingborg",
            severity="high",
            consent="not_sought",
            description=(
                "Politiets infohustovholder har fået oplysninger om, at Ahmad har været i kontakt "
                "med en person fra et radikaliseret miljø i København."
            ),
            necessity=(
                "Oplysningerne skal ses sammen med Ungecenterets bekymring, så infohus kan vurdere "
                "en exit- eller mentorindsats."
            ),
            related=("ahmad_mor",),
        ),
        _event(
            index=30,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-04-09T10:00:00+02:00",
            subject="ahmad",
            category="radicalisation",
            area="vordingborg",
            severity="high",
            consent="not_sought",
            description=(
                "Anmodning om alle oplysninger om Ahmad fra skole og kommune, herunder hans "
                "kontakter og færden."
            ),
            necessity="Oplysningerne skal bruges i en verserende efterforskning.",
            purpose="investigation",
        ),
        # --- Jonas (Vordingborg, 17) -------------------------------------------------------
        _event(
            index=31,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-01-31T03:20:00+01:00",
            subject="jonas",
            category="crime",
            area="vordingborg",
            severity="medium",
            consent="not_sought",
            description=(
                "Jonas registreret for butikstyveri og besiddelse af kniv i Vordingborg centrum. "
                "Sigtet og løsladt efter afhøring; mor er underrettet."
            ),
            necessity=(
                "Jonas har ingen skole eller beskæftigelse. Kommunen bør kende registreringen, så "
                "Ungecenteret kan tage kontakt."
            ),
            related=("jonas_mor",),
            kind="police_registration",
            system="døgnrapport",
        ),
        _event(
            index=32,
            agency="social",
            unit=_UNGECENTERET,
            occurred_at="2026-02-19T10:15:00+01:00",
            subject="jonas",
            category="crime",
            area="vordingborg",
            severity="high",
            consent="sought",
            description=(
                "Jonas er stoppet på erhvervsskolen og har ingen fast dagbeskæftigelse. Han "
                'fortæller, at han "hjælper" nogle ældre fyre med at bringe pakker ud.'
            ),
            necessity=(
                "Vi er bekymrede for, at Jonas rekrutteres til narkotikasalg, og har spurgt ham og "
                "mor om samtykke til at drøfte sagen i SSP."
            ),
            related=("jonas_mor",),
        ),
        _event(
            index=33,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-03-28T11:30:00+01:00",
            subject="jonas",
            category="crime",
            area="vordingborg",
            severity="medium",
            consent="not_sought",
            description=(
                "Politiet anmoder om skolens og kommunens oplysninger om Jonas' omgangskreds."
            ),
            necessity="Til brug for en verserende sag om narkotikasalg i Vordingborg.",
            purpose="investigation",
        ),
        # --- Freja (Kalvehave, 13) ---------------------------------------------------------
        _event(
            index=34,
            agency="school",
            unit="Kalvehave Skole",
            occurred_at="2026-01-15T12:00:00+01:00",
            subject="freja",
            category="wellbeing",
            area="other",
            severity="low",
            consent="given",
            description=(
                "Freja har længe virket træt og ukoncentreret og har fortalt, at hun sover dårligt "
                "på grund af konflikter derhjemme."
            ),
            necessity=(
                "Mor er positiv over for, at SSP inddrages, så vi kan finde de rette tilbud i "
                "lokalområdet."
            ),
            related=("freja_mor",),
        ),
        _event(
            index=35,
            agency="school",
            unit="Kalvehave Skole",
            occurred_at="2026-03-02T08:30:00+01:00",
            subject="freja",
            category="school_absence",
            area="other",
            severity="medium",
            consent="given",
            description=(
                "Freja har haft 18 sygedage og 9 dages ulovligt fravær siden jul. Skolen har holdt "
                "fraværsmøde med mor."
            ),
            necessity=(
                "Fraværet skal ses sammen med den trivselsbekymring, SSP allerede kender. Mor har "
                "givet samtykke."
            ),
            related=("freja_mor",),
            kind="school_absence",
        ),
        _event(
            index=36,
            agency="social",
            unit=_BOERN_OG_FAMILIE,
            occurred_at="2026-03-26T16:00:00+01:00",
            subject="freja",
            category="crime",
            area="other",
            severity="high",
            consent="given",
            description=(
                "Mor har kontaktet os, fordi Freja har skrevet med en voksen mand på sociale "
                "medier, som har bedt hende om billeder. Mor har anmeldt forholdet til politiet."
            ),
            necessity=(
                "Mor har givet samtykke til, at SSP og politiet orienteres, så skolen kan støtte "
                "Freja, og andre børn kan advares."
            ),
            related=("freja_mor",),
        ),
        # --- Anton (Kalvehave, 13) ---------------------------------------------------------
        _event(
            index=37,
            agency="school",
            unit="Kalvehave Skole",
            occurred_at="2026-05-12T10:40:00+02:00",
            subject="anton",
            category="group_conflict",
            area="other",
            severity="low",
            consent="sought",
            description=(
                "Anton og to klassekammerater har i frikvartererne drillet yngre elever og taget "
                "deres lommepenge. Forældrene er indkaldt til møde."
            ),
            necessity=(
                "Adfærden ser ud til at fortsætte efter skoletid. Vi har bedt far om samtykke til "
                "at inddrage SSP."
            ),
            related=("anton_far",),
        ),
        _event(
            index=38,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-05-23T19:30:00+02:00",
            subject="anton",
            category="insecurity",
            area="other",
            severity="low",
            consent="not_sought",
            description=(
                "Borgere i Kalvehave har anmeldt, at en gruppe yngre drenge, herunder Anton, "
                "kaster med sten efter biler ved indfaldsvejen til broen. Patruljen har talt med "
                "drengene og deres forældre."
            ),
            necessity=(
                "Der er fare for alvorlige ulykker. SSP og skolen bør kende til episoden og tage "
                "den op med drengene."
            ),
            related=("anton_far",),
            system="døgnrapport",
        ),
        # --- Noah (Vordingborg, 21): SSP+ and PSP ------------------------------------------
        _event(
            index=39,
            agency="social",
            unit=_UNGECENTERET,
            occurred_at="2026-03-17T14:10:00+01:00",
            subject="noah",
            category="substance_abuse",
            area="vordingborg",
            severity="medium",
            consent="given",
            description=(
                "Noah er tilknyttet Ungecenteret og har et dagligt forbrug af kokain og hash. Han "
                "er flyttet hjem til sin mor efter at være sat ud af sin lejlighed."
            ),
            necessity=(
                "Noah har givet samtykke til, at SSP+ inddrages, så politiet og Ungecenteret kan "
                "koordinere."
            ),
            collaboration="SSP+",
        ),
        _event(
            index=40,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-04-18T16:10:00+02:00",
            subject="noah",
            category="insecurity",
            area="vordingborg",
            severity="acute",
            consent="not_sought",
            description=(
                "Noah var i psykotisk tilstand og truede forbipasserende ved Vordingborg Station. "
                "Han blev frihedsberøvet og indlagt på psykiatrisk afdeling."
            ),
            necessity=(
                "Psykiatrien, socialområdet og politiet skal koordinere udskrivningen, så der ikke "
                "opstår en ny farlig situation."
            ),
            collaboration="PSP",
            system="døgnrapport",
        ),
        # --- Mathias (Stege, 19): SSP+ -----------------------------------------------------
        _event(
            index=41,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-05-02T02:30:00+02:00",
            subject="mathias",
            category="group_conflict",
            area="stege",
            severity="high",
            consent="not_sought",
            description=(
                "Mathias var involveret i et slagsmål mellem to grupper unge mænd ved en fest i "
                "Stege, hvor der blev brugt slagvåben. Konflikten mellem grupperne er ikke "
                "afsluttet."
            ),
            necessity=(
                "Der er risiko for hævnaktioner. SSP+ bør kende til konflikten for at kunne gå ind "
                "med en konfliktmæglende indsats."
            ),
            collaboration="SSP+",
            system="døgnrapport",
        ),
        _event(
            index=42,
            agency="social",
            unit=_UNGECENTERET,
            occurred_at="2026-05-20T10:00:00+02:00",
            subject="mathias",
            category="crime",
            area="stege",
            severity="medium",
            consent="given",
            description=(
                "Mathias har selv bedt om hjælp til at komme ud af miljøet efter slagsmålet og "
                "ønsker exit-samtaler."
            ),
            necessity=(
                "Mathias har givet samtykke til, at politiet og SSP+ inddrages i exit-forløbet."
            ),
            collaboration="SSP+",
        ),
        # --- William (Præstø, 22): SSP+ ----------------------------------------------------
        _event(
            index=43,
            agency="police",
            unit=_POLICE_UNIT,
            occurred_at="2026-06-05T10:30:00+02:00",
            subject="william",
            category="crime",
            area="praestoe",
            severity="medium",
            consent="not_sought",
            description=(
                "William er løsladt efter afsoning og flyttet tilbage til Præstø. Han har "
                "tidligere haft tæt kontakt til yngre drenge i byen."
            ),
            necessity=(
                "Der ønskes en koordineret udslusningsindsats med Ungecenteret, så William ikke "
                "igen trækker yngre unge med ind i kriminalitet."
            ),
            collaboration="SSP+",
        ),
        # --- Mikkel, follow-up ---------------------------------------------------------------
        _event(
            index=44,
            agency="school",
            unit="Præstø Skole",
            occurred_at="2026-05-19T14:30:00+02:00",
            subject="mikkel",
            category="wellbeing",
            area="praestoe",
            severity="low",
            consent="given",
            description=(
                "Mikkel møder nu stabilt i skole og har fået en mentor fra SSP. Han fortæller, at "
                "han ikke længere ser de ældre drenge fra havnen."
            ),
            necessity=(
                "Opfølgning til SSP-områdegruppen, så alle parter kender status i Mikkels sag."
            ),
            related=("mikkel_mor",),
        ),
    ]

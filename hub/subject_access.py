"""Subject access (GDPR art. 15): every disclosure-log entry about one person, for the citizen.

A security officer enters the person's CPR number. :func:`pseudonyms_for_cpr` turns it into
the person's pseudonym under **every** HMAC key version in the ring (the log keeps entries
from before a key rotation under the old pseudonym) plus every alias the store links to
those. :func:`answer_subject_access` reads every log entry that names one of them, as the
subject or as a related person, oldest first, and maps each to a citizen-facing item.

What the citizen sees and what is withheld:

* Recipients, sources, times, purposes, legal bases, the disclosed field *names*, and the
  sender's necessity text (already scrubbed of identifiers in the log) — the right of
  access covers who received data, when and why (CJEU C-579/21).
* Staff identities are withheld unless ``include_staff``: a principal's name (as recipient
  or as the one who acted) and a staff member's stated reason for a re-identification. The
  role is shown. C-579/21 holds that employees' identities need not, as a rule, be given.
* Never the hub's pseudonyms (internal keys) and never another person's pseudonym.
* **A related person** (e.g. a parent named in a concern about a child) gets by default only
  that they were mentioned, when, and by which agency kind (``limited``): never the
  necessity text, the queue, the sending unit, the fields or anything else about the child.
  In honour-related and negative-social-control cases the parent may be the threat.
* The security officer decides per entry (:func:`check_decision`, :func:`store_decision`),
  with a recorded reason: ``release`` the full entry to a related person, ``withhold`` an
  entry from the citizen's copy altogether (GDPR art. 15(4), databeskyttelseslovens § 22), or
  ``default`` to undo either. Each decision is a log entry of its own (kinds
  ``access_released``/``access_withheld``/``access_default``, no pseudonym) and is kept
  in the store, so the API answer, the CLI, the web answer and the document honour it.

The answer is itself logged (:func:`subject_access_entry`, kind ``subject_access``) and can
be rendered as a print-ready Danish document (:func:`render_document_da`). Every Danish
text lives in :data:`DA` so that it can be reviewed in one place.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.ledger.auditlog import AuditLog
from core.ledger.entries import random_entry_id
from core.policy.evaluator import Policy
from core.privacy.crypto import Pseudonymiser
from core.privacy.keys import KeyRing
from core.store import Store
from schemas.cpr import birth_date, contains_cpr_like, normalise_cpr
from schemas.disclosures import EntryKind, LogEntry, format_time

SSP_DOMAIN = "ssp"
_PAGE = 1000

# --------------------------------------------------------------------------------------------
# Every Danish text of the answer and the document, in one place for review.
DA: dict[str, Any] = {
    "title": "Indsigt i videregivelser af dine oplysninger i SSP-samarbejdet",
    "date": "Dato",
    "municipality": "Kommune",
    "concerning": "Vedrørende",
    "concerning_value": "Person født {born} (CPR-nummer {masked})",
    "count": "Antal registreringer",
    "intro_heading": "Om denne oversigt",
    "intro": [
        "Du har bedt om at få at vide, hvem der har fået oplysninger om dig gennem "
        "SSP-samarbejdet i {municipality}. I SSP-samarbejdet må skolen, kommunens sociale "
        "myndigheder og politiet udveksle oplysninger om børn og unge efter retsplejelovens "
        "§ 115, når det er nødvendigt for at forebygge kriminalitet.",
        "Hver gang oplysninger om dig bliver videregivet, slået op eller slettet, bliver det "
        "skrevet i en log, som ikke kan ændres bagefter. Oversigten nedenfor viser alt, hvad "
        "loggen indeholder om dig, med det ældste først.",
        "Du har ret til at vide, hvem der har modtaget oplysninger om dig, hvornår og hvorfor. "
        "Det følger af databeskyttelsesforordningens artikel 15, som EU-Domstolen har uddybet "
        "i dom C-579/21 af 22. juni 2023, og som Datatilsynet beskriver i sin vejledning om de "
        "registreredes rettigheder.",
    ],
    "table_heading": "Registreringer om dig",
    "columns": ["Dato", "Hændelse", "Modtager", "Fra", "Formål", "Hjemmel", "Oplysninger"],
    "empty": "Der er ingen registreringer om dig. Ingen har modtaget eller slået oplysninger "
             "om dig op gennem SSP-samarbejdets system.",
    "notes_heading": "Sådan skal oversigten læses",
    "notes": [
        "Ved en almindelig videregivelse får modtageren ikke dit navn, dit CPR-nummer eller "
        "din adresse, men et kodenummer (pseudonym) og din alder. Modtageren får desuden altid "
        "at vide, hvilken slags bekymring det drejer sig om, hvor alvorlig den er, og hvilket "
        "område den vedrører. Kolonnen »Oplysninger« viser, hvad der ellers blev givet videre.",
        "Kun hvis en SSP-konsulent har haft brug for at vide, hvem du er, og har skrevet en "
        "begrundelse, er dit navn og CPR-nummer givet videre. Det står i oversigten som "
        "»Identitet oplyst«.",
        "»Opslag« betyder, at en medarbejder har læst en bekymring om dig.",
    ],
    "staff_withheld": "Navnene på de medarbejdere, der har haft adgang til oplysningerne, står "
                      "ikke i oversigten; deres funktion gør. Efter EU-Domstolens dom har du "
                      "som udgangspunkt ikke krav på navnene, medmindre du har brug for dem for "
                      "at kunne varetage dine rettigheder. Kontakt os, hvis det er tilfældet.",
    "staff_shown": "Oversigten viser også navnene på de medarbejdere, der har haft adgang til "
                   "oplysningerne.",
    "contact_heading": "Spørgsmål og klage",
    "contact": [
        "Har du spørgsmål til oversigten, eller mener du, at oplysninger om dig er videregivet "
        "uden grund, kan du kontakte kommunens databeskyttelsesrådgiver (DPO):",
        "Du kan også klage til Datatilsynet, Carl Jacobsens Vej 35, 2500 Valby, "
        "www.datatilsynet.dk.",
    ],
    "grouped": "{first} – {last} ({count} opslag)",
    "dpo_placeholder": "[Databeskyttelsesrådgiverens navn, e-mail og telefonnummer indsættes "
                       "her]",
    "footer": "Udskrevet fra SSP Hub den {generated}. Oversigten bygger på kommunens "
              "manipulationssikrede log over videregivelser ({count} registreringer).",
    "about_related": "Du er nævnt som anden involveret person i en bekymring om en anden. "
                     "Modtageren fik din rolle og et kodenummer, ikke dit navn eller "
                     "CPR-nummer.",
    "mentioned": "Du er nævnt i en henvendelse fra denne myndighed.",
    "nothing_disclosed": "Intet blev videregivet.",
    "this_answer": "En oversigt som denne",
    "erased": "Oplysningerne blev slettet.",
    "you": "Dig",
    "hub_source": "SSP-samarbejdets system",
    "staff_default": "en medarbejder",
    "necessity": "Afsenderens begrundelse",
    "staff_reason": "Medarbejderens begrundelse",
    "reason_code": "Årsag",
    "at": "kl.",
    "months": ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
               "september", "oktober", "november", "december"],
    "kinds": {
        "disclosure": "Videregivelse",
        "rejection": "Videregivelse afvist",
        "reidentification": "Identitet oplyst",
        "reidentification_refused": "Anmodning om identitet afvist",
        "reidentification_requested": "Anmodning om identitet sendt til godkendelse",
        "reidentification_approved": "Anmodning om identitet godkendt",
        "reidentification_declined": "Anmodning om identitet afvist ved godkendelse",
        "consultation": "Opslag",
        "subject_access": "Indsigt",
        "erasure": "Sletning",
    },
    # Purpose of the hub's own acts when the entry names none.
    "kind_purposes": {
        "erasure": "Sletning af oplysninger, der ikke længere er nødvendige",
    },
    "purposes": {
        "crime_prevention": "Kriminalitetsforebyggelse",
        "investigation": "Efterforskning",
        "subject_access": "Svar på din anmodning om indsigt",
    },
    "agencies": {
        "school": "Skolen",
        "social": "Kommunens sociale myndigheder",
        "police": "Politiet",
    },
    # Role → (title for the JSON answer, phrase in a sentence).
    "roles": {
        "consultant": ("SSP-konsulent", "en SSP-konsulent"),
        "security_officer": ("Sikkerhedsansvarlig", "en sikkerhedsansvarlig medarbejder"),
        "admin": ("Systemadministrator", "en systemadministrator"),
        "agency:school": ("Medarbejder på skolen", "en medarbejder på skolen"),
        "agency:social": ("Medarbejder i de sociale myndigheder",
                          "en medarbejder i de sociale myndigheder"),
        "agency:police": ("Medarbejder hos politiet", "en medarbejder hos politiet"),
    },
    # In the order the document lists them.
    "fields": {
        "subject.cpr": "CPR-nummer",
        "subject.name": "navn",
        "subject.pseudonym": "kodenummer (pseudonym)",
        "subject.age": "alder",
        "subject.age_band": "aldersgruppe",
        "subject.year_group": "klassetrin (årgang, ikke klassen)",
        "subject.school": "skole",
        "source": "afsender",
        "related_persons": "andre involverede (rolle og kodenummer)",
        "description": "beskrivelse af bekymringen (uden navne og CPR-numre)",
        "necessity": "begrundelse for videregivelsen",
    },
    "reason_codes": {
        "role_not_allowed": "medarbejderen havde ikke lov til at få identiteten oplyst",
        "no_visible_concern": "medarbejderen havde ingen bekymring om dig i sin sagskø",
        "reason_insufficient": "begrundelsen var ikke tilstrækkelig",
        "erased": "identiteten var slettet",
        "unknown_pseudonym": "identiteten var ikke kendt",
        "malformed_pseudonym": "anmodningen var ugyldig",
    },
    "law_rpl": "Retsplejelovens § {para}",
    "law_stk": ", stk. {stk}",
    "law_nr": ", nr. {nr}",
    "recipient_citizen": "Borgeren selv",
}

_RPL = re.compile(r"^rpl-(\d+)(?:-stk(\d+))?(?:-nr(\d+))?$")


# --------------------------------------------------------------------------------------------
# Pseudonyms


def pseudonyms_for_cpr(store: Store, ring: KeyRing, cpr: str) -> set[str]:
    """The person's pseudonym under every HMAC key version of every domain in the ring, plus
    every pseudonym the store links to one of them. Raises :class:`schemas.cpr.InvalidCpr`
    (whose message never holds the value) on a bad CPR."""
    normalised = normalise_cpr(cpr)
    found: set[str] = set()
    for domain, versions in ring.hmac.items():
        for version in versions:
            found.add(Pseudonymiser(ring, domain, version=version)(normalised))
    for pseudonym in list(found):
        found |= store.aliases(pseudonym)
    return found


def current_pseudonym(ring: KeyRing, cpr: str) -> str:
    """The person's pseudonym under the current ``ssp`` key."""
    return Pseudonymiser(ring, SSP_DOMAIN)(normalise_cpr(cpr))


# --------------------------------------------------------------------------------------------
# The answer


@dataclass(frozen=True)
class SubjectAccessItem:
    """One log entry about the person, as the citizen may see it."""

    seq: int
    at: str  # RFC 3339, UTC
    kind: str
    decision: str
    about: str  # "subject" or "related_person"
    recipient: str | None  # queue id; a principal's name only with include_staff
    recipient_type: str | None  # queue | principal | citizen
    recipient_title: str | None  # the queue's title, or the principal's role in Danish
    role: str | None
    principal: str | None  # the staff member who acted; only with include_staff
    agency: str | None
    unit: str | None
    collaboration: str | None
    purpose: str | None
    legal_basis: str | None
    necessity: str | None  # the sender's necessity text, scrubbed
    fields: list[str]
    rule_ids: list[str]
    policy_version: str | None
    event_id: str | None
    reason_code: str | None
    reason: str | None  # a staff member's stated reason; only with include_staff
    # A related person's default view: only that they were mentioned, when, by which agency.
    limited: bool = False
    released: bool = False  # the officer released the full entry to a related person

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class WithheldEntry:
    """An entry the officer withheld from the citizen's copy (shown to the officer only)."""

    seq: int
    at: str
    kind: str
    about: str
    reason: str


@dataclass(frozen=True)
class SubjectAccessAnswer:
    """Everything the log holds about one person. :meth:`as_json` is the API's answer; it
    holds neither the CPR number nor any pseudonym."""

    generated_at: dt.datetime
    include_staff: bool
    entries: list[SubjectAccessItem]
    # For the log entry and the document only; never in :meth:`as_json`.
    subject_pseudonym: str = field(repr=False)
    masked_cpr: str = field(repr=False)  # "DDMMYY-XXXX"
    born: dt.date = field(repr=False)
    # For the officer's screen only (never in the citizen's copy): what was withheld and why.
    withheld: list[WithheldEntry] = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.entries)

    def as_json(self) -> dict[str, Any]:
        return {"generated_at": format_time(self.generated_at), "count": self.count,
                "include_staff": self.include_staff,
                "entries": [e.as_json() for e in self.entries]}


def _role_title(role: str | None) -> str:
    roles: dict[str, tuple[str, str]] = DA["roles"]
    if role in roles:
        return roles[role][0]
    return str(DA["staff_default"]).capitalize()


def _limited_item(doc: Mapping[str, Any]) -> SubjectAccessItem:
    """A related person's default view of an entry: that they were mentioned, when, and by
    which agency kind; nothing about the concern or the person it is about."""
    return SubjectAccessItem(
        seq=int(doc["seq"]), at=str(doc["at"]), kind=str(doc["kind"]),
        decision=str(doc["decision"]), about="related_person", recipient=None,
        recipient_type=None, recipient_title=None, role=None, principal=None,
        agency=doc.get("agency"), unit=None, collaboration=None, purpose=None,
        legal_basis=None, necessity=None, fields=[], rule_ids=[], policy_version=None,
        event_id=None, reason_code=None, reason=None, limited=True)


def _about(doc: Mapping[str, Any], mine: set[str]) -> str:
    """"subject" when the entry is about the person themself: its subject, or one of the
    young people whose concerns one consultation showed; else "related_person"."""
    if doc.get("pseudonym") in mine or mine.intersection(doc.get("subjects_shown") or ()):
        return "subject"
    return "related_person"


def _item(doc: Mapping[str, Any], mine: set[str], policy: Policy, include_staff: bool,
          released: bool = False) -> SubjectAccessItem:
    about = _about(doc, mine)
    if about == "related_person" and not released:
        return _limited_item(doc)
    recipient_type = doc.get("recipient_type")
    recipient = doc.get("recipient")
    role = doc.get("role")
    title: str | None
    if recipient_type == "queue":
        title = policy.doc.queues.get(recipient or "", recipient)
    elif recipient_type == "principal":
        title = _role_title(role)
        recipient = recipient if include_staff else None
    elif recipient_type == "citizen":
        title, recipient = DA["recipient_citizen"], None
    else:
        title = None
    return SubjectAccessItem(
        seq=int(doc["seq"]), at=str(doc["at"]), kind=str(doc["kind"]),
        decision=str(doc["decision"]), about=about, recipient=recipient,
        recipient_type=recipient_type, recipient_title=title, role=role,
        principal=doc.get("principal") if include_staff else None,
        agency=doc.get("agency"), unit=doc.get("unit"), collaboration=doc.get("collaboration"),
        purpose=doc.get("purpose"), legal_basis=doc.get("legal_basis"),
        necessity=doc.get("necessity"), fields=list(doc.get("fields") or []),
        rule_ids=list(doc.get("rule_ids") or []), policy_version=doc.get("policy_version"),
        event_id=doc.get("event_id"), reason_code=doc.get("reason_code"),
        reason=doc.get("reason") if include_staff else None,
        released=about == "related_person" and released,
    )


def answer_subject_access(store: Store, ring: KeyRing, policy: Policy, cpr: str, *,
                          include_staff: bool = False, now: dt.datetime | None = None
                          ) -> SubjectAccessAnswer:
    """Every log entry about the person with this CPR number (as subject or related person,
    under any key version or alias), oldest first. Raises :class:`schemas.cpr.InvalidCpr`."""
    normalised = normalise_cpr(cpr)
    mine = pseudonyms_for_cpr(store, ring, normalised)
    log = AuditLog(store)
    docs: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = log.page(pseudonyms=sorted(mine), limit=_PAGE, cursor=cursor,
                        newest_first=False)
        docs += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    decisions = store.access_decisions(int(d["seq"]) for d in docs)
    items: list[SubjectAccessItem] = []
    withheld: list[WithheldEntry] = []
    for doc in docs:
        decided = decisions.get(int(doc["seq"]), {})
        if decided.get("decision") == WITHHOLD:
            withheld.append(WithheldEntry(
                seq=int(doc["seq"]), at=str(doc["at"]), kind=str(doc["kind"]),
                about=_about(doc, mine),
                reason=str(decided["reason"])))
            continue
        items.append(_item(doc, mine, policy, include_staff,
                           released=decided.get("decision") == RELEASE))
    return SubjectAccessAnswer(
        generated_at=(now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC),
        include_staff=include_staff, entries=items,
        subject_pseudonym=current_pseudonym(ring, normalised),
        masked_cpr=f"{normalised[:6]}-XXXX", born=birth_date(normalised), withheld=withheld,
    )


def subject_access_entry(answer: SubjectAccessAnswer, principal: str, role: str,
                         policy: Policy, now: dt.datetime | None = None) -> LogEntry:
    """The log entry that records this answer: given to the citizen by ``principal``."""
    return LogEntry(
        entry_id=random_entry_id(), kind=EntryKind.subject_access,
        at=now or dt.datetime.now(dt.UTC), recipient_type="citizen", purpose="subject_access",
        # The citizen's right of access is GDPR art. 15 (and C-579/21), not §115.
        legal_basis=SUBJECT_ACCESS_BASIS, policy_version=policy.version,
        pseudonym=answer.subject_pseudonym, principal=principal, role=role,
        details={"entries": answer.count,
                 **({"withheld": len(answer.withheld)} if answer.withheld else {})},
    )


# --------------------------------------------------------------------------------------------
# The officer's decisions: withhold an entry, or release it in full to a related person

WITHHOLD = "withhold"
RELEASE = "release"
DEFAULT = "default"  # undo: the subject sees the entry, a related person the limited view
DECISIONS = (WITHHOLD, RELEASE, DEFAULT)
DECISION_KINDS = {WITHHOLD: EntryKind.access_withheld, RELEASE: EntryKind.access_released,
                  DEFAULT: EntryKind.access_default}
# Art. 15(4) GDPR (rights of others) and databeskyttelseslovens § 22 (e.g. the protection of
# the child); a release is the officer's use of the same provisions' discretion.
DECISION_BASIS = "gdpr-art-15-4"
REASON_MIN_CHARS = 20
REASON_MIN_WORDS = 3
_WORD = re.compile(r"\w*[^\W\d_]\w*")


class DecisionError(ValueError):
    """A decision the hub refuses; ``field`` names what is wrong (never a value)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_decision(store: Store, seq: int, decision: str, reason: str) -> None:
    """Raise :class:`DecisionError` unless ``seq`` is a log entry about a person, ``decision``
    is ``withhold`` or ``release``, and ``reason`` is a sentence without a CPR number."""
    if decision not in DECISIONS:
        raise DecisionError("decision", f"one of {', '.join(DECISIONS)}")
    text = " ".join(reason.split())
    if len(text) < REASON_MIN_CHARS or len(_WORD.findall(text)) < REASON_MIN_WORDS \
            or contains_cpr_like(text):
        raise DecisionError("reason", f"at least {REASON_MIN_CHARS} characters and "
                                      f"{REASON_MIN_WORDS} words saying why, with no CPR number")
    if not store.log_entry_has_subjects(seq):
        raise DecisionError("seq", "not a log entry about a person")


def access_decision_entry(seq: int, decision: str, reason: str, principal: str, role: str,
                          policy: Policy, now: dt.datetime | None = None) -> LogEntry:
    """The log entry that records the officer's decision on entry ``seq``: no pseudonym, no
    identity, only the entry's number, the decision and the stated reason."""
    return LogEntry(
        entry_id=random_entry_id(), kind=DECISION_KINDS[decision],
        at=now or dt.datetime.now(dt.UTC), recipient_type="citizen", purpose="subject_access",
        legal_basis=DECISION_BASIS, policy_version=policy.version, principal=principal,
        role=role, reason=" ".join(reason.split()), details={"log_entry": seq})


def store_decision(store: Store, entry: LogEntry) -> None:
    """Keep the decision that ``entry`` (from :func:`access_decision_entry`) records."""
    decision = next(d for d, kind in DECISION_KINDS.items() if kind == entry.kind)
    seq = entry.details["log_entry"]
    if not isinstance(seq, int) or entry.reason is None or entry.principal is None:
        raise ValueError("not a subject-access decision entry")
    if decision == DEFAULT:
        store.clear_access_decision(seq)
    else:
        store.set_access_decision(seq, decision, entry.reason, entry.principal,
                                  entry.entry_id, entry.at)


# --------------------------------------------------------------------------------------------
# The Danish document


SUBJECT_ACCESS_BASIS = "gdpr-art-15"


def legal_basis_da(code: str | None) -> str:
    """``rpl-115-stk1`` → ``Retsplejelovens § 115, stk. 1``; an unknown code as it is."""
    if not code:
        return ""
    if code == SUBJECT_ACCESS_BASIS:
        return "Databeskyttelsesforordningens art. 15 (indsigtsret)"
    match = _RPL.fullmatch(code)
    if match is None:
        return code
    para, stk, nr = match.groups()
    text = str(DA["law_rpl"]).format(para=para)
    if stk:
        text += str(DA["law_stk"]).format(stk=stk)
    if nr:
        text += str(DA["law_nr"]).format(nr=nr)
    return text


def _copenhagen(value: dt.datetime) -> dt.datetime:
    """Danish local time. zoneinfo if the system has the tz database, else the EU rule
    (summer time from 01:00 UTC on the last Sunday of March to the last Sunday of October)."""
    try:
        return value.astimezone(ZoneInfo("Europe/Copenhagen"))
    except ZoneInfoNotFoundError:
        pass
    utc = value.astimezone(dt.UTC)

    def last_sunday(month: int) -> dt.datetime:
        day = dt.datetime(utc.year, month, 31, 1, tzinfo=dt.UTC)
        return day - dt.timedelta(days=(day.weekday() + 1) % 7)

    summer = last_sunday(3) <= utc < last_sunday(10)
    return utc.astimezone(dt.timezone(dt.timedelta(hours=2 if summer else 1)))


def _date_da(value: dt.date) -> str:
    return f"{value.day}. {DA['months'][value.month - 1]} {value.year}"


def _when_da(value: dt.datetime) -> str:
    local = _copenhagen(value)
    return f"{local:%d.%m.%Y} {DA['at']} {local:%H.%M}"


def _parse_at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _e(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def _recipient_da(item: SubjectAccessItem) -> str:
    if item.limited:
        return "&mdash;"
    if item.recipient_type == "queue":
        return _e(item.recipient_title or item.recipient)
    if item.recipient_type == "citizen":
        return _e(DA["you"])
    if item.recipient_type == "principal":
        roles: dict[str, tuple[str, str]] = DA["roles"]
        phrase = roles[item.role][1] if item.role in roles else DA["staff_default"]
        text = str(phrase)
        if item.recipient:  # only present with include_staff
            text += f" ({item.recipient})"
        return _e(text[:1].upper() + text[1:])
    return "&mdash;"


def _source_da(item: SubjectAccessItem) -> str:
    if not item.agency:
        return _e(DA["hub_source"])
    label = str(DA["agencies"].get(item.agency, item.agency))
    if item.unit and item.unit != label:
        return f"{_e(label)}<br><span class=\"sub\">{_e(item.unit)}</span>"
    return _e(label)


def _purpose_da(item: SubjectAccessItem) -> str:
    if item.limited:
        return "&mdash;"
    purpose = (DA["purposes"].get(item.purpose, item.purpose) if item.purpose
               else DA["kind_purposes"].get(item.kind, ""))
    text = _e(purpose)
    if item.collaboration:
        text += f" ({_e(item.collaboration)})" if text else _e(item.collaboration)
    if item.necessity:
        text += (f"<br><span class=\"sub\">{_e(DA['necessity'])}: "
                 f"»{_e(item.necessity)}«</span>")
    if item.reason:  # only present with include_staff
        text += (f"<br><span class=\"sub\">{_e(DA['staff_reason'])}: "
                 f"»{_e(item.reason)}«</span>")
    return text or "&mdash;"


def _fields_da(item: SubjectAccessItem) -> str:
    if item.limited:
        return _e(DA["mentioned"])
    if item.decision == "rejected":
        text = _e(DA["nothing_disclosed"])
        if item.reason_code:
            code = DA["reason_codes"].get(item.reason_code, item.reason_code)
            text += f"<br><span class=\"sub\">{_e(DA['reason_code'])}: {_e(code)}</span>"
        return text
    if item.decision == "erased":
        return _e(DA["erased"])
    if item.about == "related_person":
        return _e(DA["about_related"])
    if item.kind == EntryKind.subject_access.value:
        return _e(DA["this_answer"])
    labels: dict[str, str] = DA["fields"]
    order = {name: i for i, name in enumerate(labels)}
    names = [labels.get(f, f) for f in sorted(item.fields, key=lambda f: (order.get(f, 99), f))]
    if not names:
        return "&mdash;"
    text = ", ".join(names)
    return _e(text[:1].upper() + text[1:])


_CSS = """
  @page { size: A4; margin: 18mm 15mm; }
  body { font-family: "Helvetica Neue", Arial, sans-serif; font-size: 11pt; color: #111;
         line-height: 1.4; max-width: 60em; margin: 2em auto; padding: 0 1em; }
  h1 { font-size: 17pt; margin: 0.2em 0 0.6em; }
  h2 { font-size: 13pt; margin: 1.4em 0 0.4em; }
  .municipality { font-weight: bold; font-size: 12pt; margin: 0; }
  dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em;
            margin: 0 0 1em; }
  dl.meta dt { font-weight: bold; }
  dl.meta dd { margin: 0; }
  table { width: 100%; border-collapse: collapse; font-size: 9.5pt; }
  th, td { border: 1px solid #999; padding: 0.3em 0.4em; text-align: left;
           vertical-align: top; }
  thead th { background: #e6e6e6; }
  thead { display: table-header-group; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  .sub { color: #444; font-size: 8.5pt; }
  .empty { font-style: italic; }
  .placeholder { background: #fff3bf; }
  footer { margin-top: 2em; font-size: 8.5pt; color: #444; }
  @media print {
    body { margin: 0; max-width: none; padding: 0; }
    thead th { background: #e6e6e6 !important; -webkit-print-color-adjust: exact;
               print-color-adjust: exact; }
    .placeholder { background: none; }
  }
"""


def _document_rows(items: Sequence[SubjectAccessItem]) -> list[tuple[str, list[str]]]:
    """(time cell, other cells) per row of the citizen's table. Consecutive consultations that
    read the same in every other column (the same kind of staff member, queue, source …) are
    one row with their first and last time and how many there were, instead of dozens of
    identical "Opslag" rows."""
    rows: list[tuple[str, list[str]]] = []
    run: list[SubjectAccessItem] = []
    run_cells: list[str] = []

    def flush() -> None:
        if not run:
            return
        first, last = _when_da(_parse_at(run[0].at)), _when_da(_parse_at(run[-1].at))
        when = _e(first) if len(run) == 1 else _e(
            str(DA["grouped"]).format(first=first, last=last, count=len(run)))
        rows.append((when, run_cells))

    for item in items:
        cells = [_e(DA["kinds"].get(item.kind, item.kind)), _recipient_da(item),
                 _source_da(item), _purpose_da(item),
                 _e(legal_basis_da(item.legal_basis)) or "&mdash;", _fields_da(item)]
        if run and item.kind == "consultation" == run[-1].kind and cells == run_cells:
            run.append(item)
            continue
        flush()
        run, run_cells = [item], cells
    flush()
    return rows


def render_document_da(answer: SubjectAccessAnswer, *, municipality_title: str,
                       dpo_contact: str | None = None) -> str:
    """The answer as a print-ready HTML document in Danish, for the security officer to hand
    to the citizen. Self-contained: inline CSS, no scripts, no external resources. It shows
    the birth-date part of the CPR number only, and no name. ``dpo_contact`` (the setting
    ``SSP_HUB_DPO_CONTACT``) is how the citizen reaches the data-protection officer; without
    it a marked placeholder stands there for the officer to fill in."""
    generated = _copenhagen(answer.generated_at)
    paragraphs = "\n".join(f"    <p>{_e(p.format(municipality=municipality_title))}</p>"
                           for p in DA["intro"])
    notes = [*DA["notes"], DA["staff_shown"] if answer.include_staff else DA["staff_withheld"]]
    note_items = "\n".join(f"      <li>{_e(n)}</li>" for n in notes)
    if answer.entries:
        head = "".join(f"<th scope=\"col\">{_e(c)}</th>" for c in DA["columns"])
        rows = "\n".join(
            f"        <tr><td>{when}</td>{''.join(f'<td>{c}</td>' for c in cells)}</tr>"
            for when, cells in _document_rows(answer.entries))
        table = (f"    <table>\n      <thead><tr>{head}</tr></thead>\n      <tbody>\n{rows}\n"
                 "      </tbody>\n    </table>")
    else:
        table = f"    <p class=\"empty\">{_e(DA['empty'])}</p>"
    contact = DA["contact"]
    concerning = str(DA["concerning_value"]).format(born=_date_da(answer.born),
                                                    masked=answer.masked_cpr)
    footer = str(DA["footer"]).format(
        generated=f"{_date_da(generated.date())} {DA['at']} {generated:%H.%M}",
        count=answer.count)
    dpo = (f"<p>{_e(dpo_contact)}</p>" if dpo_contact
           else f'<p class="placeholder">{_e(DA["dpo_placeholder"])}</p>')
    return f"""<!DOCTYPE html>
<html lang="da">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{_e(DA['title'])}</title>
  <style>{_CSS}</style>
</head>
<body>
  <header>
    <p class="municipality">{_e(municipality_title)}</p>
    <h1>{_e(DA['title'])}</h1>
    <dl class="meta">
      <dt>{_e(DA['date'])}</dt><dd>{_e(_date_da(generated.date()))}</dd>
      <dt>{_e(DA['municipality'])}</dt><dd>{_e(municipality_title)}</dd>
      <dt>{_e(DA['concerning'])}</dt><dd>{_e(concerning)}</dd>
      <dt>{_e(DA['count'])}</dt><dd>{answer.count}</dd>
    </dl>
  </header>
  <section>
    <h2>{_e(DA['intro_heading'])}</h2>
{paragraphs}
  </section>
  <section>
    <h2>{_e(DA['table_heading'])}</h2>
{table}
  </section>
  <section>
    <h2>{_e(DA['notes_heading'])}</h2>
    <ul>
{note_items}
    </ul>
  </section>
  <section>
    <h2>{_e(DA['contact_heading'])}</h2>
    <p>{_e(contact[0])}</p>
    {dpo}
    <p>{_e(contact[1])}</p>
  </section>
  <footer>{_e(footer)}</footer>
</body>
</html>
"""


def municipality_of(policy: Policy) -> str:
    """The municipality's name from the policy title: ``Vordingborg Kommune, SSP-…`` →
    ``Vordingborg Kommune``."""
    return policy.doc.title.split(",")[0].strip() or policy.doc.title

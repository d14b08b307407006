"""No page a person sees shows one of the hub's codes untranslated (issue 16, "Danish
throughout"). The codes are gathered from where they are defined — reason codes (hub/reasons.yaml,
the policies' reject rules, the evaluator, re-identification refusals, retention, erasure),
entry kinds and decisions (schemas), outcome statuses, relation roles (the sample data), the
canonical event's field names and the fields a queue was shown, rule ids and legal bases (the
policy files) — and every page is rendered as each role over the sample data, after the acts
that write the other entry kinds (re-identification, a refused one, subject access). A code
may appear only inside an element marked as a hint (``class="kode"``, hub/web/texts.py) or in
an attribute that is not read out (a link, a form value, a ``title``)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BaseModel

from core.ledger.auditlog import ERASED_LOG_BODIES
from core.ledger.retention import REASON_EXPIRED, REASON_NOTHING_LEFT
from core.policy.evaluator import DEFAULT_DENY_REASON
from hub import reasons
from hub.auth import new_token
from hub.sample_data import sample_events
from hub.subject_access import DECISION_BASIS, SUBJECT_ACCESS_BASIS
from hub.web import login
from hub.web.routes import ROUTERS
from hub.web.sessions import hash_password
from hub.web.texts import HINT_CLASS, TEXTS
from schemas.disclosures import Decision, EntryKind
from schemas.events import CanonicalEvent, Purpose
from tests.unit import test_web
from tests.unit.test_web import Web, csrf_of

web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "core" / "policy" / "policies").glob("*.yaml"))
# Names that are Danish words are no code to translate ("?koe=", "status").
DANISH_PARAMS = {"afgjort", "fejl", "gemt", "koe", "side", "status", "note"}
OUTCOMES = ("pending", "routed", "rejected", "quarantined", "aggregated")
# Pages whose template may still show some groups' codes raw, and those groups (none now).
KNOWN_GAPS: dict[str, set[str]] = {}


# -- the hub's codes, from their sources --------------------------------------------------------
def field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every field of ``model`` as a dotted path ("subject.cpr"), by its JSON name."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        path = prefix + (info.alias or name)
        found.add(path)
        for arg in (info.annotation, *get_args(info.annotation)):
            for inner in (arg, *get_args(arg)):
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    found |= field_paths(inner, path + ".")
    return found


def refusal_codes() -> set[str]:
    """Re-identification refusal codes, as hub/api/reidentify.py refuses with them."""
    source = (ROOT / "hub" / "api" / "reidentify.py").read_text(encoding="utf-8")
    return set(re.findall(r'refuse\(\d+, "([a-z_]+)"', source))


def policy_codes() -> dict[str, set[str]]:
    rules: set[str] = set()
    flags: set[str] = set()
    reject_reasons: set[str] = set()
    bases: set[str] = set()
    for path in POLICIES:
        doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in [*doc.get("rules", []), *doc.get("signals", [])]:
            rules.add(rule["id"])
            if rule.get("reason"):
                reject_reasons.add(rule["reason"])
            flags |= set(rule.get("flags") or [])
        basis = doc.get("legal_basis", {})
        bases |= {*basis.get("agencies", {}).values(), basis.get("hub")} - {None}
    return {"rule": rules, "reason_code": reject_reasons, "legal_basis": bases, "flag": flags}


def sample_cpr() -> str:
    """The subject of the first sample concern (about whom the log has entries)."""
    event: dict[str, Any] = next(e for _a, e in sample_events() if e["kind"] == "concern")
    return str(event["subject"]["cpr"])


def relation_roles() -> set[str]:
    events: list[dict[str, Any]] = [e for _a, e in sample_events()]
    return {str(person["role"]) for event in events
            for person in event.get("related_persons") or []}


def page_params() -> set[str]:
    """The form and query parameters the pages' routers declare (an invalid one is named on
    the error page)."""
    def params(dependant: Dependant) -> set[str]:
        return {p.alias for p in [*dependant.query_params, *dependant.body_params]}.union(
            *(params(d) for d in dependant.dependencies))

    routes = [r for router in (login.router, *ROUTERS) for r in router.routes]
    found: set[str] = set().union(*(params(r.dependant) for r in routes
                                    if isinstance(r, APIRoute)))
    return found - DANISH_PARAMS


def logged_codes(entries: list[dict[str, Any]]) -> dict[str, set[str]]:
    """The codes the log's entries hold beyond the schemas: the fields a queue was shown,
    the names of the details and the views a consultation names."""
    details = [e.get("details") or {} for e in entries]
    return {"field": {f for e in entries for f in e.get("fields") or []},
            "log_detail": {k for d in details for k in d} - DANISH_PARAMS,
            "log_view": {str(d["view"]) for d in details if "view" in d}}


def hub_codes(entries: list[dict[str, Any]]) -> dict[str, str]:
    """code → the da.yaml group that must label it."""
    from_policy = policy_codes()
    logged = logged_codes(entries)
    groups: dict[str, set[str]] = {
        "reason_code": (set(reasons._texts()) - {"invalid"}) | from_policy["reason_code"]
        | refusal_codes() | {DEFAULT_DENY_REASON, REASON_EXPIRED, REASON_NOTHING_LEFT,
                             ERASED_LOG_BODIES},
        "kind": {k.value for k in EntryKind},
        "decision": {d.value for d in Decision},
        "outcome": set(OUTCOMES),
        "relation": relation_roles(),
        "field": field_paths(CanonicalEvent) | logged["field"],
        "rule": from_policy["rule"],
        "legal_basis": from_policy["legal_basis"] | {SUBJECT_ACCESS_BASIS, DECISION_BASIS,
                                                     "gdpr-art-17"},
        "purpose": {p.value for p in Purpose},
        "param": page_params(),
        "flag": from_policy["flag"],
        "log_detail": logged["log_detail"],
        "log_view": logged["log_view"],
    }
    return {code: group for group, codes in groups.items() for code in codes}


# -- what a person sees -------------------------------------------------------------------------
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
READ_OUT = ("placeholder", "aria-label", "alt")


class VisibleText(HTMLParser):
    """The text a person sees or hears: element text and the attributes read out, minus
    ``<style>``/``<script>`` and anything inside an element of class ``kode``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: hidden (a hint, a style, a script)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        hidden = (tag in ("style", "script") or HINT_CLASS in (found.get("class") or "").split()
                  or any(self.stack))
        if not hidden:
            self.parts += [str(found[a]) for a in READ_OUT if found.get(a)]
        if tag not in VOID:
            self.stack.append(hidden)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def untranslated(html: str, codes: dict[str, str]) -> list[str]:
    text = visible_text(html)
    return sorted(code for code in codes
                  if re.search(rf"(?<![\w.\-/]){re.escape(code)}(?![\w\-/]|\.\w)", text))


# -- the pages ----------------------------------------------------------------------------------
def _acts(web: Web) -> None:
    """The acts that write the entry kinds the sample pipeline does not: a re-identification,
    a refused one, a subject-access answer."""
    client = web.login("konsulent")
    item = web.store.inbox_page(queues=["beredskab"], status=None, limit=1,
                                cursor=None).items[0]
    page = client.get(f"/ui/personer/{item['pseudonym']}")
    for reason in ("kort", "Den unge er meldt savnet, og beredskabet skal finde familien i aften"):
        client.post(f"/ui/personer/{item['pseudonym']}/identitet",
                    data={"csrf": csrf_of(page.text), "reason": reason})
    officer = web.login("sikkerhed")
    form = officer.get("/ui/indsigt")
    cpr = sample_cpr()
    officer.post("/ui/indsigt", data={"csrf": csrf_of(form.text), "cpr": cpr, "action": "vis"})


def _pages(web: Web) -> list[tuple[str, str, str]]:
    """(role account, page, html) for every page of every role over the sample data."""
    _acts(web)
    shown: list[tuple[str, str, str]] = []
    officer = web.login("sikkerhed")
    entries = web.log_entries()
    # One entry of each kind to each recipient for each reason: every code the log holds.
    one_of_each = {(e["kind"], e.get("recipient"), e.get("reason_code")): e["seq"]
                   for e in entries}
    paths = ["/ui/log", "/ui/log?kind=rejection", "/ui/log?kind=consultation",
             "/ui/log?decision=måske", "/ui/log/integritet", "/ui/log/afvisninger",
             "/ui/log/afviste-forespoergsler", "/ui/politik", "/ui/styring", "/ui/indsigt",
             *{f"/ui/log/{seq}" for seq in one_of_each.values()}]
    shown += [("sikkerhed", p, officer.get(p).text) for p in paths]
    form = officer.get("/ui/indsigt")
    cpr = sample_cpr()
    answer = officer.post("/ui/indsigt", data={"csrf": csrf_of(form.text), "cpr": cpr,
                                               "action": "vis", "include_staff": "1"})
    shown.append(("sikkerhed", "/ui/indsigt (svar)", answer.text))
    # The CSV export is read in Excel: plain text, so no hints at all.
    shown.append(("sikkerhed", "/ui/log.csv", officer.get("/ui/log.csv").text))
    if web.store.login_record("administrator") is None:
        web.store.add_principal("administrator", "admin", (), new_token(),
                                hash_password(test_web.PASSWORD))
    admin = web.login("administrator")
    shown += [("administrator", p, admin.get(p).text) for p in ("/ui/politik", "/ui/styring")]
    consultant = web.login("konsulent")
    items = web.store.inbox_page(queues=["beredskab", "infohus", "omraade-stege"], status=None,
                                 limit=1000, cursor=None).items
    paths = ["/ui/indbakke", "/ui/styring",
             *{f"/ui/bekymringer/{i['queue']}/{i['event_id']}" for i in items},
             *{f"/ui/personer/{i['pseudonym']}" for i in items if i.get("pseudonym")}]
    shown += [("konsulent", p, consultant.get(p).text) for p in paths]
    shown += [("styregruppe", "/ui/styring", web.login("styregruppe").get("/ui/styring").text)]
    anonymous = web.client()
    form = anonymous.get("/ui/login")
    shown.append(("-", "/ui/login", form.text))
    invalid = anonymous.post("/ui/login", data={"username": "x" * 300, "password": "-",
                                                "csrf": csrf_of(form.text)})
    assert invalid.status_code == 422
    shown.append(("-", "/ui/login (ugyldig formular)", invalid.text))
    return shown


@pytest.fixture(scope="module")
def pages(web: Web) -> list[tuple[str, str, str]]:
    return _pages(web)


def test_every_code_has_a_danish_label(web: Web, pages: list[tuple[str, str, str]]) -> None:
    codes = hub_codes(web.log_entries())
    assert len(codes) > 60, "the sources gave too few codes"
    missing = sorted(f"{group}.{code}" for code, group in codes.items()
                     if code not in TEXTS.get(group, {}))
    assert not missing, f"no Danish label in hub/web/da.yaml: {missing}"


def test_the_sample_pages_do_show_the_codes_somewhere(
        web: Web, pages: list[tuple[str, str, str]]) -> None:
    """The check below has teeth: the pages' hints (and so their data) hold the codes."""
    codes = hub_codes(web.log_entries())
    hints = " ".join(hint for _r, _p, html in pages
                     for hint in re.findall(rf'class="{HINT_CLASS}"[^>]*>([^<]*)<', html))
    seen = {code for code in codes if code in hints}
    assert {"username", "password", "csrf"} <= set(codes)
    for expected in ("rejection", "consultation", "reidentification", "subject.pseudonym",
                     "rpl-115-stk2", "crime_prevention", "route-infohus", "disclosed"):
        assert expected in seen, expected
    assert any(c in seen for c in policy_codes()["reason_code"])
    assert untranslated('<p>Afvist: outside_target_group</p>', codes) == ["outside_target_group"]
    assert untranslated('<p>Afvist <small class="kode">outside_target_group</small></p>',
                        codes) == []


def test_no_page_shows_an_untranslated_code(web: Web, pages: list[tuple[str, str, str]]
                                            ) -> None:
    codes = hub_codes(web.log_entries())
    found = {f"{role} {path}": raw for role, path, html in pages
             if (raw := untranslated(html, codes))}
    unexpected = {page: [code for code in raw if codes[code] not in allowed_raw(page)]
                  for page, raw in found.items()}
    unexpected = {page: raw for page, raw in unexpected.items() if raw}
    assert not unexpected, f"codes shown untranslated: {unexpected}"


def allowed_raw(page: str) -> set[str]:
    path = page.split(" ", 1)[1]
    return next((groups for prefix, groups in KNOWN_GAPS.items() if path.startswith(prefix)),
                set())

"""The consultant's inbox (search, counts, numbered pages, the time it is sorted by), the joint
view's status, a deep link kept across login (and no open redirect), a failed status save that
keeps the note, and the governance report's period, CSV and charts (issue 16).

Over HTTP without a browser, on the same store as ``test_web.py`` (the sample events through
the real pipeline); the browser checks are in ``tests/integration/browser/test_web_consult.py``.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from core.store.repositories.inbox import InboxSearch
from hub.web import consultant
from hub.web.consultant import inbox_search
from hub.web.governance import MIN_FONT_PX, bar_chart_svg, monthly_chart_svg, number_da
from hub.web.sessions import safe_next
from hub.web.steering import choose_period
from tests.unit import test_web
from tests.unit.test_web import Web, csrf_of

pytestmark = pytest.mark.timeout(120)
QUEUES = ("omraade-praestoe", "omraade-stege", "beredskab", "underretning", "infohus",
          "opsoegende")
SVG = "{http://www.w3.org/2000/svg}"
web = test_web.web  # the web UI tests' module-scoped app over the sample data, reused


def _rows(page_html: str) -> list[tuple[str, str]]:
    return re.findall(r'href="/ui/bekymringer/([^/"]+)/([^"]+)"', page_html)


def _link(page_html: str, rel: str) -> str:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page_html)
    assert found, f"no {rel} link"
    return html.unescape(found.group(1))


def _everything(web: Web) -> list[dict[str, Any]]:
    return web.store.inbox_search_page(queues=QUEUES, status=None, search=InboxSearch(),
                                       page=1, per_page=1000).items


# -- search ------------------------------------------------------------------------------------
def test_search_text_becomes_codes_and_never_a_cpr_number() -> None:
    titles = {"infohus": "Infohuset", "beredskab": "SSP-beredskabet"}
    assert inbox_search("  gruppe ", titles) == InboxSearch(categories=("group_conflict",))
    assert inbox_search("Politi", titles) == InboxSearch(agencies=("police",))
    assert inbox_search("under behandling", titles) == InboxSearch(
        statuses=("under_behandling",))
    assert inbox_search("infohus", titles) == InboxSearch(queues=("infohus",))
    assert inbox_search("7b0e2f0c", titles) == InboxSearch(event_id="7b0e2f0c")
    assert inbox_search("", titles) == InboxSearch()
    # A CPR number, a name: nothing the inbox shows; not searched at all.
    assert inbox_search("010210-4321", titles) is None
    assert inbox_search("0102104321", titles) is None
    assert inbox_search("Mikkel Hansen", titles) is None


def test_inbox_search_by_a_danish_category_name_and_by_an_event_id(web: Web) -> None:
    client = web.login("konsulent")
    every = _everything(web)
    wanted = Counter(str(i["category"]) for i in every).most_common(1)[0][0]
    label = {"crime": "Kriminalitet", "group_conflict": "Gruppekonflikt",
             "wellbeing": "Trivsel", "insecurity": "Utryghed", "extremism": "Ekstremisme",
             "school_absence": "Skolefravær", "substance_abuse": "Rusmidler",
             "radicalisation": "Radikalisering", "honour_related_conflict": "Æresrelateret",
             "negative_social_control": "Negativ social kontrol"}[wanted]
    page = client.get("/ui/indbakke", params={"q": label.lower()})
    assert page.status_code == 200
    shown = _rows(page.text)
    expected = [(str(i["queue"]), str(i["event_id"])) for i in every if i["category"] == wanted]
    assert shown == expected[:consultant.PER_PAGE]
    assert f"{len(expected)} bekymringer i alt" in page.text
    assert f'value="{label.lower()}"' in page.text  # the search stays in its field
    one = str(every[3]["event_id"])
    page = client.get("/ui/indbakke", params={"q": one[:8]})
    assert {e for _q, e in _rows(page.text)} == {one}


def test_a_search_for_a_name_searches_nothing_logs_nothing_and_is_not_kept(web: Web) -> None:
    client = web.login("konsulent")
    before = len(web.log_entries("consultation"))
    page = client.get("/ui/indbakke", params={"q": "Mikkel Hansen"})
    assert page.status_code == 200
    assert _rows(page.text) == []
    assert "Søgningen matcher hverken" in page.text
    assert "Mikkel Hansen" not in page.text
    assert len(web.log_entries("consultation")) == before


def test_inbox_counts_per_status_and_pages_both_ways(web: Web,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    client = web.login("konsulent")
    every = _everything(web)
    target = every[1]
    page = client.get(f"/ui/bekymringer/{target['queue']}/{target['event_id']}")
    client.post(f"/ui/bekymringer/{target['queue']}/{target['event_id']}/status",
                data={"csrf": csrf_of(page.text), "status": "afsluttet", "note": ""})
    statuses = Counter(str(i["_status"]) for i in _everything(web))
    assert statuses["afsluttet"] >= 1
    monkeypatch.setattr(consultant, "PER_PAGE", 4)
    first = client.get("/ui/indbakke")
    pages = -(-len(every) // 4)
    assert f"{len(every)} bekymringer i alt" in first.text
    for status, label in (("ny", "Ny"), ("under_behandling", "Under behandling"),
                          ("afsluttet", "Afsluttet")):
        assert f"{label}: {statuses[status]}</a>" in first.text
    assert f"Side 1 af {pages}" in first.text
    assert 'rel="prev"' not in first.text
    seen = _rows(first.text)
    page = first
    for number in range(2, pages + 1):
        next_link = _link(page.text, "next")
        assert parse_qs(urlsplit(next_link).query)["side"] == [str(number)]
        page = client.get(next_link)
        assert f"Side {number} af {pages}" in page.text
        seen += _rows(page.text)
    assert 'rel="next"' not in page.text
    # Newest arrival first, every concern once.
    assert seen == [(str(i["queue"]), str(i["event_id"])) for i in every]
    back = _link(page.text, "prev")
    assert f"Side {pages - 1} af {pages}" in client.get(back).text
    # The status filter narrows the rows, the counts stay those of the whole search.
    closed = client.get("/ui/indbakke", params={"status": "afsluttet"})
    assert len(_rows(closed.text)) == min(4, statuses["afsluttet"])
    assert f"{len(every)} bekymringer i alt" in closed.text
    # A page past the last shows the last.
    assert f"Side {pages} af {pages}" in client.get("/ui/indbakke",
                                                    params={"side": 999}).text


def test_inbox_shows_and_sorts_by_the_received_time(web: Web) -> None:
    client = web.login("konsulent")
    page = client.get("/ui/indbakke").text
    assert "Modtaget (nyeste først)" in page
    every = _everything(web)
    received = [i["_received_at"] for i in every]
    assert received == sorted(received, reverse=True)
    first_row = page.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert re.search(r'<td class="when">\d\d\.\d\d\.\d{4} \d\d:\d\d</td>', first_row)


def test_the_inbox_order_follows_the_received_time_not_the_row_number(web: Web) -> None:
    oldest = _everything(web)[-1]
    newest = _everything(web)[0]
    later = newest["_received_at"] + dt.timedelta(minutes=5)
    concerns = sa.table("concerns", sa.column("event_id"), sa.column("queue"),
                        sa.column("routed_at"))
    where = sa.and_(concerns.c.event_id == oldest["event_id"],
                    concerns.c.queue == oldest["queue"])
    with web.store.engine.begin() as conn:
        conn.execute(concerns.update().where(where).values(routed_at=later))
    try:
        first = _rows(web.login("konsulent").get("/ui/indbakke").text)[0]
    finally:
        with web.store.engine.begin() as conn:
            conn.execute(concerns.update().where(where).values(
                routed_at=oldest["_received_at"]))
    assert first == (oldest["queue"], oldest["event_id"])


# -- joint view --------------------------------------------------------------------------------
def test_joint_view_shows_each_queues_status(web: Web) -> None:
    client = web.login("konsulent")
    item = next(i for i in _everything(web) if i.get("pseudonym"))
    path = f"/ui/bekymringer/{item['queue']}/{item['event_id']}"
    client.post(path + "/status", data={"csrf": csrf_of(client.get(path).text),
                                         "status": "under_behandling", "note": ""})
    page = client.get(f"/ui/personer/{item['pseudonym']}").text
    entry = page.split(f'href="{path}"', 1)[1].split("</li>", 1)[0]
    assert "Status: Under behandling" in entry


# -- deep link across login --------------------------------------------------------------------
def test_a_deep_link_survives_login(web: Web) -> None:
    item = _everything(web)[0]
    path = f"/ui/bekymringer/{item['queue']}/{item['event_id']}"
    client = web.client()
    resp = client.get(path, follow_redirects=False)
    assert resp.status_code == 303
    login_url = resp.headers["location"]
    assert parse_qs(urlsplit(login_url).query)["next"] == [path]
    form = client.get(login_url).text
    assert f'name="next" value="{path}"' in form
    resp = client.post("/ui/login", data={"username": "konsulent",
                                          "password": "korrekt hest batteri hæfteklamme",
                                          "csrf": csrf_of(form), "next": path},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == path


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/ui/",
                                    "/\\evil.example", "/ui/\\\\evil", "javascript:alert(1)",
                                    "/ui/login?next=/ui/log", "/api/v1/queues", "/ui/x\r\nSet"])
def test_next_to_anywhere_else_is_ignored(web: Web, target: str) -> None:
    assert safe_next(target) is None
    client = web.client()
    form = client.get("/ui/login", params={"next": target}).text
    assert 'name="next"' not in form
    resp = client.post("/ui/login", data={"username": "konsulent",
                                          "password": "korrekt hest batteri hæfteklamme",
                                          "csrf": csrf_of(form), "next": target},
                       follow_redirects=False)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/ui/indbakke"


def test_safe_next_keeps_a_page_with_its_query() -> None:
    assert safe_next("/ui/indbakke?status=ny&side=2") == "/ui/indbakke?status=ny&side=2"


# -- a failed status save keeps the note -------------------------------------------------------
def test_an_expired_form_keeps_the_note_and_saving_again_works(web: Web) -> None:
    client = web.login("konsulent")
    item = _everything(web)[5]
    path = f"/ui/bekymringer/{item['queue']}/{item['event_id']}"
    before = web.store.status_history(str(item["event_id"]), str(item["queue"]))
    typed = "Aftalt samtale med skolen og forældrene på fredag."
    resp = client.post(path + "/status", data={"csrf": "forældet", "status": "afsluttet",
                                                "note": typed})
    assert resp.status_code == 403
    assert "Formularen var udløbet" in resp.text
    assert "Din note er ikke gemt, men står stadig i feltet" in resp.text
    assert f">{typed}</textarea>" in resp.text
    assert 'value="afsluttet" checked' in resp.text
    assert web.store.status_history(str(item["event_id"]), str(item["queue"])) == before
    resp = client.post(path + "/status", data={"csrf": csrf_of(resp.text),
                                                "status": "afsluttet", "note": typed},
                       follow_redirects=False)
    assert resp.status_code == 303


def test_a_store_failure_keeps_the_note_with_a_danish_error(web: Web) -> None:
    client = web.login("konsulent")
    item = _everything(web)[6]
    path = f"/ui/bekymringer/{item['queue']}/{item['event_id']}"
    csrf = csrf_of(client.get(path).text)
    typed = "Skolen holder møde med eleven i næste uge."
    # The database refuses the write (as when its disk is full); reading still works.
    with web.store.engine.begin() as conn:
        conn.execute(sa.text("CREATE TRIGGER refuse_status BEFORE INSERT ON "
                             "concern_status_history BEGIN SELECT RAISE(ABORT, 'disk full'); "
                             "END"))
    try:
        resp = client.post(path + "/status", data={"csrf": csrf, "status": "under_behandling",
                                                    "note": typed})
    finally:
        with web.store.engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER refuse_status"))
    assert resp.status_code == 503
    assert "Status kunne ikke gemmes lige nu" in resp.text
    assert f">{typed}</textarea>" in resp.text
    assert web.store.statuses([(str(item["event_id"]), str(item["queue"]))]) == {}


# -- governance --------------------------------------------------------------------------------
def test_period_by_year_or_months_and_danish_errors() -> None:
    counted = {"2025-11", "2026-02"}
    period, error = choose_period(counted, year="2025", this_month="2026-03")
    assert error is None
    assert period.months[0] == "2025-01"
    assert len(period.months) == 12
    assert period.label == "januar 2025 – december 2025"
    period, error = choose_period(counted, year="2026", this_month="2026-03")
    assert period.months == ("2026-01", "2026-02", "2026-03")  # not into the future
    period, error = choose_period(counted, start="2025-12", end="2026-02", this_month="2026-03")
    assert error is None
    assert period.months == ("2025-12", "2026-01", "2026-02")
    assert period.query == {"fra": "2025-12", "til": "2026-02"}
    for asked in ({"start": "2026-02", "end": "2025-12"}, {"start": "2026-13", "end": "2026-14"},
                  {"start": "2020-01", "end": "2026-01"}, {"year": "26"}, {"year": "2099"}):
        period, error = choose_period(counted, this_month="2026-03", **asked)
        assert error
        assert error[0].isupper()
        assert period.query == {}
        assert period.months[-1] == "2026-03"


def _page_numbers(page_html: str) -> list[list[str]]:
    """Each stats table of the page as rows of cell texts (header and label cells left out)."""
    tables = re.findall(r'<table class="stats">(.*?)</table>', page_html, re.S)
    out = []
    for table in tables:
        body = table.split("<tbody>", 1)[1]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            out.append([html.unescape(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>",
                                                                       row, re.S)])
    return out


def test_governance_csv_follows_the_chosen_period_with_the_pages_numbers(web: Web) -> None:
    client = web.login("styregruppe")
    year = str(_everything(web)[0]["occurred_at"])[:4]
    page = client.get("/ui/styring", params={"aar": year})
    assert page.status_code == 200
    assert f'href="/ui/styring.csv?aar={year}"' in page.text
    resp = client.get(f"/ui/styring.csv?aar={year}")
    assert f"ssp-styring-{year}-01_" in resp.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff")), delimiter=";"))
    label = re.search(r'<span id="periode">([^<]+)</span>', page.text)
    assert label
    assert rows[0] == ["Periode", label.group(1)]
    assert rows[0][1].startswith("januar " + year)
    numbers = [r[1:] for r in rows[2:] if r and r[0] and len(r) > 2 and r[1] != ""
               and not r[0].startswith("Bekymringer")]
    assert numbers == _page_numbers(page.text)
    shares = [r[-1] for r in numbers if r[-1] not in ("–",)]
    assert "100,0" in shares
    assert all(re.fullmatch(r"\d{1,3},\d", s) for s in shares)  # a decimal comma


def test_governance_period_error_is_danish_and_the_page_still_answers(web: Web) -> None:
    client = web.login("styregruppe")
    page = client.get("/ui/styring", params={"fra": "2026-05", "til": "2026-01"})
    assert page.status_code == 422
    assert "Fra-måneden ligger efter til-måneden." in page.text
    assert "Hent som CSV" in page.text


def test_governance_charts_have_readable_text_titles_and_the_queue_note(web: Web) -> None:
    client = web.login("styregruppe")
    page = client.get("/ui/styring").text
    titles = re.findall(r"<title id=\"[^\"]+\">([^<]+)</title>", page)
    assert titles[0] == "Bekymringer pr. måned"
    assert [t.split(",")[0] for t in titles[1:]] == [
        "Bekymringer efter kategori i alt", "Bekymringer efter område i alt",
        "Bekymringer efter kø i alt"]
    assert not any("og måned" in t for t in titles[1:])  # a bar is a total, not a month
    assert "én bekymring kan gå til flere" in page
    assert "køer" in page.split('id="koe-note"', 1)[1][:300]


@pytest.mark.parametrize("chart", [bar_chart_svg, monthly_chart_svg])
def test_charts_are_drawn_at_natural_size_with_text_of_at_least_12px(chart: object) -> None:
    assert callable(chart)
    svg: str = chart("Bekymringer pr. måned", [f"2026-{m:02d}" for m in range(1, 13)],
                     [12] * 12)
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    _x, _y, width, height = root.get("viewBox", "").split()
    assert (root.get("width"), root.get("height")) == (width, height)  # 1 unit = 1 CSS px
    sizes = [int(str(e.get("font-size") or root.get("font-size")))
             for e in root.iter(f"{SVG}text")]
    assert min(sizes) >= max(12, MIN_FONT_PX)


def test_number_da_writes_a_decimal_comma() -> None:
    assert number_da(12.5) == "12,5"
    assert number_da(100.0) == "100,0"
    assert number_da(7) == "7"

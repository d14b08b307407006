"""The what-if page (``/ui/politik/hvad-hvis``) over the web app with a real store filled by the
real pipeline: who may use it, CSRF, a pasted or uploaded proposal, and a refused one."""

from __future__ import annotations

import re

from core.policy.evaluator import parse_policy
from core.settings import Settings
from hub.policy_diff import policy_diff
from tests.unit.test_web import Web, csrf_of, web  # noqa: F401

PATH = "/ui/politik/hvad-hvis"
SSP_RULE = "when: {collaboration: {in: [SSP]}, age: {not_between: [0, 17]}}"


def _proposal(limit: int) -> str:
    text = Settings().resolved_policy_file.read_text(encoding="utf-8")
    return text.replace(SSP_RULE, SSP_RULE.replace("[0, 17]", f"[0, {limit}]"))


def _summary_count(html: str) -> int:
    found = re.search(r"Ville få et andet udfald: (\d+)", html)
    assert found is not None, html
    return int(found.group(1))


def test_only_security_officers_and_admins_see_it(web: Web) -> None:  # noqa: F811
    assert web.login("konsulent").get(PATH).status_code == 403
    page = web.login("sikkerhed").get(PATH)
    assert page.status_code == 200
    assert 'href="/ui/politik/hvad-hvis"' in page.text
    assert "Afprøv forslaget" in page.text


def test_a_pasted_proposal_shows_what_the_replay_finds(web: Web) -> None:  # noqa: F811
    client = web.login("sikkerhed")
    csrf = csrf_of(client.get(PATH).text)
    text = _proposal(12)

    resp = client.post(PATH, data={"csrf": csrf, "policy": text, "days": "30"})

    assert resp.status_code == 200, resp.text
    current = parse_policy(Settings().resolved_policy_file.read_text(encoding="utf-8"), "c")
    expected = policy_diff(web.store, current, parse_policy(text, "p"), days=30)
    assert expected.changed > 0  # the sample data has SSP concerns about children over 12
    assert _summary_count(resp.text) == expected.changed
    for ident in expected.changed_ids[:5]:
        assert ident in resp.text
    assert "Uden for samarbejdets målgruppe (alder)" in resp.text
    # Codes only as secondary hints (issue 16, "Danish throughout").
    page = re.sub(r"<textarea.*?</textarea>", "", resp.text, flags=re.S)  # the YAML itself
    for code in ("outside_target_group", "ssp-target-group"):
        shown = page.count(code)
        hinted = len(re.findall(rf'<small class="kode">[^<]*{code}', page))
        assert shown == hinted > 0, code
    assert "af forslagets egne eksempler passer ikke med reglerne" in resp.text
    assert "ssp-target-group #1" in resp.text


def test_an_uploaded_file_wins_over_the_pasted_text(web: Web) -> None:  # noqa: F811
    client = web.login("sikkerhed")
    csrf = csrf_of(client.get(PATH).text)
    unchanged = Settings().resolved_policy_file.read_text(encoding="utf-8")

    resp = client.post(PATH, data={"csrf": csrf, "policy": "not: a policy", "days": "30"},
                       files={"file": ("forslag.yaml", unchanged.encode(), "text/yaml")})

    assert resp.status_code == 200, resp.text
    assert _summary_count(resp.text) == 0
    assert "Ingen hændelse ville få et andet udfald." in resp.text
    assert "af forslagets egne eksempler passer ikke" not in resp.text


def test_an_invalid_proposal_is_refused_naming_the_field(web: Web) -> None:  # noqa: F811
    client = web.login("sikkerhed")
    csrf = csrf_of(client.get(PATH).text)
    bad = _proposal(15).replace("not_between: [0, 15]", "not_between: [15, 0]")

    resp = client.post(PATH, data={"csrf": csrf, "policy": bad, "days": "30"})
    days = client.post(PATH, data={"csrf": csrf, "policy": _proposal(15), "days": "0"})
    empty = client.post(PATH, data={"csrf": csrf, "policy": "  ", "days": "30"})

    assert resp.status_code == 422
    assert "Forslaget er ikke en gyldig politik" in resp.text
    assert "rules.2.when.age" in resp.text
    assert "Ville få et andet udfald" not in resp.text
    assert days.status_code == 422
    assert "Antal dage skal være et helt tal fra 1 til 3660." in days.text
    assert empty.status_code == 422
    assert "Vælg en politikfil eller indsæt politikken." in empty.text


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:  # noqa: F811
    client = web.login("sikkerhed")
    resp = client.post(PATH, data={"policy": _proposal(15), "days": "30"})
    assert resp.status_code == 403
    assert "Ville få et andet udfald" not in resp.text

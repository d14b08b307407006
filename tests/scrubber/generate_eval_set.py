"""Generate ``eval_set.jsonl``: labelled Danish concern texts for the scrubber's evaluation.

    .venv/bin/python -m tests.scrubber.generate_eval_set        # rewrites eval_set.jsonl

Texts are written in a small markup, ``{kind:value}``, which :func:`parse` turns into plain
text and exact gold spans, so the labels cannot drift from the text. Templates are filled with
names of many origins (the event's own names as ``known_names``, other people's names from the
gazetteer) and identifiers in varied writings; hand-written cases add the tricky ones. Hard
negatives (words that look like names, dates, times, amounts, classes, schools, case numbers)
are plain text: any finding there counts against precision. Deterministic (fixed seed).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

OUT = Path(__file__).parent / "eval_set.jsonl"
_MARK = re.compile(r"\{(cpr|phone|email|handle|address|plate|name):([^{}]+)\}")

FIRST = {
    "da": ["Mikkel", "Freja", "Jonas", "Ida", "Lukas", "Emma", "Frederik", "Sofie", "Magnus",
           "Mathilde", "Oliver", "Clara", "Bo", "Per", "Anders", "Mads", "Nanna", "Rasmus",
           "Signe", "Viggo", "Asger", "Laura", "Tobias", "Karla", "Storm"],
    "ar": ["Mohammed", "Ahmad", "Yousef", "Omar", "Hassan", "Fatima", "Mariam", "Layla",
           "Khalid", "Bilal", "Zainab", "Nour", "Said", "Rami", "Yasmin", "Hiba"],
    "tr": ["Emre", "Mehmet", "Zeynep", "Elif", "Burak", "Kerem", "Ayşe", "Yusuf", "Büşra"],
    "ku": ["Azad", "Rojin", "Dilan", "Soran", "Berivan", "Zana", "Hevin"],
    "so": ["Abdirahman", "Hodan", "Liban", "Ifrah", "Mahad", "Fadumo", "Guled"],
    "pl": ["Jakub", "Zuzanna", "Kacper", "Wiktoria", "Szymon", "Łukasz"],
    "ua": ["Oleksandr", "Iryna", "Dmytro", "Kateryna", "Bohdan", "Yulia"],
    "ba": ["Amir", "Lejla", "Haris", "Emina", "Kenan", "Selma"],
    "pk": ["Usman", "Ayesha", "Imran", "Hira", "Zeeshan"],
    "af": ["Farid", "Mursal", "Jawad", "Freshta", "Morteza"],
    "er": ["Yonas", "Senait", "Filmon", "Luwam", "Merhawi"],
    "vn": ["Minh", "Linh", "Tuan", "Thao", "Quang"],
}
LAST = {
    "da": ["Østergård Sørensen", "Jensen", "Nielsen", "Hansen", "Skov", "Holm", "Lund",
           "Kristensen", "Mikkelsen", "Bjerg", "Dam", "Vestergaard", "Frederiksen", "Storm"],
    "ar": ["Al-Hassan", "Haddad", "Mansour", "Khalil", "Abdallah", "Darwish", "Said"],
    "tr": ["Yılmaz", "Demir", "Kaya", "Öztürk", "Çelik", "Arslan"],
    "ku": ["Barzani", "Amedi", "Zebari", "Kurdi"],
    "so": ["Warsame", "Farah", "Mohamud", "Hersi", "Jama"],
    "pl": ["Kowalski", "Nowak", "Wiśniewska", "Lewandowski", "Kamińska"],
    "ua": ["Shevchenko", "Kovalenko", "Bondarenko", "Melnyk"],
    "ba": ["Hodžić", "Begić", "Hasanović", "Mujić"],
    "pk": ["Khan", "Malik", "Chaudhry", "Qureshi"],
    "af": ["Ahmadi", "Karimi", "Rahimi", "Sultani"],
    "er": ["Tesfay", "Haile", "Tekle", "Gebremedhin"],
    "vn": ["Nguyen", "Tran", "Pham", "Hoang"],
}
STREETS = ["Algade", "Storegade", "Præstøvej", "Kulsbjergvej", "Nørregade", "Møllebakken",
           "Kirkevænget", "Vester Voldgade", "H.C. Andersens Boulevard", "Slotsgade",
           "Østerbrogade", "Ny Østergade", "Solsikkevej", "Skovbrynet", "Engtoften"]
TOWNS = [("4720", "Præstø"), ("4760", "Vordingborg"), ("4780", "Stege"), ("4700", "Næstved"),
         ("2300", "København S"), ("4771", "Kalvehave")]
SCHOOLS = ["Ørebæk Skole", "Kulsbjerg Skole", "Præstø Skole", "Stensved Skole",
           "Svend Gønge-Skolen", "Iselingen Skole", "Vordingborg Gymnasium"]


@dataclass
class Case:
    text: str
    known_names: list[str]
    spans: list[dict[str, object]]


def parse(markup: str, known_names: list[str]) -> Case:
    """``"{name:Bo} ringede"`` → text ``"Bo ringede"``, span ``(0, 2, name)``."""
    text: list[str] = []
    spans: list[dict[str, object]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(markup):
        plain = markup[pos:m.start()]
        text.append(plain)
        length += len(plain)
        value = m.group(2)
        spans.append({"start": length, "end": length + len(value), "kind": m.group(1)})
        text.append(value)
        length += len(value)
        pos = m.end()
    text.append(markup[pos:])
    out = "".join(text)
    if "{" in out or "}" in out:
        raise ValueError("unbalanced markup in an evaluation template")
    return Case(out, known_names, spans)


def cpr(rng: random.Random) -> str:
    year = rng.randint(2007, 2013)
    d, mth = rng.randint(1, 28), rng.randint(1, 12)
    seq = rng.choice("4567") + f"{rng.randint(0, 999):03d}"
    body = f"{d:02d}{mth:02d}{year % 100:02d}"
    return rng.choice([f"{body}-{seq}", f"{body}{seq}", f"{body} {seq}"])


def phone(rng: random.Random) -> str:
    digits = f"{rng.choice('2345678')}{rng.randint(0, 9999999):07d}"
    a, b, c, d = digits[:2], digits[2:4], digits[4:6], digits[6:]
    core = rng.choice([f"{a} {b} {c} {d}", f"{a}{b} {c}{d}", digits, f"{a}-{b}-{c}-{d}",
                       f"{a}{b}{c}{d}", f"{a} {b}{c} {d}"[:2] + f" {b}{c[0]} {c[1]}{d}"])
    return rng.choice(["", "", "+45 ", "0045 ", "+45"]) + core


def email(rng: random.Random, first: str, last: str) -> str:
    def ascii_(s: str) -> str:
        return (s.lower().replace("ø", "oe").replace("å", "aa").replace("æ", "ae")
                .replace("ı", "i").replace("ş", "s").replace("ç", "c").replace("ü", "u")
                .replace("ö", "o").replace("ł", "l").replace("ś", "s").replace("ń", "n")
                .replace("ž", "z").replace("ć", "c").replace("ğ", "g").replace(" ", "")
                .replace("-", ""))
    return rng.choice([
        f"{ascii_(first)}.{ascii_(last)}@gmail.com",
        f"{ascii_(first)}{rng.randint(1, 99)}@hotmail.com",
        f"{ascii_(first)[:3]}{ascii_(last)[:3]}@vordingborg.dk", f"{ascii_(first)}@live.dk",
    ])


def handle(rng: random.Random, first: str) -> str:
    base = first.lower().replace("ø", "o").replace("å", "a").replace("æ", "ae")
    base = re.sub(r"[^a-z]", "", base) or "xx"
    return rng.choice([f"@{base}_{rng.randint(2007, 2013)}", f"@{base}.{rng.randint(1, 99)}",
                       f"@real_{base}", f"@{base}{rng.choice(['x', 'dk', '07'])}"])


def address(rng: random.Random) -> str:
    street = rng.choice(STREETS)
    number = f"{rng.randint(1, 120)}{rng.choice(['', '', 'B', 'a'])}"
    floor = rng.choice(["", "", ", 2. tv", ", st. th.", ", 1. mf", " 3.th"])
    post, town = rng.choice(TOWNS)
    tail = rng.choice(["", f", {post} {town}", f" {post} {town}"])
    return f"{street} {number}{floor}{tail}"


def plate(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFHJKLMNPRSTUVXYZ") for _ in range(2))
    n = rng.randint(10000, 99999)
    return rng.choice([f"{letters} {str(n)[:2]} {str(n)[2:]}", f"{letters}{n}"])


def possessive(name: str) -> str:
    return name + ("'" if name[-1] in "sxz" else "s")


# Templates. S = subject, P = parent/related (both known); O1/O2 = other persons (gazetteer).
TEMPLATES = [
    "Bekymring vedr. {S} ({CPR}), 8.b på {SCHOOL}. {SF} har haft 23 % fravær siden uge 6 og "
    "er set sammen med ældre drenge ved stationen kl. 22.30. {SFS} mor {P} er kontaktet "
    "på {PHONE}.",
    "{SF} kom den 12-03-2026 kl. 8.15 til skole med et blåt øje. Ifølge {SF} var det {O1}, "
    "der slog. Mor ({PF}) siger, at familien bor på {ADDR}. Sagsnr. 2026-04471.",
    "Politiet har 14.02.2026 standset knallerten {PLATE} med {S} og {O1} på. {SF} oplyste "
    "adressen {ADDR}. Der blev fundet 3,5 g hash. J.nr. 0300-80171-00044-26.",
    "{S} skriver med en ældre mand på Snapchat ({HANDLE}). Vi er bekymrede for grooming. "
    "{PF} ({PHONE}) er orienteret. Eleven går i 7.a.",
    "Anonym henvendelse: {SF} {SL} skal have delt billeder af {O1} i en gruppe på Instagram. "
    "Kontakt til forældrene via {EMAIL}. Klasselærer {O2} følger op.",
    "Fravær: {SF} har 41 fraværsdage i skoleåret 2025/26. Far, {P}, svarer ikke på {PHONE}. "
    "Alle lærere i teamet er enige om, at der skal ske noget. Per dag kommer han max 2 timer.",
    "{S} er flere gange set i konflikt med {O1} og {O2} ved Netto. Der var knive involveret. "
    "Storm og regn gjorde, at ingen voksne var ude. Mødet holdes 3/4 kl. 13.",
    "Æresrelateret konflikt: {SF} fortæller, at broren {O1} har truet hende, hvis hun ses med "
    "drenge. Hun bor hos {P} på {ADDR}. Hun ønsker ikke, at forældrene kontaktes.",
    "Radikalisering: {S} har delt IS-propaganda i klassens chat og omtaler {O1} som forbillede. "
    "{SF} bruger profilen {HANDLE}. Sagen er drøftet på SSP-møde 18.11.2025.",
    "Hærværk på {SCHOOL}: ruder knust for ca. 12.000 kr. Optagelser viser {S} og en ukendt "
    "dreng. {SFS} far {P} er ringet op på {PHONE}. Skaden er anmeldt.",
    "Underretning modtaget om {SF} (f. 2011). CPR {CPR}. Moren {P} har misbrug. Kontaktperson "
    "er {O1}, tlf. {PHONE}.",
    "{S} har fået en ny kæreste, {O1} (19 år), som henter hende i bilen {PLATE}. Hun er set på "
    "{ADDR}, hvor der holdes fester.",
    "Samtale med {SF} i dag. {SF} siger, at {O1} og {O2} tager penge fra de yngre elever. "
    "Beløbene er 50-200 kr. ad gangen. {SFS} forældre ved det ikke.",
    "Henvendelse fra {P} ({EMAIL}): datteren {SF} er ikke kommet hjem i nat. Hun var sidst "
    "sammen med {O1} i Præstø. Politiet er underrettet kl. 06.40.",
    "{SF} {SL} har truet en lærer med vold. Episoden skete 9. januar i frikvarteret. Skolen "
    "har sendt {SF} hjem i 2 dage. Kontakt: {PHONE}.",
    "Negativ social kontrol: {SF} må ikke deltage i lejrskole og svømning. Farbror {O1} "
    "henter hende hver dag. Familien bor på {ADDR}.",
    "Opsøgende medarbejder har mødt {S} ved havnen sammen med {O1}. {SF} virkede påvirket. "
    "Mor {PF} kan kontaktes på {PHONE} eller {EMAIL}.",
    "Gruppekonflikt mellem unge fra Stege og Vordingborg. {S}, {O1} og {O2} nævnes. "
    "Der er aftalt slåskamp via TikTok ({HANDLE}) lørdag kl. 20.",
    "{SFS} adfærd er ændret meget det sidste halve år. Han isolerer sig og har talt om at "
    "skade sig selv. Klassens lærer {O1} har talt med {P}.",
    "Den unge ({S}, {CPR}) blev anholdt for butikstyveri i Bilka 02-02-2026. Værdi 1.249 kr. "
    "Forældre: {P}, {ADDR}.",
    "{SF} fortæller, at hun bliver kaldt grimme ting af {O1} på Snapchat. Screenshots er "
    "gemt. Hendes profil er {HANDLE}. Mor ringes op på {PHONE}.",
    "Skolen er bekymret for {S}, som sover i timerne og har mistet 6 kg. {SF} siger, at "
    "far {PF} arbejder om natten. Kontakt {EMAIL}.",
    "{S} er set køre på knallert uden hjelm på {ADDR}. Knallertens plade {PLATE}. {SF} er "
    "15 år. Episoden er registreret under sagsnr. 2026-0311.",
    "Til SSP: {SF} og {O1} har kastet sten efter busser på rute 40. Der er skader for ca. "
    "8.500 kr. {SFS} mor {P} er ked af det.",
    "Bekymring: {S} har fået nye dyre ting (iPhone, sneakers), og {SF} har kontakt til {O1} "
    "(kendt i miljøet). Hjemmet: {ADDR}. Tlf. til far: {PHONE}.",
    "Elevrådet har meldt, at {SF} bliver holdt udenfor. {SFS} forældre, {P} og {O1}, "
    "ønsker et møde. Mødet holdes på kontoret 4. marts kl. 14.00.",
    "{SF} {SL} ({CPR}) har ikke været i skole siden vinterferien. Skolen har skrevet til "
    "{EMAIL} og ringet til {PHONE} uden svar.",
    "Politiet har talt med {S} efter en episode med en kniv ved stationen. {SF} sagde, at "
    "kniven tilhørte {O1}. Der er ikke rejst sigtelse.",
    "Ifølge {O1} har {SF} solgt hash til elever i 9.c. {SF} benægter. Hans mobil: {PHONE}. "
    "Hans snap er {HANDLE}.",
    "{P} henvender sig, fordi sønnen {SF} er blevet truet af ældre unge. Truslerne kom fra "
    "profilen {HANDLE}. Familien overvejer at flytte fra {ADDR}.",
    "{SF} har været involveret i 3 slagsmål i denne måned. {O1} og {O2} var også med. "
    "Lærerne vurderer, at konflikten handler om en pige. Kontakt mor på {EMAIL}.",
    "Opfølgning: {S} deltager nu i fritidsjob 2 dage om ugen. {SF} er glad for det. "
    "Mentor {O1} ({PHONE}) fortsætter forløbet til 30.06.2026.",
    "{SF} har skrevet til en lærer, at hun vil stikke af, hvis hun sendes til {O1} i "
    "udlandet. Familien: {P}, {ADDR}. Sagen haster.",
    "Der er observeret grafitti med navnet {SF} på muren ved {SCHOOL}. Vi mistænker {S} "
    "og {O1}. Udgifter til rengøring ca. 4.000 kr.",
    "{SF} fik konfiskeret sin telefon i timen. {SF} truede med at hans storebror {O1} ville "
    "komme. Bror kører i {PLATE}.",
    "{S} har talt om at rejse til Syrien. {SF} har fulgt prædikener online og har skiftet "
    "navn på Instagram til {HANDLE}. Far {P} er ikke orienteret endnu.",
    "Skoleleder {O1} melder: {SF} har 30 % fravær. Mor, {P} ({PHONE}), mener, at {SF} "
    "bliver mobbet. Vi foreslår et møde i uge 12.",
    "Natteravnene har mødt {SF} kl. 01.30 ved Iselingen. Han sagde, han bor hos {O1}. "
    "Vi ved, at {SFS} bopæl er {ADDR}.",
    "{S} er anholdt for indbrud i kolonihavehus sammen med {O1}. Bilen {PLATE} var "
    "lånt af {P}. Kontakt {EMAIL}.",
    "Efter samtale med {SF} og {PF}: {SF} vil gerne tilbage i klubben. Klubben kan "
    "kontaktes på {phone:55 36 36 36} (hovednummer).",
]
SCHOOL_NEG = ["8.b", "7.a", "9.c", "uge 6", "kl. 14.30", "12.000 kr."]


def _name(value: str) -> str:
    return "{name:" + value + "}"


def _names(value: str) -> str:
    # "Østergård Sørensen" is one chain; mark it as one span
    return _name(value)


def fill(rng: random.Random, template: str) -> Case:
    o_s = rng.choice(list(FIRST))
    sf, sl = rng.choice(FIRST[o_s]), rng.choice(LAST[o_s])
    o_p = o_s if rng.random() < 0.8 else rng.choice(list(FIRST))
    pf = rng.choice(FIRST[o_p])
    while pf == sf:
        pf = rng.choice(FIRST[o_p])
    pl = sl if rng.random() < 0.6 else rng.choice(LAST[o_p])
    others = []
    for _ in range(2):
        o = rng.choice(list(FIRST))
        first = rng.choice(FIRST[o])
        while first in (sf, pf):
            first = rng.choice(FIRST[o])
        others.append((first, rng.choice(LAST[o]), rng.random() < 0.5))
    subject, parent = f"{sf} {sl}", f"{pf} {pl}"
    values = {
        "S": _name(subject), "SF": _name(sf), "SL": _name(sl), "SFS": _name(possessive(sf)),
        "P": _name(parent), "PF": _name(pf),
        "CPR": "{cpr:" + cpr(rng) + "}", "PHONE": "{phone:" + phone(rng) + "}",
        "EMAIL": "{email:" + email(rng, pf, pl) + "}", "HANDLE": "{handle:" + handle(rng, sf) + "}",
        "ADDR": "{address:" + address(rng) + "}", "PLATE": "{plate:" + plate(rng) + "}",
        "SCHOOL": rng.choice(SCHOOLS),
    }
    for i, (first, last, full) in enumerate(others, start=1):
        values[f"O{i}"] = _name(f"{first} {last}" if full else first)
    markup = template
    for key in sorted(values, key=len, reverse=True):
        markup = markup.replace("{" + key + "}", values[key])
    return parse(markup, [subject, parent])


# Hand-written tricky cases: inflections, case, names that are words, hard negatives.
HANDWRITTEN: list[tuple[str, list[str]]] = [
    ("{name:MIKKEL} ER IGEN UDEBLEVET. {name:mikkels} mor {name:Hanne} ringede.",
     ["Mikkel Østergård Sørensen", "Hanne Østergård"]),
    ("{name:Lukas'} far og {name:Lukas} selv var til stede. {name:Berg} sagde ingenting.",
     ["Lukas Berg"]),
    ("Per dag bruger eleverne 2 timer på skærm. Alle i 8.b var med. Is og kage til klassen.",
     []),
    ("Drengen {name:Bo} og hans ven {name:Per Holm} var på Lund Skole kl. 12.",
     []),
    ("Familien {name:Skov} har bedt om et møde. Skov og strand er populære steder.",
     []),
    ("Mødet er 12-03-2026 kl. 14.30. Sagsnr. 20261234. Beløb 12.500 kr. Lokale 2.14.",
     []),
    ("{name:Said} har sagt, at han ikke vil i skole. Det blev sagt højt.", ["Said Haddad"]),
    ("Eleven {name:Storm} fortæller, at der var storm i weekenden.", []),
    ("CPR {cpr:010210-4321}, {cpr:0102104321} og {cpr:010210 4321} er samme dreng.", []),
    ("Ring på {phone:+45 12 34 56 78}, {phone:0045 12345678}, {phone:1234 5678} eller "
     "{phone:12345678}.", []),
    ("Adresse: {address:Algade 12, 2. tv, 4720 Præstø}. Hun har også boet på "
     "{address:Storegade 3B}.", []),
    ("Bilen {plate:AB 12 345} tilhører {name:Anders Skov}.", []),
    ("{name:Ahmed's} bror {name:Yusuf} skriver som {handle:@yusuf_2010} og mail "
     "{email:yusuf.h@outlook.dk}.", ["Ahmed Yusuf Hassan"]),
    ("Til mødet kom {name:Anne-Sofie} og {name:Mohammad al-Hassan}.",
     ["Anne-Sofie Kjær", "Mohammad al-Hassan"]),
    ("I dag kl. 9.45 var der brandalarm på Svend Gønge-Skolen. Ingen kom til skade.", []),
    ("Have du hørt om Dam? Nej, men dam og sø er fine. Bjerg og dal.", []),
    ("Vi har talt med {name:fru Hvidbjerg}".replace("{name:fru Hvidbjerg}", "fru {name:Hvidbjerg}")
     + " om {name:Jonas}.", ["Jonas Hvidbjerg"]),
    ("{name:Zlatan Hodžić}, {name:Oleksandr Shevchenko} og {name:Abdirahman Warsame} er alle "
     "15 år.", []),
    ("Uge 12 er temauge. Rose fra ledelsen til eleverne. Mark din kalender.", []),
    ("SSP-konsulent {name:Helle} og pædagog {name:Ask} tog kontakt til {name:Nour}.", []),
    ("{name:NOUR} og {name:HASSAN} sidder på Snap: {handle:nour_2011}.", ["Nour Hassan"]),
    ("Han bor på {address:Kulsbjergvej 4, st. th.} og går i 9.a.", []),
    ("Episoden 03.11.2025 kl. 16.10-16.45 i 7.b. 3 elever. 250 kr. Sag 2025-1122.", []),
    ("Storebror {name:Kerem} har truet {name:Emre Yılmaz} på {address:Nørregade 17}.", []),
    ("Mor {name:Iryna} ({phone:+4522334455}) og far {name:Dmytro} taler ukrainsk.", []),
    ("Den 24.12 holdt Ali jul med familien. ", ["Ali Demir"]),
]
# Fix: "Ali" above is a known name and must be labelled.
HANDWRITTEN[-1] = ("Den 24.12 holdt {name:Ali} jul med familien.", ["Ali Demir"])


def build(n_generated: int = 230, seed: int = 3115) -> list[Case]:
    rng = random.Random(seed)
    cases = [fill(rng, TEMPLATES[i % len(TEMPLATES)]) for i in range(n_generated)]
    cases += [parse(markup, known) for markup, known in HANDWRITTEN]
    return cases


def main() -> None:
    cases = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(json.dumps({"text": case.text, "known_names": case.known_names,
                                 "spans": case.spans}, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()

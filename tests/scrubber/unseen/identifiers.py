"""Structured identifiers written every way people write them, and dates that are content.

Every function takes the generator's ``random.Random`` and returns ``(cue, value)``: the cue
is plain text that stays (``"tlf. "``), the value is the gold span. Nothing here reads a
detector's pattern; the formats come from how Danish agencies, banks, schools and phones
write them.
"""

from __future__ import annotations

import datetime as dt
import random

MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
          "september", "oktober", "november", "december"]
ZWSP, SHY, NBSP, WJ = "\u200b", "\u00ad", "\u00a0", "\u2060"


def birth_date(rng: random.Random, adult: bool = False) -> dt.date:
    start = dt.date(1968, 1, 1) if adult else dt.date(2006, 1, 1)
    span = 8000 if adult else 3300
    return start + dt.timedelta(days=rng.randrange(span))


def cpr(rng: random.Random, adult: bool = False) -> tuple[str, str]:
    d = birth_date(rng, adult)
    dd, mm, yy = f"{d.day:02d}", f"{d.month:02d}", f"{d.year % 100:02d}"
    s = f"{rng.randrange(10000):04d}"
    forms = [
        f"{dd}{mm}{yy}-{s}", f"{dd}{mm}{yy}{s}", f"{dd}.{mm}.{yy}-{s}", f"{dd}{mm}{yy}/{s}",
        f"{dd} {mm} {yy} {s[:2]} {s[2:]}", f"{dd}{mm}{yy} {s}", f"{dd}{mm}{yy}{ZWSP}-{s}",
        f"{dd}{mm}{yy}{SHY}{s}", f"{dd}{mm}{yy}{NBSP}{s}", f"{dd}{mm}{yy}–{s}",
        f"{dd}{mm}{ZWSP}{yy}{s}", f"{dd}.{mm}.{yy}.{s}", f"{dd}{mm}{yy} - {s}",
        f"{dd}/{mm}/{yy}-{s}", f"{dd}-{mm}-{yy}-{s}", f"{dd}{mm}{yy}-{s[:2]}{WJ}{s[2:]}",
        f"{dd}{NBSP}{mm}{NBSP}{yy}{NBSP}{s}", f"{dd}{mm}{yy}‑{s}",
    ]
    cues = ["cpr ", "CPR ", "cpr-nr. ", "CPR-nr.: ", "cpr.nr. ", "personnummer ", "pers.nr. ",
            "", "", "cpr: ", "CPR nummer "]
    return rng.choice(cues), rng.choice(forms)


def dob(rng: random.Random, adult: bool = False) -> tuple[str, str]:
    d = birth_date(rng, adult)
    y4, yy = f"{d.year}", f"{d.year % 100:02d}"
    dd, mm = f"{d.day:02d}", f"{d.month:02d}"
    month = MONTHS[d.month - 1]
    forms = [
        f"{dd}.{mm}.{y4}", f"{d.day}/{d.month}-{y4}", f"{dd}-{mm}-{y4}", f"{y4}-{mm}-{dd}",
        f"{d.day}. {month} {y4}", f"{dd}/{mm}/{yy}", f"{d.day}.{d.month}.{yy}",
        f"{d.day}. {month[:3]}. {y4}", f"{dd}{mm}{yy}", f"{dd}.{mm}.{yy}",
        f"{d.day}/{d.month} {y4}",
        f"{dd}/{mm}-{yy}", f"{d.day} {month} {y4}",
        f"{d.day}.{d.month}.{y4}", f"{dd}{NBSP}{mm}{NBSP}{y4}",
    ]
    cues = ["født ", "f. ", "født d. ", "født den ", "fødselsdato: ", "fødselsdato ", "DOB: ",
            "DOB ", "fødselsdag ", "f.d. ", "født ", "Født: ", "f: "]
    return rng.choice(cues), rng.choice(forms)


def case_number(rng: random.Random) -> tuple[str, str]:
    year = rng.choice([24, 25, 26])
    kle = (f"{rng.choice(['27', '28', '29', '00', '32'])}.{rng.randrange(10, 40):02d}."
           f"{rng.randrange(0, 20):02d}-{rng.choice('AGKPS')}{rng.randrange(0, 60):02d}-"
           f"{rng.randrange(1, 40)}-{year}")
    police = (f"{rng.choice(['0300', '0400', '1200', '2300', '3500', '0100', '4700'])}-"
              f"{rng.randrange(10000, 99999)}-{rng.randrange(1, 99999):05d}-{year}")
    sag = f"SAG-20{year}-{rng.randrange(1, 999999):06d}"
    plain = f"20{year}-{rng.randrange(1, 99999):05d}"
    slash = f"{year}/{rng.randrange(1, 99999):05d}"
    nexus = f"{rng.choice(['BUF', 'SOC', 'UNG'])}-{year}-{rng.randrange(100, 9999)}"
    forms = [
        (rng.choice(["sagsnr. ", "Sagsnr.: ", "KLE-sag ", "sag ", "j.nr. ", ""]), kle),
        (rng.choice(["j.nr. ", "J.nr.: ", "journalnr. ", "politiets journalnummer ",
                     "journal ", ""]), police),
        (rng.choice(["", "sag ", "sagsnummer ", "(", "ref. "]), sag),
        (rng.choice(["sagsnr. ", "sagsnummer ", "Sagsnr ", "sag nr. "]), plain),
        (rng.choice(["sag ", "sagsnr. ", "akt nr. ", "j.nr. "]), slash),
        (rng.choice(["sags-id ", "ref. ", "Sags-ID: "]), nexus),
    ]
    return rng.choice(forms)


def _mobile(rng: random.Random) -> str:
    return rng.choice("2345679") + "".join(rng.choice("0123456789") for _ in range(7))


def phone(rng: random.Random) -> tuple[str, str]:
    n = _mobile(rng)
    pairs = " ".join(n[i:i + 2] for i in range(0, 8, 2))
    forms = [
        f"+45 {pairs}", f"+45{n}", f"0045 {pairs}", pairs, n, "-".join(pairs.split()),
        f"{n[:4]} {n[4:]}", f"+45 {n[:4]} {n[4:]}", f"(+45) {n}", f"+45-{'-'.join(pairs.split())}",
        f"{n[:2]}.{n[2:4]}.{n[4:6]}.{n[6:]}", f"+45{NBSP}{pairs.replace(' ', NBSP)}",
        f"{n[:3]} {n[3:5]} {n[5:]}", f"0045{n}",
    ]
    cues = ["tlf. ", "tlf.: ", "mobil: ", "mobilnummer ", "", "", "nummer ", "telefon ",
            "mob. ", "tlf ", "sms til ", "mobil ", "MobilePay til ", "MobilePay-nummer "]
    return rng.choice(cues), rng.choice(forms)


DOMAINS = ["gmail.com", "hotmail.com", "hotmail.dk", "live.dk", "outlook.dk", "yahoo.dk",
           "icloud.com", "jubii.dk", "mail.dk", "stofanet.dk", "elev.skolekom.dk"]


def email(rng: random.Random, local: str) -> tuple[str, str]:
    dom = rng.choice(DOMAINS)
    host, tld = dom.rsplit(".", 1)
    forms = [
        f"{local}@{dom}", f"{local} (at) {host} {tld}", f"{local} at {host} dot {tld}",
        f"{local}[at]{dom}", f"{local}(at){dom}", f"{local} @ {host} . {tld}",
        f"{local} snabel-a {host} punktum {tld}", f"{local}@{host}.{tld}".upper(),
        f"{local} [at] {host} [dot] {tld}", f"{local}@{dom}",
    ]
    cues = ["", "mail: ", "e-mail ", "mailen ", "mail ", "e-mail: "]
    return rng.choice(cues), rng.choice(forms)


PLATFORM_CUES = ["snapchat ", "Snapchat: ", "snap: ", "brugernavnet ", "insta: ",
                 "Instagram-profilen ", "på TikTok som ", "tiktok: ", "discord-navnet ",
                 "profilen ", "sc: ", "gamertag ", "brugeren ", "kaldet på snap "]


def handle(rng: random.Random, base: str) -> tuple[str, str]:
    deco = rng.choice([
        f"{base}_{rng.randrange(2006, 2015)}", f"{base}.{rng.randrange(10, 99)}", f"xx{base}xx",
        f"{base}__", f"lil.{base}", f"{base}_official", f"{base}{rng.randrange(100, 999)}",
        f"the_real_{base}", f"{base}.x", f"{base}_dk",
    ])
    if rng.random() < 0.1:  # UNI-Login (schools): four letters of the name and four digits
        return rng.choice(["UNI-login ", "unilogin: ", "UNI-Login-brugeren "]), (
            f"{(base.replace('.', '') + 'xxxx')[:4]}{rng.randrange(1000, 9999)}")
    if rng.random() < 0.4:
        return rng.choice(["", "", "profilen ", "kontoen "]), "@" + deco
    return rng.choice(PLATFORM_CUES), deco


def plate(rng: random.Random) -> tuple[str, str]:
    letters = "".join(rng.choice("ABCDEHJKLMNPRSTUVXYZ") for _ in range(2))
    digits = f"{rng.randrange(10, 99)}{rng.randrange(100, 999)}"
    forms = [f"{letters} {digits[:2]} {digits[2:]}", f"{letters}{digits}",
             f"{letters.lower()} {digits[:2]} {digits[2:]}", f"{letters.lower()}{digits}",
             f"{letters} {digits}", f"{letters}-{digits[:2]}-{digits[2:]}",
             f"{letters[0]}{letters[1].lower()} {digits[:2]} {digits[2:]}"]
    cues = ["", "reg.nr. ", "nummerplade ", "med nummerpladen ", "reg. nr. ", "plade "]
    return rng.choice(cues), rng.choice(forms)


STREETS = ["Kildebakken", "Bygaden", "Ved Gadekæret", "Lindevang", "Over Bækken",
           "Strandengen", "Tværstræde", "Bakkehuset", "Engtoften", "Solsortevænget",
           "Rørkærsvej", "Klintevej", "Mølleløkken", "Grønnegade", "Kirkestræde", "Hestehaven",
           "Æblehaven", "Skovbrynet", "Fiskerlejet", "Under Klinten", "Ved Diget",
           "Nyvej", "Bredgade", "Sandagervej", "Kastanjealle", "Toftevej", "Præstegårdsvej",
           "Lærkevang", "Brovejen", "Enghaven", "Byvolden", "Pilebakken", "Fasanstien",
           "Nørre Farimagsgade", "Vestergade", "Teglværksvej", "Holmen", "Ved Kæret",
           "Slusevænget", "Lundebjerg", "Agerhønevej", "Hyldebærvej", "Skolestien"]
TOWNS = [("4720", "Præstø"), ("4760", "Vordingborg"), ("4780", "Stege"), ("4771", "Kalvehave"),
         ("4735", "Mern"), ("4772", "Langebæk"), ("4773", "Stensved"), ("4791", "Borre"),
         ("4792", "Askeby"), ("4700", "Næstved"), ("4750", "Lundby"), ("4793", "Bogø By")]


def address(rng: random.Random) -> tuple[str, str, str]:
    """``(cue, street number floor, tail)``: the gold span is street, number and floor/door
    (the part that points at one home); a following postcode and town is left as neither
    identifier nor content (the area is known to the SSP group anyway)."""
    street = rng.choice(STREETS)
    number = f"{rng.randrange(1, 140)}{rng.choice(['', '', '', 'A', 'B', 'c'])}"
    floor = rng.choice(["", "", "", ", 2. th", " st. tv", ", 1. sal", " 3. mf", ", 2.tv",
                        " 1 th", ", st.", ", 4. 12", ", lejl. 3"])
    town = rng.choice(TOWNS)
    tail = rng.choice(["", "", f", {town[0]} {town[1]}", f" {town[0]} {town[1]}",
                       f", {town[0]}"])
    cues = ["bor på ", "adressen ", "på adressen ", "hjemme på ", "adresse: ", "bopæl ",
            "flyttet til ", "hos faren på "]
    return rng.choice(cues), f"{street} {number}{floor}", tail


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_ok(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def _iban_dk(rng: random.Random) -> str:
    bban = f"{rng.randrange(1000, 9999)}{rng.randrange(10 ** 9, 10 ** 10)}"
    numeric = int(bban + "1320" + "00")  # D=13, K=20
    check = 98 - numeric % 97
    raw = f"DK{check:02d}{bban}"
    return raw


def account(rng: random.Random) -> tuple[str, str]:
    reg = f"{rng.randrange(1000, 9999)}"
    konto = f"{rng.randrange(10 ** 9, 10 ** 10)}"
    iban = _iban_dk(rng)
    card = _luhn_complete(rng.choice(["4571", "5019", "4", "5", "4571"]), 16, rng)
    forms = [
        ("reg.nr. ", f"{reg} kontonr. {konto}"), ("konto ", f"{reg}-{konto}"),
        ("kontonummer ", f"{reg} {konto}"), ("reg. og konto ", f"{reg}/{konto}"),
        ("IBAN ", iban), ("IBAN: ", " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))),
        ("kortnummer ", " ".join(card[i:i + 4] for i in range(0, 16, 4))),
        ("betalingskort ", card), ("kort nr. ", "-".join(card[i:i + 4] for i in range(0, 16, 4))),
        ("", f"{reg}-{konto}"), ("Dankort ", " ".join(card[i:i + 4] for i in range(0, 16, 4))),
    ]
    return rng.choice(forms)


def ip(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.25:
        groups = ["2a02", f"{rng.randrange(0x100, 0xffff):x}", f"{rng.randrange(0x100, 0xffff):x}",
                  f"{rng.randrange(0x10, 0xffff):x}", "", f"{rng.randrange(1, 0xffff):x}"]
        value = ":".join(groups)
    else:
        first = rng.choice([5, 31, 37, 46, 62, 77, 80, 85, 87, 89, 90, 93, 94, 176, 185, 188,
                            193, 194, 212, 213])
        value = f"{first}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    cues = ["IP-adressen ", "fra IP ", "IP: ", "ip ", "logget ind fra ", "IP-adresse "]
    return rng.choice(cues), value


def url(rng: random.Random, base: str, first: str, sur: str) -> tuple[str, str]:
    forms = [
        f"https://www.instagram.com/{base}/", f"instagram.com/{base}",
        f"https://www.facebook.com/profile.php?id=1000{rng.randrange(10 ** 10, 10 ** 11)}",
        f"https://www.tiktok.com/@{base}", f"snapchat.com/add/{base}",
        f"www.facebook.com/{first}.{sur}.{rng.randrange(1, 99)}", f"youtube.com/@{base}",
        f"https://twitch.tv/{base}", f"http://m.facebook.com/{first}{sur}",
    ]
    cues = ["", "profilen ", "linket ", "siden "]
    return rng.choice(cues), rng.choice(forms)


# --- dates and times that are content: the event's day, a meeting, a weekend -------------

def content_date(rng: random.Random) -> str:
    d = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(120))
    month = MONTHS[d.month - 1]
    return rng.choice([
        f"den {d.day}. {month}", f"{d.day:02d}-{d.month:02d}-{d.year}", f"{d.day}/{d.month}",
        f"den {d.day:02d}.{d.month:02d}.{d.year}", f"{d.day}. {month}",
        f"{d.day}/{d.month}-{d.year}",
        f"{d.year}-{d.month:02d}-{d.day:02d}", f"uge {d.isocalendar()[1]}",
    ])


def content_time(rng: random.Random) -> str:
    return rng.choice([f"kl. {rng.randrange(7, 24)}.{rng.choice(['00', '15', '30', '45'])}",
                       f"kl. {rng.randrange(7, 24)}", f"ca. kl. {rng.randrange(15, 24)}.30"])

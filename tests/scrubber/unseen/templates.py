"""Sentence templates for the held-apart set, written for it (not shared with any detector).

Slots (filled by ``generate_unseen.py``):

* persons: ``S`` subject, ``M`` mother, ``F`` father, ``B`` sibling, ``V`` ``W`` friends,
  ``X`` another young person or adult, ``T`` school/club staff, ``K`` caseworker, ``P`` police
  officer. ``{S}`` first name, ``{S.full}``, ``{S.sur}``, ``{S.gen}`` possessive,
  ``{S.lc}`` / ``{S.lcfull}`` / ``{S.lcgen}`` lower case (chat), ``{S.nick}`` nickname.
* identifiers (gold spans, the cue before them is plain text): ``{cpr}``, ``{dob}``,
  ``{case}``, ``{phone}``, ``{plate}``, ``{addr}``, ``{account}``, ``{ip}``; ``.n`` = without
  a cue, ``.a`` = an adult's; ``{email.M}``, ``{handle.V}``, ``{url.S}`` are built from that
  person's name.
* content that must survive: ``{shop}``, ``{place}``, ``{school}``, ``{station}``, ``{town}``,
  ``{klasse}``, ``{cdate}`` (a date that is not a birth date), ``{time}``, ``[[word]]``.
* subject pronouns ``<han>`` ``<Han>`` ``<ham>`` ``<hans>``; sibling word ``<sib>``.
"""

from __future__ import annotations

SHOPS = ["SuperBrugsen", "Netto", "Rema 1000", "Føtex", "Lidl", "Bilka", "Kvickly", "7-Eleven",
         "Circle K", "Jysk", "Normal", "Meny", "Spar", "Lövbjerg", "Q8", "Burger King",
         "McDonald's", "Sunset Boulevard", "Daglig Brugsen", "Harald Nyborg"]
PLACES = ["Ulvshale", "Præstø Havn", "Stege Havn", "Kalvehave Havn", "Møns Klint", "Nyord",
          "Bogø", "Iselingen Skov", "Storstrømsbroen", "Gåsetårnet", "Borgcentret", "Nyråd",
          "Vordingborg Bibliotek", "Ørslev Kirke", "Ulvshale Strand", "Klinteskoven",
          "Færgegården", "Vordingborg Ungdomsskole", "Svanegården", "Kulturhuset Stege",
          "Oringe", "Masnedø", "Ungecenter Vordingborg", "Vordingborg Hallen"]
SCHOOLS = ["Stege Skole", "Præstø Skole", "Kulsbjerg Skole", "Ørebæk Skole", "Stensved Skole",
           "Iselingen Skole", "Vordingborg Gymnasium", "Svend Gønge-Skolen", "Nyråd Skole",
           "Møn Friskole", "Marienbergskolen", "Kalvehave Skole", "Vordingborg Heldagsskole"]
STATIONS = ["Vordingborg Station", "Næstved Station", "Lundby Station", "Stege Rutebilstation",
            "Nordhavn Station", "Køge Station", "Præstø Busterminal"]
TOWN_NAMES = ["Præstø", "Vordingborg", "Stege", "Kalvehave", "Næstved", "Lundby", "Mern",
              "Stensved", "Borre", "Køge", "Nakskov", "Nykøbing Falster"]
KLASSER = ["7.a", "8.b", "9.c", "6.x", "8. klasse", "9. årgang", "10.e", "7. b", "5.a"]

OPENINGS: dict[str, list[str]] = {
    "school": [
        "Underretning fra {school} vedr. {S.full} ({cpr}), {klasse}.",
        "{T.full}, klasselærer i {klasse} på {school}, henvender sig om {S.full}, {dob}.",
        "Vi er på {school} bekymrede for {S.full} i {klasse}.",
        "Skolen ønsker at gøre opmærksom på eleven {S.full} ({klasse}), {dob}.",
        "Bekymringshenvendelse {cdate}: {S.full}, elev i {klasse} på {school}.",
        "AKT-vejleder {T.full} skriver om {S.full}, {cpr.n}, som går i {klasse}.",
        "Elev: {S.full}. Klasse: {klasse}. Skole: {school}. Henvendelse fra {T.full}.",
        "{S.full}, kaldet {S.nick}, går i {klasse} på {school} og har ændret adfærd siden jul.",
    ],
    "social": [
        "Underretning modtaget {cdate} vedr. {S.full}, {dob}, bopæl {addr.n}.",
        "Sagsbehandler {K.full}, Børn og Familie, {case}: bekymring for {S.full}.",
        "Familien {S.sur} er kendt i forvaltningen; sagen vedrører {S.full} ({cpr}).",
        "Hjemmebesøg {cdate} {time} hos {M.full} og {F.full}, {addr}.",
        "Notat fra {K.full}: {S.full} ({dob}) er anbragt i aflastning hos moster {X.full}.",
        "Til stede ved mødet {cdate}: {S.full}, {M.full}, {K.full} og {T.full} fra {school}.",
        "Børnesag {case}. Barnet: {S.full}, {cpr}. Forældre: {M.full} og {F.full}.",
        "Underretningen vedrører {S.full}, kaldet {S.nick}, {dob}, som bor hos sin mor.",
    ],
    "police": [
        "Politiet har {cdate} {time} standset {S.full} ({cpr}) på en knallert med {plate} "
        "ved {station}.",
        "Rapport {case}: Patrulje ved {place} traf {cdate} {S.full}, {dob}, sammen med "
        "{V.full}.",
        "Anmeldelse modtaget {cdate} fra {M.full}, mor til {S.full}, {dob}.",
        "{P.full}, politiassistent, Sydsjællands og Lolland-Falsters Politi, beretter om "
        "{S.full}.",
        "Ved en færdselskontrol {time} på Præstøvej blev bilen {plate.n} standset; føreren "
        "var {X.full}, passager {S.full}.",
        "{case}. Sigtede: {S.full}, {cpr}. Forurettede: {W.full}.",
        "SSP-politiet har {cdate} talt med {S.full} ({dob.n}) og <hans> far {F.full} om "
        "episoden ved {shop}.",
        "Indberetning fra {P.full}: {S.full}, {addr}, er set i selskab med {X.full}.",
    ],
}

BODIES: dict[str, list[str]] = {
    "school": [
        "{S} har haft 23 % fravær siden {cdate} og kommer ofte for sent.",
        "<Han> er flere gange set ved {shop} i skoletiden sammen med {V.full} og {W}.",
        "{S.gen} mor, {M.full}, er kontaktet på {phone} men har ikke svaret.",
        "I frikvarteret sagde {S} til {V}, at <han> ikke tør tage hjem.",
        "{T} har talt med {S} {cdate}, og {S} fortalte, at <hans> <sib> {B} har penge, "
        "som ingen ved hvor kommer fra.",
        "Ifølge {V.full} sover {S} nogle nætter hos en ældre ven, {X.full}, på {addr.n}.",
        "Pædagogen {T.full} har set beskeder på {S.gen} telefon fra {handle.X}.",
        "{S} og {V} har lavet en falsk profil, {url.V}, hvor de skriver grimt om {W.full}.",
        "Klassen var på tur til {place} {cdate}, og {S} forsvandt med {X} i to timer.",
        "Far ({F.full}) mødte op til skole-hjem-samtalen {cdate} {time} og var beruset.",
        "Skolen har ringet til far på {phone} og sendt en besked til mor på {email.M}.",
        "Under en samtale med {T} sagde {S}: \"{V} har sagt, at jeg skal holde min kæft.\"",
        "{S} fortæller, at <han> ikke kan [[bo]] hjemme mere, fordi {F} slår.",
        "{W.full} og {V.full} fra {klasse} har filmet {S} på toilettet og delt det.",
        "Skolens kurator har registreret {S} som elev med særlige behov, {dob}.",
        "Da {T} spurgte ind, sagde {S} bare: \"Det er {X}s skyld, ikke min.\"",
        "{S} har skrevet sit UNI-login og kodeord på tavlen; {handle.S} er nu spærret.",
        "Efter frikvarteret manglede {W.gen} telefon, og {V} siger, at {S} tog den.",
        "{S} har lånt en iPad, som er registreret til {S.gen} konto og logget ind fra {ip}.",
        "Skolens IT-afdeling har set, at {S.gen} elevkonto blev brugt fra {ip} om natten.",
        "[[Alle]] i {klasse} kender til det, men ingen vil sige noget til {T}.",
        "{S} vil gerne [[have]] en kontaktperson, helst {T.full}.",
        "Der er [[lange]] ventelister til psykolog, så {S} venter stadig.",
        "{F} har betalt klassekassen fra {account}.",
    ],
    "social": [
        "Mor, {M.full}, {dob.a}, oplyser, at {S} ikke har været hjemme siden weekenden.",
        "{S.gen} <sib> {B.full} har tidligere været anbragt og bor nu i {town}.",
        "Familien modtager kontanthjælp, som udbetales til {account}.",
        "Mor kan træffes på {phone} efter {time}; far på {phone}.",
        "{S} er henvist til {place}, hvor {T.full} er kontaktperson.",
        "Der er aftalt netværksmøde {cdate} {time} med {M}, {F}, {K} og {T}.",
        "Moster {X.full} i {town} har tilbudt, at {S} kan [[bo]] hos hende en periode.",
        "{S} er [[rask]] igen efter indlæggelsen og går til fodbold i {town}.",
        "Far, {F.full} ({cpr.a}), er flyttet til {addr.n} og har samvær hver anden weekend.",
        "Moderens nye kæreste, {X.full}, er kendt af politiet og har ifølge {B} slået {S}.",
        "Sagen har tidligere haft nummeret {case}; den er nu samlet under {case}.",
        "{S} har fortalt {K}, at <han> skylder {X} penge og har betalt til {account}.",
        "Familiens tidligere sagsbehandler {K.full} kan kontaktes på {email.K}.",
        "I weekenden var der [[storm]], og {S} kom først hjem søndag {time}.",
        "Far har sendt beskeder til mor fra en ny profil, {url.F}, selv om der er polititilhold.",
        "{M} har søgt om hjælp til {S.gen} fritidsaktiviteter i {place}.",
        "{B.full}, {dob}, er halvsøskende til {S} og bor hos farmoren.",
        "Plejefamilien, {X.full} og {W.full}, bor på {addr.n} og kan nås på {phone}.",
        "{S} har selv ringet til Børnetelefonen og fortalt om {F}.",
        "Oplysningerne er indhentet fra {M}, {B.full} og skolens leder {T.full}.",
        "Til udbetaling af børne- og ungeydelsen har {M} oplyst {account}.",
        "Ifølge {M} er der hævet penge fra {account} uden hendes viden.",
        "{S} fik 50 kr. [[per]] dag for at holde øje ved {shop}, fortæller {B}.",
        "I [[sommer]] var {S} hos sin farmor i {town}; det gik godt.",
        "Mor har logget ind på {S.gen} Aula-konto fra {ip} og set beskederne.",
    ],
    "police": [
        "{S} oplyste adressen {addr.n}, hvor <han> bor med mor {M} og <sib> {B}.",
        "I bilen sad også {X.full}, som er kendt af politiet, og føreren {W.full}.",
        "Der blev fundet 3,5 g hash og en telefon; nummeret {phone.n} er registreret på "
        "{F.full}.",
        "Den ældre ven, kaldet {X.nick}, skulle have betalt {S} for at køre pakker ud fra "
        "{shop}.",
        "Sagen er journaliseret under {case}.",
        "{S.gen} far, {F.full} ({cpr.a}), blev underrettet {time} på {phone}.",
        "Ifølge vidnet {X.full} kørte knallerten, {plate}, i retning mod {place}.",
        "Anmelderen kan kontaktes på {phone} eller {email.X}.",
        "Pengene blev overført fra {S.gen} konto {account} til en konto tilhørende {X}.",
        "Snapchat-profilen {handle.S} er logget ind fra {ip}.",
        "Profilen {url.S} tilhører efter alt at dømme {S}, som har solgt ting derfra.",
        "{S} og {V.full} blev set kaste med [[sten]] mod busser ved {station}.",
        "Mor, {M.full}, blev hentet til stationen, tlf. {phone.n}.",
        "Vidnet, {W.full}, {dob.n}, så {S} og {X} ved {shop} {time}.",
        "Der er foretaget afhøring af {S} med {M} og sagsbehandler {K.full} til stede.",
        "{X.full}, kaldet {X.nick}, er tidligere straffet og bor på {addr.n}.",
        "En bil med nummerpladen {plate.n} har hentet {S} ved {place} flere gange.",
        "{S} forklarede: \"Det var {X.nick} og {V}, jeg stod bare og kiggede.\"",
        "Under ransagningen på {addr.n} fandt betjent {P.full} to telefoner.",
        "{W.full} er kørt på skadestuen, og {S} er sigtet for vold, {case}.",
        "Knallerten, {plate}, blev fundet ved {shop} med {S.gen} hjelm på sædet.",
        "{X.full} ejer bilen {plate}, som er set ved {station} flere gange.",
        "Trusselsbeskederne til {W} er sendt fra {ip} {cdate} {time}.",
        "{S} blev samlet op af en [[hvid]] varevogn, {plate.n}, ved {place}.",
        "Drengene havde samlet [[sten]] i en pose og kastet dem mod bilen {plate.n}.",
        "Politiet har afsøgt [[skov]] og strand ved {place} sammen med {X}.",
        "Der er fundet et betalingskort, {account.n}, som tilhører {F.full}.",
    ],
}

SHARED = [
    "{S.gen} <sib> {B} bekræfter, at {S} har været væk fra hjemmet i tre nætter.",
    "{V.full}, {W.full} og {S} er set ved {station} {cdate} {time}.",
    "Det oplyses, at {S} har kontakt til {X.full} via {handle.X}.",
    "{S} går til boksning hos {T.full} i {place} og er glad for det.",
    "{M} har ringet fra et nyt nummer, {phone.n}, og bedt om at blive ringet op.",
    "Der er held og [[lykke]] med, at {S} ikke kom til skade.",
    "{T.full} fra {place} har set {S} og {V} ryge ved {shop}.",
    "Fødselsdato for {S}: {dob.n}. Cpr: {cpr.n}.",
    "{S.full}, {cpr}, {addr}.",
    "{B.full} ({dob.n}) og {S} deler værelse.",
    "{S.gen} bedste ven er {V.full}, kaldet {V.nick}.",
    "{S} har lagt billeder op på {url.S} fra festen hos {W}.",
    "{S} skylder {X.nick} penge for en telefon og har fået trusler på {handle.S}.",
    "Familien er flyttet fra {addr.n} til {addr.n}.",
    "Mødet den [[12-03-2026]] {time} på {school} blev aflyst, fordi {M} var syg.",
    "Ved mødet {cdate} deltog {K}, {T} og {P.full}.",
    "{S} har fået stjålet sit betalingskort og koden; kortet er spærret ({account}).",
    "{S.gen} mobil har været brugt fra {ip}, selv om {M} har taget den fra <ham>.",
    "{X.full}, {dob.a}, kører en sort bil, {plate}, og giver {S} lift.",
]

CHATS = [
    "{S} viste {T} en snap fra {V.lc}: \"{S.lc} kom ned til {place} nu, {W.lc} venter\".",
    "I en sms til mor skrev {S}: \"mor jeg sover hos {V.lc} i nat, {B.lc} ved det\".",
    "Beskeden lød: \"hej {S.lc} det {X.lc} her, du skylder mig 500 kr, ring {phone.n}\".",
    "På Snapchat skrev {V.lc} til {S.lc}: \"{S.lc} du er død hvis du sladrer til {T.lc}\".",
    "Sms fra {M.lc}: \"{S.lc} kom hjem NU, far er sur\" – sendt {cdate} {time}.",
    "{V} har vist {T} en snap: \"{S.lc} og {X.nick} har noget for dig i aften\".",
    "På Discord skrev {S.lc}: \"{W.lcfull} skal få tæsk i morgen\".",
    "En besked i klassens gruppechat: \"{W.lc} og {V.lc} er nogle rotter lol\".",
    "{M.full} har videresendt en sms: \"hej det er {S.lcgen} mor, {S.lc} er syg i dag\".",
    "I chatten står der: \"{B.lc} sagde at {S.lc} var med {X.lc} ved {station}\".",
    "Chatbesked fra {handle.V}: \"yo {S.lc} kom til {shop} kl 22, tag {W.lc} med\".",
    "{S.gen} <sib> har vist en besked fra {X.lcfull}: \"sig ikke noget til {M.lc}\".",
    "Sms fra {S.lc} til {V.lc} {cdate}: \"jeg hader {F.lc}, han tog min telefon\".",
    "Skærmbillede af Snapchat: \"{X.lc}: {S.lc} har du pengene\" – \"{S.lc}: snart\".",
    "Beskeden fra {V.lc} lød: \"{S.lc} {W.lc} og mig mødes ved {shop}, sig det ikke til "
    "{B.lc}\".",
    "I en Messenger-tråd skrev {X.lcfull}: \"{S.lc} ring til mig på {phone.n} nu\".",
    "{T} har fået en sms: \"det er {S.lcgen} ven {V.lc}, {S.lc} er ikke ok\".",
    "På Instagram skrev {W.lc}: \"{S.lc} og {V.lc} er de værste\", og {S} blev ked af det.",
    "Gruppechatten \"{klasse} drenge\" indeholder: \"{V.lc} hvor er {S.lc}?? {X.lc} leder "
    "efter ham\".",
]

CLOSINGS = [
    "Underretningen er sendt til SSP-konsulenten med kopi til {K.full}.",
    "Kontakt skolens AKT-vejleder {T.full} på {phone} eller {email.T}.",
    "Sagen følges op {cdate} på {school}.",
    "Venlig hilsen {T.full}, {school}, tlf. {phone.n}",
    "Med venlig hilsen {P.full}, Politiets SSP-enhed, {email.P}",
    "Oplysninger om {S} kan fås hos {K.full}, Børn og Familie, tlf. {phone.n}.",
    "Næste møde er {cdate} {time} i {place}.",
    "Journalnummer: {case}.",
    "Vores reference: {case}. Modtaget {cdate}.",
    "Forældrene ({M.full}, {phone.n}, og {F.full}, {phone.n}) er orienteret.",
    "Vi afventer svar fra {M} inden {cdate}.",
]

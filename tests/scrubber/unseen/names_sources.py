"""The name sources of the held-apart evaluation, and the split that keeps them apart.

Two sources, each name recorded with its origin and source in ``names_unseen.tsv``:

* **names-dataset** (PyPI ``names-dataset`` 3.3.1, MIT licence, Philippe Remy): first names
  and surnames per country. Installed into the venv only to regenerate the set
  (``.venv/bin/pip install names-dataset==3.3.1``); never a runtime dependency. Of its names
  only those whose folded form hashes into the **eval half** are used (:func:`eval_half`), so
  the other half stays free for anyone who wants to build a detector list from the package.
* **hand-written lists** below, written for this project (Apache-2.0), for origins the package
  lacks or covers thinly (Somali, Eritrean, Tibetan, Greenlandic, Vietnamese, Irish particle
  surnames, rarer Danish names, names that are Danish words, nicknames).

Whatever the source, a name any part of which (folded) occurs in any detector list
(``core/privacy/scrubber/data/*.txt``) is dropped; ``test_unseen_disjoint.py`` re-checks that.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.scrubber.unseen.folding import fold

# names-dataset country → origin label used in the report.
ND_COUNTRIES: dict[str, str] = {
    "NG": "west_african", "GH": "west_african", "PH": "filipino", "IE": "irish",
    "IN": "indian", "DK": "danish_rare", "TR": "turkish", "IQ": "arabic", "SY": "arabic",
    "LB": "arabic", "MA": "arabic", "PL": "polish", "ET": "ethiopian", "AF": "afghan",
}
ND_TOP_FIRST = 400  # per country and gender
ND_TOP_SUR = 500  # per country

# Entries of the package that are not names (titles, kinship words, platform noise).
ND_NOISE = frozenset(fold(w) for w in (
    "Abo", "Abou", "Abu", "Um", "Umm", "Em", "Haji", "Hajji", "Afghan", "Md", "Mj", "Jm", "Aj",
    "Jc", "Baby", "Princess", "Prince", "King", "Queen", "Sir", "Mr", "Mrs", "Miss", "Dr",
    "Mama", "Papa", "Mom", "Dad", "Sister", "Brother", "Love", "Lady", "Boss", "Sweet", "Cute",
    "Angel", "Star", "Nice", "Happy", "Lucky", "Sunny", "Honey", "Doctor", "Engineer", "Alhaji",
    "Pastor", "Chief", "Hon", "Evangelist", "Rev", "Apostle", "Bishop", "Mallam", "Malam",
    "Alhaja", "Ustaz", "Sheikh", "Sayed", "Syed", "Sayyid", "Mullah", "Khan", "Bibi", "Begum",
    "Kumar", "Kumari", "Devi", "Singh", "Bhai", "Ben", "Bint", "Bin", "Ibn", "Al", "El",
    "Official", "Page", "Shop", "Store", "Group", "Music", "Media", "News", "Team", "Girl",
    "Boy", "Man", "Men", "Mo", "Mister", "Master", "Madam", "Lord", "God", "Jesus", "Allah",
    # Words, places, abbreviations and chat noise among the package's entries (hand-reviewed).
    "Afg", "Afgan", "Engr", "Erste", "Ghana", "Irish", "Kabul", "Homs", "Heart", "Bwoy", "Cadiz",
    "Barca", "Ktoś", "Krzy", "Miiss", "Kcha", "Kacm", "Fti", "Kvng", "Lhsn", "Apple", "She",
    "See", "Bae", "Barcelona", "Reg", "Frk", "Shell", "Kolding", "Dagli", "None", "Hej",
    "Onkel", "Med", "Top", "Wiki", "Salon", "Manila", "Gouda", "Imperial", "More", "Bag",
    "Bind", "Bar", "Lama", "Lava", "Loco", "Meme", "Fade", "Kram", "Ting", "Gak", "Joke", "Gold",
    "Kat", "Vin", "Rod", "Bey", "Mag", "Peg", "Jus", "Fes", "Flor", "Rime", "Rand", "Ale", "Bel",
    "Jelly", "Ell", "Ems", "Emz", "Edz", "Eds", "Etz", "Ced", "Cee", "Kev", "Boboy", "Bhaby",
    "Hbibt", "Mjid", "Mhmod", "Mohmd", "Hassn", "Mrat", "Bless", "Gogo", "Pit", "Kar", "Nag",
    "Mane", "Manna", "Vel", "Kuru", "Lidet", "Wala", "Walang", "Mahal", "Ganda", "Baby Girl",
    "Familien", "Familie", "Mor", "Far", "Bror", "Søster", "Onkel", "Tante", "Farmor",
))

# The package's entries that are also Danish words (lower-case stems of hunspell-da) are
# dropped as likely noise, except these, reviewed by hand as real names.
ND_WORD_NAMES_KEEP = frozenset(fold(w) for w in (
    "Anker", "Balle", "Bille", "Busk", "Bæk", "Drejer", "Gram", "Greve", "Grønning", "Hammer",
    "Høj", "Junker", "Just", "Jæger", "Kamille", "Kold", "Linea", "Smed", "Stampe", "Trolle",
    "Vind", "Nabi", "Safari", "Alawi", "Bader", "Kamel", "Hage", "Georgette", "Lemma", "Menge",
    "Alcantara", "Barba", "Dexter", "Homer", "Kyrie", "Lim", "Madrigal", "Regie", "Rex", "Das",
    "Modi", "Pari", "Pasha", "Ram", "Sen", "Soma", "Mangan", "Manus", "Ned", "Pat", "Sile",
    "Alkan", "Alp", "Altan", "Berber", "Buket", "Hamit", "Melis", "Tatar", "Anima", "Asante",
    "Courage", "Funke", "Kande", "Deo", "Bong", "Ding", "Jet", "Gab", "Ces", "Gie", "Flis",
    "Atlas", "Fakir", "Sambo", "Roma", "Berk",
))
HUNSPELL_DA = "/usr/share/hunspell/da_DK.dic"

_LATIN = re.compile(r"^[A-Z][a-zà-öø-ÿăąćčďęěğıłńňőœřśşšţťůűźżž]{2,13}$")


def eval_half(name: str) -> bool:
    """The reproducible hash split of the package's names: even first byte = eval half."""
    return hashlib.sha256(fold(name).encode()).digest()[0] % 2 == 0


def danish_words(path: str = HUNSPELL_DA) -> set[str]:
    """Lower-case stems of Debian's hunspell-da (MPL-1.1/GPL-3+/LGPL-3+), folded; used only
    to filter the package's entries at generation time, nothing of it is shipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    except FileNotFoundError:
        raise SystemExit("hunspell-da is needed to regenerate: apt-get install hunspell-da") \
            from None
    return {fold(w) for w in (line.split("/", 1)[0] for line in lines) if w[:1].islower()}


def usable_nd_name(name: str, words: set[str]) -> bool:
    """A plain Latin-script single name from the package, not noise, with a vowel, and no
    Danish word unless reviewed as a real name."""
    folded = fold(name)
    return (bool(_LATIN.match(name)) and folded not in ND_NOISE
            and bool(re.search(r"[aeiouy]", folded))
            and (folded not in words or folded in ND_WORD_NAMES_KEEP))


# --- hand-written lists: origin → (male first names, female first names, surnames) ---------

HAND: dict[str, tuple[list[str], list[str], list[str]]] = {
    "somali": (
        ["Abdiqani", "Abdifatah", "Cabdi", "Guuleed", "Mahad", "Sharmarke", "Xasan", "Dahir",
         "Abshir", "Mukhtar", "Carab", "Geedi", "Cumar", "Abdiwali", "Xuseen", "Bile",
         "Cawil", "Shiine", "Abdikarim", "Faysal", "Mowliid", "Abdirisaaq"],
        ["Cawo", "Ubah", "Ugaaso", "Hibaaq", "Khadro", "Deeqa", "Nimco", "Sagal", "Filsan",
         "Idil", "Qamar", "Hodan", "Ifrah", "Sahro", "Ladan", "Muna", "Ikraan", "Ruun",
         "Xaliimo", "Fardowsa", "Maandeeq", "Hamdi"],
        ["Cismaan", "Xirsi", "Jimcaale", "Dhoorre", "Warfaa", "Samatar", "Gacal", "Cilmi",
         "Faarax", "Nuur", "Qorane", "Jibriil", "Aadan", "Mataan", "Guuleed", "Xaaji",
         "Shirwac", "Cabdulle", "Yuusuf", "Dirie", "Muuse", "Ciise"],
    ),
    "eritrean": (
        ["Amanuel", "Filmon", "Henok", "Natnael", "Mebrahtu", "Tesfalem", "Kidane", "Berhane",
         "Goitom", "Habtom", "Robel", "Teklit", "Ermias", "Mussie", "Awet", "Biniam",
         "Simon", "Yemane", "Zekarias", "Tedros", "Medhanie", "Kibrom"],
        ["Feven", "Selam", "Yordanos", "Semhar", "Milen", "Winta", "Lidya", "Tsega", "Hiwet",
         "Rahwa", "Tirhas", "Abrehet", "Senait", "Luwam", "Hermon", "Eyerusalem", "Sabrina",
         "Merhawit", "Danait", "Nebiat", "Freweini", "Adiam"],
        ["Ghebremariam", "Tesfamariam", "Woldemichael", "Habtemariam", "Kahsay", "Berhe",
         "Asmerom", "Ghirmay", "Weldu", "Zerai", "Tewelde", "Mehari", "Okbazghi", "Fitsum",
         "Ghebreyesus", "Tekeste", "Andemariam", "Sium", "Yohannes", "Negassi", "Abraha"],
    ),
    "tibetan": (
        ["Tashi", "Dorje", "Nyima", "Lobsang", "Ngawang", "Jampa", "Phuntsok", "Rinchen",
         "Kunga", "Namgyal", "Thinley", "Dhondup", "Gyaltsen", "Tsultrim", "Norbu", "Topgyal",
         "Wangdu", "Samdup", "Chophel", "Lhakpa", "Sherab", "Tenpa"],
        ["Dolma", "Lhamo", "Yangchen", "Choeden", "Dechen", "Wangmo", "Tsomo", "Pema",
         "Kelsang", "Yeshi", "Dickey", "Tsering", "Sonam", "Chime", "Passang", "Diki",
         "Lhadon", "Tenzing", "Youdon", "Kyizom", "Dolkar", "Namdol"],
        # Tibetans mostly have two given names and no family name: the second part is shown
        # where others have a surname.
        ["Dolma", "Wangmo", "Tsering", "Gyatso", "Lhamo", "Norbu", "Dorjee", "Namgyal",
         "Yangzom", "Tsomo", "Phuntsok", "Choedon", "Paldon", "Tenzin", "Dhargyal",
         "Sangpo", "Yeshe", "Kyipa", "Tsewang", "Palmo"],
    ),
    "greenlandic": (
        ["Aputsiaq", "Inunnguaq", "Malik", "Ulloriaq", "Kuluk", "Nukannguaq", "Qillaq",
         "Aqqaluk", "Salik", "Inuk", "Kaali", "Aningaaq", "Minik", "Hans Peter", "Pilutaq",
         "Kunuk", "Nuka", "Manumina", "Inooraq", "Tikaajaat", "Ujarak", "Kristian Evald"],
        ["Nivi", "Pipaluk", "Ivalu", "Aviaja", "Paninnguaq", "Sika", "Arnaq", "Nauja",
         "Aleqa", "Kiista", "Naasunnguaq", "Ujammiugaq", "Najaaraq", "Ane Sofie", "Ivaana",
         "Nivikka", "Makkalaaq", "Arnannguaq", "Bolatta", "Malu", "Tupaarnaq", "Uiloq"],
        ["Qujaukitsoq", "Lyberth", "Nathanielsen", "Rosing", "Enoksen", "Siegstad",
         "Thorleifsen", "Kuitse", "Hammeken", "Chemnitz", "Mathæussen", "Zeeb", "Kreutzmann",
         "Heilmann", "Petrussen", "Olsvig", "Motzfeldt", "Lynge", "Kleist", "Berthelsen",
         "Fleischer", "Tobiassen", "Kristiansen-Kuitse"],
    ),
    "vietnamese": (
        ["Hieu", "Duc", "Khanh", "Phuc", "Bao", "Dat", "Huy", "Khoa", "Kien", "Trung",
         "Vinh", "Nhat", "Quoc", "Thinh", "Tuong", "Hung", "Loc", "Sang", "Toan", "Cuong"],
        ["Huong", "Ngoc", "Phuong", "Trang", "Quynh", "Nhi", "Tien", "Hoa", "Yen", "Nhung",
         "Uyen", "Thuy", "Hang", "Diep", "Giang", "Ngan", "Thao Vy", "Xuan", "Oanh", "Loan"],
        ["Truong", "Dinh", "Luu", "Quach", "Thai", "Trieu", "Kieu", "Doan", "Ung", "Tang",
         "Lieu", "Chau", "Khuc", "Ton", "Thach", "Vuong", "Tieu", "Mai Thi", "Au", "Diep"],
    ),
    "west_african": (
        ["Chidi", "Oluwaseun", "Kwabena", "Kojo", "Obinna", "Chukwuemeka", "Babatunde",
         "Kwadwo", "Ifeanyi", "Tunde", "Ekow", "Nnamdi", "Adewale", "Yao", "Kwesi", "Seydou",
         "Mamadou", "Ousmane", "Lamine", "Modou", "Ebrima", "Alieu"],
        ["Adaeze", "Temitope", "Akosua", "Efua", "Yaa", "Adjoa", "Chiamaka", "Ngozi",
         "Afua", "Folake", "Nneka", "Oluwatoyin", "Ifeoma", "Abena", "Esi", "Aminata",
         "Fatoumata", "Mariama", "Awa", "Binta", "Kadiatou", "Isatou"],
        ["Okonkwo", "Adeyemi", "Mensah", "Boateng", "Asante", "Owusu", "Nwosu", "Eze",
         "Oyelaran", "Adebayo", "Danquah", "Agyeman", "Ofori", "Diallo", "Traoré", "Ceesay",
         "Jallow", "Sanneh", "Bah", "Touray", "Nwachukwu", "Obi-Okafor", "Ansah"],
    ),
    "irish": (
        ["Cathal", "Oisín", "Ruairí", "Tadhg", "Donnacha", "Fionn", "Cian", "Darragh",
         "Eoghan", "Colm", "Ciarán", "Pádraig"],
        ["Saoirse", "Aoibheann", "Clodagh", "Gráinne", "Siobhán", "Niamh", "Caoimhe",
         "Orla", "Sadhbh", "Róisín", "Ailbhe", "Méabh"],
        ["Ó Dálaigh", "Ó Súilleabháin", "Ní Bhriain", "Mac Giolla Phádraig", "Ó Ceallaigh",
         "Ó Donnchadha", "Nic Dhomhnaill", "Ó Murchú", "Mac Cárthaigh", "Ó Broin",
         "Ní Mhaoileoin", "Ó Laoghaire"],
    ),
    "dutch": (
        ["Sjoerd", "Jeroen", "Wouter", "Maarten", "Thijs", "Rutger", "Gijs", "Joost"],
        ["Femke", "Marloes", "Sanne", "Lieke", "Anouk", "Fenna", "Marieke", "Ilse"],
        ["van der Meulen", "van den Heuvel", "van Dijkhuizen", "de Graaff", "van Wijngaarden",
         "ter Horst", "van der Sluijs", "van Ommeren", "de Bruijckere", "van Leeuwaarden"],
    ),
    "danish_rare": (
        ["Evald", "Thorvald", "Ejnar", "Folmer", "Gorm", "Halfdan", "Ragnvald", "Hjalte",
         "Eskild", "Villum", "Sixten", "Abelone", "Bendt", "Knudsine", "Ditlev", "Eyvind",
         "Tyge", "Valdemar", "Herluf", "Ingolf", "Egon", "Arnfred"],
        ["Gudrun", "Signy", "Ingeborg", "Alvilda", "Tyra", "Ragna", "Svanhild", "Hertha",
         "Thyra", "Solvej", "Vibeke", "Bolette", "Ellinor", "Margrethe", "Elna", "Asta",
         "Mathilda", "Edel", "Grethe", "Karoline", "Oline", "Kamma"],
        ["Bækgaard", "Fogh", "Smedegaard", "Stougaard", "Kjærsgaard", "Ravnkilde", "Brøndum",
         "Kirketerp", "Rasmusen", "Søgaard-Kjær", "Tørnæs", "Elkjær", "Hvolbøl", "Aagesen",
         "Nørskov", "Flyvbjerg", "Kirkeby-Hald", "Bisgaard", "Trabjerg", "Hyldgaard",
         "Vestergaard-Lauridsen", "Dyrberg", "Munch-Møller", "Brogaard"],
    ),
    "danish_word": (
        # Names that are also ordinary Danish words (dropped again if a detector list has them).
        ["Bo", "Storm", "Ask", "Sten", "Ravn", "Birk", "Elm", "Vilde", "Sol", "Rask", "Falk",
         "Ørn", "Ulv", "Björn", "Lyng", "Tjørn", "Vidar", "Sky", "Frost", "Dal"],
        ["Sol", "Rose", "Flora", "Lærke", "Vilde", "Iris", "Viol", "Lilje", "Dis", "Bølge",
         "Lykke", "Rosa", "Bellis", "Alma", "Stjerne", "Lunde", "Kilde"],
        ["Rask", "Storm", "Hjort", "Krog", "Bak", "Vinter", "Vang", "Hede", "Kær", "Mose",
         "Sand", "Strand", "Fjord", "Lind", "Bonde", "Smed", "Skytte", "Kok", "Due", "Ravn",
         "Spurv", "Stær", "Agger", "Klit", "Bøg", "Frost", "Høj", "Bakke", "Brink"],
    ),
}

# Particle and hyphenated surnames added to an origin's surname pool (hand-written).
HAND_EXTRA_SURNAMES: dict[str, list[str]] = {
    "arabic": ["Al-Tikriti", "Al-Jubouri", "El-Khatib", "Al-Obaidi", "El-Amrani", "Al-Rubaie",
               "Abu-Ghazaleh", "Al-Dulaimi", "El-Sherbiny", "Al-Zubaidi", "Al-Khafaji"],
    "turkish": ["Karataşoğlu", "Yeşilyurt-Demirkol", "Altıparmak", "Kuşçuoğlu"],
    "polish": ["Wróblewska-Nowicka", "Grzybowski", "Szczepańczyk", "Przybyłowicz"],
    "filipino": ["dela Paz", "de los Reyes", "Macaraeg", "Dimaculangan", "Villanueva-Tan"],
}

# Nicknames ("kaldet X"): written for this project; a part known to a detector list drops it.
NICKNAMES = [
    "Tenz", "Dixi", "Zaza", "Mumu", "Koko", "Bobo", "Jojo", "Kiki", "Lulu", "Zizou",
    "Buller", "Pjuske", "Mulle", "Tjalle", "Snuden", "Bamsi", "Lillemus", "Pippi", "Dudu",
    "Kuku", "Fifi", "Toto", "Nunu", "Gizmo", "Shorty", "Slim", "Tiny", "Bubbi", "Pjevs",
    "Knold", "Tjikko", "Yoyo", "Didi", "Mimi", "Popo", "Sasa", "Babs", "Kimse", "Fiddi",
]

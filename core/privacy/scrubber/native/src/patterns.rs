//! The regular expressions and keyword lists of the recognizers: the single source of truth
//! (ported from the former ``patterns.py``/``identifiers.py``; Python ``re`` syntax and
//! semantics, run by fancy-regex, which backtracks like ``re`` and has look-behind).
//!
//! Kept here, in Rust, rather than passed in from Python: the patterns and the code that gates,
//! pre-scans and validates their matches belong together (a gate is only right for its
//! pattern), and one file holds both.

use fancy_regex::RegexBuilder;
use regex_automata::meta;
use regex_automata::{Anchored, Input};

/// A pattern: run by fancy-regex (backtracking, look-around, as Python's ``re``), after a
/// quick test with ``quick``, the same pattern without its look-arounds and back-references
/// (so it matches wherever the full one does, and more) run by regex-automata's DFA: most
/// positions a pattern is tried at fail, and the DFA says so several times faster.
pub struct Regex {
    pub fancy: fancy_regex::Regex,
    quick: Option<meta::Regex>,
    #[cfg(feature = "stats")]
    pub id: usize,
}

#[cfg(feature = "stats")]
pub mod stats {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
    use std::sync::Mutex;
    pub static NEXT: AtomicUsize = AtomicUsize::new(0);
    pub static NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());
    pub static CALLS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
    pub static VM: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
    pub static NS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
    pub static QNS: [AtomicU64; 64] = [const { AtomicU64::new(0) }; 64];
    pub fn add(a: &[AtomicU64; 64], i: usize, n: u64) { if n < 20_000 { a[i].fetch_add(n, Relaxed); } }
    pub fn dump() -> Vec<(String, u64, u64, u64, u64)> {
        let names = NAMES.lock().unwrap();
        names.iter().enumerate().map(|(i, n)| (n.clone(), CALLS[i].load(Relaxed), VM[i].load(Relaxed), QNS[i].load(Relaxed), NS[i].load(Relaxed))).collect()
    }
}

impl Regex {
    /// Could the pattern match at exactly ``at``? (false: it cannot)
    pub fn may_match_at(&self, s: &str, at: usize) -> bool {
        match &self.quick {
            Some(q) => q.is_match(Input::new(s).range(at..).anchored(Anchored::Yes)),
            None => true,
        }
    }

    /// Could the pattern match anywhere in ``s`` at or after ``at``?
    pub fn may_match_from(&self, s: &str, at: usize) -> bool {
        match &self.quick {
            Some(q) => q.is_match(Input::new(s).range(at..)),
            None => true,
        }
    }

    /// Could the pattern match anywhere in ``s``?
    pub fn may_match(&self, s: &str) -> bool {
        match &self.quick {
            Some(q) => q.is_match(s),
            None => true,
        }
    }
}

/// ``pattern`` (translated) without look-arounds, back-references as "anything".
fn relaxed(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            if chars[i + 1].is_ascii_digit() {
                out.push_str("(?s:.)*");
            } else {
                out.push(c);
                out.push(chars[i + 1]);
            }
            i += 2;
        } else if c == '[' {
            let end = class_end(&chars, i);
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '(' && is_lookaround(&chars[i..]) {
            i = group_end(&chars, i);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_lookaround(rest: &[char]) -> bool {
    let head: String = rest.iter().take(4).collect();
    head.starts_with("(?=") || head.starts_with("(?!") || head.starts_with("(?<=")
        || head.starts_with("(?<!")
}

/// The index after the class that begins at ``chars[start]`` (classes nest: ``[[a]--[b]]``;
/// a "]" or "[" in a translated class is always escaped).
fn class_end(chars: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    loop {
        match chars[i] {
            '\\' => i += 1,
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The index after the group that begins at ``chars[start]``.
fn group_end(chars: &[char], start: usize) -> usize {
    let mut depth = 0;
    let mut i = start;
    loop {
        match chars[i] {
            '\\' => i += 1,
            '[' => {
                i = class_end(chars, i);
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

const W: &str = r"\p{L}\p{N}_";

/// A Python ``re`` pattern in fancy-regex syntax with Python's meaning: ``\w`` is a letter, a
/// number of any kind ("²" too) or "_" (Rust's ``\w`` also takes combining marks and not
/// "²"), ``\s`` also the separators U+001C..U+001F, ``\b`` between those word characters,
/// and under IGNORECASE an "i" also matches "İ" and "ı" (Python folds them, Rust does not).
pub fn py(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut ci = false;
    let mut stack: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..chars.len().min(i + 4)].iter().collect();
        if c == '\\' {
            let e = chars[i + 1];
            match e {
                'w' => out.push_str(&format!("[{W}]")),
                'W' => out.push_str(&format!("[^{W}]")),
                's' => out.push_str(r"[\s\x1c-\x1f]"),
                'b' => out.push_str(&format!("(?:(?<=[{W}])(?![{W}])|(?<![{W}])(?=[{W}]))")),
                _ => {
                    out.push(c);
                    out.push(e);
                }
            }
            i += 2;
        } else if rest.starts_with("(?i)") {
            ci = true;
            out.push_str("(?i)");
            i += 4;
        } else if c == '(' {
            stack.push(ci);
            if rest.starts_with("(?i:") {
                ci = true;
                out.push_str("(?i:");
                i += 4;
            } else if rest.starts_with("(?P<") {
                while chars[i] != '>' {
                    out.push(chars[i]);
                    i += 1;
                }
                out.push('>');
                i += 1;
            } else {
                out.push('(');
                i += 1;
                if chars.get(i) == Some(&'?') {
                    // (?: (?= (?! (?<= (?<!
                    out.push('?');
                    i += 1;
                    while matches!(chars.get(i), Some('<') | Some('=') | Some('!') | Some(':')) {
                        out.push(chars[i]);
                        i += 1;
                        if matches!(chars[i - 1], '=' | '!' | ':') {
                            break;
                        }
                    }
                }
            }
        } else if c == ')' {
            ci = stack.pop().unwrap_or(false);
            out.push(')');
            i += 1;
        } else if c == '[' {
            i = class(&chars, i, ci, &mut out);
        } else if ci && (c == 'i' || c == 'I') {
            out.push_str("[iIİı]");
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The character class at ``chars[start]`` ("["), translated as :func:`py`; returns the
/// index after its "]".
fn class(chars: &[char], start: usize, ci: bool, out: &mut String) -> usize {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut body = String::new();
    let mut raw = String::new();
    let mut not_word = false;
    let mut first = true;
    while chars[i] != ']' || first {
        first = false;
        let c = chars[i];
        if c == '\\' {
            let e = chars[i + 1];
            match e {
                'w' => body.push_str(W),
                'W' => not_word = true,
                's' => body.push_str(r"\s\x1c-\x1f"),
                _ => {
                    body.push(c);
                    body.push(e);
                }
            }
            raw.push(e);
            i += 2;
        } else {
            if c == '[' {
                body.push_str(r"\[");
            } else {
                body.push(c);
            }
            raw.push(c);
            i += 1;
        }
    }
    let folds = ci && (raw.contains('i') || raw.contains('I') || raw.contains("a-z") || raw.contains("A-Z"));
    if folds {
        body.insert_str(0, "İı"); // first: a "-" at the end would make a range with them
    }
    if not_word {
        // [^\W...]: a word character that is none of the rest
        assert!(negated, "\\W only in a negated class");
        if body.is_empty() {
            out.push_str(&format!("[{W}]"));
        } else {
            out.push_str(&format!("[[{W}]--[{body}]]"));
        }
    } else if negated {
        out.push_str(&format!("[^{body}]"));
    } else {
        out.push_str(&format!("[{body}]"));
    }
    i + 1
}

pub(crate) fn build(pattern: &str) -> Regex {
    let translated = py(pattern);
    let fancy = RegexBuilder::new(&translated)
        .delegate_size_limit(1 << 27)
        .delegate_dfa_size_limit(1 << 26)
        .backtrack_limit(10_000_000)
        .build()
        .unwrap_or_else(|e| panic!("scrubber pattern does not compile: {e}"));
    let quick = meta::Regex::builder()
        .syntax(regex_automata::util::syntax::Config::new().unicode(true).utf8(true))
        .configure(meta::Config::new().nfa_size_limit(Some(1 << 27)).hybrid_cache_capacity(1 << 23))
        .build(&relaxed(&translated))
        .ok();
    #[cfg(feature = "stats")]
    let id = {
        stats::NAMES.lock().unwrap().push(pattern.chars().take(60).collect());
        stats::NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
    Regex { fancy, quick, #[cfg(feature = "stats")] id }
}

/// ``template`` with each ``%NAME%`` replaced by its value.
fn fill(template: &str, parts: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in parts {
        out = out.replace(&format!("%{name}%"), value);
    }
    out
}

// ---- keyword groups: where a labelled pattern can begin (lower-cased text) -----------------
pub const PHONE_KW: &[&str] = &[
    "tlf", "telefon", "mobil", "mob", "mp", "sms", "ring", "nummer", "phone", "cell", "whatsapp",
    "hjemmenummer", "arbejdsnummer", "privat", "nr",
];
pub const OBF_AT_KW: &[&str] = &[" at ", "(at", "[at", "{at", "<at", "snabel", "@ ", " @"];
pub const TLD_KW: &[&str] = &[
    "dot", "punktum", "prik", ".dk", ".com", ".net", ".org", ".se", ".no", ".de", ".eu", ".info",
    ".io", ".me", ".nu", ".uk", ".co", ".fo", ".gl", ".is", ".fi", ".biz", ".online", " dk",
    " com", " net", " org", " se", " no", " de", " eu", " info", " io", " me", " nu", " uk",
    " co", " fo", " gl", " is", " fi", " biz", " online",
];
pub const CONTEXT_KW: &[&str] = &["bor ", "bopæl", "boende", "bosat", "adresse", "adr.", "flytte"];
pub const PLATFORM_KW: &[&str] = &[
    "snap", "insta", "ig", "tik", "discord", "telegram", "twitch", "twitter", "facebook", "fb",
    "youtube", "steam", "psn", "xbox", "roblox", "fortnite", "minecraft", "kik", "signal",
    "whatsapp", "messenger", "bereal", "reddit", "threads", "pinterest", "spotify", "epic",
    "brugernavn", "username", "user", "profilnavn", "gamertag", "gamer-tag",
];
pub const LABEL_KW: &[&str] = &["brugernavn", "username", "profilnavn", "gamer", "kaldenavn"];
pub const VEHICLE_KW: &[&str] = &[
    "plade", "nummerplade", "reg", "registreringsnummer", "bil", "knallert", "scooter",
    "motorcykel", "kørte", "kører",
];
pub const DOB_CUE_KW: &[&str] = &["fød", "f.", "fdato", "dob", "d.o.b", "born", "birth", "bday"];
pub const BIRTH_CUES_KW: &[&str] = &[
    "født", "f.", "f0", "f1", "f2", "f3", "årgang", "fødsels", "årg.", "dob", "d.o.b", "born",
    "birth", "fdato", "f.dato",
];
pub const CASE_KW: &[&str] = &[
    "sag", "j.", "j ", "jnr", "journal", "jr", "ref", "anmeldelse", "rapport", "døgnrapport",
    "akt", "bfe", "kle", "p-nr", "pnr", "ticket", "henvendelse",
];
pub const ACCOUNT_KW: &[&str] = &[
    "reg", "konto", "iban", "kort", "dankort", "visa", "mastercard", "mobilepay",
];
pub const ID_KW: &[&str] = &[
    "uni", "pas", "kørekort", "sygesikring", "sundhedskort", "imei", "mac", "serie", "elev",
    "medarbejder", "kunde", "medlems", "bruger", "user", "login", "opholds", "id", "cvr", "se",
    "p-nr", "pnr", "nem", "mit", "telefon-id", "telefonid", "device", "skolekort", "rejsekort",
];
/// A written-out "@" that is no Danish "at" (substrings of the lower-cased text).
pub const OBF_MARKERS: &[&str] = &["(at", "[at", "{at", "<at", "snabel", " @", "@ "];

/// Words before a number that make it no house number.
pub const NOT_STREETS: &[&str] = &[
    "uge", "klasse", "kapitel", "side", "nr", "bus", "linje", "rute", "lokale", "sal", "etage",
    "trin", "niveau", "runde", "kamp", "version", "model", "årgang", "fase", "bilag", "punkt",
    "paragraf", "afsnit", "gruppe", "hold", "værelse", "afdeling", "bygning", "rema",
    "fifa", "iphone", "playstation", "ps", "galaxy", "windows", "covid", "top",
];
/// Rooms, halls and platforms: "i Hal 2", "til Skolen 2", "fra Spor 4" are no street.
pub const ROOMS: &[&str] = &[
    "hal", "hallen", "skole", "skolen", "bane", "banen", "spor", "sporet", "gate", "stue",
    "stuen", "bord", "bordet", "perron", "terminal", "kantine", "kantinen", "afdeling",
    "afdelingen", "gang", "gangen", "salen", "rum", "rummet", "time", "lektion", "klassen",
];
/// Words before a street that are no part of it ("I Skovly 9 bor de"); "Ved", "Over",
/// "Efter" begin street names and stay.
pub const LEADING: &[&str] = &["i", "på", "til", "fra", "og", "men", "da", "når", "hvis", "at", "om"];
/// Place prepositions right before a street ("til Holmen 139", "på Skovly 9").
pub const PLACE_BEFORE: &[&str] = &["på", "til", "fra", "ved", "hos", "i"];

pub const MONTH_NUMBER: &[(&str, u32)] = &[
    ("januar", 1), ("january", 1), ("jan", 1), ("februar", 2), ("february", 2), ("feb", 2),
    ("marts", 3), ("march", 3), ("mar", 3), ("april", 4), ("apr", 4), ("maj", 5), ("may", 5),
    ("juni", 6), ("june", 6), ("jun", 6), ("juli", 7), ("july", 7), ("jul", 7), ("august", 8),
    ("aug", 8), ("september", 9), ("sep", 9), ("sept", 9), ("oktober", 10), ("october", 10),
    ("okt", 10), ("oct", 10), ("november", 11), ("nov", 11), ("december", 12), ("dec", 12),
];

const SUFFIXES: &str = "vej|vejen|gade|gaden|allé|alle|alléen|vænge|vænget|stræde|strædet|plads|pladsen|torv|\
torvet|boulevard|parken|park|bakken|bakke|toften|toft|vangen|vang|stien|sti|marken|mark|\
løkken|løkke|hegnet|engen|eng|haven|have|lunden|lund|gården|gård|høj|højen|kær|kæret|\
mose|mosen|holm|holmen|skov|skoven|strand|stranden|bjerg|bjerget|dal|dalen|ager|agre|\
lyst|bro|broen|kaj|kajen|vold|volden|brink|brinken|linien|krog|krogen|huse|væld|gyde|\
passage|sving|svinget|banke|kvarter|kvarteret|tofte|rækken|hus|slette|sletten|\
vejle|dige|diget|parkvej|ring|ringen|buen|stykket|høje|dyssen|gærdet|hegn|lod|lodden|\
brynet|bryn|tved|lev|ved|næs|næsset|højen|vænge|hus";
const SEPARATE_STREET_WORDS: &str =
    "Vej|Gade|Allé|Alle|Plads|Boulevard|Torv|Stræde|Vænge|Have|Park|Landevej|Stationsvej|Kirkevej|Skolevej";
const MONTHS: &str = "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december\
|january|february|march|may|june|july|october\
|jan|feb|mar|apr|jun|jul|aug|sep|sept|okt|oct|nov|dec";
pub const NOT_TOWN: &str = r"(?!(?i:til|fra|og|eller|i|på|med|ved|hos|men|hvor|som|der|er|var|har|blev|for|efter|før|inden|siden|mens|da|når|samt|hvis|at|hvor|nu|igen|sammen)(?![^\W\d_]))";

pub struct Patterns {
    pub cpr: Regex,
    pub phone: Regex,
    pub phone_prefixed: Regex,
    pub phone_cued: Regex,
    pub case_prefix: Regex,
    pub handle_at: Regex,
    pub handle_context: Regex,
    pub handle_label: Regex,
    pub handle_shape: Regex,
    pub handle_digits: Regex,
    pub not_handle_digits: Regex,
    pub not_handle_shape: Regex,
    pub email_obfuscated: Regex,
    pub email_at: Regex,
    pub address: Regex,
    pub address_context: Regex,
    pub any_street: Regex,
    pub address_gate: Regex,
    pub number_window_reversed: Regex,
    pub street_end_reversed: Regex,
    pub context_words: Regex,
    pub plate: Regex,
    pub plate_cued: Regex,
    pub date: Regex,
    pub cue_before: Regex,
    pub cue_after: Regex,
    pub birth_year: Regex,
    pub year_cued_after: Regex,
    pub year_in_brackets: Regex,
    pub compact_date: Regex,
    pub case: Regex,
    pub case_label: Regex,
    pub account: Regex,
    pub account_label: Regex,
    pub card: Regex,
    pub ipv4: Regex,
    pub ipv6: Regex,
    pub mac: Regex,
    pub url: Regex,
    pub tld_before_slash: Regex,
    pub id_label: Regex,
    pub long_number: Regex,
    pub house_gate: Regex,
    pub house: Regex,
    pub not_house_after: Regex,
    pub digit: regex::Regex,
    pub word: regex::Regex,
    pub alnum: regex::Regex,
    pub alpha: regex::Regex,
}

impl Patterns {
    pub fn new() -> Self {
        let platforms = r"snap(?:chat)?|insta(?:gram)?|ig|tik\s?-?tok|discord|telegram|twitch|twitter|facebook|fb|youtube|steam|psn|xbox|roblox|fortnite|minecraft|kik|signal|whatsapp|messenger|bereal|reddit|threads|pinterest|spotify|epic(?:\s?games)?";
        let not_handles = r"(?:en|et|den|det|de|ikke|også|meget|mere|blevet|blev|slettet|lukket|hacket|væk|nede|min|hans|hendes|deres|jo|bare|nok|en app|populær|farlig|sjov|godt|dårligt|privat|offentlig|der|her|nu|tit|ofte|altid|aldrig|sikkert|stadig|kun|lige|helt|the|a|an|not|så)";
        let handle_value = r"[A-Za-z0-9_.æøåÆØÅ-]{2,30}(?<![.-])";
        let handle_parts: &[(&str, &str)] = &[
            ("PLATFORMS", platforms), ("NOT_HANDLES", not_handles), ("HANDLE_VALUE", handle_value),
        ];
        let obf_at = r"(?:\s*[(\[{<]\s*(?:at|snabel[- ]?a|@)\s*[)\]}>]\s*|\s+(?:snabel[- ]?a|@)\s+|\s*@\s+|\s+@\s*)";
        let obf_dot = r"(?:\s*[(\[{<]\s*(?:dot|punktum|prik)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+|\s?\.\s?|\s)";
        let obf_dot_written = r"(?:\s*[(\[{<]\s*(?:dot|punktum|prik)\s*[)\]}>]\s*|\s+(?:dot|punktum|prik)\s+|\.)";
        let tld = r"(?:dk|com|net|org|se|no|de|eu|info|io|me|nu|uk|co|fo|gl|is|fi|biz|online)";
        // Python: "[A-ZÆØÅ][a-zæøåéü]+(?:-[a-zæøåéü]+)?(?:SUFFIXES)". A house number (\s+\d)
        // follows, so the word can only end where its letters do, whichever suffix split the
        // backtracking tries: the same matches with the suffix as a look-behind at that end,
        // one reverse-DFA test instead of ~150 alternatives at every split.
        let street_word = fill(
            r"[A-ZÆØÅ][a-zæøåéü]+(?:-[a-zæøåéü]+)?(?<=[a-zæøåéü](?:%S%))",
            &[("S", SUFFIXES)],
        );
        let cap = r"(?:[A-ZÆØÅ][a-zæøåéüA-ZÆØÅ'’]*\.?|[A-ZÆØÅ]\.(?:[A-ZÆØÅ]\.)*)";
        let street_separate = fill(r"(?:%CAP%\s+){1,3}(?:%W%)", &[("CAP", cap), ("W", SEPARATE_STREET_WORDS)]);
        let street_prefix = r"(?:(?:Vester|Øster|Nørre|Søndre|Ny|Nye|Gammel|Gl\.|Store|Lille|Sankt|Skt\.|Lange|Kongens|Dronning|Prins|Gamle|Nr\.|Sdr\.|Vestre|Østre|Nordre|Søndre)\s+)?";
        let number = r"\s+\d{1,4}(?:\s?-\s?\d{1,4})?(?:[A-Za-zÆØÅæøå](?![\w])|\s[A-ZÆØÅ](?![\w]))?";
        let side = r"(?:tv|th|mf|t\.v|t\.h)\.?";
        let floor = fill(
            r"(?:,?\s*(?:(?:st|kl|stuen|kælder)\.?|\d{1,2}\.\s?(?:sal\.?)?)(?:\s*,?\s*(?:%SIDE%(?![\w])|(?:dør\s*)?\d{1,3}(?![\d.])))?|,?\s+%SIDE%(?![\w]))?",
            &[("SIDE", side)],
        );
        let town = fill(
            r"%NOT_TOWN%(?:[A-ZÆØÅ][a-zæøå]+\s)?[A-ZÆØÅa-zæøå][a-zæøå]+(?:-[A-ZÆØÅ]?[a-zæøå]+)?(?:\s(?:NV|NØ|SV|SØ|[NSVKCØ])(?![\w]))?",
            &[("NOT_TOWN", NOT_TOWN)],
        );
        let postcode = fill(r"(?:,?\s+(?:DK-?)?\d{4}\s+%TOWN%)?", &[("TOWN", &town)]);
        let addr_parts: &[(&str, &str)] = &[
            ("PREFIX", street_prefix), ("STREET_WORD", &street_word),
            ("STREET_SEPARATE", &street_separate), ("NUMBER", number), ("FLOOR", &floor),
            ("POSTCODE", &postcode), ("CAP", cap), ("SIDE", side), ("TOWN", &town),
        ];
        let mut ends: Vec<String> = SUFFIXES.split('|').chain(SEPARATE_STREET_WORDS.split('|'))
            .map(|w| regex::escape(&w.chars().rev().collect::<String>())).collect();
        ends.sort();
        ends.dedup();
        let date = fill(
            r"(?:(?P<d>[0-3]?\d)\s?[./-]\s?(?P<m>[01]?\d)(?:\s?[./-]\s?|\.?\s)(?P<y>(?:19|20)?\d\d)(?![\d]|[.:]\d)|(?P<iy>(?:19|20)\d\d)-(?P<im>[01]\d)-(?P<id>[0-3]\d)(?!\d)|(?P<td>[0-3]?\d)\.?\s(?P<tm>%MONTHS%)\.?(?:\s(?P<ty>(?:19|20)\d\d))?(?![^\W\d_])|(?P<sd>[0-3]?\d)[./](?P<sm>[01]?\d)\.?(?!\d))",
            &[("MONTHS", MONTHS)],
        );
        let tlds = "dk|com|net|org|io|me|tv|gg|app|se|no|de|eu|info|ly|co|uk|nu|fm|be|link|xyz|online|site";
        Patterns {
            cpr: build(r"(?<!\d)(?<!\d[.,/-])(\d{2})((?:[^\w\s]|\s)?)(\d{2})\2(\d{2})\s?(?:[^\w\s]|_)?\s?(\d{2})\s?(\d{2})(?![\d]|[.,]\d)"),
            phone: build(r"(?=[\d+(])(?<![\w+])(?<!\d[ .-])(?:(?:\+|00)\s?45[ .-]?|\(\s?(?:\+|00)?45\s?\)\s?)?(?:\d{8}|\d{2}([ .-])\d{2}\1\d{2}\1\d{2}|\d{4}[ .]\d{4}|\d{2} \d{3} \d{3}|\d{3} \d{2} \d{3}|\d{2} \d{2} \d{4}|\d{4} \d{2} \d{2})(?!\w)(?![.,-]\d)(?! \d{2})"),
            phone_prefixed: build(r"(?<![\w+])(?:\+|00)\s?45[\s.-]{0,2}(?:\d[\s.-]?){7}\d(?!\d)"),
            phone_cued: build(r"(?i)\b(?:tlf|telefon|telefonnummer|telefonnr|tlf\.?\s?nr|mobil|mobilnr|mobilnummer|mob|mobilepay|mp|sms|ring(?:e|ede|er)?(?:\s(?:til|på))?|nummer(?:et)?|phone|cell|whatsapp|hjemmenummer|arbejdsnummer|privat|nr\.? til (?:mor|far))\.?\s*(?:er|på)?\s*[:.]?\s*(?P<v>\d(?:[\s.-]?\d){7})(?![\d]|[.,]\d)"),
            // searched in the (at most 20 characters) before a number: ends there
            case_prefix: build(r"(?i)(?:sags?\.?\s?nr|j\.?\s?nr|journal\s?(?:nr|nummer)|sagsnummer|reg\.?\s?nr|konto\s?nr|kontonummer|ordre\s?nr|faktura\s?nr|id|sag)\.?:?\s*\z"),
            handle_at: build(r"(?<![\w.@/])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?"),
            handle_context: build(&fill(
                r#"(?i)\b(?:(?:%PLATFORMS%)(?:[- ]?(?:navn|navnet|profil|profilen|bruger|brugeren|brugernavn|brugernavnet|konto|kontoen|kanal|kanalen|id|tag))?|brugernavn(?:et)?|username|user|profilnavn(?:et)?|gamertag|gamer-?tag)(?:(?:\s*[:=]\s*|\s+(?:hedder|er|med navnet|med brugernavnet|under navnet)\s+)["'“”«]?(?!%NOT_HANDLES%\b)(?P<v>%HANDLE_VALUE%)|\s+(?:som\s+)?["'“”«]?(?P<w>(?=[A-Za-z0-9_.æøåÆØÅ]*[0-9_.])[A-Za-z0-9_.æøåÆØÅ]{3,30}(?<!\.)))"#,
                handle_parts)),
            handle_label: build(&fill(
                r#"(?i)\b(?:brugernavn(?:et)?|username|profilnavn(?:et)?|gamertag|gamer-?tag|kaldenavn(?:et)?\s+på\s+nettet)\s+["'“”«]?(?P<v>%HANDLE_VALUE%)"#,
                handle_parts)),
            handle_shape: build(r"(?<![\w.@/:-])_*[\w.]*[^\W_]_+(?:[\w.]*[^\W_])?_*(?![\w@])|(?<![\w.@/:-])(?=[\w.]*[^\W\d_]{3})[^\W_]+(?:\.[^\W_]+)+(?![\w@]|\.[^\W_])"),
            handle_digits: build(r"(?<![\w.@/:-])[^\W\d_]{3,}\d{2,4}(?![\w@])"),
            not_handle_digits: build(r"(?i)\A(?:iphone|fifa|ps|covid|windows|galaxy|mp|top|uge|klasse|kl|nr|tlf|version|model|pixel|note|xbox|nike|air|max|gta|cod|nba|pes|euro|em|vm|dk|sag|sagsnr|lokale|bus|linje|rute|tog|u|år|aar|kr|dkk|eur|usd|km|kg|mg|ml|cm|mm|gb|mb|tb|hz|pct|nummer|kode)\d+\z"),
            not_handle_shape: build(r"(?i)\A(?:.*\.(?:dk|com|net|org|se|no|de|eu|info|io|me|nu|uk|co|php|html|jpg|png|pdf|docx?)|(?:bl|f|fx|t|m|o|p|i|e|a|s|d|kl|nr|ca|pkt|str|st|kap|tlf|jf|ang|vedr|evt|inkl|mht|pga|dvs|osv|ift|hhv|bla|eks|ex|vs|etc)\..*|.*\d+\.\d+.*)\z"),
            email_obfuscated: build(&fill(
                r"(?i)(?<![\w.+-])[\w.+-]+(?:%AT%[\w-]+(?:%DOT%[\w-]+)*?%DOT%|\s+at\s+[\w-]+(?:%WDOT%[\w-]+)*?%WDOT%)%TLD%(?![\w])",
                &[("AT", obf_at), ("DOT", obf_dot), ("WDOT", obf_dot_written), ("TLD", tld)])),
            email_at: build(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"),
            address: build(&fill(r"(?<![\w])(?:%PREFIX%%STREET_WORD%|%STREET_SEPARATE%)%NUMBER%%FLOOR%%POSTCODE%", addr_parts)),
            address_context: build(&fill(
                r"(?i)\b(?:bor på|bor i|boende på|bosat på|bopæl(?:en)?(?: er| på)?:?|adresse(?:n)?(?: er| på)?:?|adr\.:?|flyttet til|flytter til)\s+(?P<v>%PREFIX%%CAP%(?:\s+%CAP%){0,2}%NUMBER%%FLOOR%%POSTCODE%)",
                addr_parts)),
            any_street: build(&fill(
                r"(?<![\w])(?<![\d.]\.)(?:%PREFIX%%CAP%\s+)?%CAP%%NUMBER%(?:,?\s*(?:(?:st|kl|stuen)\.?|\d{1,2}\.)\s*,?\s*%SIDE%(?![\w])%POSTCODE%|%FLOOR%,?\s+\d{4}\s+%TOWN%)",
                addr_parts)),
            address_gate: build(r"[A-ZÆØÅ][^\W\d_]*\.? \d"),
            number_window_reversed: build(r"\d\s+(?:[^\s\d]+\s+){0,4}[^\s\d]+"),
            street_end_reversed: build(&format!(r"\d\s+(?:{})", ends.join("|"))),
            context_words: build(r"bo(?:r |pæl|ende|sat)|adr(?:esse|\.)|flytte"),
            plate: build(r"[A-ZÆØÅ](?<![\w-][A-ZÆØÅ])[A-ZÆØÅ][ -]?\d{2}[ -]?\d{3}(?![\w]|[.,]\d)|(?<![\w-])(?!(?i:er|på|og|at|en|et|du|vi|de|os|så|nu|da|om|to|ti|kl|nr|ca|fx|ml|km|kr|mm|cm|kg|ok|jo|ja|nå|se|må|gå|få|hr)\b)[A-ZÆØÅa-zæøå][a-zæøå][ -]?\d{2}[ -]?\d{3}(?![\w]|[.,-]\d)"),
            plate_cued: build(r"(?i)\b(?:plade|nummerplade|reg\.?\s?nr|registreringsnummer|bil|knallert|scooter|motorcykel|kørte|kører)(?:en|n)?\.?\s*(?:er|med|nr\.?)?\s*:?\s*(?P<v>[A-ZÆØÅa-zæøå]{2}[ -]?\d{2}[ -]?\d{3})(?![\w]|[.,-]\d)"),
            date: build(&format!(r"(?i)(?<!\d)(?<!\d[.,/:-])(?<!kl\.\s)(?<!kl\s)(?<!kl\.){date}")),
            cue_before: build(r"(?i)(?:\bfødt|\bf\.|\bfødselsdag|\bfødselsdato|\bfødselsår|\bfødsels-?dag|\bf\.dato|\bfdato|\bfød\.?\s?dato|\bdob|\bd\.o\.b\.?|\bborn|\bbirthday|\bdate of birth)(?:\s*(?:den|d\.|:|-|,|er|var|i|the))*\s*\(?\s*\z"),
            cue_after: build(r"(?i)\s*[(,]?\s*(?:fødselsdag|fødselsdato|født|f\.|dob|birthday|bday)\b"),
            birth_year: build(r"(?i)(?:\b(?:født|f\.|årgang|fødselsår|fødselsdato|fødselsdag|årg\.|dob|d\.o\.b|born|birth|fdato|f\.dato)|\bf(?=\d))[\s.:,-]*(?:(?:i|år|den|d\.|in|the|er|var)\s+)*(?P<v>(?:19|20)\d\d(?:[01]\d[0-3]\d)?|[0-3]\d[01]\d(?:19|20)?\d\d)(?!\d)"),
            year_cued_after: build(r"(?i)(?<!\d)(?P<v>(?:19|20)\d\d)\s?-?\s?(?:årgang|årg\.)"),
            year_in_brackets: build(r"[(\[]\s?(?:f\.?\s?)?(?P<v>(?:19|20)\d\d)\s?[)\]]"),
            compact_date: build(r"(?<![\d.,/-])(?:\d{6}|\d{8})(?![\d]|[.,]\d|\s?(?:kr|dkk|,-))"),
            case: build(r"(?<![\d])(?:\d{1,2}\.\d{1,2}\.\d{1,2}\s?-\s?[A-ZÆØÅ]\d{1,3}(?:\s?-\s?\d{1,6}){0,2}|\d{4}[- ]\d{5}[- ]\d{5}[- ]\d{2}|[A-ZÆØÅ]{3,6}-\d{2,4}-\d{2,8})(?![\w])"),
            case_label: build(r"(?i)\b(?:sags?\.?\s?nr|sags?nummer|sag|j\.?\s?nr|journal\s?(?:nr|nummer)|journalnummer|jr\.?\s?nr|ref(?:erence)?(?:\s?nr)?|anmeldelses?\s?(?:nr|nummer)|rapport\s?(?:nr|nummer)|døgnrapport|akt\s?(?:nr|id)|bfe|kle|p-?nr|ticket|henvendelse(?:s?nr)?)\.?\s*(?:nr\.?|nummer)?\s*[:#]?\s*(?P<v>(?=[\w./-]*\d)[A-ZÆØÅa-zæøå0-9][\w./-]*[\w])"),
            account: build(r"(?i)(?<![\d.,+-])(?!00\s?45)\d{4}(?:\s?[-/]\s?|\s|,?\s*(?:konto|kto)\.?\s?(?:nr|nummer)?\.?:?\s*)\d{6,10}(?![\d]|[.,]\d)|(?<![\w])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?(?![\w])"),
            account_label: build(r"(?i)\b(?:reg\.?\s?(?:nr|nummer)|registreringsnummer|konto\s?(?:nr|nummer)?|kontonummer|iban|kortnummer|kort\s?nr|dankort|visa|mastercard|mobilepay\s?box)\.?\s*[:#]?\s*(?P<v>\d[\d -]{2,30}\d)"),
            card: build(r"(?<![\d.,-])\d{4}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?![\d]|[.,]\d)"),
            ipv4: build(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)"),
            ipv6: build(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"),
            mac: build(r"(?<![\w:-])[0-9A-Fa-f]{2}(?:([:-])[0-9A-Fa-f]{2})(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-])"),
            url: build(&fill(
                r#"(?i)(?:https?://|www\.)[^\s<>"'()\[\]]+|(?<![\w@.-])(?:[\w-]+\.)+(?:%TLDS%|[a-z]{2,6}(?=/[\w@~]))/[^\s<>"'()\[\]]*"#,
                &[("TLDS", tlds)])),
            tld_before_slash: build(r"(?i)[\w-]\.[a-z]{2,6}(?=\n?\z)"),
            id_label: build(r"(?i)\b(?:uni-?\s?login(?:\s?(?:navn|id|brugernavn))?|unilogin|uni-c|pas(?:\s?nr|nummer|port(?:\s?nr|nummer)?)|kørekort(?:s?\s?nr|s?nummer)?|sygesikrings?(?:kort|bevis)?(?:\s?nr|nummer)?|sundhedskort(?:\s?nr|et)?|imei(?:-?nummer|-?nr)?|mac(?:-?adresse)?|serienummer|serie\s?nr|elev\s?(?:nr|nummer|id)|medarbejder\s?(?:nr|nummer|id)|kunde\s?(?:nr|nummer)|medlems\s?(?:nr|nummer)|bruger-?\s?id|user\s?id|login|opholdskort(?:\s?nr)?|opholdstilladelse(?:s?nr)?|id-?kort(?:\s?nr)?|cvr(?:-?nr)?|se-?nr|p-?nr|nem-?id|mit-?id|telefon-?id|device-?id|skolekort(?:\s?nr)?|rejsekort(?:\s?nr)?)\.?\s*(?:er|nr\.?|:|#|=)?\s*[:=]?\s*(?P<v>(?=[\w.:-]*\d)[\w][\w.:-]{2,40}[\w]|[a-zæøå]{4}\d{3,4}\w*)"),
            long_number: build(r"(?<![\d+])(?!0045)\d{9,}(?!\d)|(?<![\d.,-])\d{4}(?:[ -]\d{4}){2,}(?![\d]|[.,]\d)"),
            house_gate: build(r"[A-ZÆØÅ][^\W\d_]+ \d{1,3}(?!\d)"),
            house: build(&fill(
                r"(?<![\w])(?<![\d.]\.)(?P<street>(?:[A-ZÆØÅ][^\W\d_'’.-]*\.?\s){0,2}[A-ZÆØÅ][^\W\d_]+(?:-[^\W\d_]+)?)\s(?P<no>\d{1,3}(?!\d)(?:(?:[A-Za-z]|\s[A-Z])(?![\w]))?)(?P<tail>(?:,?\s*(?:\d{1,2}\.?\s?(?:sal|etage|th|tv|mf)?\.?|st\.?|stuen|kl\.?|kld\.?|th\.?|tv\.?|mf\.?|t\.[hv]\.?|\d{1,2}\.?\s?(?:etage|sal)|kælder(?:en)?|stuen|(?:lejl|lejlighed|vær|værelse|dør|nr|bygn|opg|opgang|lok)\.?\s?\d{1,4}[a-zA-Z]?)(?![\w]))*(?:,?\s*(?:DK-?)?\d{4}(?:\s+%NOT_TOWN%[^\W\d_]+(?:-[^\W\d_]+)?(?:\s[A-ZÆØÅ][^\W\d_]+)?(?:\s(?:[NSVKCØ]|NV|NØ|SV|SØ)(?![\w]))?)?)?)",
                &[("NOT_TOWN", NOT_TOWN)])),
            not_house_after: build(&fill(
                r"(?i)[.,:/]\d|\d|\.?\s?(?:%MONTHS%)(?![^\W\d_])|\s?(?:%|kr\b|år\b|årig|timer|time\b|gange|minutter|min\b|km\b|kg\b|g\b|stk|elever|dage|dag\b|uger|måneder|personer|unge|drenge|piger|point|mål|-\s?\d)",
                &[("MONTHS", MONTHS)])),
            digit: regex::Regex::new(r"\A\d\z").expect("digit"),
            word: regex::Regex::new(r"\A[\p{L}\p{N}_]\z").expect("word"),
            alnum: regex::Regex::new(r"\A[\p{L}\p{N}]\z").expect("alnum"),
            alpha: regex::Regex::new(r"\A\p{L}\z").expect("alpha"),
        }
    }
}

//! The name recognizer's per-text rules, compiled (issue 12: the hot path).
//!
//! Python (``core/privacy/scrubber/names.py``) keeps what a token is whatever its context (the
//! vocabulary, the gazetteer): one callback per distinct token, answers kept here. This side
//! tokenises, finds the known names, reads the cues around each token and settles the chains
//! and lists of names. Offsets are code points, as Python's ``str``.

use crate::patterns::{build, Regex};
use crate::text::{is_alpha, is_digit, is_word};
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use pyo3::prelude::*;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};

const NO: u8 = 0;
const MAYBE: u8 = 1;
const EXT: u8 = 2;
const NAME: u8 = 3;
const PARTICLE: u8 = 4;
const WEAK: u8 = 5;
const LEAD: u8 = 6;
const WHY_KNOWN: u8 = 0;
const WHY_CONTEXT: u8 = 3;
const FIRST: i64 = 1;
const SURNAME: i64 = 2;
/// A cache of callback answers is cleared when it reaches this size (memory stays bounded).
const CACHE_MAX: usize = 200_000;

const QUOTES: &[char] = &['"', '\'', '“', '”', '«', '»', '„'];
const LIST_GAPS: &[&str] = &[", ", " og ", " eller ", " & ", " + "];
const NAME_GAPS: &[&str] = &[" ", "-", " \"", "\" ", " '", "' ", " “", "” ", " ”", " «", "» ", " »"];

/// "Bamse, som han kaldes": the cue after the name.
const CUE_FOLLOWS: &str = r#"(?i)\s?["'“”»]?,?\s(?:som|der)\s(?:han|hun|de|vi|man|alle)\s(?:kaldes|kalder|kaldte|bliver)"#;
/// Two-word cues for a nickname: "kendt som X", "kalder sig X", "går under navnet X" (``$`` as
/// Python reads it: the end, or before a newline at the end).
const NICKNAME_CUE: &str = concat!(
    r"(?i)(?:\bkaldet|\bkaldes|\bkaldt|\bkalder\s(?:sig|ham|hende|dem)|\bkaldte\s(?:sig|ham|hende)",
    r"|\bkendt|\bkendes|\bomtales|\bomtalt|a\.k\.a\.?|\baka\.?|\balias|\bvulgo",
    r"|\b(?:kæle|øge|til|kalde|nick|bruger)?navn(?:et)?(?:\s+(?:er|var))?",
    r"|\bnick(?:name)?(?:et)?(?:\s+(?:er|var))?|\bgår\sunder)",
    // up to three filler words: "kaldet for", "kaldes også", "kendt på gaden som"
    r"(?:\s(?:for|også|bare|som|blot|altid|tit|af\s\w+|blandt\s\w+|på\s\w+|i\s\w+)){0,3}",
    r#"[\s:]*["'“”«»„‘’]?\s?(?=\n?\z)"#,
);
/// The start of a (chat) line before a speaker: "> ", "[12:03] ".
const LINE_START: &str = r#"(?:^|\n)[ \t>*•\-–"“']*(?:\[?\d{1,2}[:.]\d{2}\]?[ \t]*)?(?=\n?\z)"#;

/// Python ``[^\W\d_]``: a letter (or a number that is no decimal digit, "²").
fn letter(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphabetic();
    }
    is_word(c) && !is_digit(c)
}

fn is_title(c: char) -> bool {
    matches!(c as u32, 0x1C5 | 0x1C8 | 0x1CB | 0x1F2 | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F
        | 0x1FA8..=0x1FAF | 0x1FBC | 0x1FCC | 0x1FFC)
}

/// Python ``str.isupper()``.
fn py_isupper(s: &[char]) -> bool {
    let mut cased = false;
    for &c in s {
        if c.is_lowercase() || is_title(c) {
            return false;
        }
        cased |= c.is_uppercase();
    }
    cased
}

/// Python ``str.islower()``.
fn py_islower(s: &[char]) -> bool {
    let mut cased = false;
    for &c in s {
        if c.is_uppercase() || is_title(c) {
            return false;
        }
        cased |= c.is_lowercase();
    }
    cased
}

/// Python ``str.isdigit()`` of one character: a decimal digit or a digit such as "²", "①".
fn py_isdigit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    is_digit(c)
        || matches!(c as u32, 0xB2 | 0xB3 | 0xB9 | 0x1369..=0x1371 | 0x19DA | 0x2070
            | 0x2074..=0x2079 | 0x2080..=0x2089 | 0x2460..=0x2468 | 0x2474..=0x247C
            | 0x2488..=0x2490 | 0x24EA | 0x24F5..=0x24FD | 0x24FF | 0x2776..=0x277E
            | 0x2780..=0x2788 | 0x278A..=0x2792 | 0x10A40..=0x10A43 | 0x10E60..=0x10E68
            | 0x11052..=0x1105A | 0x1F100..=0x1F10A)
}

fn lower(s: &[char]) -> String {
    s.iter().collect::<String>().to_lowercase()
}


/// Tokens (Python ``[^\W\d_]+(?:['’]s?(?![^\W\d_]))?``) of ``c[from..to]`` as if the text ended
/// at ``to``: (start, end).
fn tokens(c: &[char], from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        if !letter(c[i]) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < to && letter(c[j]) {
            j += 1;
        }
        let mut e = j;
        if j < to && (c[j] == '\'' || c[j] == '’') {
            if j + 1 < to && c[j + 1] == 's' && (j + 2 >= to || !letter(c[j + 2])) {
                e = j + 2;
            } else if j + 1 >= to || !letter(c[j + 1]) {
                e = j + 1;
            }
        }
        out.push((i, e));
        i = e;
    }
    out
}

/// What Python says of a token whatever its context (``NameRecognizer._token_info``).
struct Info {
    raw_len: usize,
    trim: usize,
    low: String,
    facts: Option<(i64, bool, bool, bool)>,
    particle: bool,
    plain: bool,
    fixed: Option<(u8, i64, u8)>,
    surname_like: bool,
    short_word: bool,
}

type InfoTuple = (
    String, usize, String, Option<(i64, bool, bool, bool)>, bool, bool, Option<(u8, i64, u8)>,
    bool, bool,
);

/// One searchable spelling of a known name's part: (needle, key, weak, person indices).
type Needle = (Vec<char>, String, bool, Vec<usize>);

/// A candidate token.
#[derive(Clone)]
struct Item {
    start: usize,
    end: usize,
    scrub: usize,
    key: String,
    state: u8,
    persons: Vec<usize>,
    flag: i64,
    why: u8,
}

struct Cache<K, V>(Mutex<HashMap<K, V>>);

impl<K: Eq + Hash, V: Clone> Cache<K, V> {
    fn new() -> Self {
        Cache(Mutex::new(HashMap::new()))
    }
    fn get<Q: ?Sized + Eq + Hash>(&self, k: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
    {
        self.0.lock().ok().and_then(|c| c.get(k).cloned())
    }
    fn put(&self, k: K, v: V, max: usize) {
        if let Ok(mut c) = self.0.lock() {
            if c.len() >= max {
                c.clear();
            }
            c.insert(k, v);
        }
    }
}

/// The word lists the rules read (Python keeps them: one source of truth).
pub struct Words {
    pub titles: HashSet<String>,
    pub institutions: HashSet<String>,
    pub abbreviations: HashSet<String>,
    pub cues_before: HashSet<String>,
    pub cues_after: HashSet<String>,
    pub strong_cues: HashSet<String>,
    pub strong_cues_after: HashSet<String>,
    pub subject_verbs: HashSet<String>,
    pub label_words: HashSet<String>,
    pub greetings: HashSet<String>,
}

pub struct Names {
    words: Words,
    /// names.py's length-preserving fold for searching the known names ("ø" -> "o")
    flat: HashMap<char, char>,
    cue_keywords: AhoCorasick,
    cue_follows: Regex,
    nickname_cue: Regex,
    /// the same, matched only where a search starts (``\G``)
    nickname_cue_at: Regex,
    line_start: Regex,
    token_info: Py<PyAny>,
    spellings: Py<PyAny>,
    place_like: Py<PyAny>,
    is_place: Py<PyAny>,
    infos: Cache<String, Arc<Info>>,
    needles: Cache<Vec<String>, Arc<Vec<Needle>>>,
    places: Cache<String, bool>,
    place_likes: Cache<String, bool>,
}

/// One text: its characters and where each begins in the UTF-8 string.
struct T<'a> {
    s: &'a str,
    c: Vec<char>,
    b: Vec<usize>,
}

impl<'a> T<'a> {
    fn new(s: &'a str) -> Self {
        let mut c = Vec::with_capacity(s.len());
        let mut b = Vec::with_capacity(s.len() + 1);
        for (i, ch) in s.char_indices() {
            c.push(ch);
            b.push(i);
        }
        b.push(s.len());
        T { s, c, b }
    }
    fn n(&self) -> usize {
        self.c.len()
    }
    fn str(&self, a: usize, e: usize) -> &'a str {
        &self.s[self.b[a]..self.b[e]]
    }
    fn at(&self, i: usize) -> Option<char> {
        self.c.get(i).copied()
    }
}

impl Names {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        words: Words,
        flat: HashMap<char, char>,
        cue_keywords: Vec<String>,
        token_info: Py<PyAny>,
        spellings: Py<PyAny>,
        place_like: Py<PyAny>,
        is_place: Py<PyAny>,
    ) -> Self {
        let cue_keywords = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&cue_keywords)
            .expect("cue keywords");
        Names {
            words,
            flat,
            cue_keywords,
            cue_follows: build(CUE_FOLLOWS),
            nickname_cue: build(NICKNAME_CUE),
            nickname_cue_at: build(&format!(r"\G(?:{NICKNAME_CUE})")),
            line_start: build(LINE_START),
            token_info,
            spellings,
            place_like,
            is_place,
            infos: Cache::new(),
            needles: Cache::new(),
            places: Cache::new(),
            place_likes: Cache::new(),
        }
    }

    fn info(&self, py: Python<'_>, token: &str) -> PyResult<Arc<Info>> {
        if let Some(info) = self.infos.get(token) {
            return Ok(info);
        }
        let t: InfoTuple = self.token_info.call1(py, (token,))?.extract(py)?;
        let info = Arc::new(Info {
            raw_len: t.0.chars().count(),
            trim: t.1,
            low: t.2,
            facts: t.3,
            particle: t.4,
            plain: t.5,
            fixed: t.6,
            surname_like: t.7,
            short_word: t.8,
        });
        self.infos.put(token.to_string(), info.clone(), CACHE_MAX);
        Ok(info)
    }

    fn ask(&self, py: Python<'_>, cache: &Cache<String, bool>, f: &Py<PyAny>, word: &str) -> PyResult<bool> {
        if let Some(v) = cache.get(word) {
            return Ok(v);
        }
        let v = f.call1(py, (word,))?.is_truthy(py)?;
        cache.put(word.to_string(), v, CACHE_MAX);
        Ok(v)
    }

    fn place(&self, py: Python<'_>, word: &str) -> PyResult<bool> {
        self.ask(py, &self.places, &self.is_place, word)
    }

    /// Every name found: (start, end, person, why), persons numbered from 1.
    pub fn find(&self, py: Python<'_>, text: &str, known_names: Vec<String>) -> PyResult<Vec<(usize, usize, usize, u8)>> {
        let t = T::new(text);
        let base = known_names.len();
        let known = if known_names.is_empty() { HashMap::new() } else { self.known(py, &t, known_names)? };
        let mut items = self.candidates(py, &t, known)?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        items.sort_by(|a, b| (a.start, a.end, a.scrub).cmp(&(b.start, b.end, b.scrub)));
        let n = items.len();
        let mut adj = vec![false; n];
        let mut lst = vec![false; n];
        for i in 0..n.saturating_sub(1) {
            let (a, e) = (items[i].end, items[i + 1].start);
            let gap = if a < e { t.str(a, e) } else { "" };
            adj[i] = NAME_GAPS.contains(&gap)
                || ((gap == "'" || gap == "’") && items[i].end - items[i].start <= 2);
            lst[i] = LIST_GAPS.contains(&gap);
        }
        let mut states: Vec<u8> = items.iter().map(|it| it.state).collect();
        self.settle_chains(py, &t, &items, &mut states, &adj, &lst)?;
        settle_lists(&items, &mut states, &adj, &lst);
        Ok(self.spans(&t, &items, &states, &adj, base))
    }

    fn needles(&self, py: Python<'_>, known_names: Vec<String>) -> PyResult<Arc<Vec<Needle>>> {
        if let Some(n) = self.needles.get(&known_names) {
            return Ok(n);
        }
        let mut parts: HashMap<String, Vec<usize>> = HashMap::new();
        let mut variants: Vec<(Vec<char>, String)> = Vec::new();
        let mut at: HashMap<Vec<char>, usize> = HashMap::new();
        let mut weak: HashMap<String, bool> = HashMap::new();
        for (index, name) in known_names.iter().enumerate() {
            let c: Vec<char> = name.chars().collect();
            let mut i = 0;
            while i < c.len() {
                if !letter(c[i]) {
                    i += 1;
                    continue;
                }
                let mut j = i + 1;
                while j < c.len() && letter(c[j]) {
                    j += 1;
                }
                let part: String = c[i..j].iter().collect();
                i = j;
                let (key, spellings, w): (String, Vec<String>, bool) =
                    self.spellings.call1(py, (part,))?.extract(py)?;
                weak.insert(key.clone(), w);
                let seen = parts.entry(key.clone()).or_default();
                if !seen.contains(&index) {
                    seen.push(index);
                }
                for spelling in spellings {
                    let sp: Vec<char> = spelling.chars().collect();
                    match at.get(&sp) {
                        Some(&k) => variants[k].1 = key.clone(),
                        None => {
                            at.insert(sp.clone(), variants.len());
                            variants.push((sp, key.clone()));
                        }
                    }
                }
            }
        }
        let out: Vec<Needle> = variants
            .into_iter()
            .map(|(needle, key)| {
                let w = weak[&key];
                let p = parts[&key].clone();
                (needle, key, w, p)
            })
            .collect();
        let out = Arc::new(out);
        self.needles.put(known_names, out.clone(), 64);
        Ok(out)
    }

    /// Occurrences of the known names' parts: start -> item.
    fn known(&self, py: Python<'_>, t: &T, known_names: Vec<String>) -> PyResult<HashMap<usize, Item>> {
        let needles = self.needles(py, known_names)?;
        let low = t.s.to_lowercase();
        let flat = |c: char| if c.is_ascii() { c } else { self.flat.get(&c).copied().unwrap_or(c) };
        let hay: Vec<char> = if low.chars().count() == t.n() {
            low.chars().map(flat).collect()
        } else {
            t.c.iter().map(|&ch| flat(ch.to_lowercase().next().unwrap_or(ch))).collect()
        };
        let size = hay.len();
        let get = |i: usize| if i < size { hay[i] } else { ' ' };
        let mut found: HashMap<usize, Item> = HashMap::new();
        for (needle, key, weak, persons) in needles.iter() {
            let len = needle.len();
            if len == 0 || len > size {
                continue;
            }
            for pos in 0..=size - len {
                if hay[pos] != needle[0] || hay[pos..pos + len] != needle[..] {
                    continue;
                }
                if pos != 0 && is_alpha(hay[pos - 1]) {
                    continue;
                }
                let mut end = pos + len;
                let mut scrub = end;
                let mut nxt = get(end);
                if nxt == 's' && (end + 1 >= size || !is_alpha(hay[end + 1])) {
                    end += 1;
                    scrub = end;
                    nxt = get(end);
                }
                if nxt == '\'' {
                    let after = get(end + 1);
                    if after == 's' && (end + 2 >= size || !is_alpha(hay[end + 2])) {
                        end += 2;
                        scrub = end;
                    } else if matches!(hay[end - 1], 's' | 'x' | 'z') {
                        scrub = end + 1;
                    }
                    nxt = ' ';
                }
                if !is_alpha(nxt) {
                    let cap = t.c[pos].is_uppercase();
                    let state = if cap || !weak { NAME } else { MAYBE };
                    if found.get(&pos).is_none_or(|old| old.end < end) {
                        found.insert(pos, Item {
                            start: pos, end, scrub, key: key.clone(), state,
                            persons: persons.clone(), flag: 0, why: WHY_KNOWN,
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    /// The words near a strong cue and a chat line's speaker, and where the cue keywords start
    /// (None if lower-casing moved offsets).
    fn near_cues(&self, t: &T) -> (HashSet<String>, Option<Vec<usize>>) {
        let mut near: HashSet<String> = HashSet::new();
        let mut cue_starts = None;
        let low = t.s.to_lowercase();
        if low.chars().count() == t.n() {
            let mut b2c: Vec<u32> = Vec::new();
            let mut starts: Vec<usize> = Vec::new();
            let ascii = low.is_ascii();
            if !ascii {
                b2c = vec![0; low.len() + 1];
                for (i, (b, _)) in low.char_indices().enumerate() {
                    b2c[b] = i as u32;
                }
            }
            for m in self.cue_keywords.find_overlapping_iter(low.as_str()) {
                starts.push(if ascii { m.start() } else { b2c[m.start()] as usize });
            }
            starts.sort_unstable();
            starts.dedup();
            for &at in &starts {
                for (a, e) in tokens(&t.c, at, (at + 60).min(t.n())).into_iter().take(6) {
                    near.insert(t.str(a, e).to_string());
                }
            }
            cue_starts = Some(starts);
        }
        if t.c.contains(&':') {
            let mut line = 0;
            loop {
                if let Some(w) = speaker(&t.c, line) {
                    near.insert(w);
                }
                match t.c[line..].iter().position(|&ch| ch == '\n') {
                    Some(p) => line += p + 1,
                    None => break,
                }
            }
        }
        (near, cue_starts)
    }

    fn candidates(&self, py: Python<'_>, t: &T, known: HashMap<usize, Item>) -> PyResult<Vec<Item>> {
        let toks = tokens(&t.c, 0, t.n());
        let mut infos: Vec<Arc<Info>> = Vec::with_capacity(toks.len());
        let mut wanted = vec![false; toks.len()];
        for (k, &(a, e)) in toks.iter().enumerate() {
            let info = self.info(py, t.str(a, e))?;
            wanted[k] = !(!info.particle && (info.facts.is_none() || info.plain));
            infos.push(info);
        }
        let (near, cue_starts) = self.near_cues(t);
        let strong_cues = !near.is_empty();
        if strong_cues {
            for (k, &(a, e)) in toks.iter().enumerate() {
                if !wanted[k] && near.contains(t.str(a, e)) && py_islower(&t.c[a..e]) {
                    wanted[k] = true;
                }
            }
        }
        if !wanted.contains(&true) && known.is_empty() {
            return Ok(Vec::new());
        }
        let mut items: Vec<Item> = Vec::new();
        for (k, &(start, end)) in toks.iter().enumerate() {
            if !wanted[k] || known.contains_key(&start) {
                continue;
            }
            let info = &infos[k];
            let low = &info.low;
            let scrub = end - info.trim;
            let Some(facts) = info.facts else {
                if info.particle {
                    items.push(item(start, end, scrub, low, PARTICLE, 0, WHY_CONTEXT));
                }
                continue;
            };
            if info.plain && !strong_cues {
                continue;
            }
            if start > 0 {
                let p = t.c[start - 1];
                if py_isdigit(p) || (".-/".contains(p) && start > 1 && py_isdigit(t.c[start - 2])) {
                    continue;
                }
            }
            let (mut state, flag, mut why) = match info.fixed {
                Some(f) => f,
                None => self.in_context(py, t, start, info, facts, strong_cues, cue_starts.as_deref())?,
            };
            if state != NAME && info.particle {
                state = PARTICLE;
                why = WHY_CONTEXT;
            }
            if state != NO {
                items.push(item(start, end, scrub, low, state, flag, why));
            }
        }
        let mut all: Vec<Item> = known.into_values().collect();
        all.extend(items);
        let mut items = all;
        // A word written as a name somewhere in the text is that name in lower case too.
        let named_low: HashSet<String> = items
            .iter()
            .filter(|it| it.state == NAME && it.persons.is_empty() && it.key.chars().count() > 2)
            .map(|it| it.key.clone())
            .collect();
        if !named_low.is_empty() {
            let taken: HashSet<usize> = items.iter().map(|it| it.start).collect();
            for &(start, end) in &toks {
                let token = t.str(start, end);
                if named_low.contains(token) && py_islower(&t.c[start..end]) && !taken.contains(&start) {
                    items.push(Item {
                        start, end, scrub: end, key: token.to_string(), state: NAME,
                        persons: Vec::new(), flag: 0, why: WHY_CONTEXT,
                    });
                }
            }
        }
        Ok(items)
    }

    #[allow(clippy::too_many_arguments)]
    fn in_context(
        &self,
        py: Python<'_>,
        t: &T,
        start: usize,
        info: &Info,
        facts: (i64, bool, bool, bool),
        strong_cues: bool,
        cue_starts: Option<&[usize]>,
    ) -> PyResult<(u8, i64, u8)> {
        let (flag, word, _proper, person_like) = facts;
        let cue_counts = strong_cues || flag != 0 || person_like;
        let low = info.low.as_str();
        let len = info.raw_len;
        let raw = &t.c[start..start + len];
        let w = &self.words;
        let why_list = 1u8;
        if !raw[0].is_uppercase() {
            let cue = if cue_counts { self.cued(t, start, len, strong_cues, cue_starts) } else { 0 };
            if cue == 2 || (cue != 0 && (flag != 0 || person_like)) {
                return Ok((NAME, flag, WHY_CONTEXT));
            }
            if w.titles.contains(low) || w.cues_before.contains(low) || w.cues_after.contains(low) {
                return Ok((NO, 0, 0));
            }
            return Ok(if flag != 0 || person_like { (WEAK, flag, WHY_CONTEXT) } else { (NO, 0, 0) });
        }
        if flag != 0 {
            let allcaps = len > 1 && py_isupper(raw);
            if (allcaps || self.sentence_initial(t, start))
                && !self.titled(t, start)
                && self.cued(t, start, len, strong_cues, cue_starts) == 0
                && !self.subject_of_verb(t, start + len)
            {
                return Ok((MAYBE, flag, why_list));
            }
            return Ok((NAME, flag, if !word { why_list } else { WHY_CONTEXT }));
        }
        let cue = if cue_counts { self.cued(t, start, len, strong_cues, cue_starts) } else { 0 };
        let named = cue == 2 || (cue == 1 && person_like);
        if self.sentence_initial(t, start) {
            if named {
                return Ok((NAME, 0, WHY_CONTEXT));
            }
            if person_like {
                if self.subject_of_verb(t, start + len) {
                    return Ok((NAME, 0, WHY_CONTEXT));
                }
                return Ok((WEAK, 0, WHY_CONTEXT));
            }
            if w.titles.contains(low) || w.cues_before.contains(low) {
                return Ok((NO, 0, 0));
            }
            return Ok((LEAD, 0, WHY_CONTEXT));
        }
        if named || self.titled(t, start) {
            return Ok((NAME, 0, WHY_CONTEXT));
        }
        let (pa, pe, _dot) = prev_word(t, start);
        if pa < pe && t.c[pa].is_uppercase() && self.ask(py, &self.place_likes, &self.place_like, t.str(pa, pe))? {
            return Ok((EXT, 0, WHY_CONTEXT));
        }
        if person_like {
            return Ok((NAME, 0, why_list));
        }
        if info.surname_like {
            return Ok((NAME, 0, why_list));
        }
        if info.short_word {
            return Ok((NAME, 0, WHY_CONTEXT));
        }
        Ok((EXT, 0, WHY_CONTEXT))
    }

    fn sentence_initial(&self, t: &T, start: usize) -> bool {
        let c = &t.c;
        let mut i = start as isize - 1;
        while i >= 0 && " \t\"'“”«»„(–—-*•>".contains(c[i as usize]) {
            i -= 1;
        }
        if i < 0 {
            return true;
        }
        let i = i as usize;
        let ch = c[i];
        if "\n\r!?:;".contains(ch) {
            return true;
        }
        if ch != '.' {
            return false;
        }
        let mut j = i;
        while j > 0 && is_alpha(c[j - 1]) {
            j -= 1;
        }
        if j > 0 && py_isdigit(c[j - 1]) {
            return true;
        }
        let word = lower(&c[j..i]);
        !(self.words.abbreviations.contains(&word) || i - j == 1)
    }

    fn titled(&self, t: &T, start: usize) -> bool {
        let (a, e, dot) = prev_word(t, start);
        a < e && self.words.titles.contains(&lower(&t.c[a..e])) && (!dot || e - a <= 3)
    }

    fn subject_of_verb(&self, t: &T, end: usize) -> bool {
        match next_token(t, end) {
            Some((a, e)) => self.words.subject_verbs.contains(&lower(&t.c[a..e])),
            None => false,
        }
    }

    /// How strongly a cue around the token at ``start`` says "a name" (see names.py).
    fn cued(&self, t: &T, start: usize, length: usize, strong_cues: bool, cue_starts: Option<&[usize]>) -> u8 {
        let end = start + length;
        let w = &self.words;
        let colon = t.at(end) == Some(':') || (t.at(end) == Some(' ') && t.at(end + 1) == Some(':'));
        if colon && search(&self.line_start, t, start.saturating_sub(40), start) {
            let word = t.str(start, end);
            return if py_islower(&t.c[start..end]) && !w.label_words.contains(word) && !w.titles.contains(word) {
                2
            } else {
                1
            };
        }
        let (pa, pe, dot) = prev_word(t, start);
        let prev = if pa < pe { Some(lower(&t.c[pa..pe])) } else { None };
        if let Some(p) = &prev {
            if w.greetings.contains(p) && t.c[start].is_lowercase() && !w.titles.contains(t.str(start, end)) {
                return 2;
            }
        }
        if strong_cues && self.nickname_cue_before(t, start, cue_starts) {
            return 2;
        }
        if let Some(p) = &prev {
            if !dot {
                if w.strong_cues.contains(p) {
                    return 2;
                }
                if w.cues_before.contains(p) {
                    return 1;
                }
            }
        }
        let hay_end = (end + 40).min(t.n());
        if end <= t.n() && self.cue_follows.may_match_at(t.str(0, hay_end), t.b[end]) {
            if let Ok(Some(m)) = self.cue_follows.fancy.find_from_pos(t.str(0, hay_end), t.b[end]) {
                if m.start() == t.b[end] {
                    return 2;
                }
            }
        }
        if let Some((a, e)) = next_token(t, end) {
            let word = lower(&t.c[a..e]);
            if w.strong_cues_after.contains(&word) {
                return 2;
            }
            if w.cues_after.contains(&word) {
                return 1;
            }
        }
        0
    }

    /// A nickname cue ("kaldet", "går under navnet", "aka") ends right before ``start``: the
    /// same answer as searching the 30 characters before it, but tried only where one of its
    /// alternatives can begin (a cue keyword, or a prefix of "navn" before one); the search
    /// stays for what the keywords cannot see (lower-casing moved offsets, "går" and "under"
    /// apart by other white space, an "ı" or "ſ" that IGNORECASE reads as "i" or "s").
    fn nickname_cue_before(&self, t: &T, start: usize, cue_starts: Option<&[usize]>) -> bool {
        let low = start.saturating_sub(30);
        let Some(cs) = cue_starts else {
            return search(&self.nickname_cue, t, low, start);
        };
        let mut i = cs.partition_point(|&x| x < low);
        if i == cs.len() || cs[i] >= start {
            return false;
        }
        let window = lower(&t.c[low..start]);
        if window.contains("går") || window.contains(['ı', 'ſ']) {
            return search(&self.nickname_cue, t, low, start);
        }
        let hay = t.str(0, start);
        let mut tried: Vec<usize> = Vec::new();
        while i < cs.len() && cs[i] < start {
            for back in [0, 3, 4, 5, 6] {
                let Some(at) = cs[i].checked_sub(back) else { continue };
                if at >= low && !tried.contains(&at) {
                    tried.push(at);
                    let b = t.b[at];
                    if self.nickname_cue.may_match_at(hay, b)
                        && matches!(self.nickname_cue_at.fancy.find_from_pos(hay, b), Ok(Some(m)) if m.start() == b)
                    {
                        return true;
                    }
                }
            }
            i += 1;
        }
        false
    }

    fn settle_chains(&self, py: Python<'_>, t: &T, items: &[Item], states: &mut [u8], adj: &[bool], _lst: &[bool]) -> PyResult<()> {
        let n = items.len();
        if states.contains(&PARTICLE) {
            for i in (0..n - 1).rev() {
                if states[i] != PARTICLE || !adj[i] {
                    continue;
                }
                let after = states[i + 1];
                let capital = t.c[items[i + 1].start].is_uppercase();
                if after == NAME && (capital || items[i + 1].state == PARTICLE
                    || (i > 0 && states[i - 1] == NAME && adj[i - 1]))
                {
                    states[i] = NAME;
                } else if capital && matches!(after, MAYBE | EXT | WEAK | LEAD)
                    && ((i > 0 && matches!(states[i - 1], NAME | MAYBE | EXT | LEAD) && adj[i - 1])
                        || t.c[items[i].start].is_uppercase())
                {
                    states[i] = NAME;
                    states[i + 1] = NAME;
                }
            }
        }
        if states.contains(&EXT) {
            for i in 0..n - 1 {
                if matches!(states[i], LEAD | EXT) && states[i + 1] == EXT && adj[i]
                    && t.at(items[i].end) == Some(' ')
                    && !self.place(py, &items[i].key)?
                    && !self.place(py, &items[i + 1].key)?
                {
                    states[i] = NAME;
                    states[i + 1] = NAME;
                }
            }
        }
        for i in 0..n - 1 {
            if states[i] == NAME && matches!(states[i + 1], MAYBE | EXT | WEAK) && adj[i] {
                states[i + 1] = NAME;
            }
        }
        for i in (0..n - 1).rev() {
            if states[i + 1] != NAME {
                continue;
            }
            if (states[i] == MAYBE && (adj[i] || _lst[i]))
                || (matches!(states[i], LEAD | EXT | WEAK) && adj[i]
                    && t.c[items[i + 1].start].is_uppercase() == t.c[items[i].start].is_uppercase()
                    && !self.place(py, &items[i].key)?)
            {
                states[i] = NAME;
            }
        }
        Ok(())
    }

    /// Merge name chains, drop institutions ("Lund Skole"), number the persons.
    fn spans(&self, t: &T, items: &[Item], states: &[u8], adj: &[bool], base: usize) -> Vec<(usize, usize, usize, u8)> {
        let n = items.len();
        let mut spans = Vec::new();
        let mut others: Vec<HashSet<String>> = Vec::new();
        let mut i = 0;
        while i < n {
            if states[i] != NAME {
                i += 1;
                continue;
            }
            let mut j = i;
            while j + 1 < n && states[j + 1] == NAME && adj[j] {
                j += 1;
            }
            let mut votes: Vec<(usize, usize)> = Vec::new();
            for it in &items[i..=j] {
                for &who in &it.persons {
                    match votes.iter_mut().find(|v| v.0 == who) {
                        Some(v) => v.1 += 1,
                        None => votes.push((who, 1)),
                    }
                }
            }
            let last_end = items[j].end;
            if votes.is_empty() && t.at(last_end + 1).is_some_and(|c| c.is_uppercase()) {
                if let Some((a, e)) = next_word(t, last_end) {
                    if t.c[a].is_uppercase() && self.words.institutions.contains(&lower(&t.c[a..e])) {
                        i = j + 1;
                        continue;
                    }
                }
            }
            let person = if !votes.is_empty() {
                votes.iter().min_by_key(|v| (std::cmp::Reverse(v.1), v.0)).map_or(0, |v| v.0) + 1
            } else {
                let parts: HashSet<String> = (i..=j)
                    .filter(|&k| states[k] != PARTICLE)
                    .map(|k| items[k].key.clone())
                    .collect();
                let mut person = 0;
                for (number, seen) in others.iter_mut().enumerate() {
                    if parts.is_subset(seen) || seen.is_subset(&parts) {
                        seen.extend(parts.iter().cloned());
                        person = base + number + 1;
                        break;
                    }
                }
                if person == 0 {
                    others.push(parts);
                    person = base + others.len();
                }
                person
            };
            let why = items[i..=j].iter().map(|it| it.why).min().unwrap_or(0);
            spans.push((items[i].start, items[j].scrub, person, why));
            i = j + 1;
        }
        spans
    }
}

fn item(start: usize, end: usize, scrub: usize, low: &str, state: u8, flag: i64, why: u8) -> Item {
    Item { start, end, scrub, key: low.to_string(), state, persons: Vec::new(), flag, why }
}

/// Does ``re`` match anywhere in ``[from, to)`` of the text (Python ``search(text, from, to)``:
/// the text read as ending at ``to``, look-behinds see before ``from``)?
fn search(re: &Regex, t: &T, from: usize, to: usize) -> bool {
    let hay = t.str(0, to);
    // the pattern without its look-arounds first (a DFA): where that cannot match, it cannot
    re.may_match_from(hay, t.b[from]) && matches!(re.fancy.find_from_pos(hay, t.b[from]), Ok(Some(_)))
}

/// The word right before ``start`` (over an optional quote, space and full stop), as
/// (start, end, a full stop follows); start == end if none.
fn prev_word(t: &T, start: usize) -> (usize, usize, bool) {
    let c = &t.c;
    let mut i = start;
    if i > 0 && QUOTES.contains(&c[i - 1]) {
        i -= 1;
    }
    if i > 0 && c[i - 1] == ' ' {
        i -= 1;
    }
    let dot = i > 0 && c[i - 1] == '.';
    if dot {
        i -= 1;
    }
    let mut j = i;
    while j > 0 && is_alpha(c[j - 1]) {
        j -= 1;
    }
    (j, i, dot)
}

/// Python ``[ ]?([^\W\d_]+)`` matched at ``end``: the word's span.
fn next_token(t: &T, end: usize) -> Option<(usize, usize)> {
    let mut p = end;
    if t.at(p) == Some(' ') {
        p += 1;
    }
    let mut e = p;
    while e < t.n() && letter(t.c[e]) {
        e += 1;
    }
    (e > p).then_some((p, e))
}

/// Python ``[ -]([^\W\d_]+)`` matched at ``end``.
fn next_word(t: &T, end: usize) -> Option<(usize, usize)> {
    if !matches!(t.at(end), Some(' ') | Some('-')) {
        return None;
    }
    let p = end + 1;
    let mut e = p;
    while e < t.n() && letter(t.c[e]) {
        e += 1;
    }
    (e > p).then_some((p, e))
}

/// A chat line's speaker: Python ``^[ \t>*•\"“'-]*([a-zæøå]+) ?:`` at ``line``.
fn speaker(c: &[char], line: usize) -> Option<String> {
    let mut i = line;
    while i < c.len() && " \t>*•\"“'-".contains(c[i]) {
        i += 1;
    }
    let a = i;
    while i < c.len() && (c[i].is_ascii_lowercase() || "æøå".contains(c[i])) {
        i += 1;
    }
    if i == a {
        return None;
    }
    let e = i;
    if i < c.len() && c[i] == ' ' {
        i += 1;
    }
    (i < c.len() && c[i] == ':').then(|| c[a..e].iter().collect())
}

/// Settle doubtful tokens in lists of names, first + surname pairs, and words that are a name
/// elsewhere in the text.
fn settle_lists(items: &[Item], states: &mut [u8], adj: &[bool], lst: &[bool]) {
    let n = items.len();
    let any_list = lst.contains(&true);
    if any_list && states.contains(&MAYBE) {
        for i in 0..n - 1 {
            if states[i] == NAME && states[i + 1] == MAYBE && lst[i] {
                states[i + 1] = NAME;
            }
        }
    }
    if states.contains(&MAYBE) {
        for i in 0..n - 1 {
            if states[i] == MAYBE && states[i + 1] == MAYBE && adj[i]
                && items[i].flag & FIRST != 0 && items[i + 1].flag & SURNAME != 0
            {
                states[i] = NAME;
                states[i + 1] = NAME;
                let mut j = i + 1;
                while j + 1 < n && matches!(states[j + 1], MAYBE | EXT) && adj[j] {
                    states[j + 1] = NAME;
                    j += 1;
                }
            }
        }
    }
    let mut named: HashSet<&str> = (0..n)
        .filter(|&k| states[k] == NAME && items[k].persons.is_empty())
        .map(|k| items[k].key.as_str())
        .collect();
    if !named.is_empty() {
        let stems: Vec<&str> = named.iter().filter_map(|k| k.strip_suffix('s')).collect();
        named.extend(stems);
        for k in 0..n {
            if matches!(states[k], MAYBE | EXT | WEAK)
                && (named.contains(items[k].key.as_str()) || named.contains(items[k].key.trim_end_matches('s')))
            {
                states[k] = NAME;
            }
        }
    }
    if any_list && states.contains(&WEAK) {
        for i in 0..n - 1 {
            if states[i] == NAME && states[i + 1] == WEAK && lst[i] {
                states[i + 1] = NAME;
            }
        }
        for i in (0..n - 1).rev() {
            if states[i] == WEAK && states[i + 1] == NAME && lst[i] {
                states[i] = NAME;
            }
        }
    }
}

//! The thirteen recognizers. Each pattern is tried only where a match can begin (a digit
//! run, an "@", a keyword of its label): the same matches as scanning every position, found
//! without the scan.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use fancy_regex::{Captures, RegexInput};

type Caps<'t> = Captures<'t, str>;
use pyo3::prelude::*;

use crate::patterns::{self, Patterns, Regex};
use crate::text::{char_at, int, is_alnum, is_alpha, is_digit, is_word, prev_char, Keywords, Text};

pub fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(Patterns::new)
}

fn keywords() -> &'static Keywords {
    static K: OnceLock<Keywords> = OnceLock::new();
    K.get_or_init(|| {
        Keywords::new(&[
            patterns::PHONE_KW, patterns::OBF_AT_KW, patterns::TLD_KW, patterns::CONTEXT_KW,
            patterns::PLATFORM_KW, patterns::LABEL_KW, patterns::VEHICLE_KW,
            patterns::DOB_CUE_KW, patterns::BIRTH_CUES_KW, patterns::CASE_KW,
            patterns::ACCOUNT_KW, patterns::ID_KW,
        ])
    })
}

// keyword group ids, in the order above
const KW_PHONE: usize = 0;
const KW_OBF_AT: usize = 1;
const KW_TLD: usize = 2;
const KW_CONTEXT: usize = 3;
const KW_PLATFORM: usize = 4;
const KW_LABEL: usize = 5;
const KW_VEHICLE: usize = 6;
const KW_DOB_CUE: usize = 7;
const KW_BIRTH: usize = 8;
const KW_CASE: usize = 9;
const KW_ACCOUNT: usize = 10;
const KW_ID: usize = 11;

// recognizer indices: the registry order of compiled.py
pub const CPR: u8 = 0;
pub const EMAIL: u8 = 1;
pub const HANDLE: u8 = 2;
pub const PHONE: u8 = 3;
pub const PLATE: u8 = 4;
pub const ADDRESS: u8 = 5;
pub const DOB: u8 = 6;
pub const CASE: u8 = 7;
pub const ACCOUNT: u8 = 8;
pub const IP: u8 = 9;
pub const URL: u8 = 10;
pub const ID: u8 = 11;
pub const HOUSE: u8 = 12;
const COUNT: u8 = 13;

type Span = (usize, usize);

/// The match of ``re`` at exactly ``at`` (Python ``pattern.match(text, at)``: look-behinds
/// see the text before it).
fn match_at<'t>(re: &Regex, s: &'t str, at: usize) -> Option<Caps<'t>> {
    #[cfg(feature = "stats")]
    let t0 = std::time::Instant::now();
    let may = re.may_match_at(s, at);
    #[cfg(feature = "stats")]
    {
        use crate::patterns::stats::*;
        add(&CALLS, re.id, 1);
        add(&QNS, re.id, t0.elapsed().as_nanos() as u64);
    }
    if !may {
        return None;
    }
    #[cfg(feature = "stats")]
    let t1 = std::time::Instant::now();
    let r = re.fancy.captures_input(RegexInput::new(s).from_pos(at).anchored(true)).ok().flatten();
    #[cfg(feature = "stats")]
    {
        use crate::patterns::stats::*;
        add(&VM, re.id, 1);
        add(&NS, re.id, t1.elapsed().as_nanos() as u64);
    }
    r
}

/// The matches ``finditer`` yields, with ``re`` tried only at ``starts`` (ascending).
fn matches_at<'t>(re: &Regex, s: &'t str, starts: &[usize]) -> Vec<Caps<'t>> {
    let mut out = Vec::new();
    let mut resume = 0;
    for &at in starts {
        if at < resume {
            continue;
        }
        if let Some(c) = match_at(re, s, at) {
            resume = c.get(0).map_or(at, |m| m.end());
            out.push(c);
        }
    }
    out
}

fn find_iter<'t>(re: &Regex, s: &'t str) -> Vec<Caps<'t>> {
    if !re.may_match(s) {
        return Vec::new();
    }
    re.fancy.captures_iter(s).filter_map(|c| c.ok()).collect()
}

fn search(re: &Regex, s: &str) -> bool {
    re.may_match(s) && re.fancy.is_match(s).unwrap_or(false)
}

fn span(c: &Caps<'_>, group: &str) -> Option<Span> {
    c.name(group).map(|m| (m.start(), m.end()))
}

fn whole(c: &Caps<'_>) -> Span {
    let m = c.get(0).expect("group 0");
    (m.start(), m.end())
}

fn sorted_unique(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v.dedup();
    v
}

/// The matches of a pattern that begins with one of a keyword group's words.
fn labelled<'t>(re: &Regex, group: usize, t: &Text<'t>) -> Vec<Caps<'t>> {
    if t.low.is_none() {
        return find_iter(re, t.s);
    }
    let starts = &t.hits[group];
    if starts.is_empty() {
        return Vec::new();
    }
    matches_at(re, t.s, starts)
}

pub struct Engine {
    iban_valid: Py<PyAny>,
    common_word: Py<PyAny>,
    /// the vocabulary's answers, kept: the same few street-like words come again and again
    common: Mutex<HashMap<String, bool>>,
}

impl Engine {
    pub fn new(iban_valid: Py<PyAny>, common_word: Py<PyAny>) -> Self {
        patterns();
        keywords();
        Engine { iban_valid, common_word, common: Mutex::new(HashMap::new()) }
    }

    pub fn find_all(
        &self,
        py: Python<'_>,
        s: &str,
        year: i32,
        only: Option<u8>,
    ) -> PyResult<Vec<(u8, usize, usize)>> {
        let t = Text::new(s, keywords());
        let mut found: Vec<(u8, Span)> = Vec::new();
        for index in 0..COUNT {
            if only.is_some_and(|o| o != index) {
                continue;
            }
            let spans = match index {
                CPR => cpr(&t),
                EMAIL => email(&t),
                HANDLE => handle(&t),
                PHONE => phone(&t),
                PLATE => plate(&t),
                ADDRESS => address(&t),
                DOB => dob(&t, year),
                CASE => case_number(&t),
                ACCOUNT => account(&t, &|v| self.call(py, &self.iban_valid, v))?,
                IP => ip(&t),
                URL => url(&t),
                ID => id_number(&t),
                HOUSE => house(&t, &|v| self.is_common(py, v))?,
                _ => Vec::new(),
            };
            found.extend(spans.into_iter().filter(|(a, b)| b > a).map(|sp| (index, sp)));
        }
        Ok(found
            .into_iter()
            .map(|(i, (a, b))| (i, t.idx.ch(a), t.idx.ch(b)))
            .collect())
    }

    fn is_common(&self, py: Python<'_>, word: &str) -> PyResult<bool> {
        if let Some(&known) = self.common.lock().ok().and_then(|c| c.get(word).copied()).as_ref() {
            return Ok(known);
        }
        let answer = self.call(py, &self.common_word, word)?;
        if let Ok(mut cache) = self.common.lock() {
            if cache.len() >= 1 << 16 {
                cache.clear();
            }
            cache.insert(word.to_string(), answer);
        }
        Ok(answer)
    }

    fn call(&self, py: Python<'_>, f: &Py<PyAny>, value: &str) -> PyResult<bool> {
        f.call1(py, (value,))?.is_truthy(py)
    }
}

// ---- CPR ---------------------------------------------------------------------------------
fn cpr(t: &Text) -> Vec<Span> {
    let p = patterns();
    let mut out = Vec::new();
    for m in matches_at(&p.cpr, t.s, &t.digit_starts(&[2, 6, 10])) {
        let g = |i: usize| m.get(i).map_or("", |x| x.as_str());
        let digits: Vec<char> = [g(1), g(3), g(4), g(5), g(6)].concat().chars().collect();
        if cpr_birth_date_valid(&digits) {
            out.push(whole(&m));
        }
    }
    out
}

/// python-stdnum's ``dk.cpr.get_birth_date`` succeeds (the century from the seventh digit).
fn cpr_birth_date_valid(d: &[char]) -> bool {
    let two = |i: usize| int(&d[i..i + 2].iter().collect::<String>());
    let (day, month, mut year) = (two(0), two(2), two(4));
    let seventh = d[6];
    if "5678".contains(seventh) && year >= 58 {
        year += 1800;
    } else if "0123".contains(seventh) || ("49".contains(seventh) && year >= 37) {
        year += 1900;
    } else {
        year += 2000;
    }
    valid_date(year, month, day)
}

fn valid_date(year: i64, month: i64, day: i64) -> bool {
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 {
        return false;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    day <= days[(month - 1) as usize]
}

// ---- phone -------------------------------------------------------------------------------
fn phone(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if t.runs.is_empty() {
        return out;
    }
    let mut starts = t.digit_starts(&[2, 3, 4, 6, 7, 8, 12]);
    if s.contains('+') || s.contains('(') {
        starts.extend(t.char_positions(&['+', '(']));
        starts = sorted_unique(starts);
    }
    for m in matches_at(&p.phone, s, &starts) {
        let (start, end) = whole(&m);
        let value = &s[start..end];
        let prefixed = value.starts_with('+') || value.starts_with("00") || value.starts_with('(');
        if !prefixed && search(&p.case_prefix, &s[t.back_sat(start, 20)..start]) {
            continue;
        }
        out.push((start, end));
    }
    if s.contains("45") {
        let mut begins: Vec<usize> =
            t.runs.iter().filter(|r| s[r.0..].starts_with("00")).map(|r| r.0).collect();
        if s.contains('+') {
            begins.extend(t.char_positions(&['+']));
            begins = sorted_unique(begins);
        }
        out.extend(matches_at(&p.phone_prefixed, s, &begins).iter().map(whole));
    }
    out.extend(labelled(&p.phone_cued, KW_PHONE, t).iter().filter_map(|m| span(m, "v")));
    out
}

// ---- e-mail ------------------------------------------------------------------------------
fn email(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    let local = |c: char| is_alnum(c) || "._%+-".contains(c);
    let mut at = s.find('@');
    let mut last_end = 0;
    while let Some(a) = at {
        let mut start = a;
        while start > last_end {
            match prev_char(s, start) {
                Some(c) if local(c) => start -= c.len_utf8(),
                _ => break,
            }
        }
        if start < a {
            if let Some(m) = match_at(&p.email_at, s, start) {
                let sp = whole(&m);
                out.push(sp);
                last_end = sp.1;
                at = s[last_end..].find('@').map(|i| i + last_end);
                continue;
            }
        }
        at = s[a + 1..].find('@').map(|i| i + a + 1);
    }
    let Some(low) = &t.low else {
        out.extend(find_iter(&p.email_obfuscated, s).iter().map(whole));
        return out;
    };
    let markers = &t.hits[KW_OBF_AT];
    if markers.is_empty()
        || (!patterns::OBF_MARKERS.iter().any(|m| low.contains(m)) && t.hits[KW_TLD].is_empty())
    {
        return out;
    }
    let mut starts = Vec::new();
    for &marker in markers {
        let mut a = marker;
        while let Some(c) = prev_char(s, a).filter(|c| " ([{<".contains(*c)) {
            a -= c.len_utf8();
        }
        while let Some(c) = prev_char(s, a).filter(|c| is_alnum(*c) || "._+-".contains(*c)) {
            a -= c.len_utf8();
        }
        starts.push(a);
    }
    out.extend(matches_at(&p.email_obfuscated, s, &sorted_unique(starts)).iter().map(whole));
    out
}

// ---- handles -----------------------------------------------------------------------------
fn handle(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if s.contains('@') {
        out.extend(matches_at(&p.handle_at, s, &t.char_positions(&['@'])).iter().map(whole));
    }
    for m in labelled(&p.handle_context, KW_PLATFORM, t) {
        out.extend(span(&m, "v").or_else(|| span(&m, "w")));
    }
    out.extend(labelled(&p.handle_label, KW_LABEL, t).iter().filter_map(|m| span(m, "v")));
    let seams = seams(t);
    if !seams.is_empty() {
        let starts = sorted_unique(seams.into_iter().map(|a| word_start(s, a)).collect());
        for m in matches_at(&p.handle_digits, s, &starts) {
            if !search(&p.not_handle_digits, m.get(0).expect("m").as_str()) {
                out.push(whole(&m));
            }
        }
        for m in matches_at(&p.handle_shape, s, &starts) {
            if !search(&p.not_handle_shape, m.get(0).expect("m").as_str()) {
                out.push(whole(&m));
            }
        }
    }
    out
}

/// Where a letter meets a digit, a "_" stands, or a "." joins two word characters.
fn seams(t: &Text) -> Vec<usize> {
    let s = t.s;
    let mut out: Vec<usize> = t
        .digit_starts(&[])
        .into_iter()
        .filter(|&a| a > 0 && prev_char(s, a).is_some_and(is_alpha))
        .collect();
    out.extend(s.match_indices('_').map(|(b, _)| b));
    for (b, _) in s.match_indices('.') {
        if prev_char(s, b).is_some_and(is_alnum) && char_at(s, b + 1).is_some_and(is_alnum) {
            out.push(b);
        }
    }
    out
}

/// The start of the user-name-like token around ``at`` (letters, digits, "_", ".").
fn word_start(s: &str, mut at: usize) -> usize {
    while let Some(c) = prev_char(s, at).filter(|c| is_alnum(*c) || *c == '.' || *c == '_') {
        at -= c.len_utf8();
    }
    at
}

// ---- plates ------------------------------------------------------------------------------
fn plate(t: &Text) -> Vec<Span> {
    let p = patterns();
    let mut starts = Vec::new();
    for a in t.digit_starts(&[2, 5]) {
        for back in [2, 3] {
            starts.extend(t.back(a, back));
        }
    }
    let starts = sorted_unique(starts);
    let mut out: Vec<Span> = matches_at(&p.plate, t.s, &starts).iter().map(whole).collect();
    if !starts.is_empty() {
        out.extend(labelled(&p.plate_cued, KW_VEHICLE, t).iter().filter_map(|m| span(m, "v")));
    }
    out
}

// ---- addresses ---------------------------------------------------------------------------
/// Where the first capitalised word before " " and a digit begins.
fn address_gate(t: &Text) -> Option<usize> {
    patterns().address_gate.fancy.find(t.s).ok().flatten().map(|m| m.start())
}

/// Where a street with a house number can begin, and those of them where the street ends
/// with a known suffix right before the number (byte offsets, ascending).
fn address_starts(t: &Text) -> (Vec<usize>, Vec<usize>) {
    let p = patterns();
    let s = t.s;
    let reverse: String = s.chars().rev().collect();
    let ridx = crate::text::Index::new(&reverse);
    let size = t.nchars;
    let mut starts = Vec::new();
    let mut suffixed = Vec::new();
    for run in &t.runs {
        let at = size - 1 - t.idx.ch(run.0); // the run's first digit, in the reversed text
        let rb = ridx.by(at);
        let Some(m) = match_at(&p.number_window_reversed, &reverse, rb) else { continue };
        let w = m.get(0).expect("m");
        let low = t.idx.by(size - ridx.ch(w.end()));
        let high = t.idx.by(size - ridx.ch(w.start()));
        let mut found = Vec::new();
        for (b, c) in s[low..high].char_indices() {
            let b = b + low;
            if is_capital(c) && !prev_char(s, b).is_some_and(is_word) {
                found.push(b);
            }
        }
        if !found.is_empty() && match_at(&p.street_end_reversed, &reverse, rb).is_some() {
            suffixed.extend(&found);
        }
        starts.extend(found);
    }
    (starts, suffixed)
}

fn is_capital(c: char) -> bool {
    c.is_ascii_uppercase() || matches!(c, 'Æ' | 'Ø' | 'Å')
}

fn address(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if address_gate(t).is_none() {
        return out;
    }
    let (starts, suffixed) = t.address_starts.get_or_init(|| address_starts(t));
    if !starts.is_empty() {
        out.extend(matches_at(&p.address, s, suffixed).iter().map(whole));
        out.extend(matches_at(&p.any_street, s, starts).iter().map(whole));
    }
    if t.low.is_none() {
        if search(&p.context_words, &s.to_lowercase()) {
            out.extend(find_iter(&p.address_context, s).iter().filter_map(|m| span(m, "v")));
        }
        return out;
    }
    out.extend(
        matches_at(&p.address_context, s, &t.hits[KW_CONTEXT]).iter().filter_map(|m| span(m, "v")),
    );
    out
}

// ---- dates of birth ----------------------------------------------------------------------
fn full_year(text: &str, today: i32) -> i64 {
    let mut year = int(text);
    if year < 100 {
        year += if year <= (today % 100) as i64 { 2000 } else { 1900 };
    }
    year
}

fn date_year(m: &Caps, today: i32) -> Option<i64> {
    ["y", "iy", "ty"].iter().find_map(|g| m.name(g)).map(|v| full_year(v.as_str(), today))
}

fn month_number(name: &str) -> Option<i64> {
    let low = name.to_lowercase();
    patterns::MONTH_NUMBER.iter().find(|(n, _)| *n == low).map(|(_, k)| *k as i64)
}

/// Day and month make a calendar date (so "3.14" and "12.500" are not dates).
fn date_valid(m: &Caps, today: i32) -> bool {
    let g = |n: &str| m.name(n).map(|x| int(x.as_str()));
    let year = date_year(m, today).unwrap_or(2000);
    let (day, month) = if let Some(d) = g("d") {
        (d, g("m").unwrap_or(0))
    } else if let Some(d) = g("id") {
        (d, g("im").unwrap_or(0))
    } else if let Some(d) = g("td") {
        match month_number(m.name("tm").map_or("", |x| x.as_str())) {
            Some(month) => (d, month),
            None => return false,
        }
    } else {
        let (day, month) = (g("sd").unwrap_or(0), g("sm").unwrap_or(0));
        return (1..=31).contains(&day) && (1..=12).contains(&month);
    };
    valid_date(year, month, day)
}

fn compact_birth_date(digits: &str, today: i32) -> bool {
    let d: Vec<char> = digits.chars().collect();
    let part = |a: usize, b: usize| int(&d[a..b].iter().collect::<String>());
    let mut year = part(4, d.len());
    if d.len() == 6 {
        year += if year <= (today % 100) as i64 { 2000 } else { 1900 };
    } else if !(1900..=today as i64).contains(&year) {
        return false;
    }
    valid_date(year, part(2, 4), part(0, 2)) && today as i64 - year >= 8
}

fn dob(t: &Text, today: i32) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if t.runs.is_empty() {
        return out;
    }
    let cue_words = t.low.is_none() || !t.hits[KW_DOB_CUE].is_empty();
    for m in matches_at(&p.date, s, &t.digit_starts(&[1, 2, 4])) {
        let (start, end) = whole(&m);
        let year = date_year(&m, today);
        if year.is_none() && m.name("td").is_none() && m.name("d").is_none() && m.name("sd").is_none()
        {
            continue;
        }
        if !date_valid(&m, today) {
            continue;
        }
        let cued = cue_words
            && (search(&p.cue_before, &s[t.back_sat(start, 40)..start])
                || match_at(&p.cue_after, s, end).is_some());
        if !cued {
            match year {
                Some(y) if today as i64 - y >= 8 => {}
                _ => continue,
            }
        }
        out.push((start, end));
    }
    out.extend(labelled(&p.birth_year, KW_BIRTH, t).iter().filter_map(|m| span(m, "v")));
    if s.contains("årg") || s.contains("ÅRG") || s.contains("Årg") {
        out.extend(
            matches_at(&p.year_cued_after, s, &t.digit_starts(&[4])).iter().filter_map(|m| span(m, "v")),
        );
    }
    if s.contains('(') || s.contains('[') {
        let starts = sorted_unique(t.char_positions(&['(', '[']));
        for m in matches_at(&p.year_in_brackets, s, &starts) {
            let v = m.name("v").expect("v");
            if today as i64 - int(v.as_str()) >= 8 {
                out.push((v.start(), v.end()));
            }
        }
    }
    for m in matches_at(&p.compact_date, s, &t.digit_starts(&[6, 8])) {
        if compact_birth_date(m.get(0).expect("m").as_str(), today) {
            out.push(whole(&m));
        }
    }
    out
}

// ---- case and journal numbers ------------------------------------------------------------
fn case_starts(t: &Text) -> Vec<usize> {
    let s = t.s;
    let mut starts = t.digit_starts(&[1, 2, 4]);
    if !s.contains('-') {
        return starts;
    }
    let capital = |c: Option<char>| c.is_some_and(is_capital);
    let mut ids = Vec::new();
    for at in t.char_positions(&['-']) {
        let Some(three) = t.back(at, 3) else { continue };
        if !char_at(s, at + 1).is_some_and(is_py_digit) || !s[three..at].chars().all(is_capital) {
            continue;
        }
        let limit = t.back_sat(at, 6);
        let mut begin = three;
        while begin > limit && capital(prev_char(s, begin)) {
            begin -= prev_char(s, begin).map_or(1, char::len_utf8);
        }
        ids.push(begin);
    }
    if !ids.is_empty() {
        starts.extend(ids);
        starts = sorted_unique(starts);
    }
    starts
}

/// Python ``str.isdigit()`` of one character (decimal digits and the superscripts).
fn is_py_digit(c: char) -> bool {
    is_digit(c) || matches!(c, '²' | '³' | '¹' | '⁰'..='⁹' | '₀'..='₉')
}

fn case_number(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if t.runs.is_empty() {
        return out;
    }
    out.extend(matches_at(&p.case, s, &case_starts(t)).iter().map(whole));
    for m in labelled(&p.case_label, KW_CASE, t) {
        let v = m.name("v").expect("v");
        let head: String = m.get(0).expect("m").as_str().chars().take(3).collect();
        if head.to_lowercase() == "sag" && v.as_str().chars().filter(|c| is_py_digit(*c)).count() < 4
        {
            continue; // "sag 2": too short for a case number
        }
        out.push((v.start(), v.end()));
    }
    out
}

// ---- bank accounts and cards -------------------------------------------------------------
fn account(t: &Text, iban_valid: &dyn Fn(&str) -> PyResult<bool>) -> PyResult<Vec<Span>> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if t.runs.is_empty() {
        return Ok(out);
    }
    let iban: Vec<usize> = t
        .runs
        .iter()
        .filter_map(|r| t.back(r.0, 2))
        .filter(|&b| {
            let e = t.idx.by(t.idx.ch(b) + 2);
            s[b..e].chars().all(is_alpha)
        })
        .collect();
    let reg = t.digit_starts(&[4]);
    let starts = if iban.is_empty() { reg } else { sorted_unique([reg, iban].concat()) };
    for m in matches_at(&p.account, s, &starts) {
        let value = m.get(0).expect("m").as_str();
        if value.chars().next().is_some_and(is_alpha) && !iban_valid(value)? {
            continue; // an IBAN-shaped code that fails its check
        }
        out.push(whole(&m));
    }
    out.extend(labelled(&p.account_label, KW_ACCOUNT, t).iter().filter_map(|m| span(m, "v")));
    let cards: Vec<usize> = t.runs.iter().filter(|r| r.2 == 4 || r.2 >= 16).map(|r| r.0).collect();
    for m in matches_at(&p.card, s, &cards) {
        let digits: Vec<char> = m.get(0).expect("m").as_str().chars().filter(|c| is_digit(*c)).collect();
        // python-stdnum's Luhn knows only "0".."9": another script's digit fails it
        if (16..=19).contains(&digits.len()) && digits.iter().all(char::is_ascii_digit)
            && luhn_valid(&digits.iter().map(|c| *c as u32 - '0' as u32).collect::<Vec<u32>>())
        {
            out.push(whole(&m));
        }
    }
    Ok(out)
}

fn luhn_valid(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| if i % 2 == 1 { let x = d * 2; if x > 9 { x - 9 } else { x } } else { d })
        .sum();
    sum % 10 == 0
}

// ---- IP, MAC, links ----------------------------------------------------------------------
fn ipv4_gate(t: &Text) -> bool {
    let s = t.s.as_bytes();
    let r = &t.runs;
    (1..r.len().saturating_sub(1)).any(|k| {
        let (at, end, size) = r[k];
        size <= 3 && r[k - 1].1 + 1 == at && r[k + 1].0 == end + 1 && s[at - 1] == b'.' && s[end] == b'.'
    })
}

fn ipv4_valid(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|o| {
            !o.is_empty() && o.len() <= 3 && o.bytes().all(|b| b.is_ascii_digit())
                && (o.len() == 1 || !o.starts_with('0'))
                && o.parse::<u32>().is_ok_and(|n| n <= 255)
        })
}

/// Python ``ipaddress.IPv6Address`` of hex digits and colons.
fn ipv6_valid(v: &str) -> bool {
    let parts: Vec<&str> = v.split(':').collect();
    if parts.len() < 3 || parts.len() > 9 {
        return false;
    }
    let mut skip = None;
    for (i, part) in parts.iter().enumerate().take(parts.len() - 1).skip(1) {
        if part.is_empty() {
            if skip.is_some() {
                return false;
            }
            skip = Some(i);
        }
    }
    let (hi, lo) = if let Some(k) = skip {
        let (mut hi, mut lo) = (k, parts.len() - k - 1);
        if parts[0].is_empty() {
            hi -= 1;
            if hi > 0 {
                return false;
            }
        }
        if parts[parts.len() - 1].is_empty() {
            lo -= 1;
            if lo > 0 {
                return false;
            }
        }
        if 8 < hi + lo + 1 {
            return false;
        }
        (hi, lo)
    } else {
        if parts.len() != 8 || parts[0].is_empty() || parts[7].is_empty() {
            return false;
        }
        (parts.len(), 0)
    };
    let hextet = |p: &&str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
    parts[..hi].iter().all(hextet) && parts[parts.len() - lo..].iter().all(hextet)
}

fn ip(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if ipv4_gate(t) {
        for m in matches_at(&p.ipv4, s, &t.digit_starts(&[])) {
            if ipv4_valid(m.get(0).expect("m").as_str()) {
                out.push(whole(&m));
            }
        }
    }
    if s.contains("::") || s.matches(':').count() >= 3 {
        for m in find_iter(&p.ipv6, s) {
            let v = m.get(0).expect("m").as_str();
            if v.matches(':').count() < 2 || !v.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            if ipv6_valid(v) {
                out.push(whole(&m));
            }
        }
    }
    out
}

fn url(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let lower;
    let low = match &t.low {
        Some(l) => l.as_str(),
        None => {
            lower = s.to_lowercase();
            lower.as_str()
        }
    };
    if !low.contains("www.")
        && !s.contains("://")
        && !t.char_positions(&['/']).iter().any(|&a| search(&p.tld_before_slash, &s[t.back_sat(a, 8)..a]))
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    for m in find_iter(&p.url, s) {
        let (start, mut end) = whole(&m);
        while end > start {
            let c = prev_char(s, end).expect("c");
            if !".,;:!?".contains(c) {
                break;
            }
            end -= 1;
        }
        out.push((start, end));
    }
    out
}

// ---- other identifiers after their label, and long numbers -------------------------------
fn id_number(t: &Text) -> Vec<Span> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    if t.runs.is_empty() {
        return out;
    }
    out.extend(labelled(&p.id_label, KW_ID, t).iter().filter_map(|m| span(m, "v")));
    if s.matches(':').count() >= 5 || s.matches('-').count() >= 5 {
        out.extend(find_iter(&p.mac, s).iter().map(whole));
    }
    let starts: Vec<usize> = t.runs.iter().filter(|r| r.2 >= 9 || r.2 == 4).map(|r| r.0).collect();
    out.extend(matches_at(&p.long_number, s, &starts).iter().map(whole));
    out
}

// ---- street + house number, whatever the street is called --------------------------------
/// Python ``str.isspace()`` of one character (also the separators U+001C..U+001F).
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn is_upper_word(w: &str) -> bool {
    w.chars().any(char::is_uppercase) && !w.chars().any(char::is_lowercase)
}

/// A place preposition in mid-sentence right before ``start`` ("til Holmen 139"), searched
/// in the six characters before it as Python's ``search(text, start - 6, start)``.
fn place_before(t: &Text, start: usize) -> bool {
    let s = t.s;
    let lo = t.back_sat(start, 6);
    let window = &s[lo..start];
    let body = window.strip_suffix('\n').unwrap_or(window);
    let Some(body) = body.strip_suffix(' ') else { return false };
    patterns::PLACE_BEFORE.iter().any(|w| {
        body.ends_with(w) && {
            let at = lo + body.len() - w.len();
            !prev_char(s, at).is_some_and(|c| is_word(c) && !is_digit(c) && c != '_')
        }
    })
}

fn house(t: &Text, common_word: &dyn Fn(&str) -> PyResult<bool>) -> PyResult<Vec<Span>> {
    let p = patterns();
    let s = t.s;
    let mut out = Vec::new();
    let Some(gate) = address_gate(t) else { return Ok(out) };
    if p.house_gate.fancy.find_from_pos(s, gate).ok().flatten().is_none() {
        return Ok(out);
    }
    let (starts, _) = t.address_starts.get_or_init(|| address_starts(t));
    for m in matches_at(&p.house, s, starts) {
        if let Some(sp) = house_match(t, &m, common_word)? {
            out.push(sp);
        }
    }
    Ok(out)
}

fn house_match(
    t: &Text,
    m: &Caps,
    common_word: &dyn Fn(&str) -> PyResult<bool>,
) -> PyResult<Option<Span>> {
    let p = patterns();
    let s = t.s;
    let (mut start, end) = whole(m);
    let mut words: Vec<&str> =
        m.name("street").expect("street").as_str().split(is_py_space).filter(|w| !w.is_empty()).collect();
    let acronyms: Vec<usize> = words
        .iter()
        .enumerate()
        .filter(|(_, w)| w.chars().count() > 1 && is_upper_word(w))
        .map(|(k, _)| k)
        .collect();
    if let Some(&last_acronym) = acronyms.last() {
        if last_acronym == words.len() - 1 {
            return Ok(None); // "CPR 15 06 11 …", "SSP 2": an acronym, not a street
        }
        for w in &words[..=last_acronym] {
            start = s[start..].find(w).map_or(start, |i| i + start) + w.len();
        }
        words.drain(..=last_acronym);
        start = s[start..].find(words[0]).map_or(start, |i| i + start);
    }
    while words.len() > 1 && patterns::LEADING.contains(&words[0].to_lowercase().as_str()) {
        let from = start + words[0].len();
        start = s[from..].find(words[1]).map_or(from, |i| i + from);
        words.remove(0);
    }
    let last = words[words.len() - 1].to_lowercase();
    if patterns::NOT_STREETS.contains(&last.as_str()) {
        return Ok(None);
    }
    if m.name("tail").is_none_or(|x| x.as_str().trim_matches(is_py_space).is_empty()) {
        if match_at(&p.not_house_after, s, end).is_some() {
            return Ok(None);
        }
        let digits_only = m.name("no").is_some_and(|x| x.as_str().chars().all(is_py_digit));
        if words.len() < 2
            && digits_only
            && (patterns::ROOMS.contains(&last.as_str()) || !place_before(t, start))
            && common_word(&last)?
        {
            return Ok(None);
        }
    }
    Ok(Some((start, end)))
}

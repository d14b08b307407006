//! One text as the recognizers read it: byte <-> code point offsets, digit runs, the
//! lower-cased form and where each keyword group occurs in it (computed once per text).

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::cell::OnceCell;
use std::collections::HashMap;

/// Offsets of a string: byte offset <-> code point index.
pub struct Index {
    ascii: bool,
    c2b: Vec<usize>,
    b2c: Vec<u32>,
}

impl Index {
    pub fn new(s: &str) -> Self {
        if s.is_ascii() {
            return Index { ascii: true, c2b: Vec::new(), b2c: Vec::new() };
        }
        let mut c2b = Vec::with_capacity(s.len() + 1);
        let mut b2c = vec![0u32; s.len() + 1];
        for (i, (b, _)) in s.char_indices().enumerate() {
            c2b.push(b);
            b2c[b] = i as u32;
        }
        let n = c2b.len();
        c2b.push(s.len());
        b2c[s.len()] = n as u32;
        Index { ascii: false, c2b, b2c }
    }

    /// The code point index of byte offset ``b`` (a char boundary).
    pub fn ch(&self, b: usize) -> usize {
        if self.ascii { b } else { self.b2c[b] as usize }
    }

    /// The byte offset of code point ``c``.
    pub fn by(&self, c: usize) -> usize {
        if self.ascii { c } else { self.c2b[c] }
    }
}

pub fn is_digit(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_digit();
    }
    // a Unicode decimal digit is numeric: most characters are answered by that table alone
    c.is_numeric() && crate::recognizers::patterns().digit.is_match(c.encode_utf8(&mut [0; 4]))
}

/// Below U+0250 (Latin-1 and Latin Extended) no combining marks: a letter or number there is
/// one by Rust's tables and Python's alike.
const SIMPLE: u32 = 0x250;

/// Python ``\w`` (as the regex engine reads it).
pub fn is_word(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else if (c as u32) < SIMPLE {
        c.is_alphanumeric()
    } else {
        crate::recognizers::patterns().word.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Python ``str.isalnum()`` of one character.
pub fn is_alnum(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if (c as u32) < SIMPLE {
        c.is_alphanumeric()
    } else {
        crate::recognizers::patterns().alnum.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// Python ``str.isalpha()`` of one character.
pub fn is_alpha(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else if (c as u32) < SIMPLE {
        c.is_alphabetic()
    } else {
        crate::recognizers::patterns().alpha.is_match(c.encode_utf8(&mut [0; 4]))
    }
}

/// The decimal value of a Unicode digit (Python ``int()``): digits come in runs of ten.
pub fn digit_value(c: char) -> u32 {
    if let Some(d) = c.to_digit(10) {
        return d;
    }
    let mut zero = c as u32;
    while let Some(prev) = char::from_u32(zero.wrapping_sub(1)) {
        if !is_digit(prev) {
            break;
        }
        zero -= 1;
    }
    (c as u32 - zero) % 10
}

/// Python ``int()`` of a string of decimal digits.
pub fn int(s: &str) -> i64 {
    s.chars().fold(0i64, |n, c| n.saturating_mul(10).saturating_add(digit_value(c) as i64))
}

pub fn prev_char(s: &str, b: usize) -> Option<char> {
    s[..b].chars().next_back()
}

pub fn char_at(s: &str, b: usize) -> Option<char> {
    s[b..].chars().next()
}

/// The keyword groups and one Aho-Corasick automaton over all their words.
pub struct Keywords {
    automaton: AhoCorasick,
    owners: Vec<Vec<usize>>,
    pub groups: usize,
}

impl Keywords {
    pub fn new(groups: &[&[&str]]) -> Self {
        let mut words: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for (g, group) in groups.iter().enumerate() {
            for w in group.iter() {
                let i = *at.entry(w.to_string()).or_insert_with(|| {
                    words.push(w.to_string());
                    owners.push(Vec::new());
                    words.len() - 1
                });
                if !owners[i].contains(&g) {
                    owners[i].push(g);
                }
            }
        }
        // a DFA: a few hundred keywords keep it small, and it is the fastest to search
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .expect("keywords");
        Keywords { automaton, owners, groups: groups.len() }
    }
}

pub struct Text<'a> {
    pub s: &'a str,
    pub idx: Index,
    pub nchars: usize,
    /// (byte start, byte end, length in digits) of every run of digits
    pub runs: Vec<(usize, usize, usize)>,
    /// ``s`` lower-cased and folded ("ı" -> "i", "ſ" -> "s") when that keeps every offset
    pub low: Option<String>,
    /// per keyword group: where its words begin, byte offsets into ``s``, ascending
    pub hits: Vec<Vec<usize>>,
    /// where a street with a house number can begin, and where one with a known ending can
    /// (two recognizers ask)
    pub address_starts: OnceCell<(Vec<usize>, Vec<usize>)>,
}

impl<'a> Text<'a> {
    pub fn new(s: &'a str, keywords: &Keywords) -> Self {
        let idx = Index::new(s);
        let nchars = idx.ch(s.len());
        let mut runs = Vec::new();
        let mut it = s.char_indices().peekable();
        while let Some((b, c)) = it.next() {
            if is_digit(c) {
                let mut end = b + c.len_utf8();
                let mut n = 1;
                while let Some(&(b2, c2)) = it.peek() {
                    if !is_digit(c2) {
                        break;
                    }
                    end = b2 + c2.len_utf8();
                    n += 1;
                    it.next();
                }
                runs.push((b, end, n));
            }
        }
        let low = lowered(s, nchars);
        let mut hits = vec![Vec::new(); keywords.groups];
        if let Some(low) = &low {
            // lower-casing may change a character's UTF-8 length ("K" -> "k"), not the count
            let lidx = Index::new(low);
            for m in keywords.automaton.find_overlapping_iter(low.as_str()) {
                let at = idx.by(lidx.ch(m.start()));
                for &g in &keywords.owners[m.pattern().as_usize()] {
                    hits[g].push(at);
                }
            }
            for h in hits.iter_mut() {
                h.sort_unstable();
                h.dedup();
            }
        }
        Text { s, idx, nchars, runs, low, hits, address_starts: OnceCell::new() }
    }

    /// Byte offsets of the starts of digit runs of one of ``sizes`` (all if empty).
    pub fn digit_starts(&self, sizes: &[usize]) -> Vec<usize> {
        self.runs
            .iter()
            .filter(|r| sizes.is_empty() || sizes.contains(&r.2))
            .map(|r| r.0)
            .collect()
    }

    /// Byte offsets of every occurrence of each of ``chars``, in that order (as Python's
    /// ``char_positions``: per char, ascending).
    pub fn char_positions(&self, chars: &[char]) -> Vec<usize> {
        let mut out = Vec::new();
        for &c in chars {
            out.extend(self.s.match_indices(c).map(|(b, _)| b));
        }
        out
    }

    /// ``b`` moved back ``n`` code points (None if before the start).
    pub fn back(&self, b: usize, n: usize) -> Option<usize> {
        let c = self.idx.ch(b);
        if c >= n { Some(self.idx.by(c - n)) } else { None }
    }

    /// ``b`` moved back up to ``n`` code points (not before the start).
    pub fn back_sat(&self, b: usize, n: usize) -> usize {
        let c = self.idx.ch(b);
        self.idx.by(c.saturating_sub(n))
    }
}

/// Python ``text.lower()`` with "ı"/"ſ" folded, or None if lower-casing changed the length.
fn lowered(s: &str, nchars: usize) -> Option<String> {
    if s.is_ascii() {
        return Some(s.to_ascii_lowercase());
    }
    let mut low = s.to_lowercase();
    if low.chars().count() != nchars {
        return None;
    }
    if low.contains(['ı', 'ſ']) {
        low = low.replace('ı', "i").replace('ſ', "s");
    }
    Some(low)
}

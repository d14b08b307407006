//! The scrubber's pattern and identifier recognizers, compiled (issue 12: the hot path).
//!
//! ``Recognizers.find_all(text, year)`` runs all thirteen recognizers over one text and returns
//! ``(recognizer index, start, end)`` for each finding, offsets in Python ``str`` (code point)
//! units. The Python side (``core/privacy/scrubber/compiled.py``) keeps the registry: kind,
//! detector id and reason of each index. ``Names.find(text, known_names)`` runs the name
//! recognizer's per-text rules (``names.rs``). Never logs; never raises with the text.

mod names;
mod patterns;
mod recognizers;
mod text;

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use std::collections::{HashMap, HashSet};

use recognizers::Engine;

/// The compiled recognizers; one instance serves many threads (immutable after construction).
#[pyclass(frozen, module = "ssp_scrubber_native")]
struct Recognizers {
    engine: Engine,
}

#[pymethods]
impl Recognizers {
    /// ``iban_valid(str) -> bool`` validates an IBAN-shaped code (python-stdnum keeps the
    /// per-country registry); ``common_word(str) -> bool`` says whether a lower-case word is
    /// an ordinary Danish word and no place (the hunspell vocabulary, loaded on first use).
    #[new]
    fn new(iban_valid: Py<PyAny>, common_word: Py<PyAny>) -> Self {
        Recognizers { engine: Engine::new(iban_valid, common_word) }
    }

    /// Every finding of every recognizer: ``(index, start, end)``; ``year`` is today's year
    /// (a date eight or more years back is a date of birth).
    fn find_all(&self, py: Python<'_>, text: &str, year: i32) -> PyResult<Vec<(u8, usize, usize)>> {
        self.engine.find_all(py, text, year, None)
    }

    /// The findings of one recognizer (for a caller that runs them one by one).
    fn find(&self, py: Python<'_>, index: u8, text: &str, year: i32) -> PyResult<Vec<(usize, usize)>> {
        Ok(self
            .engine
            .find_all(py, text, year, Some(index))?
            .into_iter()
            .map(|(_, start, end)| (start, end))
            .collect())
    }
}

/// The name recognizer's per-text rules (``core/privacy/scrubber/names.py`` keeps the word
/// lists and what a token is whatever its context, asked once per distinct token).
#[pyclass(frozen, module = "ssp_scrubber_native")]
struct Names {
    inner: names::Names,
}

#[pymethods]
impl Names {
    /// ``words``: the rules' word lists by name; ``flat``: the letters folded when searching
    /// for the known names ("ø" -> "o", length-preserving); ``cue_keywords``: where a strong cue can
    /// stand; ``token_info(token)``, ``spellings(part)``, ``place_like(word)``,
    /// ``is_place(word)``: the Python answers (see names.py).
    #[new]
    fn new(
        mut words: HashMap<String, HashSet<String>>,
        flat: HashMap<char, char>,
        cue_keywords: Vec<String>,
        token_info: Py<PyAny>,
        spellings: Py<PyAny>,
        place_like: Py<PyAny>,
        is_place: Py<PyAny>,
    ) -> PyResult<Self> {
        let mut take = |name: &str| {
            words.remove(name).ok_or_else(|| PyKeyError::new_err(name.to_string()))
        };
        let words = names::Words {
            titles: take("titles")?,
            institutions: take("institutions")?,
            abbreviations: take("abbreviations")?,
            cues_before: take("cues_before")?,
            cues_after: take("cues_after")?,
            strong_cues: take("strong_cues")?,
            strong_cues_after: take("strong_cues_after")?,
            subject_verbs: take("subject_verbs")?,
            label_words: take("label_words")?,
            greetings: take("greetings")?,
        };
        let inner = names::Names::new(words, flat, cue_keywords, token_info, spellings, place_like, is_place);
        Ok(Names { inner })
    }

    /// Every name in ``text``: ``(start, end, person, why)``, offsets in code points, persons
    /// numbered from 1 (the known names first), ``why`` an index into names.py's reasons.
    fn find(&self, py: Python<'_>, text: &str, known_names: Vec<String>) -> PyResult<Vec<(usize, usize, usize, u8)>> {
        self.inner.find(py, text, known_names)
    }
}

#[cfg(feature = "stats")]
#[pyfunction]
fn _stats() -> Vec<(String, u64, u64, u64, u64)> {
    patterns::stats::dump()
}

#[pymodule]
fn ssp_scrubber_native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    #[cfg(feature = "stats")]
    m.add_function(wrap_pyfunction!(_stats, m)?)?;
    m.add_class::<Recognizers>()?;
    m.add_class::<Names>()?;
    Ok(())
}

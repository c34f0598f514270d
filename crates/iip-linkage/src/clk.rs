//! Cryptographic long-term keys (CLKs): 1024-bit Bloom filters of keyed features.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::normalize_name;

pub const BITS: usize = 1024;
pub(crate) const WORDS: usize = BITS / 64;
/// Field-level regions of the filter: names in the first 640 bits, the birth date in the
/// last 384, so each is compared on its own (namesakes born on other days score low).
pub(crate) const NAME_WORDS: usize = 10;
const NAME_REGION: (usize, usize) = (0, NAME_WORDS * 64);
const DATE_REGION: (usize, usize) = (NAME_WORDS * 64, BITS - NAME_WORDS * 64);
/// The score counts each field's Dice between a floor and a ceiling (docs/privacy.md): a
/// names Dice at the floor or below is what strangers sharing a common name token reach, one
/// at the ceiling or above is all a name can say (a typo still reaches it); a birth-date Dice
/// at the floor is chance overlap or the same year only, at the ceiling a date with one usual
/// error (a day off by one, day and month swapped). Additive and nonlinear in each field, as a
/// Fellegi–Sunter weight is: a partial agreement on both fields beats a perfect one on one
/// field and none on the other (strangers born on the same day are many among 100 000).
pub(crate) const NAMES_FLOOR: f64 = 0.6;
pub(crate) const NAMES_CEILING: f64 = 0.9;
pub(crate) const DATE_FLOOR: f64 = 0.25;
pub(crate) const DATE_CEILING: f64 = 0.45;
/// A record without a birth date scores its names only, discounted.
pub(crate) const NO_DATE_FACTOR: f64 = 0.7;

/// A field's Dice between its floor (0) and ceiling (1).
pub(crate) fn field_weight(dice: f64, floor: f64, ceiling: f64) -> f64 {
    ((dice - floor) / (ceiling - floor)).clamp(0.0, 1.0)
}

/// One encoding: 1024 bits and their counts (all, names, date).
#[derive(Clone, PartialEq, Eq)]
pub struct Clk {
    pub words: [u64; WORDS],
    pub ones: u32,
    pub(crate) name_ones: u32,
    pub(crate) date_ones: u32,
}

impl std::fmt::Debug for Clk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clk({} bits set)", self.ones)
    }
}

impl Clk {
    fn empty() -> Self {
        Self {
            words: [0; WORDS],
            ones: 0,
            name_ones: 0,
            date_ones: 0,
        }
    }

    fn set(&mut self, (start, len): (usize, usize), bit: usize) {
        let bit = start + bit % len;
        self.words[bit / 64] |= 1 << (bit % 64);
    }

    fn count(&mut self) {
        self.name_ones = self.words[..NAME_WORDS].iter().map(|w| w.count_ones()).sum();
        self.date_ones = self.words[NAME_WORDS..].iter().map(|w| w.count_ones()).sum();
        self.ones = self.name_ones + self.date_ones;
    }

    /// The score of two encodings, from 0 to 1: the mean of the names' and the birth dates'
    /// field weights, each the Sørensen–Dice coefficient 2|a∧b| / (|a| + |b|) of its region
    /// between a floor and a ceiling; the names alone (discounted) when either record has no
    /// birth date.
    pub fn dice(&self, other: &Clk) -> f64 {
        let (names, date) = self.field_dice(other);
        let names = field_weight(names, NAMES_FLOOR, NAMES_CEILING);
        match date {
            Some(date) => (names + field_weight(date, DATE_FLOOR, DATE_CEILING)) / 2.0,
            None => names * NO_DATE_FACTOR,
        }
    }

    /// The Dice coefficients of the names and of the birth dates (none when either record has
    /// no birth date).
    pub fn field_dice(&self, other: &Clk) -> (f64, Option<f64>) {
        let region = |range: std::ops::Range<usize>, a: u32, b: u32| {
            if a + b == 0 {
                return 0.0;
            }
            let common: u32 = self.words[range.clone()]
                .iter()
                .zip(&other.words[range])
                .map(|(x, y)| (x & y).count_ones())
                .sum();
            2.0 * f64::from(common) / f64::from(a + b)
        };
        let names = region(0..NAME_WORDS, self.name_ones, other.name_ones);
        if self.date_ones == 0 || other.date_ones == 0 {
            return (names, None);
        }
        (names, Some(region(NAME_WORDS..WORDS, self.date_ones, other.date_ones)))
    }

    /// The share of bits set (warn above 0.7: filters that full lose precision).
    pub fn fill(&self) -> f64 {
        f64::from(self.ones) / BITS as f64
    }

    /// 256 hex characters, for exchange files.
    pub fn to_hex(&self) -> String {
        self.words.iter().map(|w| format!("{w:016x}")).collect()
    }

    pub fn from_hex(text: &str) -> Option<Clk> {
        if text.len() != BITS / 4 {
            return None;
        }
        let mut clk = Clk::empty();
        for (i, word) in clk.words.iter_mut().enumerate() {
            *word = u64::from_str_radix(text.get(16 * i..16 * i + 16)?, 16).ok()?;
        }
        clk.count();
        Some(clk)
    }
}

/// The identifying fields that are encoded (never stored by the hub).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub date_of_birth: Option<String>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Identity(<redacted>)")
    }
}

/// Encodes identities under the consortium's secret.
pub struct Encoder {
    key: Hmac<Sha256>,
    noise: Option<Noise>,
}

/// Random bit flips (BLIP, Schnell and Borgs 2016): every bit of a filled region is flipped
/// with a small probability, from a stream under a key drawn from the system at start, so the
/// same name never gives the same bits twice (docs/privacy.md: frequency attacks).
struct Noise {
    key: Hmac<Sha256>,
    draws: std::sync::atomic::AtomicU64,
    /// ln(1 − p): gaps between flipped bits are geometric.
    log_keep: f64,
}

/// The flip probability `iip encode` uses (docs/privacy.md: what it costs in precision and
/// recall, and what it hides).
pub const DEFAULT_FLIP_PROBABILITY: f64 = 0.01;

impl Noise {
    /// Flips each bit of the region with the probability, skipping geometric gaps.
    fn apply(&self, clk: &mut Clk, (start, len): (usize, usize)) {
        let draw = self.draws.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let uniforms = (0u32..).flat_map(|round| {
            let mut mac = self.key.clone();
            mac.update(&draw.to_be_bytes());
            mac.update(&round.to_be_bytes());
            let digest = mac.finalize().into_bytes();
            (0..8)
                .map(|i| u32::from_be_bytes([digest[4 * i], digest[4 * i + 1], digest[4 * i + 2], digest[4 * i + 3]]))
                .collect::<Vec<_>>()
        });
        let mut at = 0usize;
        for x in uniforms {
            // U in (0, 1]; the gap to the next flipped bit is ⌊ln U / ln(1 − p)⌋.
            let u = (f64::from(x) + 1.0) / 4_294_967_296.0;
            let gap = (u.ln() / self.log_keep).floor();
            if !gap.is_finite() || gap >= (len - at) as f64 {
                break;
            }
            at += gap as usize;
            let bit = start + at;
            clk.words[bit / 64] ^= 1 << (bit % 64);
            at += 1;
            if at >= len {
                break;
            }
        }
    }
}

/// Bits set per feature, by field. The name bigrams are one bag: names in any order are the
/// same name (family name first is the custom of many), and a separate family-name feature
/// cost given/family swaps their place above strangers (docs/privacy.md).
const NAME_BITS: usize = 10;
const YEAR_BITS: usize = 6;
const NEAR_BITS: usize = 8;
const PAIR_BITS: usize = 20;
const WHOLE_BITS: usize = 12;

impl Encoder {
    /// `secret`: the consortium's linkage secret (at least 16 bytes), held by the partners only.
    pub fn new(secret: &[u8]) -> Option<Self> {
        if secret.len() < 16 {
            return None;
        }
        Some(Self {
            key: <Hmac<Sha256> as KeyInit>::new_from_slice(secret).ok()?,
            noise: None,
        })
    }

    /// Flips every bit of the filled regions with `probability` (0 < p < 0.5), afresh for
    /// each encoding. None when the system gives no randomness.
    pub fn with_bit_flips(mut self, probability: f64) -> Option<Self> {
        if !(probability > 0.0 && probability < 0.5) {
            self.noise = None;
            return Some(self);
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).ok()?;
        Some(self.with_seeded_bit_flips(probability, seed))
    }

    /// [`Encoder::with_bit_flips`] from a given seed, for tests and benchmarks that must give
    /// the same figures on every run; never for real records (the seed would undo the flips).
    pub fn with_seeded_bit_flips(mut self, probability: f64, seed: [u8; 32]) -> Self {
        self.noise = (probability > 0.0 && probability < 0.5).then(|| Noise {
            key: <Hmac<Sha256> as KeyInit>::new_from_slice(&seed).unwrap_or_else(|_| self.key.clone()),
            draws: std::sync::atomic::AtomicU64::new(0),
            log_keep: (1.0 - probability).ln(),
        });
        self
    }

    /// Sets `k` bits for a feature: positions from HMAC-SHA-256(secret, field ‖ feature),
    /// 16 bits at a time (random hashing, not double hashing).
    fn feature(&self, clk: &mut Clk, field: &str, feature: &str, k: usize) {
        let region = if field == "name" { NAME_REGION } else { DATE_REGION };
        let mut round = 0u8;
        let mut set = 0;
        while set < k {
            let mut mac = self.key.clone();
            mac.update(field.as_bytes());
            mac.update(&[0, round]);
            mac.update(feature.as_bytes());
            let digest = mac.finalize().into_bytes();
            for pair in digest.chunks_exact(2) {
                if set == k {
                    break;
                }
                clk.set(region, usize::from(u16::from_be_bytes([pair[0], pair[1]])));
                set += 1;
            }
            round = round.wrapping_add(1);
        }
    }

    pub fn encode(&self, identity: &Identity) -> Clk {
        let mut clk = Clk::empty();
        let first = identity.first_name.as_deref().map(normalize_name).unwrap_or_default();
        let last = identity.last_name.as_deref().map(normalize_name).unwrap_or_default();
        // Every token of every name, order-insensitive.
        for token in first.split(' ').chain(last.split(' ')).filter(|t| !t.is_empty()) {
            for bigram in bigrams(token) {
                self.feature(&mut clk, "name", &bigram, NAME_BITS);
            }
        }
        if let Some((year, month, day)) = identity.date_of_birth.as_deref().and_then(date_parts) {
            // Imputed birthdays (January 1, July 1) say less: fewer bits for the day.
            let imputed = (month, day) == (1, 1) || (month, day) == (7, 1);
            let scale = |bits: usize| if imputed { bits / 3 } else { bits };
            self.feature(&mut clk, "year", &year.to_string(), YEAR_BITS);
            // The day and its neighbours (a day off by one keeps two of three).
            for near in [day.saturating_sub(1), day, day + 1] {
                self.feature(&mut clk, "near", &format!("{year}-{month}-{near}"), scale(NEAR_BITS));
            }
            // The unordered {month, day} pair in its year (a day/month swap keeps it).
            let (a, b) = (month.min(day), month.max(day));
            self.feature(&mut clk, "pair", &format!("{year}:{a}/{b}"), scale(PAIR_BITS));
            // The whole date: tells apart namesakes, who are many among common family names.
            self.feature(&mut clk, "date", &format!("{year}-{month}-{day}"), scale(WHOLE_BITS));
        }
        clk.count();
        if let Some(noise) = &self.noise {
            // Only regions with features: a record without a birth date keeps an empty one.
            if clk.name_ones > 0 {
                noise.apply(&mut clk, NAME_REGION);
            }
            if clk.date_ones > 0 {
                noise.apply(&mut clk, DATE_REGION);
            }
            clk.count();
        }
        clk
    }
}

fn bigrams(token: &str) -> Vec<String> {
    let padded: Vec<char> = std::iter::once('_')
        .chain(token.chars())
        .chain(std::iter::once('_'))
        .collect();
    padded.windows(2).map(|w| w.iter().collect()).collect()
}

fn date_parts(date: &str) -> Option<(u32, u32, u32)> {
    let mut parts = date.split('-');
    let year = parts.next()?.parse().ok()?;
    let month = parts.next()?.parse().ok()?;
    let day = parts.next()?.parse().ok()?;
    Some((year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(first: &str, last: &str, dob: &str) -> Identity {
        Identity {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            date_of_birth: Some(dob.into()),
        }
    }

    #[test]
    fn the_same_person_scores_high_and_others_low_and_only_under_one_secret() {
        let encoder = Encoder::new(b"consortium secret 1").expect("secret");
        let a = encoder.encode(&person("María José", "García López", "1985-04-12"));
        let swapped = encoder.encode(&person("García López", "María José", "1985-04-12"));
        let dropped = encoder.encode(&person("María José", "Garcia", "1985-04-12"));
        let day_month = encoder.encode(&person("María José", "García López", "1985-12-04"));
        let other = encoder.encode(&person("Nguyen", "Thi Lan", "1990-07-30"));
        assert!(a.dice(&a) > 0.999);
        // One error each (names swapped, a surname dropped, day and month swapped) stays
        // above the default threshold.
        for (what, clk) in [("swapped", &swapped), ("dropped", &dropped), ("day/month", &day_month)] {
            assert!(a.dice(clk) >= crate::DEFAULT_THRESHOLD, "{what}: {}", a.dice(clk));
        }
        assert!(a.dice(&other) < 0.4, "{}", a.dice(&other));
        let elsewhere = Encoder::new(b"another secret 22").expect("secret");
        assert!(a.dice(&elsewhere.encode(&person("María José", "García López", "1985-04-12"))) < 0.4);
        assert!(Encoder::new(b"short").is_none());
        assert!(a.fill() > 0.1 && a.fill() < 0.7, "{}", a.fill());
        assert_eq!(Clk::from_hex(&a.to_hex()), Some(a));
    }

    #[test]
    fn bit_flips_make_every_encoding_unique_and_keep_the_same_person_close() {
        let plain = Encoder::new(b"consortium secret 1").expect("secret");
        let noisy = Encoder::new(b"consortium secret 1")
            .and_then(|e| e.with_bit_flips(0.01))
            .expect("randomness");
        let ana = person("Ana", "Cruz", "1980-01-02");
        assert_eq!(plain.encode(&ana), plain.encode(&ana), "deterministic without flips");
        let (x, y) = (noisy.encode(&ana), noisy.encode(&ana));
        assert_ne!(
            x.words[..NAME_WORDS],
            y.words[..NAME_WORDS],
            "the same name, other bits"
        );
        assert!(x.dice(&y) >= crate::DEFAULT_THRESHOLD, "{}", x.dice(&y));
        assert!(x.dice(&plain.encode(&person("Omar", "Haddad", "1969-11-30"))) < 0.2);
        // A record without a birth date keeps an empty date region (it is scored on names).
        let undated = noisy.encode(&Identity {
            date_of_birth: None,
            ..ana.clone()
        });
        assert_eq!(undated.date_ones, 0);
        assert!(undated.name_ones > 0);
        // Off (0) is the plain encoding; probabilities outside (0, 0.5) turn flips off too.
        let off = Encoder::new(b"consortium secret 1")
            .and_then(|e| e.with_bit_flips(0.0))
            .expect("off");
        assert_eq!(off.encode(&ana), plain.encode(&ana));
    }
}

//! Privacy-preserving record linkage (docs/privacy.md, ../shared/LINKAGE.md).
//!
//! Each partner encodes its participants' names and birth dates locally into a **CLK**: a
//! 1024-bit Bloom filter into which every feature (name bigrams, birth-date tokens) sets a few
//! bits chosen by HMAC-SHA-256 under the consortium's secret. The hub, which never holds the
//! secret, compares CLKs by their **Dice coefficient**, names and birth date apart (field-level
//! regions of the filter), keeps pairs above a threshold and assigns them one to one; linked
//! records get one `person_key`.
//!
//! Features are chosen for immigrants' names and dates: an order-insensitive bag of the
//! bigrams of every name token (tolerates given and family names swapped, a dropped second
//! surname, transliteration noise), and the birth date as its year, the day and its neighbours
//! in their month (tolerates a day off by one), the unordered {month, day} pair in its year
//! (tolerates day/month swaps) and the whole date.

mod clk;
mod kernel;
mod matching;
mod normalize;
pub mod synthetic;

pub use clk::{BITS, Clk, DEFAULT_FLIP_PROBABILITY, Encoder, Identity};
pub use kernel::KernelStats;
pub use matching::{
    Link, candidates, candidates_all_pairs, candidates_counted, candidates_record_level,
    candidates_record_level_all_pairs, candidates_record_level_counted, group, link_one_to_one, solve_greedy,
};
pub use normalize::normalize_name;

/// The default threshold of [`Clk::dice`] for encodings with the default bit flips
/// (docs/privacy.md: measured on generated data at half overlap, up to 100 000 a side).
pub const DEFAULT_THRESHOLD: f64 = 0.6;

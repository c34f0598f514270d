//! Small encodings every backend stores the same way, so that their contents compare.

use iip_domain::records::{CountryCode, Identity, LanguageCode, Participant, Zip};
use iip_domain::{Barrier, Gender, Id, InvalidValue, RaceEthnicity};

use crate::{StoreError, StoreResult};

/// Barriers as one `;`-separated column.
pub fn join_barriers(barriers: &[Barrier]) -> String {
    barriers.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(";")
}

pub fn split_barriers(stored: &str) -> Result<Vec<Barrier>, InvalidValue> {
    stored
        .split(';')
        .filter(|b| !b.is_empty())
        .map(Barrier::parse)
        .collect()
}

/// The content digest: FNV-1a over sorted lines, section by section. Stable across Rust
/// versions (unlike the std hasher) and across backends, which feed it the same lines.
pub struct ContentDigest(u64);

impl Default for ContentDigest {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl ContentDigest {
    fn feed(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// One section of lines (one table), in the order given.
    pub fn section(&mut self, lines: impl IntoIterator<Item = String>) {
        for line in lines {
            self.feed(line.as_bytes());
            self.feed(b"\n");
        }
        self.feed(b"\x1e");
    }

    pub fn finish(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A score as SQLite writes a REAL as text (`201.0`, `201.5`): the digest line of an
/// assessment, whichever backend holds it.
pub fn score_text(score: f64) -> String {
    if score.fract() == 0.0 && score.abs() < 1e15 {
        format!("{score:.1}")
    } else {
        format!("{score}")
    }
}

/// A participant's stored columns, as text, before they are checked back into a
/// [`Participant`]: both backends read these and share the checking.
pub struct ParticipantColumns {
    pub org_id: String,
    pub participant_id: String,
    pub person_key: Option<String>,
    pub gender: Option<String>,
    pub race_ethnicity: Option<String>,
    pub country_of_birth: Option<String>,
    pub primary_language: Option<String>,
    pub us_arrival_year: Option<i32>,
    pub zip: Option<String>,
    pub barriers: String,
}

impl ParticipantColumns {
    pub fn into_participant(self, identity: Identity) -> StoreResult<Participant> {
        fn corrupt(what: &'static str) -> impl Fn(InvalidValue) -> StoreError {
            move |e| StoreError::Corrupt(format!("{what} {e}"))
        }
        fn optional<T>(
            value: Option<String>,
            parse: impl Fn(&str) -> Result<T, InvalidValue>,
            what: &'static str,
        ) -> StoreResult<Option<T>> {
            value.as_deref().map(parse).transpose().map_err(corrupt(what))
        }
        Ok(Participant {
            org_id: Id::parse(&self.org_id).map_err(corrupt("org_id"))?,
            participant_id: Id::parse(&self.participant_id).map_err(corrupt("participant_id"))?,
            person_key: optional(self.person_key, Id::parse, "person_key")?,
            identity,
            gender: optional(self.gender, Gender::parse, "gender")?,
            race_ethnicity: optional(self.race_ethnicity, RaceEthnicity::parse, "race_ethnicity")?,
            country_of_birth: optional(self.country_of_birth, CountryCode::parse, "country_of_birth")?,
            primary_language: optional(self.primary_language, LanguageCode::parse, "primary_language")?,
            us_arrival_year: self.us_arrival_year,
            zip: optional(self.zip, Zip::parse, "zip")?,
            barriers: split_barriers(&self.barriers).map_err(corrupt("barriers"))?,
        })
    }
}

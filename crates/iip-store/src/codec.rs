//! Small encodings every backend stores the same way, so that their contents compare.

use iip_domain::{Barrier, InvalidValue};

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

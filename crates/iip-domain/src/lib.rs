//! Domain types of the Immigrant Integration Pathway.
//!
//! Parse, don't validate: every value that enters the system from outside becomes one of these
//! types through a fallible constructor, so code past the boundary never re-checks it.
//! This crate knows nothing about SQL, HTTP, CSV or the file system.

pub mod audit;
pub mod codes;
pub mod csv_safe;
pub mod date;
pub mod facts;
pub mod groups;
pub mod id;
pub mod records;

pub use codes::{Barrier, Gender, Level, Program, RaceEthnicity, Sector};
pub use date::{Date, ProgramYear};
pub use id::Id;

/// Why a single value was refused. The message never repeats the value of an identifying
/// field (names, birth dates): callers decide whether echoing the input is safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub String);

impl InvalidValue {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

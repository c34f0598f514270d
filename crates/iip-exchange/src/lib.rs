//! Exchange format v1 (PRODUCT.md §4): how partners hand data to a hub.
//!
//! A package is a directory of CSV files. [`import::import_package`] streams every file,
//! validates every row, reports every problem as `FILE:LINE: COLUMN: message`, and writes
//! through a [`iip_store::ImportSession`] that commits only when the package is clean (or,
//! when the user asks to skip invalid rows, writes each rejected row out with its reason).

pub mod check;
pub mod import;
pub mod issue;
pub mod parse;
mod reader;
mod rejected;
pub mod spec;

pub use check::check_file;
pub use import::{ImportError, ImportObserver, ImportOptions, ImportSummary, import_package, import_package_from};
pub use issue::Issue;

//! With `--skip-invalid`, every rejected row is written to `DIR/rejected/<file>.csv` with its
//! line and reason, so nothing a partner sent is silently lost.
//!
//! The file is meant to be opened in a spreadsheet and corrected, and it echoes what was sent,
//! which may hold a formula planted at data entry (`=HYPERLINK(…)` as a first name). So every
//! field goes through [`iip_domain::csv_safe`]: one that starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return gets a leading `'`, except a plain number such as `-2` or `-3.5`, which
//! stays as it was sent. Whoever corrects such a row and sends it again removes the apostrophe
//! (the importer keeps a name's characters as they are).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use csv::StringRecord;
use iip_domain::csv_safe;

pub struct RejectedWriter {
    path: PathBuf,
    header: StringRecord,
    writer: Option<csv::Writer<BufWriter<File>>>,
    pub rows: u64,
}

impl RejectedWriter {
    /// Prepares the output for one file; removes a stale output of an earlier run.
    pub fn new(dir: &Path, file_name: &str, header: StringRecord) -> io::Result<Self> {
        let path = dir.join(file_name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        Ok(Self {
            path,
            header,
            writer: None,
            rows: 0,
        })
    }

    pub fn write(&mut self, line: u64, reason: &str, record: &StringRecord) -> io::Result<()> {
        if self.writer.is_none() {
            if let Some(parent) = self.path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            // Flexible: a rejected row may have the wrong number of fields; it is written as it came.
            let mut writer = csv::WriterBuilder::new()
                .flexible(true)
                .from_writer(BufWriter::new(File::create(&self.path)?));
            let mut header = StringRecord::from(vec!["line", "reason"]);
            header.extend(self.header.iter().map(csv_safe::cell));
            writer.write_record(&header)?;
            self.writer = Some(writer);
        }
        if let Some(writer) = self.writer.as_mut() {
            let mut out = StringRecord::from(vec![line.to_string(), csv_safe::text(reason).into_owned()]);
            out.extend(record.iter().map(csv_safe::cell));
            writer.write_record(&out)?;
        }
        self.rows += 1;
        Ok(())
    }

    pub fn finish(self) -> io::Result<Option<PathBuf>> {
        match self.writer {
            Some(mut writer) => {
                writer.flush()?;
                Ok(Some(self.path))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_in_rejected_rows_are_neutralised_and_numbers_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let header = StringRecord::from(vec!["first_name", "last_name", "x_note", "hours"]);
        let mut writer = RejectedWriter::new(dir.path(), "participants.csv", header).expect("writer");
        let row = StringRecord::from(vec!["=HYPERLINK(\"http://x\",\"y\")", "+cmd", "@SUM(1)", "-2.5"]);
        writer.write(2, "gender: is wrong", &row).expect("write");
        let path = writer.finish().expect("finish").expect("a file");
        let mut reader = csv::Reader::from_path(path).expect("read");
        let rows: Vec<StringRecord> = reader.records().collect::<Result<_, _>>().expect("records");
        assert_eq!(
            rows[0].iter().collect::<Vec<_>>(),
            [
                "2",
                "gender: is wrong",
                "'=HYPERLINK(\"http://x\",\"y\")",
                "'+cmd",
                "'@SUM(1)",
                "-2.5"
            ]
        );
    }
}

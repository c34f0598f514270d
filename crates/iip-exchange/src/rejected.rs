//! With `--skip-invalid`, every rejected row is written to `DIR/rejected/<file>.csv` with its
//! line and reason, so nothing a partner sent is silently lost.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use csv::StringRecord;

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
            header.extend(self.header.iter());
            writer.write_record(&header)?;
            self.writer = Some(writer);
        }
        if let Some(writer) = self.writer.as_mut() {
            let mut out = StringRecord::from(vec![line.to_string(), reason.to_owned()]);
            out.extend(record.iter());
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

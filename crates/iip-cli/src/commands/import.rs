use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use iip_domain::Date;
use iip_exchange::{ImportObserver, ImportOptions, ImportSummary, Issue, import_package_from};
use iip_framework::Framework;
use iip_store::Store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{load_framework, with_store};
use crate::StoreArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The package directory.
    pub dir: PathBuf,
    /// Import the valid rows and write each rejected row, with its reason, to DIR/rejected/.
    #[arg(long)]
    pub skip_invalid: bool,
    /// The organization that sent the package: refuse every row that is not of it or of an
    /// organization under it, any move of an organization out of that part of the tree, and
    /// agreements on another organization's behalf. Use it for every package a partner sends.
    #[arg(long, value_name = "ORG")]
    pub from: Option<String>,
}

/// Prints every issue to stderr as it is found, around a progress bar on a terminal.
struct Console {
    bar: ProgressBar,
}

impl ImportObserver for Console {
    fn issue(&mut self, issue: &Issue) {
        self.bar.suspend(|| eprintln!("{issue}"));
    }
    fn started(&mut self, total_bytes: u64) {
        self.bar.set_length(total_bytes);
    }
    fn progress(&mut self, done_bytes: u64) {
        self.bar.set_position(done_bytes);
    }
}

pub async fn run(args: Args) -> anyhow::Result<ExitCode> {
    let framework = load_framework(&args.store)?;
    let summary = with_store!(&args.store, |store| {
        if super::master_key(&args.store)?.is_none() && !store.holds_data_keys().await? {
            super::warn_if_clear(&args.store);
        }
        let summary = import(&store, &framework, &args.dir, args.skip_invalid, args.from.as_deref()).await?;
        store.close().await;
        summary
    });
    Ok(if summary.committed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Imports with console output; shared with `iip demo`.
pub async fn import(
    store: &impl Store,
    framework: &Framework,
    dir: &Path,
    skip_invalid: bool,
    sender: Option<&str>,
) -> anyhow::Result<ImportSummary> {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} importing {bytes}/{total_bytes} [{bar:30}] {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut console = Console { bar };
    let options = ImportOptions {
        skip_invalid,
        today: Date::today(),
    };
    let started = std::time::Instant::now();
    let summary = import_package_from(store, framework, dir, options, sender, &mut console).await?;
    console.bar.finish_and_clear();

    for file in &summary.files {
        eprintln!(
            "{:<18} {:>9} accepted {:>7} rejected",
            file.file, file.accepted, file.rejected
        );
    }
    for path in &summary.rejected_files {
        eprintln!("rejected rows written to {}", path.display());
    }
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = summary.files.iter().map(|f| f.accepted + f.rejected).sum();
    if summary.committed {
        eprintln!(
            "imported {} rows in {seconds:.1} s ({:.0} rows/s){}",
            rows,
            rows as f64 / seconds.max(1e-9),
            if summary.issues > 0 {
                format!("; {} problems skipped", summary.issues)
            } else {
                String::new()
            }
        );
    } else {
        eprintln!(
            "import refused: {} problems found; the store is unchanged{}",
            summary.issues,
            if skip_invalid {
                ""
            } else {
                " (use --skip-invalid to import the valid rows)"
            }
        );
    }
    Ok(summary)
}

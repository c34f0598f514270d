//! `iip directory`: the service directory (Open Referral HSDS 3 in and out) and the community
//! figures the gap analysis weighs need with.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use iip_store::DirectoryStore as _;

use super::with_store;
use crate::StoreArgs;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Import an HSDS 3 package: a JSON file (organization package) or a directory of the
    /// tabular CSV files. Organizations the store does not know are added (sector and level
    /// from the package's IIP attributes, else --sector / --level). All or nothing.
    Import(ImportArgs),
    /// Export the directory as HSDS 3: `--format json` to a file, `--format csv` to a directory.
    Export(ExportArgs),
    /// Replace the community figures with a CSV of area,language,population.
    Community(CommunityArgs),
    /// List the services in the directory.
    List(ListArgs),
    /// The community gap analysis over every area: the ranked list as CSV, or the whole
    /// report (cells, gaps, heat map) as JSON. Participant counts from 1 to 9 are withheld.
    Gaps(GapsArgs),
}

#[derive(clap::Args)]
pub struct GapsArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    pub path: PathBuf,
    /// The sector of organizations the package adds without saying.
    #[arg(long, default_value = "nonprofit")]
    pub sector: String,
    /// The level of organizations the package adds without saying.
    #[arg(long, default_value = "local")]
    pub level: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value = "json")]
    pub format: Format,
    /// A file for JSON, a directory for CSV.
    pub out: PathBuf,
}

#[derive(clap::Args)]
pub struct CommunityArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    pub file: PathBuf,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import(args) => import(args).await?,
        Command::Export(args) => {
            let (organizations, services) = with_store!(&args.store, |store| {
                (store.organization_records().await?, store.services().await?)
            });
            match args.format {
                Format::Json => {
                    let document = iip_directory::hsds::export_json(&organizations, &services)?;
                    let text = serde_json::to_string_pretty(&document)?;
                    std::fs::write(&args.out, text).with_context(|| format!("cannot write {}", args.out.display()))?;
                }
                Format::Csv => iip_directory::hsds::export_tabular(&args.out, &organizations, &services)?,
            }
            println!(
                "exported {} services of {} organizations to {}",
                services.len(),
                organizations.len(),
                args.out.display()
            );
        }
        Command::Community(args) => {
            let name = args.file.display().to_string();
            let file = std::fs::File::open(&args.file).with_context(|| format!("cannot open {name}"))?;
            let figures = iip_directory::community::read(&name, file)?;
            let stored = with_store!(&args.store, |store| { store.put_community_figures(&figures).await? });
            println!("stored {stored} community figures from {name}");
        }
        Command::Gaps(args) => {
            let report = with_store!(&args.store, |store| {
                iip_store::directory::gap_report(&store, iip_metrics::SUPPRESSION_THRESHOLD).await?
            });
            match args.format {
                Format::Csv => print!("{}", iip_directory::gaps::to_csv(&report)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
        }
        Command::List(args) => {
            let services = with_store!(&args.store, |store| { store.services().await? });
            if services.is_empty() {
                bail!("the directory is empty: import an HSDS package with `iip directory import`");
            }
            for s in &services {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    s.org_id,
                    s.service_id,
                    s.name,
                    s.elements.join(";"),
                    s.languages.join(";")
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let sector = iip_domain::Sector::parse(&args.sector).map_err(|e| anyhow::anyhow!("--sector: {e}"))?;
    let level = iip_domain::Level::parse(&args.level).map_err(|e| anyhow::anyhow!("--level: {e}"))?;
    let directory = if args.path.is_dir() {
        iip_directory::hsds::import_tabular(&args.path)
    } else {
        let bytes = std::fs::read(&args.path).with_context(|| format!("cannot read {}", args.path.display()))?;
        iip_directory::hsds::import_json(&bytes)
    };
    let directory =
        directory.map_err(|e| anyhow::anyhow!("{}: the package was not imported:\n{e}", args.path.display()))?;
    for warning in &directory.warnings {
        eprintln!("warning: {warning}");
    }
    let (added, stored) = with_store!(&args.store, |store| {
        let known: std::collections::HashSet<String> =
            store.organizations().await?.into_iter().map(|o| o.org_id).collect();
        let new: Vec<iip_domain::records::Organization> = directory
            .organizations
            .iter()
            .filter(|o| !known.contains(o.org_id.as_str()))
            .map(|o| iip_domain::records::Organization {
                org_id: o.org_id.clone(),
                name: o.name.clone(),
                sector: o.sector.unwrap_or(sector),
                level: o.level.unwrap_or(level),
                parent_id: o
                    .parent_id
                    .clone()
                    .filter(|p| known.contains(p.as_str()) || directory.organizations.iter().any(|d| &d.org_id == p)),
                area: o.area.clone(),
                areas_served: o.areas_served.clone(),
            })
            .collect();
        if !new.is_empty() {
            use iip_store::ImportSession as _;
            let mut session = store.begin_import(&args.path.display().to_string()).await?;
            // Parents before children: the package's order may not be.
            let mut pending = new.clone();
            let mut written: std::collections::HashSet<String> = known.clone();
            while !pending.is_empty() {
                let before = pending.len();
                let mut rest = Vec::new();
                for org in pending {
                    if org.parent_id.as_ref().is_none_or(|p| written.contains(p.as_str())) {
                        session.upsert_organization(&org).await?;
                        written.insert(org.org_id.as_str().to_owned());
                    } else {
                        rest.push(org);
                    }
                }
                if rest.len() == before {
                    session.rollback().await?;
                    bail!("the organizations' parents form a loop; nothing was imported");
                }
                pending = rest;
            }
            session.commit().await?;
        }
        let stored = store
            .put_services(&directory.services)
            .await?
            .map_err(|_| anyhow::anyhow!("a service names an organization the store does not know"))?;
        (new.len(), stored)
    });
    println!("imported {stored} services; added {added} organizations the store did not know");
    Ok(())
}

//! Helpers the `iip` binary's test files share.

#![allow(dead_code)]

use std::process::{Command, Output};

pub fn iip(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iip"))
        .args(args)
        .output()
        .expect("run iip")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn admin_url() -> String {
    std::env::var("IIP_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

pub fn psql(url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("psql")
        .args([url, "-qAtc", sql])
        .output()
        .map_err(|e| format!("psql: {e}"))?;
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// A fresh database on the test server, dropped at the end; `None` (and why) without a server.
pub struct Database {
    admin: String,
    name: String,
}

impl Database {
    pub fn create(tag: &str) -> Option<Self> {
        let admin = admin_url();
        let name = format!("iip_cli_{tag}_{}", std::process::id());
        match psql(&admin, &format!("DROP DATABASE IF EXISTS {name}"))
            .and_then(|_| psql(&admin, &format!("CREATE DATABASE {name}")))
        {
            Ok(_) => Some(Self { admin, name }),
            Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true and PostgreSQL is not usable at {admin}: {e}")
            }
            Err(e) => {
                eprintln!(
                    "SKIPPED: PostgreSQL is not usable at {admin} ({}); start it or set IIP_TEST_POSTGRES",
                    e.trim()
                );
                None
            }
        }
    }

    /// The database's URL through another port (the cuttable proxy) or the server's own.
    pub fn url(&self, port: Option<u16>) -> String {
        let (server, _) = self.admin.rsplit_once('/').unwrap_or((&self.admin, ""));
        let server = match port {
            Some(port) => {
                let (host, _) = server.rsplit_once(':').unwrap_or((server, ""));
                format!("{host}:{port}")
            }
            None => server.to_owned(),
        };
        format!("{server}/{}", self.name)
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// Adds a case worker of `org` to the store at `db` (with the key file, if any) and returns a
/// fresh API token of theirs.
pub fn case_worker_token(db: &str, key: Option<&str>, email: &str, org: &str) -> String {
    let with_key = |args: &[&str]| -> Output {
        let mut all: Vec<&str> = args.to_vec();
        if let Some(key) = key {
            all.extend(["--key-file", key]);
        }
        iip(&all)
    };
    let added = with_key(&[
        "user",
        "add",
        "--db",
        db,
        "--email",
        email,
        "--name",
        "Case Worker",
        "--org",
        org,
        "--role",
        "case_worker",
    ]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let issued = with_key(&["token", "create", "--db", db, "--email", email, "--name", "t"]);
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    text(&issued.stdout)
        .lines()
        .nth(1)
        .expect("the token line")
        .trim()
        .to_owned()
}

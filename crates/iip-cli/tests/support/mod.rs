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

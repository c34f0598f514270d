//! The reliability battery's harness: start the real `iip` server on loopback and kill it
//! (`server`), talk to it over plain HTTP/1.1 (`http`), and check what a crash test's clients
//! saw against what the store holds afterwards (`history`). No dependencies: it drives the
//! binary from outside, as an operator or an attacker would.

pub mod history;
pub mod http;
pub mod server;

//! Accounts and access, without storage or HTTP: roles, Argon2id password hashes, random
//! session and API tokens (only their SHA-256 is stored), the access policy every request is
//! checked against, and login rate limiting.

pub mod audit;
mod limiter;
mod password;
mod policy;
mod token;

pub use limiter::LoginLimiter;
pub use password::{PasswordError, check_password, hash_password, hash_password_for, verify_or_decoy, verify_password};
pub use policy::{Access, OrgTree, Principal, Role};
pub use token::{Token, random_token, token_hash};

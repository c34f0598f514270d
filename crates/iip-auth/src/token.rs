//! Random tokens for sessions, API access and one-time links. The holder gets the token;
//! the store keeps only its SHA-256, so a stolen database yields no usable session.

use sha2::{Digest, Sha256};

/// A fresh token: `secret` goes to the client (64 hex characters, 256 bits), `hash` to the store.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub secret: String,
    pub hash: Vec<u8>,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// 32 random bytes from the operating system, as hex; `None` only if the OS has no randomness.
pub fn random_token() -> Option<Token> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&secret);
    Some(Token { secret, hash })
}

/// The stored form of a token the client presents.
pub fn token_hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hash_stably() {
        let a = random_token().expect("randomness");
        let b = random_token().expect("randomness");
        assert_eq!(a.secret.len(), 64);
        assert!(a.secret.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.secret, b.secret);
        assert_eq!(token_hash(&a.secret), a.hash);
        assert_eq!(a.hash.len(), 32);
        assert_eq!(format!("{a:?}"), "Token(<redacted>)");
    }
}

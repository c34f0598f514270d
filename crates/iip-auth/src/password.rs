//! Passwords: Argon2id (the crate's defaults, OWASP's minimum: 19 MiB, 2 passes) in PHC form.
//! A new password is checked first (NIST SP 800-63B 3.1.1.2): at least 12 characters, and not
//! one an attacker tries early: a common or breached password, a simple pattern, or one built
//! from the product's name or the account's own email address and name.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password has at least 12 characters")]
    TooShort,
    #[error("a password has at most 256 characters")]
    TooLong,
    #[error(
        "that password is too easy to guess: it is a common password, a simple pattern, or made \
         from your name, your email address or \"iip\". Choose another; a few unrelated words \
         work well"
    )]
    TooCommon,
    #[error("the password could not be hashed")]
    Hashing,
}

/// The 10 000 most common passwords of a breach corpus (the file says where they come from).
const COMMON: &str = include_str!("common_passwords.txt");

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .filter(|line| !line.starts_with("# ") && *line != "#" && !line.is_empty())
            .collect()
    })
}

/// Every character the same, or a short unit repeated (`aaaaaaaaaaaa`, `abcabcabcabc`).
fn repeats(s: &[char]) -> bool {
    (1..=4).any(|unit| s.len() > unit && s.iter().skip(unit).zip(s).all(|(a, b)| a == b))
}

/// Each character one up or one down from the one before, digits wrapping (`123456789012`,
/// `abcdefghijkl`, `987654321098`).
fn sequence(s: &[char]) -> bool {
    let step = |a: char, b: char, up: bool| {
        let (a, b) = if up { (a, b) } else { (b, a) };
        (a as u32) + 1 == b as u32 || (a == '9' && b == '0')
    };
    s.len() > 2
        && [true, false]
            .into_iter()
            .any(|up| s.windows(2).all(|w| step(w[0], w[1], up)))
}

/// Part of a walk along the keyboard's rows or columns (`qwertyuiopas`, `1qaz2wsx3edc`).
fn keyboard_walk(s: &str) -> bool {
    const WALKS: [&str; 6] = [
        "`1234567890-=qwertyuiop[]\\asdfghjkl;'zxcvbnm,./",
        "1234567890qwertyuiopasdfghjklzxcvbnm",
        "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]",
        "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
        "qazwsxedcrfvtgbyhnujmikolp",
        "1q2w3e4r5t6y7u8i9o0p",
    ];
    s.chars().count() > 2
        && WALKS
            .iter()
            .any(|walk| walk.contains(s) || walk.chars().rev().collect::<String>().contains(s))
}

/// What people put around a word: a few digits, a year, a run or repeat of digits, and at
/// most two other symbols (`1234`, `2024!`, `123456789`, ` 00000`).
fn trivial_affix(affix: &str) -> bool {
    let (digits, others): (Vec<char>, Vec<char>) = affix.chars().partition(char::is_ascii_digit);
    (others.len() <= 2 || repeats(&others)) && (digits.len() <= 4 || repeats(&digits) || sequence(&digits))
}

/// The password with the common substitutions undone (`p@ssw0rd` → `password`); `1` is tried
/// as both `i` and `l`.
fn unleet(s: &str) -> [String; 2] {
    let map = |one: char| {
        s.chars()
            .map(|c| match c {
                '@' | '4' => 'a',
                '0' => 'o',
                '3' => 'e',
                '$' | '5' => 's',
                '7' | '+' => 't',
                '!' => 'i',
                '1' => one,
                c => c,
            })
            .collect()
    };
    [map('i'), map('l')]
}

/// Whether `s` (lower case) is a common password, a pattern, or a common password with a
/// trivial prefix or suffix (`password1234`, `iloveyou1234`, `2024sunshine!`, `P@ssw0rd99`).
fn guessable(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() || repeats(&chars) || sequence(&chars) || keyboard_walk(s) {
        return true;
    }
    let list = common();
    if list.contains(s) {
        return true;
    }
    // The word in the middle: everything between a leading and a trailing run of non-letters.
    let start = s.find(char::is_alphabetic).unwrap_or(s.len());
    let end = s
        .char_indices()
        .rfind(|(_, c)| c.is_alphabetic())
        .map_or(start, |(i, c)| i + c.len_utf8());
    let (prefix, word, suffix) = (&s[..start], &s[start..end], &s[end..]);
    if word.is_empty() {
        // Digits and symbols only: a pattern or on the list (both checked above), or neither.
        return false;
    }
    let word_chars: Vec<char> = word.chars().collect();
    let affixes_trivial = trivial_affix(prefix) && trivial_affix(suffix);
    if affixes_trivial && (list.contains(word) || repeats(&word_chars) || sequence(&word_chars) || keyboard_walk(word))
    {
        return true;
    }
    // The whole password and its middle word with substitutions undone.
    unleet(s).iter().any(|u| list.contains(u.as_str()))
        || (affixes_trivial && unleet(word).iter().any(|u| list.contains(u.as_str())))
}

/// The words of the account's context worth refusing: the product's name, and the parts of
/// the email address before the `@` and of the display name (3 characters or more), alone and
/// run together, longest first.
fn context_words(context: &[&str]) -> Vec<String> {
    let mut words = vec!["iip".to_owned()];
    for item in context {
        let item = item.trim().to_lowercase();
        let item = item.split_once('@').map_or(item.as_str(), |(local, _)| local);
        let parts: Vec<&str> = item
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        words.push(parts.concat());
        words.extend(parts.iter().map(|p| (*p).to_owned()));
    }
    words.retain(|w| w.chars().count() >= 3);
    words.sort();
    words.dedup();
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words
}

/// Whether the password is guessable once the context words are taken out of it: what is
/// left (letters and digits only) is short (under 8) or itself guessable.
fn from_context(lower: &str, context: &[&str]) -> bool {
    let words = context_words(context);
    let squeezed: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if !words.iter().any(|w| squeezed.contains(w.as_str())) {
        return false;
    }
    let mut rest = squeezed;
    for w in &words {
        rest = rest.replace(w.as_str(), "");
    }
    rest.chars().count() < 8 || guessable(&rest)
}

/// Checks a new password: 12 to 256 characters, not common or a pattern (compared in lower
/// case), and not made from the product's name or from `context` (the account's email
/// address and display name, where known).
pub fn check_password(password: &str, context: &[&str]) -> Result<(), PasswordError> {
    let length = password.chars().count();
    if length < 12 {
        return Err(PasswordError::TooShort);
    }
    if length > 256 {
        return Err(PasswordError::TooLong);
    }
    let lower = password.to_lowercase();
    if guessable(&lower) || guessable(lower.trim()) || from_context(&lower, context) {
        return Err(PasswordError::TooCommon);
    }
    Ok(())
}

/// Hashes a new password after [`check_password`] with no account context (only the
/// product's name): length and guessability, not composition (NIST 800-63B).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    hash_password_for(password, &[])
}

/// Hashes a new password of an account after [`check_password`] with its `context` (its
/// email address and display name).
pub fn hash_password_for(password: &str, context: &[&str]) -> Result<String, PasswordError> {
    check_password(password, context)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hashing)
}

/// Whether `password` matches the stored PHC string; a malformed hash never matches.
pub fn verify_password(stored: &str, password: &str) -> bool {
    if password.len() > 1024 {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Verifies against the stored hash, or, for an account that does not exist, against a hash
/// of a random password nobody knows: both cost the same, so timing does not reveal which
/// accounts exist.
pub fn verify_or_decoy(stored: Option<&str>, password: &str) -> bool {
    static DECOY: OnceLock<String> = OnceLock::new();
    match stored {
        Some(hash) => verify_password(hash, password),
        None => {
            let decoy = DECOY.get_or_init(|| {
                let secret = crate::random_token().map_or_else(|| "decoy password".repeat(2), |t| t.secret);
                hash_password(&secret).unwrap_or_default()
            });
            let _ = verify_password(decoy, password);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash_password("correct horse battery").expect("hash");
        let b = hash_password("correct horse battery").expect("hash");
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt each time");
        assert!(verify_password(&a, "correct horse battery"));
        assert!(!verify_password(&a, "correct horse battery!"));
        assert!(!verify_password("not a hash", "correct horse battery"));
        assert!(!verify_or_decoy(None, "anything at all"));
        assert!(verify_or_decoy(Some(&a), "correct horse battery"));
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert_eq!(hash_password(&"x".repeat(257)), Err(PasswordError::TooLong));
    }

    #[test]
    fn the_bundled_list_is_the_top_ten_thousand_in_lower_case() {
        let list = common();
        assert_eq!(list.len(), 10_000);
        for top in ["123456", "password", "qwerty", "iloveyou", "trustno1", "sunshine"] {
            assert!(list.contains(top), "{top}");
        }
        assert!(list.iter().all(|p| *p == p.to_lowercase() && !p.starts_with('#')));
    }

    #[test]
    fn common_passwords_patterns_and_their_variants_are_refused() {
        for weak in [
            // The battery's four, and their case variants.
            "password1234",
            "123456789012",
            "aaaaaaaaaaaa",
            "iloveyou1234",
            "PASSWORD1234",
            "ILoveYou1234",
            // On the list as they are (12 characters or more).
            "qwerty123456",
            "1qaz2wsx3edc",
            "leavemealone",
            // A list word with digits, a year, a run, symbols around it.
            "sunshine2024",
            "Football1234!",
            "2024!princess",
            "monkey123456",
            "dragon 123456789",
            "P@ssw0rd1234",
            "p@ssw0rd!234",
            // Patterns.
            "zzzzzzzzzzzzzzzz",
            "abcabcabcabc",
            "121212121212",
            "abcdefghijklmn",
            "987654321098",
            "qwertyuiopasdf",
            "poiuytrewq1234",
            "asdfghjkl;'zxcv",
            "1qaz2wsx3edc4rfv5tgb",
            "  aaaaaaaaaaaaaaa  ",
        ] {
            assert_eq!(check_password(weak, &[]), Err(PasswordError::TooCommon), "{weak}");
            assert_eq!(hash_password(weak), Err(PasswordError::TooCommon), "{weak}");
        }
    }

    #[test]
    fn passwords_made_from_the_product_or_the_account_are_refused() {
        let context = ["Ana.Garcia@school.example.org", "Ana María García"];
        for weak in [
            "iip123456789",
            "IIP-password-1",
            "iipiipiipiip",
            "iip sunshine 2024",
            "anagarcia1985",
            "Ana.Garcia.2024!",
            "garcia-password",
            "maría12345678",
            "garciagarciagarcia",
        ] {
            assert_eq!(check_password(weak, &context), Err(PasswordError::TooCommon), "{weak}");
        }
        assert_eq!(check_password("iip123456789", &[]), Err(PasswordError::TooCommon));
        // Without the account's context, its name alone is not a common password.
        assert_eq!(check_password("anagarcia1985", &[]), Ok(()));
        // A passphrase that merely contains a short name is fine.
        assert_eq!(check_password("bananas ripen on the windowsill", &context), Ok(()));
        assert_eq!(check_password("garcia grows tomatoes by the river", &context), Ok(()));
    }

    #[test]
    fn ordinary_passphrases_and_random_passwords_pass() {
        for fine in [
            "correct horse battery",
            "a long test password",
            "a long chosen passphrase",
            "bench password long enough",
            "Tr0ub4dor&3xK!q",
            "582039184720",
            "violet kettle on a monday",
            "horse-staple-lantern",
            "p4ssword-but-longer-still",
        ] {
            assert_eq!(
                check_password(fine, &["new@battery.test", "New Colleague"]),
                Ok(()),
                "{fine}"
            );
        }
        // Random tokens, as the product generates them, always pass.
        for _ in 0..200 {
            let secret = crate::random_token().expect("randomness").secret;
            assert_eq!(check_password(&secret, &[]), Ok(()), "{secret}");
            assert_eq!(check_password(&secret[..24], &[]), Ok(()), "{secret}");
        }
        // Still at least 12 characters, however uncommon.
        assert_eq!(check_password("xq7#vb2!kp9", &[]), Err(PasswordError::TooShort));
    }
}

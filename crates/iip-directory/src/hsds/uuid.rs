//! Deterministic HSDS ids. HSDS 3 gives every object a UUID; ours are name-based (version 5,
//! RFC 9562) under an IIP namespace, so a record exports under the same id every time and a
//! directory that re-imports our export replaces its copy instead of adding a second one.

use sha1::{Digest, Sha1};

/// The IIP namespace: `uuid5(NAMESPACE_URL, "urn:iip:hsds")` = 329c3c92-f3e3-5f06-aba4-a9e78e28749f.
const IIP_NAMESPACE: [u8; 16] = [
    0x32, 0x9c, 0x3c, 0x92, 0xf3, 0xe3, 0x5f, 0x06, 0xab, 0xa4, 0xa9, 0xe7, 0x8e, 0x28, 0x74, 0x9f,
];

/// The HSDS id of our record of `kind` (an HSDS table name) named `key`. Keys join our ids with
/// `/`, which ids never contain, so different records never share a name.
pub fn hsds_id(kind: &str, key: &str) -> String {
    uuid_v5(&IIP_NAMESPACE, &format!("{kind}:{key}"))
}

/// A version 5 UUID of `name` in `namespace`, in its lower-case hyphenated form.
pub fn uuid_v5(namespace: &[u8; 16], name: &str) -> String {
    let digest = Sha1::new()
        .chain_update(namespace)
        .chain_update(name.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    for (byte, hashed) in bytes.iter_mut().zip(digest.iter()) {
        *byte = *hashed;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 9562 variant
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMESPACE_DNS: [u8; 16] = [
        0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
    ];

    #[test]
    fn matches_the_rfc_algorithm() {
        // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org")
        assert_eq!(
            uuid_v5(&NAMESPACE_DNS, "python.org"),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
        // Python: uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "urn:iip:hsds"), "organization:org1")
        assert_eq!(hsds_id("organization", "org1"), "3ba4f977-ea8a-5358-bc2b-369211b7a2ec");
    }

    #[test]
    fn kinds_keep_ids_apart() {
        assert_ne!(hsds_id("service", "a"), hsds_id("location", "a"));
    }
}

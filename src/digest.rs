//! Stable digests (FNV-1a, 64 bit) for keys, tags and version stamps: the same across processes and versions
//! (unlike std's hasher), and short.

/// FNV-1a, 64 bit, of the parts separated by a zero byte: stable across processes and versions (unlike std's
/// hasher), short enough for a key or a tag.
pub fn fnv64(parts: &[&str]) -> String {
    let bytes = parts.iter().enumerate().flat_map(|(i, part)| (i > 0).then_some(0u8).into_iter().chain(part.bytes()));
    format!("{:016x}", fnv1a(bytes))
}

/// FNV-1a, 64 bit, of `bytes`.
pub fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_the_published_fnv1a_64_and_parts_are_split_by_a_zero_byte() {
        assert_eq!(fnv1a(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(*b"a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a's published vector");
        assert_eq!(fnv64(&["a"]), "af63dc4c8601ec8c");
        assert_eq!(fnv64(&["a", "b"]), format!("{:016x}", fnv1a(*b"a\0b")));
        assert_ne!(fnv64(&["ab"]), fnv64(&["a", "b"]));
    }

    #[test]
    fn fnv64_is_the_published_fnv1a() {
        // Reference values of FNV-1a 64 (the empty string is the offset basis).
        assert_eq!(fnv64(&[""]), "cbf29ce484222325");
        assert_eq!(fnv64(&["a"]), "af63dc4c8601ec8c");
        assert_eq!(fnv64(&["foobar"]), "85944171f73967e8");
    }
}

//! LEB128 unsigned varints, decoded with the same overflow rules as Go's
//! `encoding/binary` so that malformed input fails at the same place.

/// Longest valid encoding of a u64.
pub const MAX_VARINT_LEN: usize = 10;

/// Why a varint could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarintError {
    /// The buffer ended inside the varint (or was empty).
    Truncated,
    /// More than 64 bits of payload.
    Overflow,
}

impl std::fmt::Display for VarintError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarintError::Truncated => f.write_str("unexpected end of data inside a varint"),
            VarintError::Overflow => f.write_str("varint overflows a 64-bit integer"),
        }
    }
}

/// Decodes a uvarint from the front of `buf`, returning the value and its length.
#[inline]
pub fn uvarint(buf: &[u8]) -> Result<(u64, usize), VarintError> {
    // Fast path: one byte, by far the most common case in traces.
    if let Some(&b) = buf.first() {
        if b < 0x80 {
            return Ok((b as u64, 1));
        }
    }
    let mut x: u64 = 0;
    let mut s: u32 = 0;
    for (i, &b) in buf.iter().enumerate() {
        if i == MAX_VARINT_LEN {
            return Err(VarintError::Overflow);
        }
        if b < 0x80 {
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(VarintError::Overflow);
            }
            return Ok((x | (b as u64) << s, i + 1));
        }
        x |= ((b & 0x7f) as u64) << s;
        s += 7;
    }
    Err(VarintError::Truncated)
}

/// Appends the canonical (shortest) encoding of `v`.
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Length of the canonical encoding of `v`.
pub fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_boundaries() {
        for v in [
            0,
            1,
            127,
            128,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v));
            assert_eq!(uvarint(&b), Ok((v, b.len())));
        }
    }

    #[test]
    fn rejects_what_go_rejects() {
        assert_eq!(uvarint(&[]), Err(VarintError::Truncated));
        assert_eq!(uvarint(&[0x80, 0x80]), Err(VarintError::Truncated));
        // Ten bytes whose last carries more than one bit.
        assert_eq!(
            uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            Err(VarintError::Overflow)
        );
        assert_eq!(uvarint(&[0x80; 11]), Err(VarintError::Overflow));
        // Padded encodings (the runtime pads some fields) are accepted.
        assert_eq!(uvarint(&[0x81, 0x80, 0x00]), Ok((1, 3)));
    }
}

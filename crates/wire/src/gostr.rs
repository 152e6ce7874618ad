//! Go's `strconv.Quote` and `strconv.Unquote`, over bytes.
//!
//! The reference prints strings from traces with `%q`; to match its output
//! byte for byte we must escape exactly what it escapes.

/// Appends `s` quoted the way Go's `strconv.Quote(string(s))` does.
pub fn quote_into(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    // Fast path: most strings are printable ASCII with nothing to escape.
    if s.iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    {
        out.extend_from_slice(s);
        out.push(b'"');
        return;
    }
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b < 0x80 {
            quote_ascii(out, b);
            i += 1;
            continue;
        }
        match decode_utf8(&s[i..]) {
            Some((c, n)) => {
                if is_print(c) {
                    out.extend_from_slice(&s[i..i + n]);
                } else if (c as u32) < 0x10000 {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
                } else {
                    out.extend_from_slice(format!("\\U{:08x}", c as u32).as_bytes());
                }
                i += n;
            }
            None => {
                out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
                i += 1;
            }
        }
    }
    out.push(b'"');
}

/// `strconv.Quote` as a `String`.
pub fn quote(s: &[u8]) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    // Quoting only emits ASCII escapes and complete UTF-8 sequences.
    String::from_utf8(out).expect("quoted output is UTF-8")
}

fn quote_ascii(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x20..=0x7e => out.push(b),
        0x07 => out.extend_from_slice(b"\\a"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x0b => out.extend_from_slice(b"\\v"),
        _ => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
    }
}

/// Decodes one UTF-8 sequence with Go's rules (no surrogates, no overlongs).
fn decode_utf8(s: &[u8]) -> Option<(char, usize)> {
    let n = match s[0] {
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let chunk = s.get(..n)?;
    let st = std::str::from_utf8(chunk).ok()?;
    st.chars().next().map(|c| (c, n))
}

/// Approximates Go's `unicode.IsPrint` outside ASCII: letters, marks,
/// numbers, punctuation and symbols print; separators, format and private-use
/// characters and noncharacters are escaped.
fn is_print(c: char) -> bool {
    let u = c as u32;
    if c.is_control() {
        return false;
    }
    if c.is_whitespace() {
        return false; // Zs/Zl/Zp other than U+0020 (which is ASCII).
    }
    !matches!(u,
        0x00ad | 0x0600..=0x0605 | 0x061c | 0x06dd | 0x070f | 0x0890..=0x0891 | 0x08e2 | 0x180e
        | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb
        | 0x110bd | 0x110cd | 0x13430..=0x1343f | 0x1bca0..=0x1bca3 | 0x1d173..=0x1d17a
        | 0xe0001 | 0xe0020..=0xe007f
        | 0xe000..=0xf8ff | 0xf0000..=0x10ffff
        | 0xfdd0..=0xfdef)
        && (u & 0xfffe) != 0xfffe
}

/// Go's `strconv.Unquote` for double-quoted and back-quoted strings.
pub fn unquote(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    if b.len() < 2 {
        return Err("invalid syntax".into());
    }
    let (q, last) = (b[0], b[b.len() - 1]);
    if q != last {
        return Err("invalid syntax".into());
    }
    let body = &b[1..b.len() - 1];
    match q {
        b'`' => {
            if body.contains(&b'`') {
                return Err("invalid syntax".into());
            }
            Ok(body.iter().copied().filter(|&c| c != b'\r').collect())
        }
        b'"' => unquote_double(body),
        _ => Err("invalid syntax".into()),
    }
}

fn unquote_double(body: &[u8]) -> Result<Vec<u8>, String> {
    let bad = || "invalid syntax".to_string();
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c == b'"' || c == b'\n' {
            return Err(bad());
        }
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = *body.get(i + 1).ok_or_else(bad)?;
        i += 2;
        match e {
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'x' | b'u' | b'U' => {
                let n = match e {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = body.get(i..i + n).ok_or_else(bad)?;
                let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
                let v = u32::from_str_radix(hex, 16).map_err(|_| bad())?;
                i += n;
                if e == b'x' {
                    out.push(v as u8);
                } else {
                    let ch = char::from_u32(v).ok_or_else(bad)?;
                    let mut tmp = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                }
            }
            b'0'..=b'7' => {
                let oct = body.get(i - 1..i + 2).ok_or_else(bad)?;
                let oct = std::str::from_utf8(oct).map_err(|_| bad())?;
                let v = u32::from_str_radix(oct, 8).map_err(|_| bad())?;
                if v > 255 {
                    return Err(bad());
                }
                out.push(v as u8);
                i += 2;
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_go() {
        assert_eq!(quote(b"hello"), r#""hello""#);
        assert_eq!(quote(b"a\"b\\c\n\t\x00\x7f"), r#""a\"b\\c\n\t\x00\x7f""#);
        assert_eq!(quote("héllo ☺".as_bytes()), "\"héllo ☺\"");
        assert_eq!(quote(b"\xff\xfe"), r#""\xff\xfe""#);
        assert_eq!(quote("\u{200b}".as_bytes()), r#""\u200b""#);
        assert_eq!(quote("\u{e0001}".as_bytes()), r#""\U000e0001""#);
    }

    #[test]
    fn unquote_inverts_quote() {
        for s in [
            &b"hello world\x00"[..],
            b"\xff",
            "☺\n".as_bytes(),
            b"\\\"",
            b"",
        ] {
            assert_eq!(unquote(&quote(s)).unwrap(), s);
        }
        assert_eq!(unquote(r#""\101\x41\u0041""#).unwrap(), b"AAA");
        assert!(unquote(r#""abc"#).is_err());
        assert!(unquote(r#""\q""#).is_err());
    }
}

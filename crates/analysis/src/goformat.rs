//! Go's text formats where the reference's pages depend on them: durations
//! (`time.Duration.String`, `time.ParseDuration`, `Duration.Seconds`),
//! `%q` quoting (`strconv.Quote`), `%v` of a float64, and URL query
//! encoding (`url.QueryEscape`, `url.ParseQuery`, `url.Values.Encode`).
//!
//! Durations are nanoseconds as `i64`, like Go's `time.Duration`.

use std::fmt::Write as _;

/// Nanoseconds per second.
const SECOND: u64 = 1_000_000_000;

/// `time.Duration.String()`: `0s`, `832ns`, `14.464µs` (U+00B5),
/// `279.87328ms`, `1.5s`, `1m0.25s`, `2h0m0s`; trailing zeros of the
/// fraction dropped, `-` for negative durations.
///
/// ```
/// use gotrace_analysis::goformat::duration_string;
/// assert_eq!(duration_string(0), "0s");
/// assert_eq!(duration_string(14_464), "14.464µs");
/// assert_eq!(duration_string(3_723_000_000_000), "1h2m3s");
/// ```
pub fn duration_string(ns: i64) -> String {
    let neg = ns < 0;
    let mut u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        if u == 0 {
            return "0s".into();
        }
        let (prec, unit) = if u < 1_000 {
            (0, "ns")
        } else if u < 1_000_000 {
            (3, "µs")
        } else {
            (6, "ms")
        };
        let (frac, rest) = frac(u, prec);
        out = format!("{rest}{frac}{unit}");
    } else {
        let (f, secs) = frac(u, 9);
        u = secs;
        out.push_str(&format!("{}{f}s", u % 60));
        u /= 60;
        if u > 0 {
            out = format!("{}m{out}", u % 60);
            u /= 60;
            if u > 0 {
                out = format!("{u}h{out}");
            }
        }
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// Splits off `prec` decimal digits: (".digits" without trailing zeros, or
/// "" if they are all zero; the remaining integer).
fn frac(v: u64, prec: u32) -> (String, u64) {
    let p = 10u64.pow(prec);
    let f = v % p;
    if f == 0 {
        return (String::new(), v / p);
    }
    let digits = format!("{f:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / p)
}

/// `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` with units `ns`,
/// `us`, `µs` (U+00B5), `μs` (U+03BC), `ms`, `s`, `m`, `h`; `"0"` alone is
/// zero. Errors carry Go's message (`time: invalid duration "x"`).
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let err = |msg: &str| Err(format!("time: {msg} {}", quote(orig.as_bytes())));
    let mut s = orig.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first() {
        if c == b'-' || c == b'+' {
            neg = c == b'-';
            s = &s[1..];
        }
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return err("invalid duration");
    }
    const LIMIT: u64 = 1 << 63;
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return err("invalid duration");
        }
        // Integer part; overflow is an error.
        let mut v: u64 = 0;
        let mut i = 0;
        while i < s.len() && s[i].is_ascii_digit() {
            if v > LIMIT / 10 {
                return err("invalid duration");
            }
            v = v * 10 + u64::from(s[i] - b'0');
            if v > LIMIT {
                return err("invalid duration");
            }
            i += 1;
        }
        let pre = i > 0;
        s = &s[i..];
        // Fraction; extra digits beyond u64 precision are ignored.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let mut i = 0;
            let mut overflow = false;
            while i < s.len() && s[i].is_ascii_digit() {
                if !overflow {
                    if f > (LIMIT - 1) / 10 {
                        overflow = true;
                    } else {
                        let y = f * 10 + u64::from(s[i] - b'0');
                        if y > LIMIT {
                            overflow = true;
                        } else {
                            f = y;
                            scale *= 10.0;
                        }
                    }
                }
                i += 1;
            }
            post = i > 0;
            s = &s[i..];
        }
        if !pre && !post {
            return err("invalid duration");
        }
        let i = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if i == 0 {
            return err("missing unit in duration");
        }
        let unit: u64 = match &s[..i] {
            b"ns" => 1,
            b"us" | b"\xc2\xb5s" | b"\xce\xbcs" => 1_000, // us, µs (U+00B5), μs (U+03BC)
            b"ms" => 1_000_000,
            b"s" => SECOND,
            b"m" => 60 * SECOND,
            b"h" => 3600 * SECOND,
            u => return err(&format!("unknown unit {} in duration", quote(u))),
        };
        s = &s[i..];
        if v > LIMIT / unit {
            return err("invalid duration");
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return err("invalid duration");
            }
        }
        d += v;
        if d > LIMIT {
            return err("invalid duration");
        }
    }
    if neg {
        return Ok((d as i64).wrapping_neg());
    }
    if d > LIMIT - 1 {
        return err("invalid duration");
    }
    Ok(d as i64)
}

/// `time.Duration.Seconds()`: whole seconds plus the nanoseconds / 1e9, as
/// Go computes it (not `d as f64 / 1e9`, which can differ in the last bit).
pub fn seconds(d: i64) -> f64 {
    let (sec, nsec) = (d / SECOND as i64, d % SECOND as i64);
    sec as f64 + nsec as f64 / 1e9
}

/// `strconv.Quote` (what `%q` prints for a string): double quotes, `\"`
/// and `\\`, `\a \b \f \n \r \t \v`, `\xNN` for other ASCII controls and
/// for bytes that are not valid UTF-8, `\uNNNN` / `\UNNNNNNNN` for
/// non-printable runes.
///
/// Printability of non-ASCII runes approximates Go's `unicode.IsPrint`
/// (letters, marks, numbers, punctuation, symbols): control, format,
/// separator, private-use and noncharacter code points are escaped; other
/// assigned-looking runes are printed as is.
pub fn quote(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut rest = s;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(v) => (v, &[][..]),
            Err(e) => {
                let (v, b) = rest.split_at(e.valid_up_to());
                (std::str::from_utf8(v).unwrap_or(""), b)
            }
        };
        for c in valid.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\x07' => out.push_str("\\a"),
                '\x08' => out.push_str("\\b"),
                '\x0c' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0b' => out.push_str("\\v"),
                ' '..='~' => out.push(c),
                c if (c as u32) < 0x80 => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c if is_print(c) => out.push(c),
                c if (c as u32) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
        }
        if bad.is_empty() {
            break;
        }
        let _ = write!(out, "\\x{:02x}", bad[0]);
        rest = &bad[1..];
    }
    out.push('"');
    out
}

/// Approximation of Go's `unicode.IsPrint` for non-ASCII runes.
fn is_print(c: char) -> bool {
    let u = c as u32;
    !(c.is_control()
        || c.is_whitespace()
        || matches!(u, 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x180e | 0x200b..=0x200f | 0x202a..=0x202e
            | 0x2060..=0x206f | 0xd800..=0xf8ff | 0xfdd0..=0xfdef | 0xfeff | 0xfff9..=0xfffb)
        || u & 0xfffe == 0xfffe
        || (0xe0000..=0xe007f).contains(&u)
        || u >= 0xf0000)
}

/// `%v` of a float64 (`strconv.FormatFloat(x, 'g', -1, 64)`): the shortest
/// digits that round-trip, in exponent form (`1.070156872512e+06`) iff the
/// decimal exponent is < -4 or >= 6 (Go's shortest `%g` decides with
/// precision 6), otherwise plain decimal without trailing zeros.
pub fn float_v(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` is the shortest round-trip representation.
    let e = format!("{:e}", x.abs());
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if x < 0.0 {
        out.push('-');
    }
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let dp = exp as usize + 1;
        if digits.len() <= dp {
            out.push_str(&digits);
            for _ in digits.len()..dp {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..dp]);
            out.push('.');
            out.push_str(&digits[dp..]);
        }
    }
    out
}

/// `url.QueryEscape`: everything but `A-Z a-z 0-9 - _ . ~` percent-encoded
/// with upper-case hex, spaces as `+`.
pub fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `url.QueryUnescape`: `+` is a space, `%XX` a byte; a bad escape is an error.
pub fn query_unescape(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (
                    b.get(i + 1).and_then(|&c| hex(c)),
                    b.get(i + 2).and_then(|&c| hex(c)),
                ) {
                    (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                    _ => {
                        let end = (i + 3).min(b.len());
                        return Err(format!("invalid URL escape {}", quote(&b[i..end])));
                    }
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Parsed URL query parameters in the order given (`url.Values` keeps
/// every value of a key in order; `Get` returns the first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Query {
    /// `url.ParseQuery`: `&`-separated `key=value` pairs, both unescaped.
    /// Like Go, pairs that fail (a `;` in the key, a bad escape) are
    /// skipped and the first error is returned alongside the rest.
    pub fn parse(raw: &str) -> (Query, Option<String>) {
        let mut q = Query::default();
        let mut first_err = None;
        for part in raw.split('&') {
            if part.is_empty() {
                continue;
            }
            if part.contains(';') {
                first_err.get_or_insert_with(|| "invalid semicolon separator in query".to_string());
                continue;
            }
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            match (query_unescape(k), query_unescape(v)) {
                (Ok(k), Ok(v)) => q.pairs.push((k, v)),
                (Err(e), _) | (_, Err(e)) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        (q, first_err)
    }

    /// Adds a value for `key` (`url.Values.Add`).
    pub fn add(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.pairs.push((key.into(), value.into()));
    }

    /// The first value of `key`, if the key is present (`Values.Has` + `Get`).
    pub fn first(&self, key: &str) -> Option<&[u8]> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// The first value of `key` as text, `""` if absent (`Request.FormValue`).
    pub fn value(&self, key: &str) -> String {
        String::from_utf8_lossy(self.first(key).unwrap_or(b"")).into_owned()
    }

    /// `url.Values.Encode`: `k=v` pairs sorted by key (values of a key in
    /// insertion order), both query-escaped, joined by `&`.
    pub fn encode(&self) -> String {
        let mut idx: Vec<usize> = (0..self.pairs.len()).collect();
        idx.sort_by(|&a, &b| self.pairs[a].0.cmp(&self.pairs[b].0).then(a.cmp(&b)));
        let mut out = String::new();
        for i in idx {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&query_escape(&self.pairs[i].0));
            out.push('=');
            out.push_str(&query_escape(&self.pairs[i].1));
        }
        out
    }
}

/// `html/template`'s escaping of text: `& ' < > "` and NUL.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_000, "1µs"),
            (1_100, "1.1µs"),
            (14_464, "14.464µs"),
            (1_000_000, "1ms"),
            (279_873_280, "279.87328ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (60_250_000_000, "1m0.25s"),
            (7_200_000_000_000, "2h0m0s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-1_500, "-1.5µs"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (i64::MAX, "2562047h47m16.854775807s"),
        ];
        for &(d, s) in cases {
            assert_eq!(duration_string(d), s, "{d}");
            if d != i64::MIN {
                assert_eq!(parse_duration(s), Ok(d), "{s}");
            }
        }
    }

    #[test]
    fn parse_durations() {
        assert_eq!(parse_duration("1.584893ms"), Ok(1_584_893));
        assert_eq!(parse_duration("2.511µs"), Ok(2_511));
        assert_eq!(parse_duration("1.5us"), Ok(1_500));
        assert_eq!(parse_duration("1h1m"), Ok(3_660_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-0"), Ok(0));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(
            parse_duration(""),
            Err("time: invalid duration \"\"".into())
        );
        assert_eq!(
            parse_duration("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
        assert_eq!(
            parse_duration("1x"),
            Err("time: unknown unit \"x\" in duration \"1x\"".into())
        );
        assert_eq!(
            parse_duration("9223372036854775808ns"),
            Err("time: invalid duration \"9223372036854775808ns\"".into())
        );
        assert_eq!(parse_duration("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote(b"abc"), "\"abc\"");
        assert_eq!(quote(b"a\"b\\c\n\x01\x7f"), "\"a\\\"b\\\\c\\n\\x01\\x7f\"");
        assert_eq!(quote("héllo µ".as_bytes()), "\"héllo µ\"");
        assert_eq!(quote(b"\xff\xfe"), "\"\\xff\\xfe\"");
        assert_eq!(quote("\u{200b}\u{feff}".as_bytes()), "\"\\u200b\\ufeff\"");
    }

    #[test]
    fn floats() {
        for (x, s) in [
            (155.694848, "155.694848"),
            (1070156.872512, "1.070156872512e+06"),
            (0.0, "0"),
            (1.0, "1"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5, "-2.5"),
            (123456.5, "123456.5"),
        ] {
            assert_eq!(float_v(x), s);
        }
    }

    #[test]
    fn queries() {
        assert_eq!(query_escape("a b/µ".as_bytes()), "a+b%2F%C2%B5");
        let (q, e) = Query::parse("type=sleep&pc=4cf1b4&latmin=2.511%C2%B5s&type=x");
        assert!(e.is_none());
        assert_eq!(q.first("type"), Some(&b"sleep"[..]));
        assert_eq!(q.value("latmin"), "2.511µs");
        assert_eq!(q.value("nope"), "");
        let mut v = Query::default();
        v.add("type", "sleep");
        v.add("pc", "0x4cf1b4");
        assert_eq!(v.encode(), "pc=0x4cf1b4&type=sleep");
    }
}

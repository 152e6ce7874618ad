//! Quoting untrusted response text safely, and byte sizes for humans.

/// The longest text quoted from a response body, in characters.
const MAX_QUOTE: usize = 160;

/// Makes untrusted text safe to print on a terminal: control characters
/// (escape sequences included) are shown escaped, invalid UTF-8 as U+FFFD,
/// and the result is cut after about `max` characters with an ellipsis.
pub(crate) fn sanitize(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(bytes);
    let mut out = String::new();
    let mut n = 0;
    for c in s.chars() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() {
            let e: String = c.escape_default().collect();
            n += e.chars().count();
            out.push_str(&e);
        } else {
            out.push(c);
            n += 1;
        }
    }
    out
}

/// The first non-blank line of a body, trimmed, sanitized and truncated.
pub(crate) fn first_line(body: &[u8]) -> String {
    let line = body
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii())
        .find(|l| !l.is_empty())
        .unwrap_or(b"");
    sanitize(line, MAX_QUOTE)
}

/// The `<title>` of an HTML page, if the (start of the) body has one.
pub(crate) fn html_title(body: &[u8]) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let find = |h: &[u8], n: &[u8], from: usize| {
        h.get(from..)?
            .windows(n.len())
            .position(|w| w == n)
            .map(|i| i + from)
    };
    let open = find(&lower, b"<title", 0)?;
    let start = find(&lower, b">", open)? + 1;
    let end = find(&lower, b"</title", start)?;
    let t = sanitize(body[start..end].trim_ascii(), MAX_QUOTE);
    (!t.is_empty()).then_some(t)
}

/// `1.5 MiB`, `812 B`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Parses a byte size: `1000`, `64KiB`, `500MB`, `4G`, `1.5GiB` (case
/// insensitive; `K`/`M`/`G`/`T` alone mean powers of 1024, `KB`/`MB`/… powers
/// of 1000, `KiB`/`MiB`/… powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid size {s:?}: want e.g. 500MB, 2GiB or 1000000"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0f64.powi(4),
        "tb" => 1e12,
        u => return Err(format!("invalid size {s:?}: unknown unit {u:?}")),
    };
    let bytes = v * mult;
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("invalid size {s:?}"));
    }
    Ok(bytes.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_text_is_defanged_and_bounded() {
        assert_eq!(
            first_line(b"\n\n  404 page not found\nmore"),
            "404 page not found"
        );
        assert_eq!(first_line(b"\x1b[31mred\x07"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(first_line(&[0xff, b'a']), "\u{fffd}a");
        let long = first_line(&[b'x'; 1000]);
        assert_eq!(long.chars().count(), MAX_QUOTE + 1);
        assert!(long.ends_with('…'));
        assert_eq!(
            html_title(b"<html><head><TITLE>Oops \x1b </title>").as_deref(),
            Some("Oops \\u{1b}")
        );
        assert_eq!(html_title(b"<title>never closed"), None);
    }

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert_eq!(parse_size("64KiB").unwrap(), 65536);
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("1.5 gib").unwrap(), 3 << 29);
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
        assert_eq!(format_bytes(812), "812 B");
        assert_eq!(format_bytes(3 << 19), "1.5 MiB");
    }
}

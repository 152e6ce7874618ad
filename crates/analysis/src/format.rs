//! Number formatting as the reference prints it.

/// Go's `time.Duration.String`: `1.5µs`, `12.3456ms`, `1m2.5s`, `0s`.
pub fn duration(ns: i64) -> String {
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

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn formats_like_go_time_duration() {
        for (ns, want) in [
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (1_000, "1µs"),
            (1_500, "1.5µs"),
            (1_234_567, "1.234567ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (61_000_000_000, "1m1s"),
            (3_723_000_000_001, "1h2m3.000000001s"),
            (-1_500, "-1.5µs"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(duration(ns), want, "{ns}");
        }
    }
}

//! Turning what the user typed into the `/debug/pprof/trace?seconds=N` URL.

use std::time::Duration;

/// How long a capture lasts when neither the caller nor the URL says.
/// (Go's handler itself defaults to 1 s; 5 s is what Go's documentation uses.)
pub const DEFAULT_SECONDS: Duration = Duration::from_secs(5);

/// A normalized trace endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceUrl {
    /// `http://HOST[:PORT][/PREFIX]/debug/pprof/trace?[OTHER&]seconds=N`.
    pub url: String,
    /// The duration asked for (the `seconds` parameter).
    pub seconds: Duration,
    /// `HOST[:PORT]` as given.
    pub authority: String,
    /// Whether the host is a loopback name or address (no proxy is used then).
    pub loopback: bool,
}

impl TraceUrl {
    /// A file name for a capture from here, taken now:
    /// `gotrace-HOST-PORT-YYYYMMDD-HHMMSS.trace` (local time), with each run
    /// of characters other than ASCII letters, digits and `.` made one `-`.
    pub fn default_file_name(&self) -> String {
        let mut host = String::new();
        for c in self.authority.chars() {
            let c = if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            };
            if !(c == '-' && (host.is_empty() || host.ends_with('-'))) {
                host.push(c);
            }
        }
        let host = host.trim_end_matches('-');
        format!(
            "gotrace-{host}-{}.trace",
            chrono::Local::now().format("%Y%m%d-%H%M%S")
        )
    }
}

/// Normalizes `url` to the trace endpoint and decides the duration.
///
/// `url` may be a base (`http://127.0.0.1:6060`, `127.0.0.1:6060`, or with a
/// path prefix), the pprof index (`…/debug/pprof/`) or the endpoint itself
/// (`…/debug/pprof/trace?seconds=N`). The duration is `seconds` if given,
/// else the URL's `seconds=`, else [`DEFAULT_SECONDS`]. Other query
/// parameters are kept; a fragment is dropped.
pub fn trace_url(url: &str, seconds: Option<Duration>) -> Result<TraceUrl, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("empty URL".into());
    }
    if let Some(c) = url.chars().find(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!("URL contains {c:?}"));
    }
    let (scheme, rest) = match url.find("://") {
        Some(i) => (url[..i].to_ascii_lowercase(), &url[i + 3..]),
        None => ("http".to_string(), url),
    };
    match scheme.as_str() {
        "http" => {}
        "https" => {
            return Err("https is not supported: gotrace has no TLS stack; pprof endpoints are usually plain http \
                 (reach a remote one through an SSH tunnel or `kubectl port-forward`)"
                .into())
        }
        s => return Err(format!("unsupported scheme {s:?}: want http://")),
    }
    let rest = rest.split('#').next().unwrap_or("");
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    if authority.is_empty() {
        return Err("URL has no host".into());
    }
    if authority.contains('@') {
        return Err("URLs with credentials (user@host) are not supported".into());
    }
    let (path, query) = match rest[auth_end..].split_once('?') {
        Some((p, q)) => (p, q),
        None => (&rest[auth_end..], ""),
    };
    let mut path = path.trim_end_matches('/').to_string();
    if path.ends_with("/debug/pprof/trace") {
        // The endpoint itself.
    } else if path.ends_with("/debug/pprof") {
        path.push_str("/trace");
    } else {
        path.push_str("/debug/pprof/trace");
    }
    let mut url_seconds = None;
    let mut params = Vec::new();
    for p in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        if k == "seconds" {
            let s: f64 = v.parse().map_err(|_| format!("bad seconds={v:?} in URL"))?;
            url_seconds =
                Some(seconds_from_f64(s).ok_or_else(|| format!("bad seconds={v:?} in URL"))?);
        } else {
            params.push(p.to_string());
        }
    }
    let seconds = seconds.or(url_seconds).unwrap_or(DEFAULT_SECONDS);
    if seconds.is_zero() {
        return Err("the capture duration must be positive".into());
    }
    params.push(format!("seconds={}", format_seconds(seconds)));
    let url = format!("http://{authority}{path}?{}", params.join("&"));
    let host = host_of(authority);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    Ok(TraceUrl {
        url,
        seconds,
        authority: authority.to_string(),
        loopback,
    })
}

fn seconds_from_f64(s: f64) -> Option<Duration> {
    (s.is_finite() && s > 0.0 && s < 1e9).then(|| Duration::from_secs_f64(s))
}

/// `5`, `0.5`, `1.25`: what Go's `strconv.ParseFloat` reads back exactly.
fn format_seconds(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        return d.as_secs().to_string();
    }
    let s = format!("{}.{:09}", d.as_secs(), d.subsec_nanos());
    s.trim_end_matches('0').to_string()
}

/// The host part of `host[:port]` or `[v6][:port]`, without brackets.
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(u: &str, s: Option<u64>) -> String {
        trace_url(u, s.map(Duration::from_secs)).unwrap().url
    }

    #[test]
    fn bases_and_endpoints_normalize_to_the_trace_endpoint() {
        let want = "http://127.0.0.1:6060/debug/pprof/trace?seconds=3";
        for u in [
            "http://127.0.0.1:6060",
            "http://127.0.0.1:6060/",
            "127.0.0.1:6060",
            "HTTP://127.0.0.1:6060/debug/pprof",
            "http://127.0.0.1:6060/debug/pprof/",
            "http://127.0.0.1:6060/debug/pprof/trace",
            "http://127.0.0.1:6060/debug/pprof/trace?seconds=9",
            "http://127.0.0.1:6060/debug/pprof/trace/?seconds=9#frag",
        ] {
            assert_eq!(n(u, Some(3)), want, "{u}");
        }
        assert_eq!(
            n("http://h:1/app", Some(1)),
            "http://h:1/app/debug/pprof/trace?seconds=1"
        );
        assert_eq!(
            n("http://h:1/debug/pprof/trace?a=b&seconds=2&c", None),
            "http://h:1/debug/pprof/trace?a=b&c&seconds=2"
        );
    }

    #[test]
    fn the_duration_comes_from_the_caller_then_the_url_then_the_default() {
        let t = trace_url("http://h/debug/pprof/trace?seconds=0.25", None).unwrap();
        assert_eq!(t.seconds, Duration::from_millis(250));
        assert!(t.url.ends_with("?seconds=0.25"), "{}", t.url);
        assert_eq!(
            trace_url("http://h", None).unwrap().seconds,
            DEFAULT_SECONDS
        );
        assert_eq!(
            trace_url("http://h?seconds=7", Some(Duration::from_secs(2)))
                .unwrap()
                .seconds,
            Duration::from_secs(2)
        );
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        assert!(trace_url("https://h", None).unwrap_err().contains("TLS"));
        assert!(trace_url("ftp://h", None).unwrap_err().contains("scheme"));
        assert!(trace_url("http://", None).is_err());
        assert!(trace_url("http://h/?seconds=abc", None).is_err());
        assert!(trace_url("http://h/?seconds=-1", None).is_err());
        assert!(trace_url("http://a b", None).is_err());
        assert!(trace_url("http://u:p@h", None).is_err());
        assert!(trace_url("http://h", Some(Duration::ZERO)).is_err());
    }

    #[test]
    fn default_file_names_are_tame() {
        let n = trace_url("http://[::1]:6060", None)
            .unwrap()
            .default_file_name();
        assert!(
            n.starts_with("gotrace-1-6060-") && n.ends_with(".trace"),
            "{n}"
        );
        assert!(
            n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
            "{n}"
        );
    }

    #[test]
    fn loopback_hosts_are_recognized() {
        for (u, lo) in [
            ("http://127.0.0.1:1", true),
            ("localhost:6060", true),
            ("http://[::1]:80", true),
            ("http://10.0.0.1", false),
            ("example.com", false),
        ] {
            assert_eq!(trace_url(u, None).unwrap().loopback, lo, "{u}");
        }
    }
}

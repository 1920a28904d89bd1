//! Parsers for the time values providers put in rate-limit headers. None of them panics: a
//! value they cannot read is `None`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses a Go duration as OpenAI sends in `x-ratelimit-reset-*`: `"6m0s"`, `"1s"`, `"20ms"`,
/// `"1h2m3.5s"`, `"0"`. Units: `h`, `m`, `s`, `ms`, `us`/`µs`, `ns`.
///
/// ```
/// use elf_resilience_monitor::parse_go_duration;
/// use std::time::Duration;
///
/// assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
/// assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
/// assert_eq!(parse_go_duration("soon"), None);
/// ```
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        total += value * unit_seconds(&rest[..unit_len])?;
        rest = &rest[unit_len..];
    }
    (!s.is_empty()).then(|| Duration::try_from_secs_f64(total).ok()).flatten()
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "h" => 3600.0,
        "m" => 60.0,
        "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" | "μs" => 1e-6,
        "ns" => 1e-9,
        _ => return None,
    })
}

/// Parses an RFC 3339 timestamp as Anthropic sends in `anthropic-ratelimit-*-reset`:
/// `"2025-01-01T00:00:30Z"`, with optional fraction and a `Z` or `±hh:mm` offset.
///
/// ```
/// use elf_resilience_monitor::parse_rfc3339;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let t = parse_rfc3339("1970-01-02T00:00:01.5+01:00").unwrap();
/// assert_eq!(t, UNIX_EPOCH + Duration::from_millis(86_400_000 + 1_500 - 3_600_000));
/// ```
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.trim().as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, min, sec) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let (nanos, tz_at) = fraction(b, 19)?;
    let offset = offset_seconds(&b[tz_at..])?;
    let days = days_from_civil(year as i64, month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + min * 60 + sec) - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    let slice = b.get(at..at + len)?;
    slice.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// Reads an optional `.fff` at `at`: the nanoseconds and where the offset starts.
fn fraction(b: &[u8], at: usize) -> Option<(u32, usize)> {
    if b.get(at) != Some(&b'.') {
        return Some((0, at));
    }
    let len = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let nanos = b[at + 1..at + 1 + len.min(9)].iter().fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
    Some((nanos * 10u32.pow(9 - len.min(9) as u32), at + 1 + len))
}

fn offset_seconds(tz: &[u8]) -> Option<i64> {
    match tz {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (digits(tz, 1, 2)?, digits(tz, 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = i64::from(h * 3600 + m * 60);
            Some(if *sign == b'-' { -secs } else { secs })
        }
        _ => None,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a `Retry-After` value, delay-seconds (`"30"`, also `"1.5"`) or an HTTP-date, into the
/// wait from `now`. A date in the past gives zero.
///
/// ```
/// use elf_resilience_monitor::parse_retry_after;
/// use std::time::{Duration, UNIX_EPOCH};
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470);
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::try_from_secs_f64(secs).ok()).flatten();
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a millisecond count (`retry-after-ms`).
pub(crate) fn parse_millis(value: &str) -> Option<Duration> {
    let ms: f64 = value.trim().parse().ok()?;
    (ms.is_finite() && ms >= 0.0).then(|| Duration::try_from_secs_f64(ms / 1000.0).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn go_durations_as_openai_sends_them() {
        assert_eq!(parse_go_duration("1s"), Some(Duration::from_secs(1)));
        assert_eq!(parse_go_duration("1h2m3.5s"), Some(Duration::from_millis(3_723_500)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("17.28s"), Some(Duration::from_millis(17_280)));
        for bad in ["", "s", "5", "5x", "-1s", "1..2s", "1s2"] {
            assert_eq!(parse_go_duration(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rfc3339_rejects_what_is_not_a_date() {
        assert_eq!(
            parse_rfc3339("2024-02-29T12:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_709_208_000))
        );
        for bad in [
            "",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "x024-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_never_goes_negative() {
        let now = UNIX_EPOCH + Duration::from_secs(1_445_412_500);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_millis("250"), Some(Duration::from_millis(250)));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,40}") {
            let _ = parse_go_duration(&s);
            let _ = parse_rfc3339(&s);
            let _ = parse_retry_after(&s, UNIX_EPOCH);
            let _ = parse_millis(&s);
        }

        #[test]
        fn go_durations_round_trip(h in 0u64..100, m in 0u64..60, s in 0u64..60, ms in 0u64..1000) {
            let text = format!("{h}h{m}m{s}s{ms}ms");
            let expected = Duration::from_millis(((h * 60 + m) * 60 + s) * 1000 + ms);
            let got = parse_go_duration(&text).unwrap();
            prop_assert!(got.abs_diff(expected) < Duration::from_micros(1), "{text}: {got:?}");
        }

        #[test]
        fn rfc3339_agrees_with_http_dates(secs in 0u64..4_000_000_000) {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            let http = httpdate::fmt_http_date(t);
            prop_assert_eq!(httpdate::parse_http_date(&http).ok(), Some(t));
            let days = secs / 86_400;
            let (y, mo, d) = civil(days as i64);
            let rem = secs % 86_400;
            let text = format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem / 60 % 60, rem % 60);
            prop_assert_eq!(parse_rfc3339(&text), Some(t));
        }
    }

    fn civil(z: i64) -> (i64, u32, u32) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }
}

//! `--since` / `--until` values: absolute times, `today`, `yesterday`, a duration back from
//! the end of the log (`1h`, `30m`, `2d`), or back from now (`now-1h`); and `--day` values
//! (`today`, `yesterday`, `YYYY-MM-DD`), a whole day of the log's clock.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

/// A time argument before the log's end is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeArg {
    At(NaiveDateTime),
    /// This long before the last line of the log.
    BeforeLogEnd(Duration),
}

/// The longest duration accepted: a hundred years back is further than any mail log goes, and
/// the bound keeps every `time - duration` inside the calendar (no overflow, no panic).
const MAX_DURATION_DAYS: i64 = 36_525;

fn duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit())?);
    let n: i64 = num.parse().ok()?;
    let d = match unit {
        "s" | "sec" | "secs" => Duration::try_seconds(n),
        "m" | "min" | "mins" => Duration::try_minutes(n),
        "h" | "hour" | "hours" => Duration::try_hours(n),
        "d" | "day" | "days" => Duration::try_days(n),
        "w" | "week" | "weeks" => Duration::try_weeks(n),
        _ => None,
    }?;
    (d <= Duration::days(MAX_DURATION_DAYS)).then_some(d)
}

fn bad_duration(s: &str) -> String {
    format!("invalid duration '{s}': use a number and s, m, h, d or w, at most 100 years")
}

/// Parses a time argument; `now` is the local wall-clock time.
pub fn parse(s: &str, now: NaiveDateTime) -> Result<TimeArg, String> {
    let s = s.trim();
    let midnight = |d: NaiveDate| d.and_time(NaiveTime::MIN);
    match s {
        "today" => return Ok(TimeArg::At(midnight(now.date()))),
        "yesterday" => {
            return Ok(TimeArg::At(midnight(
                now.date().pred_opt().ok_or("date out of range")?,
            )));
        }
        "now" => return Ok(TimeArg::At(now)),
        _ => {}
    }
    if let Some(rest) = s.strip_prefix("now-") {
        let d = duration(rest).ok_or_else(|| bad_duration(rest))?;
        return now
            .checked_sub_signed(d)
            .map(TimeArg::At)
            .ok_or_else(|| bad_duration(rest));
    }
    if let Some(d) = duration(s) {
        return Ok(TimeArg::BeforeLogEnd(d));
    }
    if s.starts_with(|c: char| c.is_ascii_digit())
        && s.ends_with(|c: char| c.is_ascii_alphabetic())
        && !s.contains(['-', ':'])
    {
        return Err(bad_duration(s));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(TimeArg::At(t));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(TimeArg::At(midnight(d)));
    }
    Err(format!(
        "invalid time '{s}': use YYYY-MM-DD[ HH:MM[:SS]], today, yesterday, a duration such as 1h or 30m (back from the end of the log), or now-1h"
    ))
}

/// Parses a `--day` value: `today`, `yesterday` (of `now`, the local wall-clock time) or a
/// date `YYYY-MM-DD`.
pub fn parse_day(s: &str, now: NaiveDateTime) -> Result<NaiveDate, String> {
    let s = s.trim();
    match s {
        "today" => Ok(now.date()),
        "yesterday" => now
            .date()
            .pred_opt()
            .ok_or_else(|| "date out of range".into()),
        _ => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| format!("invalid day '{s}': use today, yesterday or a date YYYY-MM-DD")),
    }
}

/// The window of a day: its midnight to the next day's midnight (`[since, until)`).
pub fn day_window(d: NaiveDate) -> (NaiveDateTime, Option<NaiveDateTime>) {
    let start = d.and_time(NaiveTime::MIN);
    (start, d.succ_opt().map(|n| n.and_time(NaiveTime::MIN)))
}

impl TimeArg {
    /// Returns true if and only if the value needs the log's last time.
    pub(crate) fn needs_log_end(&self) -> bool {
        matches!(self, TimeArg::BeforeLogEnd(_))
    }

    pub fn resolve(&self, log_end: Option<NaiveDateTime>, now: NaiveDateTime) -> NaiveDateTime {
        match self {
            TimeArg::At(t) => *t,
            // Saturates at the calendar's start rather than panicking (durations are bounded
            // at parse time, so this only matters for a log end near year -262143).
            TimeArg::BeforeLogEnd(d) => {
                let end = log_end.unwrap_or(now);
                end.checked_sub_signed(*d).unwrap_or(NaiveDateTime::MIN)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn parses_every_form() {
        let now = t("2026-11-28 10:30:00");
        assert_eq!(
            parse("today", now),
            Ok(TimeArg::At(t("2026-11-28 00:00:00")))
        );
        assert_eq!(
            parse("yesterday", now),
            Ok(TimeArg::At(t("2026-11-27 00:00:00")))
        );
        assert_eq!(
            parse("now-1h", now),
            Ok(TimeArg::At(t("2026-11-28 09:30:00")))
        );
        assert_eq!(
            parse("2026-11-26", now),
            Ok(TimeArg::At(t("2026-11-26 00:00:00")))
        );
        assert_eq!(
            parse("2026-11-26 10:15", now),
            Ok(TimeArg::At(t("2026-11-26 10:15:00")))
        );
        assert_eq!(
            parse("2026-11-26T10:15:07", now),
            Ok(TimeArg::At(t("2026-11-26 10:15:07")))
        );
        let rel = parse("30m", now).unwrap();
        assert!(rel.needs_log_end());
        assert_eq!(
            rel.resolve(Some(t("2026-11-26 11:00:00")), now),
            t("2026-11-26 10:30:00")
        );
        assert_eq!(
            parse("2d", now).unwrap().resolve(None, now),
            t("2026-11-26 10:30:00")
        );
        assert!(parse("soon", now).unwrap_err().contains("invalid time"));
        assert!(parse("now-x", now).is_err());
    }

    #[test]
    fn parses_days() {
        let now = t("2026-12-04 00:10:00");
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(parse_day("today", now), Ok(d("2026-12-04")));
        assert_eq!(parse_day("yesterday", now), Ok(d("2026-12-03")));
        assert_eq!(parse_day(" 2026-02-28 ", now), Ok(d("2026-02-28")));
        for bad in [
            "2026-13-40",
            "2026-02-30",
            "tomorrow",
            "2026-12-03 10:00",
            "1d",
        ] {
            let e = parse_day(bad, now).unwrap_err();
            assert!(e.contains("invalid day"), "{bad}: {e}");
        }
        assert_eq!(
            day_window(d("2026-12-31")),
            (t("2026-12-31 00:00:00"), Some(t("2027-01-01 00:00:00")))
        );
    }

    #[test]
    fn huge_durations_are_errors_not_panics() {
        let now = t("2026-11-28 10:30:00");
        for s in [
            "now-99999999999h",
            "99999999999h",
            "now-9223372036854775807s",
            "9223372036854775807d",
            "99999999999999999999999h",
            "36526d",
        ] {
            let e = parse(s, now).unwrap_err();
            assert!(e.contains("invalid duration"), "{s}: {e}");
        }
        let far = parse("36525d", now).unwrap();
        assert_eq!(
            far.resolve(Some(NaiveDateTime::MIN), now),
            NaiveDateTime::MIN
        );
        assert!(parse("now-36525d", now).is_ok());
    }
}

//! The alerts `follow` emits and the settings that decide them: what each alert is about,
//! its figures, and the thresholds (`--warn-at`, `--account-ips`, …).

use serde::Serialize;

use super::ALERT_SCHEMA_VERSION;
use crate::model::cpanel::LimitRule;
use crate::model::event::{LimitKind, Timestamp};
use crate::model::hour::{Counts, Hour};

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Warning,
    Tripped,
    Blocked,
    VolumeJump,
    LoginIps,
    Burst,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Warning => "warning",
            AlertKind::Tripped => "tripped",
            AlertKind::Blocked => "blocked",
            AlertKind::VolumeJump => "volume_jump",
            AlertKind::LoginIps => "login_ips",
            AlertKind::Burst => "burst",
        }
    }

    /// The label in text output.
    pub(crate) fn label(self) -> &'static str {
        match self {
            AlertKind::Warning => "WARNING",
            AlertKind::Tripped => "TRIPPED",
            AlertKind::Blocked => "BLOCKED",
            AlertKind::VolumeJump => "VOLUME",
            AlertKind::LoginIps => "LOGINS",
            AlertKind::Burst => "BURST",
        }
    }
}

/// Which kind of subject an alert names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectType {
    SenderDomain,
    Account,
    Cause,
}

/// One alert. See the module documentation for the JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Always `"alert"`.
    #[serde(rename = "type")]
    pub record: &'static str,
    pub v: u32,
    pub time: Timestamp,
    pub hour: Hour,
    pub kind: AlertKind,
    pub subject_type: SubjectType,
    pub subject: String,
    pub text: String,
    pub replayed: bool,
    #[serde(flatten)]
    pub figures: Figures,
}

/// The figures of an alert, by kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Figures {
    Domain(DomainFigures),
    Volume(VolumeFigures),
    Ips(IpFigures),
    Burst(BurstFigures),
}

/// A sender domain's counters this hour and the rule's thresholds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainFigures {
    pub delivered: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub defer_fail: u64,
    pub percent: f64,
    pub limit_min: u64,
    pub limit_percent: Option<u64>,
    pub warn_defer_fail: u64,
    pub warn_percent: f64,
    pub to_limit: Option<u64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub logged: Option<LoggedLimit>,
}

/// What a cPanel limit line in the log said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedLimit {
    pub limit: LimitKind,
    pub logged_count: Option<i64>,
    pub logged_max: Option<i64>,
    pub logged_percent: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeFigures {
    pub messages: u64,
    pub average: f64,
    pub baseline_hours: u64,
    pub factor: f64,
    pub min: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IpFigures {
    pub ips: u64,
    pub ip_list: Vec<String>,
    pub messages: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BurstFigures {
    pub count: u64,
    pub window_minutes: i64,
    pub since: Timestamp,
    pub top_sender_domain: Option<String>,
    pub example: Option<String>,
}

impl Alert {
    pub fn new(
        kind: AlertKind,
        time: Timestamp,
        subject_type: SubjectType,
        subject: &str,
        text: String,
        figures: Figures,
    ) -> Alert {
        Alert {
            record: "alert",
            v: ALERT_SCHEMA_VERSION,
            time,
            hour: Hour::of(&time),
            kind,
            subject_type,
            subject: subject.to_string(),
            text,
            replayed: false,
            figures,
        }
    }
}

/// Thresholds of the alerts (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertConfig {
    pub rule: LimitRule,
    /// `--warn-at`: percentage of the trip condition that raises a warning (1–100).
    pub warn_at: u64,
    /// `--burst`: failures of one cause in [`BURST_WINDOW_MINUTES`](super::BURST_WINDOW_MINUTES) (0 = off).
    pub burst: u64,
    /// `--account-factor`.
    pub account_factor: f64,
    /// `--account-min`.
    pub account_min: u64,
    /// `--account-ips` (0 = off).
    pub account_ips: u64,
    /// `--baseline`: hours averaged for `volume_jump` (0 = off).
    pub baseline_hours: u64,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            rule: LimitRule {
                min: 5,
                percent: None,
            },
            warn_at: 80,
            burst: 20,
            account_factor: 5.0,
            account_min: 50,
            account_ips: 5,
            baseline_hours: 6,
        }
    }
}

impl AlertConfig {
    /// The percentage the rule is checked at: `--limit-percent`, or 100 when it is off.
    pub fn percent(&self) -> u64 {
        self.rule.percent.unwrap_or(100)
    }

    /// Defers+failures that raise a warning: ⌈warn_at × min / 100⌉, at least 1.
    pub(crate) fn warn_defer_fail(&self) -> u64 {
        (self.warn_at * self.rule.min).div_ceil(100).max(1)
    }

    /// The percentage that (with [`AlertConfig::warn_defer_fail`]) raises a warning.
    pub(crate) fn warn_percent(&self) -> f64 {
        self.warn_at as f64 * self.percent() as f64 / 100.0
    }

    /// Returns true if and only if the rule trips for these counts.
    pub fn trips(&self, c: &Counts) -> bool {
        self.rule.trips_at(c, self.percent())
    }

    /// Returns true if and only if these counts reach the warning level.
    pub(crate) fn warns(&self, c: &Counts) -> bool {
        c.defer_fail() >= self.warn_defer_fail() && c.defer_fail_percent() >= self.warn_percent()
    }

    /// How many more defers+failures (with no more deliveries) trip the rule: `Some(0)` when
    /// it has tripped, `None` when it cannot trip this hour (at 100 % once anything was
    /// delivered).
    pub fn to_limit(&self, c: &Counts) -> Option<u64> {
        if self.trips(c) {
            return Some(0);
        }
        let p = self.percent();
        let df = c.defer_fail();
        let needed = if p >= 100 {
            if c.delivered > 0 {
                return None;
            }
            self.rule.min
        } else {
            // df' × (100 − p) ≥ p × delivered
            let by_percent = (p * c.delivered).div_ceil(100 - p);
            self.rule.min.max(by_percent)
        };
        let n = needed.saturating_sub(df);
        // The percentage is computed in floating point: make sure the answer really trips.
        (n..n + 4).find(|&n| {
            let mut with = *c;
            with.bounced += n;
            self.trips(&with)
        })
    }
}

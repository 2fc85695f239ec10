//! Wall-clock formatting for audit records and request signing (UTC, no time zone data).
//!
//! Hand-written because two formats are all we need (RFC 3339 and SigV4's basic form);
//! a date crate would be a dependency for a dozen lines.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC instant split into civil fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    /// Year.
    pub year: i64,
    /// Month, 1-12.
    pub month: u32,
    /// Day, 1-31.
    pub day: u32,
    /// Hour.
    pub hour: u32,
    /// Minute.
    pub minute: u32,
    /// Second.
    pub second: u32,
    /// Milliseconds.
    pub millis: u32,
}

impl Utc {
    /// Now.
    pub fn now() -> Utc {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Utc::from_unix(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            d.subsec_millis(),
        )
    }

    /// From seconds since the Unix epoch.
    pub fn from_unix(secs: i64, millis: u32) -> Utc {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = crate::civil::civil_from_days(days);
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Utc {
            year,
            month: small(month),
            day: small(day),
            hour: small(rem / 3600),
            minute: small(rem % 3600 / 60),
            second: small(rem % 60),
            millis,
        }
    }

    /// `2026-11-23T07:45:01.337Z`.
    pub fn rfc3339(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second, self.millis
        )
    }

    /// SigV4's `20150830T123600Z`.
    pub fn amz_date(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(Utc::from_unix(0, 0).rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Utc::from_unix(1_440_938_160, 0).amz_date(),
            "20150830T123600Z"
        );
        assert_eq!(
            Utc::from_unix(951_782_400, 5).rfc3339(),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(Utc::from_unix(1_795_419_884, 0).year, 2026);
    }
}

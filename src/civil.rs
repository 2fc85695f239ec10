//! Time without a date crate: Unix days to civil dates, and the few timestamp formats
//! leaksweep writes (RFC 3339 with milliseconds, seconds, or a git author's offset;
//! SigV4's basic form; the HTTP date of signed requests). One algorithm and one place for
//! every formatter: commit dates, baselines, audit records, request signing, annotations.

use std::time::{SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`), for any `days`, negative included.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

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
    /// Days since the epoch (for the weekday).
    days: i64,
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
        let (year, month, day) = civil_from_days(days);
        let small = |v: i64| u32::try_from(v).unwrap_or(0);
        Utc {
            year,
            month: small(month),
            day: small(day),
            hour: small(rem / 3600),
            minute: small(rem % 3600 / 60),
            second: small(rem % 60),
            millis,
            days,
        }
    }

    /// `2026-11-23T07:45:01.337Z` (audit records, rotation state).
    pub fn rfc3339(&self) -> String {
        format!("{}.{:03}Z", self.date_time(), self.millis)
    }

    /// `2026-11-23T07:45:01Z` (baselines, Kubernetes annotations).
    pub fn rfc3339_secs(&self) -> String {
        format!("{}Z", self.date_time())
    }

    fn date_time(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// SigV4's `20150830T123600Z`.
    pub fn amz_date(&self) -> String {
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// The HTTP date (IMF-fixdate) of signed requests: `Mon, 23 Nov 2026 07:50:13 GMT`.
    pub fn http_date(&self) -> String {
        const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MON: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let wd = usize::try_from(self.days.rem_euclid(7)).unwrap_or(0);
        let mi = usize::try_from(self.month.saturating_sub(1)).unwrap_or(0);
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
            WD.get(wd).unwrap_or(&"Thu"),
            self.day,
            MON.get(mi).unwrap_or(&"Jan"),
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// A git timestamp (seconds since the epoch, UTC offset in minutes) as RFC 3339 in the
/// author's own offset: `2020-09-13T14:03:00+02:00`.
pub fn rfc3339_offset(seconds: i64, offset_minutes: i32) -> String {
    let local = Utc::from_unix(seconds.saturating_add(i64::from(offset_minutes) * 60), 0);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!("{}{sign}{:02}:{:02}", local.date_time(), off / 60, off % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
    }

    #[test]
    fn every_format() {
        assert_eq!(Utc::from_unix(0, 0).rfc3339(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Utc::from_unix(951_782_400, 5).rfc3339(),
            "2000-02-29T00:00:00.005Z"
        );
        assert_eq!(
            Utc::from_unix(1_795_419_013, 999).rfc3339_secs(),
            "2026-11-23T07:30:13Z"
        );
        assert_eq!(
            Utc::from_unix(1_440_938_160, 0).amz_date(),
            "20150830T123600Z"
        );
        assert_eq!(
            Utc::from_unix(0, 0).http_date(),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            Utc::from_unix(1_795_419_013, 0).http_date(),
            "Mon, 23 Nov 2026 07:30:13 GMT"
        );
        assert_eq!(
            Utc::from_unix(951_782_400, 0).http_date(),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        assert_eq!(Utc::from_unix(1_795_419_884, 0).year, 2026);
        let now = Utc::now().rfc3339_secs();
        assert!(
            now.len() == 20 && now.ends_with('Z') && now.as_bytes()[10] == b'T',
            "{now}"
        );
    }

    #[test]
    fn git_dates_keep_the_author_offset() {
        assert_eq!(rfc3339_offset(0, 0), "1970-01-01T00:00:00+00:00");
        // 2020-09-13T12:26:40Z, shown at +02:00 and -05:30.
        assert_eq!(
            rfc3339_offset(1_600_000_000, 120),
            "2020-09-13T14:26:40+02:00"
        );
        assert_eq!(
            rfc3339_offset(1_600_000_000, -330),
            "2020-09-13T06:56:40-05:30"
        );
        assert_eq!(rfc3339_offset(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339_offset(-86_400, 0), "1969-12-31T00:00:00+00:00");
    }
}

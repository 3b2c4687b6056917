//! The `Date` header field's value: IMF-fixdate (RFC 9110 §5.6.7), from Unix time.
//!
//! ```text
//! IMF-fixdate  = day-name "," SP date1 SP time-of-day SP GMT
//!              ; fixed length/zone/capitalization subset of the format
//!              ; see Section 3.3 of [RFC5322]
//! ```
//! e.g. `Sun, 06 Nov 1994 08:49:37 GMT` — always 29 bytes. RFC 9110 §6.6.1: an origin
//! server with a clock MUST send `Date` in every `2xx`, `3xx` and `4xx` response (and may
//! in others); pushlab sends it in all of them.
//!
//! The calendar arithmetic is our own: `civil_from_days` is Howard Hinnant's algorithm
//! from "chrono-Compatible Low-Level Date Algorithms"
//! (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>), which counts in
//! 400-year eras of exactly 146 097 days so no loop over years or months is needed.
//!
//! The clock itself stays outside `wire`: callers read `SystemTime::now()` once and pass the
//! number in, which is what makes these functions testable.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of every IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
pub const HTTP_DATE_LEN: usize = 29;

/// The latest instant a 4-digit year can show: 9999-12-31 23:59:59 UTC. Later times are
/// written as this one rather than breaking the fixed-length grammar (`year = 4DIGIT`).
pub const MAX_UNIX_SECS: u64 = 253_402_300_799;

const SECS_PER_DAY: u64 = 86_400;

/// RFC 9110 §5.6.7: `day-name = %s"Mon" / %s"Tue" / …` — case-sensitive. Index 0 is Sunday.
const DAY_NAMES: [&[u8; 3]; 7] = [b"Sun", b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat"];

/// RFC 9110 §5.6.7: `month = %s"Jan" / %s"Feb" / …`. Index 0 is January.
const MONTH_NAMES: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

/// The IMF-fixdate for `unix_secs` seconds after 1970-01-01 00:00:00 UTC.
///
/// Never panics; instants after year 9999 are written as [`MAX_UNIX_SECS`].
pub fn http_date(unix_secs: u64) -> [u8; HTTP_DATE_LEN] {
    let secs = unix_secs.min(MAX_UNIX_SECS);
    let days = secs / SECS_PER_DAY;
    let secs_of_day = secs % SECS_PER_DAY;
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4).
    let weekday = ((days + 4) % 7) as usize;

    let mut date = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    date[0..3].copy_from_slice(DAY_NAMES[weekday]);
    write_digits(&mut date[5..7], u64::from(day));
    date[8..11].copy_from_slice(MONTH_NAMES[usize::from(month - 1)]);
    write_digits(&mut date[12..16], year);
    write_digits(&mut date[17..19], secs_of_day / 3600);
    write_digits(&mut date[20..22], secs_of_day / 60 % 60);
    write_digits(&mut date[23..25], secs_of_day % 60);
    date
}

/// Appends [`http_date`]`(unix_secs)` to `out`.
pub fn write_http_date(out: &mut Vec<u8>, unix_secs: u64) {
    out.extend_from_slice(&http_date(unix_secs));
}

/// Whole seconds from the Unix epoch to `t`; 0 for times before it (a clock set before 1970
/// is not worth a panic).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Milliseconds from the Unix epoch to `t` (the `time` of a message, SPEC §2); 0 before the
/// epoch, `u64::MAX` past what a u64 holds (half a billion years from now).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `(year, month 1..=12, day 1..=31)` of the proleptic Gregorian calendar for `days` days
/// after 1970-01-01.
///
/// Hinnant's `civil_from_days`, specialised to non-negative day counts (so every division
/// is of a non-negative number and no era correction is needed). The trick: shift the
/// calendar to start on 0000-03-01, so the leap day is the *last* day of a year and months
/// March..February have lengths that `(153 * m + 2) / 5` reproduces.
fn civil_from_days(days: u64) -> (u64, u8, u8) {
    // Days from 0000-03-01 to 1970-01-01.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097; // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365; // [0, 399]
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1; // [1, 31]
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    // January and February belong to the next civil year than the March that began theirs.
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month as u8, day as u8)
}

/// Writes `n` as exactly `out.len()` decimal digits, zero-padded (higher digits dropped).
fn write_digits(out: &mut [u8], mut n: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn date(secs: u64) -> String {
        String::from_utf8(http_date(secs).to_vec()).unwrap()
    }

    #[test]
    fn test_rfc_example() {
        // RFC 9110 §5.6.7's own example.
        assert_eq!(date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn test_epoch_and_leap_days() {
        assert_eq!(date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT"); // 2000: divisible by 400
        assert_eq!(date(951_868_799), "Tue, 29 Feb 2000 23:59:59 GMT");
        assert_eq!(date(951_868_800), "Wed, 01 Mar 2000 00:00:00 GMT");
        assert_eq!(date(1_709_164_800), "Thu, 29 Feb 2024 00:00:00 GMT");
        assert_eq!(date(1_709_251_199), "Thu, 29 Feb 2024 23:59:59 GMT");
        // 2100 is divisible by 100, not 400: no 29 February.
        assert_eq!(date(4_107_542_399), "Sun, 28 Feb 2100 23:59:59 GMT");
        assert_eq!(date(4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT");
    }

    #[test]
    fn test_year_2038_and_beyond() {
        assert_eq!(date(2_147_483_647), "Tue, 19 Jan 2038 03:14:07 GMT"); // i32::MAX
        assert_eq!(date(2_147_483_648), "Tue, 19 Jan 2038 03:14:08 GMT");
        assert_eq!(date(4_294_967_296), "Sun, 07 Feb 2106 06:28:16 GMT"); // u32::MAX + 1
        assert_eq!(date(MAX_UNIX_SECS), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(date(MAX_UNIX_SECS + 1), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(date(u64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    /// The slow twin: walk the calendar one day at a time with the leap-year rule spelled
    /// out, and compare with `civil_from_days` at every day up to 9999-12-31.
    #[test]
    fn test_civil_from_days_matches_day_by_day_walk() {
        fn days_in_month(year: u64, month: u8) -> u8 {
            let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
            match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            }
        }
        let (mut year, mut month, mut day) = (1970, 1, 1);
        for days in 0..=MAX_UNIX_SECS / SECS_PER_DAY {
            assert_eq!(civil_from_days(days), (year, month, day), "day {days}");
            day += 1;
            if day > days_in_month(year, month) {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        assert_eq!((year, month, day), (10000, 1, 1));
    }

    #[test]
    fn test_write_appends() {
        let mut out = b"Date: ".to_vec();
        write_http_date(&mut out, 784_111_777);
        assert_eq!(out, b"Date: Sun, 06 Nov 1994 08:49:37 GMT");
    }

    #[test]
    fn test_unix_time_from_system_time() {
        let t = UNIX_EPOCH + Duration::from_millis(1_732_390_000_123);
        assert_eq!(unix_millis(t), 1_732_390_000_123);
        assert_eq!(unix_secs(t), 1_732_390_000);
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(unix_millis(before), 0);
        assert_eq!(unix_secs(before), 0);
    }
}

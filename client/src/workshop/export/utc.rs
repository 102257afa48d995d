//! Timestamps as UTC ISO-8601, without a date-time dependency for the one format needed.

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (the milliseconds are
/// dropped: a record is read by people, to the second).
pub(super) fn iso8601(ms: u64) -> String {
    let seconds = ms / 1000;
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01, after Howard Hinnant's
/// `civil_from_days`. Unsigned throughout: a `u64` of milliseconds is never before 1970.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(999), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn known_instants() {
        // `date -u -d @1700000000`
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(951_868_799_000), "2000-02-29T23:59:59Z");
        assert_eq!(iso8601(4_107_542_400_000), "2100-03-01T00:00:00Z");
        assert_eq!(iso8601(1_709_164_800_000), "2024-02-29T00:00:00Z");
        assert_eq!(iso8601(1_735_689_599_000), "2024-12-31T23:59:59Z");
    }

    #[test]
    fn every_day_follows_the_one_before() {
        // Walk 1970..2500 day by day: the date only ever steps to the next calendar day.
        let mut previous = civil_from_days(0);
        for days in 1..(530 * 366) {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let next_day = y == py && m == pm && d == pd + 1;
            let next_month = y == py && m == pm + 1 && d == 1 && pd >= 28;
            let next_year = y == py + 1 && m == 1 && d == 1 && pm == 12 && pd == 31;
            assert!(
                next_day || next_month || next_year,
                "{previous:?} -> {:?}",
                (y, m, d)
            );
            previous = (y, m, d);
        }
    }

    #[test]
    fn the_largest_timestamp_does_not_overflow() {
        assert!(iso8601(u64::MAX).ends_with('Z'));
    }
}

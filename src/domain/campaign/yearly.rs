//! The calendar of yearly campaigns (birthdays, closing anniversaries): which stored dates are
//! "today", and the key that makes each year's greeting go once.

use jiff::civil::Date;

/// The month-days (`MM-DD`, as stored dates end) celebrated on `day`: the day itself, and on
/// 28 February of a common year also 29 February (those born on a leap day are not skipped).
pub fn month_days(day: Date) -> Vec<String> {
    let mut days = vec![format!("{:02}-{:02}", day.month(), day.day())];
    if day.month() == 2 && day.day() == 28 && !day.in_leap_year() {
        days.push("02-29".into());
    }
    days
}

/// The occurrence a send on `day` belongs to: its year. A contact gets a yearly campaign once
/// per year, however often the scan runs.
pub fn occurrence(day: Date) -> String {
    day.year().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_leap_day_is_kept_on_the_28th_in_common_years_only() {
        assert_eq!(month_days(date(2027, 2, 28)), vec!["02-28", "02-29"]);
        assert_eq!(month_days(date(2028, 2, 28)), vec!["02-28"]);
        assert_eq!(month_days(date(2028, 2, 29)), vec!["02-29"]);
        assert_eq!(month_days(date(2027, 3, 1)), vec!["03-01"]);
        assert_eq!(month_days(date(2026, 12, 5)), vec!["12-05"]);
        assert_eq!(occurrence(date(2026, 12, 5)), "2026");
    }
}

//! When daily and weekly work falls due, in a time zone people live in: "03:00 in
//! America/Los_Angeles" is a different instant in winter and summer, and on the night the
//! clocks change 02:30 may not exist (jiff moves it forward) or may happen twice (the first).

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// A time of day, `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeOfDay(Time);

impl TimeOfDay {
    pub fn time(self) -> Time {
        self.0
    }

    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let (h, m) = text
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not a time like 03:00"))?;
        let (h, m): (i8, i8) = match (h.parse(), m.parse()) {
            (Ok(h), Ok(m)) => (h, m),
            _ => return Err(format!("{text:?} is not a time like 03:00")),
        };
        Time::new(h, m, 0, 0)
            .map(TimeOfDay)
            .map_err(|_| format!("{text:?} is not a time of day (00:00 to 23:59)"))
    }
}

/// The first instant after `after` when it is `at` o'clock in `tz`.
pub fn next_daily(after: Timestamp, at: TimeOfDay, tz: &TimeZone) -> Timestamp {
    let today = after.to_zoned(tz.clone()).date();
    for days in 0..3 {
        let day = today.checked_add(days.days()).unwrap_or(today);
        if let Ok(candidate) = day.to_datetime(at.0).to_zoned(tz.clone())
            && candidate.timestamp() > after
        {
            return candidate.timestamp();
        }
    }
    after.checked_add(24.hours()).unwrap_or(after)
}

/// The first instant after `after` that is `weekday` at `at` in `tz`.
pub fn next_weekly(after: Timestamp, weekday: Weekday, at: TimeOfDay, tz: &TimeZone) -> Timestamp {
    let mut next = next_daily(after, at, tz);
    for _ in 0..7 {
        if next.to_zoned(tz.clone()).weekday() == weekday {
            return next;
        }
        next = next_daily(next, at, tz);
    }
    next
}

/// A jiff instant as pi-crm stores times (`clock::format`).
pub fn stored_text(t: Timestamp) -> String {
    crate::clock::format(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn three_in_the_morning_follows_the_clocks() {
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let three = TimeOfDay::parse("03:00").unwrap();
        // Winter: 03:00 PST is 11:00 UTC; summer: 03:00 PDT is 10:00 UTC.
        assert_eq!(
            next_daily(at("2026-01-10T12:00:00Z"), three, &la),
            at("2026-01-11T11:00:00Z")
        );
        assert_eq!(
            next_daily(at("2026-07-10T09:00:00Z"), three, &la),
            at("2026-07-10T10:00:00Z")
        );
        // 2026-03-08: 02:00 jumps to 03:00. 02:30 does not exist that night: it runs at 03:30.
        let half_two = TimeOfDay::parse("02:30").unwrap();
        assert_eq!(
            next_daily(at("2026-03-08T08:00:00Z"), half_two, &la),
            at("2026-03-08T10:30:00Z")
        );
        // Monday 07:00 in Los Angeles.
        let seven = TimeOfDay::parse("07:00").unwrap();
        assert_eq!(
            next_weekly(at("2026-11-27T12:00:00Z"), Weekday::Monday, seven, &la),
            at("2026-11-30T15:00:00Z")
        );
    }

    #[test]
    fn times_of_day_are_checked() {
        assert!(TimeOfDay::parse("3:05").is_ok());
        for bad in ["", "25:00", "03:60", "three", "03"] {
            assert!(TimeOfDay::parse(bad).is_err(), "{bad}");
        }
    }
}

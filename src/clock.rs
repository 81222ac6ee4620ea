//! Time as pi-crm stores it — UTC RFC 3339 with whole seconds, which sorts as it reads — and
//! the clock its rules read.
//!
//! `Clock` is where "now" comes from for the rules that depend on it (what is due, what has
//! expired, quiet hours, yearly dates): the system's in the server, a fixed instant in tests,
//! moved by hand, so those rules are tested at exact instants rather than in windows around
//! the real time. The free functions read the system's clock, for stamps on rows.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<Timestamp>>>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            None => f.write_str("Clock(system)"),
            Some(_) => write!(f, "Clock(fixed at {})", format(self.now())),
        }
    }
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that shows `at` until it is `set` to another instant.
    pub fn fixed(at: Timestamp) -> Clock {
        Clock(Some(Arc::new(Mutex::new(whole_seconds(at)))))
    }

    /// Moves a fixed clock to `at` (every copy of it moves); the system's cannot be set.
    pub fn set(&self, at: Timestamp) {
        let fixed = self.0.as_ref().expect("only a fixed clock can be set");
        *fixed.lock().unwrap_or_else(|e| e.into_inner()) = whole_seconds(at);
    }

    pub fn now(&self) -> Timestamp {
        match &self.0 {
            None => now(),
            Some(fixed) => *fixed.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// `now` as stored text.
    pub fn now_text(&self) -> String {
        format(self.now())
    }
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    Timestamp::from_second(t.as_second()).unwrap_or(t)
}

/// The system's time, to the second.
pub fn now() -> Timestamp {
    whole_seconds(Timestamp::now())
}

/// `2026-12-06T22:00:31Z`.
pub fn format(t: Timestamp) -> String {
    whole_seconds(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn now_text() -> String {
    format(now())
}

/// A stored time (or any RFC 3339 instant) read back.
pub fn parse(text: &str) -> Option<Timestamp> {
    text.trim().parse().ok()
}

/// `now` moved by `d`, as stored text.
pub fn text_from_now(d: SignedDuration) -> String {
    format(now() + d)
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago": how long since `at` (RFC 3339),
/// for a person; `None` for text that is not a stored time. A time in the future (a clock
/// a little ahead) is "just now".
pub fn ago(at: &str) -> Option<String> {
    parse(at).map(ago_of)
}

/// `ago` of a time already read.
pub fn ago_of(t: Timestamp) -> String {
    let seconds = now().duration_since(t).as_secs().max(0);
    let (n, unit) = match seconds {
        s if s < 90 => return "just now".into(),
        s if s < 90 * 60 => (s / 60, "minute"),
        s if s < 36 * 3600 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_have_whole_seconds_in_utc() {
        let t: Timestamp = "2026-12-06T23:00:31.75+01:00".parse().unwrap();
        assert_eq!(format(t), "2026-12-06T22:00:31Z");
        assert_eq!(
            parse("2026-12-06T22:00:31Z"),
            Some("2026-12-06T22:00:31Z".parse().unwrap())
        );
        assert_eq!(parse("yesterday"), None);
    }

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let clock = Clock::fixed("2027-02-28T18:00:00Z".parse().unwrap());
        let copy = clock.clone();
        assert_eq!(copy.now_text(), "2027-02-28T18:00:00Z");
        clock.set(clock.now() + SignedDuration::from_hours(7));
        assert_eq!(copy.now_text(), "2027-03-01T01:00:00Z");
    }
}

//! Time as pi-crm stores it: UTC RFC 3339 with whole seconds, which sorts as it reads.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

pub fn format(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .expect("a UTC time formats as RFC 3339")
}

pub fn now_text() -> String {
    format(now())
}

pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// `now` moved by `d`, as stored text.
pub fn text_from_now(d: Duration) -> String {
    format(now() + d)
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago": how long since `at` (RFC 3339),
/// for a person; `None` for text that is not a stored time. A time in the future (a clock
/// a little ahead) is "just now".
pub fn ago(at: &str) -> Option<String> {
    parse(at).map(ago_of)
}

/// `ago` of a time already read.
pub fn ago_of(t: OffsetDateTime) -> String {
    let seconds = (now() - t).whole_seconds().max(0);
    let (n, unit) = match seconds {
        s if s < 90 => return "just now".into(),
        s if s < 90 * 60 => (s / 60, "minute"),
        s if s < 36 * 3600 => (s / 3600, "hour"),
        s => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

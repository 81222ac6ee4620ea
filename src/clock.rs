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

//! Times as people read them: pi-crm stores UTC (RFC 3339); pages show it in the zone that
//! applies — the workspace's own, else the server's `timezone` — with the zone's abbreviation,
//! so "2:56 PM PST" is never eight hours off for someone in California.

use jiff::tz::TimeZone;

/// `2026-11-27T22:56:00Z` in Los Angeles → "Nov 27, 2026, 2:56 PM PST". Text that is not a
/// stored time is shown as it is.
pub fn local(stored: &str, tz: &TimeZone) -> String {
    match crate::clock::parse(stored) {
        Some(t) => crate::schedule::to_timestamp(t)
            .to_zoned(tz.clone())
            .strftime("%b %-d, %Y, %-I:%M %p %Z")
            .to_string(),
        None => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_the_zone_with_its_abbreviation_across_a_dst_change() {
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        assert_eq!(local("2026-11-27T22:56:00Z", &la), "Nov 27, 2026, 2:56 PM PST");
        assert_eq!(local("2026-07-04T16:00:00Z", &la), "Jul 4, 2026, 9:00 AM PDT");
        // 2026-03-08: 09:59 UTC is 1:59 AM PST, a minute later the clocks jump to 3:00 AM PDT.
        assert_eq!(local("2026-03-08T09:59:00Z", &la), "Mar 8, 2026, 1:59 AM PST");
        assert_eq!(local("2026-03-08T10:00:00Z", &la), "Mar 8, 2026, 3:00 AM PDT");
        assert_eq!(
            local("2026-11-27T22:56:00Z", &TimeZone::UTC),
            "Nov 27, 2026, 10:56 PM UTC"
        );
        assert_eq!(local("someday", &la), "someday");
    }
}

//! Times as people read them: pi-crm stores UTC (RFC 3339); pages show it in the zone that
//! applies — the workspace's own, else the server's `timezone` — with the zone's abbreviation,
//! so "2:56 PM PST" is never eight hours off for someone in California.

use jiff::tz::TimeZone;

/// `2026-11-27T22:56:00Z` in Los Angeles → "Nov 27, 2026, 2:56 PM PST". Text that is not a
/// stored time is shown as it is.
pub fn local(stored: &str, tz: &TimeZone) -> String {
    match crate::clock::parse(stored) {
        Some(t) => t.to_zoned(tz.clone()).strftime("%b %-d, %Y, %-I:%M %p %Z").to_string(),
        None => stored.to_string(),
    }
}

/// A stored time on a page: "3 hours ago" when it was within the last week, else the full
/// local time; either way a `<time>` whose hover text is the full local time. Future times
/// (a scheduled send, the next backup) are always shown in full.
pub fn when(stored: &str, tz: &TimeZone) -> String {
    let full = local(stored, tz);
    let recent = crate::clock::parse(stored).and_then(|t| {
        let age = crate::clock::now().duration_since(t);
        (age >= jiff::SignedDuration::ZERO && age < jiff::SignedDuration::from_hours(24 * 7))
            .then(|| crate::clock::ago_of(t))
    });
    match recent {
        Some(shown) => format!(
            "<time datetime=\"{}\" title=\"{}\">{}</time>",
            escape(stored),
            escape(&full),
            escape(&shown)
        ),
        None => format!("<time datetime=\"{}\">{}</time>", escape(stored), escape(&full)),
    }
}

fn escape(text: &str) -> String {
    crate::domain::template::render::html_escape(text)
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

    #[test]
    fn recent_times_read_as_how_long_ago_with_the_full_time_on_hover() {
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let two_hours_ago = crate::clock::text_from_now(-jiff::SignedDuration::from_hours(2));
        let shown = when(&two_hours_ago, &la);
        assert!(shown.contains(">2 hours ago</time>"), "{shown}");
        assert!(
            shown.contains(&format!("title=\"{}\"", local(&two_hours_ago, &la))),
            "{shown}"
        );
        let last_month = crate::clock::text_from_now(-jiff::SignedDuration::from_hours(24 * 30));
        assert_eq!(
            when(&last_month, &la),
            format!("<time datetime=\"{last_month}\">{}</time>", local(&last_month, &la))
        );
        let tomorrow = crate::clock::text_from_now(jiff::SignedDuration::from_hours(24));
        assert!(when(&tomorrow, &la).ends_with(&format!(">{}</time>", local(&tomorrow, &la))));
        assert_eq!(when("<b>", &la), "<time datetime=\"&lt;b&gt;\">&lt;b&gt;</time>");
    }
}

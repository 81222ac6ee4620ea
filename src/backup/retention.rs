//! Which backups to keep: the newest of each of the last `daily` days that have one, and the
//! newest of each of the last `weekly` weeks (Monday to Sunday), in the configured time zone.
//! The newest backup is always kept. Only backups that count as good are counted or removed;
//! a file pi-crm cannot vouch for is left for a person to look at.

use std::collections::HashSet;
use std::path::Path;

use jiff::tz::TimeZone;

use super::{Backup, list, note_path};

/// The files of `backups` (newest first) to keep.
pub fn keep(backups: &[&Backup], daily: usize, weekly: usize, tz: &TimeZone) -> HashSet<String> {
    let mut kept = HashSet::new();
    let mut days = Vec::new();
    let mut weeks = Vec::new();
    for b in backups {
        let Some(at) = crate::clock::parse(&b.created_at) else {
            continue;
        };
        let local = at.to_zoned(tz.clone());
        let day = local.date();
        let week = day.iso_week_date();
        let week = (week.year(), week.week());
        if days.len() < daily && !days.contains(&day) {
            days.push(day);
            kept.insert(b.file.clone());
        }
        if weeks.len() < weekly && !weeks.contains(&week) {
            weeks.push(week);
            kept.insert(b.file.clone());
        }
    }
    if let Some(newest) = backups.first() {
        kept.insert(newest.file.clone());
    }
    kept
}

/// Removes from `dir` the good backups the rule does not keep; returns how many.
pub fn prune(dir: &Path, daily: usize, weekly: usize, tz: &TimeZone) -> anyhow::Result<usize> {
    let all = list(dir)?;
    let good: Vec<&Backup> = all.iter().filter(|b| b.verified).collect();
    let kept = keep(&good, daily, weekly, tz);
    let mut removed = 0;
    for b in good.iter().filter(|b| !kept.contains(&b.file)) {
        std::fs::remove_file(&b.path)?;
        let _ = std::fs::remove_file(note_path(&b.path));
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(at: &str) -> Backup {
        let stamp = crate::backup::stamp(crate::clock::parse(at).unwrap());
        Backup {
            file: format!("pi-crm-{stamp}.db"),
            created_at: at.into(),
            size: 1,
            verified: true,
            copied_to: Vec::new(),
            path: Default::default(),
        }
    }

    #[test]
    fn seven_days_and_four_weeks() {
        // Sixty days of backups at 03:00 UTC, plus a second one on the newest day.
        let mut all: Vec<Backup> = (0..60)
            .map(|d| {
                let day = "2026-11-27T03:00:00Z".parse::<jiff::Timestamp>().unwrap()
                    - jiff::SignedDuration::from_hours(24 * d);
                backup(&crate::clock::format(day))
            })
            .collect();
        all.insert(0, backup("2026-11-27T15:00:00Z"));
        let refs: Vec<&Backup> = all.iter().collect();
        let kept = keep(&refs, 7, 4, &TimeZone::UTC);
        let mut kept: Vec<&str> = kept.iter().map(String::as_str).collect();
        kept.sort();
        assert_eq!(
            kept,
            [
                // The newest of each of the four newest weeks (Sundays; this week's is today's,
                // and last week's Sunday is one of the seven days too).
                "pi-crm-20261108-030000.db",
                "pi-crm-20261115-030000.db",
                // The newest of each of the seven newest days.
                "pi-crm-20261121-030000.db",
                "pi-crm-20261122-030000.db",
                "pi-crm-20261123-030000.db",
                "pi-crm-20261124-030000.db",
                "pi-crm-20261125-030000.db",
                "pi-crm-20261126-030000.db",
                "pi-crm-20261127-150000.db",
            ]
        );
    }

    #[test]
    fn days_are_the_zones_days() {
        // 09:00 UTC is 01:00 on the 27th in Los Angeles; 06:00 UTC is still the 26th there.
        let all = [backup("2026-11-27T09:00:00Z"), backup("2026-11-27T06:00:00Z")];
        let refs: Vec<&Backup> = all.iter().collect();
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        assert_eq!(keep(&refs, 2, 0, &la).len(), 2, "two days there");
        assert_eq!(keep(&refs, 2, 0, &TimeZone::UTC).len(), 1, "one day in UTC");
    }
}

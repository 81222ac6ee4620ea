//! A workspace's campaign settings (SPEC §2, §10), set by its owner: whether marketing needs a
//! reviewer's approval (and who reviews), the quiet hours no marketing text may leave in, and
//! the daily text limit.

use jiff::Timestamp;
use jiff::civil::Time;
use sqlx::SqlitePool;

use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::user::Email;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
use crate::schedule::TimeOfDay;
use crate::storage;

pub const DEFAULT_DAILY_TEXT_LIMIT: u32 = 500;
const MAX_DAILY_TEXT_LIMIT: u32 = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    pub required: bool,
    pub reviewer_email: Option<String>,
    pub reviewer_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHours {
    /// `HH:MM` in the workspace's time zone; equal to `end`: no quiet hours.
    pub start: String,
    pub end: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignSettings {
    pub approval: Approval,
    pub quiet_hours: QuietHours,
    pub daily_text_limit: u32,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        CampaignSettings {
            approval: Approval {
                required: false,
                reviewer_email: None,
                reviewer_name: None,
            },
            quiet_hours: QuietHours {
                start: "21:00".into(),
                end: "08:00".into(),
            },
            daily_text_limit: DEFAULT_DAILY_TEXT_LIMIT,
        }
    }
}

impl From<storage::campaign_settings::Row> for CampaignSettings {
    fn from(r: storage::campaign_settings::Row) -> Self {
        CampaignSettings {
            approval: Approval {
                required: r.approval_required,
                reviewer_email: r.reviewer_email,
                reviewer_name: r.reviewer_name,
            },
            quiet_hours: QuietHours {
                start: r.quiet_start,
                end: r.quiet_end,
            },
            daily_text_limit: u32::try_from(r.daily_text_limit).unwrap_or(DEFAULT_DAILY_TEXT_LIMIT),
        }
    }
}

/// What `PATCH /api/v1/workspaces/{ws}` and the settings page may change; absent parts stay.
#[derive(Debug, Default, Clone)]
pub struct SettingsInput {
    pub approval: Option<ApprovalInput>,
    pub quiet_hours: Option<QuietHours>,
    pub daily_text_limit: Option<u32>,
}

impl SettingsInput {
    pub fn is_empty(&self) -> bool {
        self.approval.is_none() && self.quiet_hours.is_none() && self.daily_text_limit.is_none()
    }
}

#[derive(Debug, Default, Clone)]
pub struct ApprovalInput {
    pub required: Option<bool>,
    pub reviewer_email: Option<String>,
    pub reviewer_name: Option<String>,
}

/// The workspace's settings (the defaults until its owner changes one).
pub async fn load(db: &SqlitePool, ws: &WorkspaceAccess) -> AppResult<CampaignSettings> {
    Ok(storage::campaign_settings::find(db, ws)
        .await?
        .map(CampaignSettings::from)
        .unwrap_or_default())
}

/// Applies `input` over `current`, checking every part at once.
pub fn apply(current: &CampaignSettings, input: &SettingsInput) -> AppResult<CampaignSettings> {
    let mut next = current.clone();
    let mut bad = Invalids::default();
    if let Some(a) = &input.approval {
        if let Some(required) = a.required {
            next.approval.required = required;
        }
        if let Some(email) = &a.reviewer_email {
            next.approval.reviewer_email = match email.trim() {
                "" => None,
                e => bad
                    .check(Email::parse(e, "approval.reviewer_email"))?
                    .map(|e| e.as_str().to_string()),
            };
        }
        if let Some(name) = &a.reviewer_name {
            let name = name.trim();
            if name.chars().count() > 100 || name.contains(['\r', '\n']) {
                bad.check::<()>(Err(AppError::invalid(
                    "approval.reviewer_name",
                    "a name is one line of at most 100 characters",
                )))?;
            }
            next.approval.reviewer_name = (!name.is_empty()).then(|| name.to_string());
        }
        if next.approval.required && next.approval.reviewer_email.is_none() {
            bad.check::<()>(Err(AppError::invalid(
                "approval.reviewer_email",
                "approval needs the reviewer's email: the review link is sent there",
            )))?;
        }
    }
    if let Some(q) = &input.quiet_hours {
        for (field, value) in [("quiet_hours.start", &q.start), ("quiet_hours.end", &q.end)] {
            bad.check(TimeOfDay::parse(value).map_err(|m| AppError::invalid(field, m)))?;
        }
        next.quiet_hours = QuietHours {
            start: q.start.trim().to_string(),
            end: q.end.trim().to_string(),
        };
    }
    if let Some(limit) = input.daily_text_limit {
        if limit > MAX_DAILY_TEXT_LIMIT {
            bad.check::<()>(Err(AppError::invalid(
                "daily_text_limit",
                format!("at most {MAX_DAILY_TEXT_LIMIT} texts a day"),
            )))?;
        }
        next.daily_text_limit = limit;
    }
    bad.finish()?;
    Ok(next)
}

/// Checks and saves the owner's changes.
pub async fn update(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: &SettingsInput,
) -> AppResult<CampaignSettings> {
    actor.require(Scope::ManageWorkspaces)?;
    ws.require_owner("change its campaign settings")?;
    let next = apply(&load(db, ws).await?, input)?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::campaign_settings::save(
        &mut tx,
        ws,
        &storage::campaign_settings::Row {
            approval_required: next.approval.required,
            reviewer_email: next.approval.reviewer_email.clone(),
            reviewer_name: next.approval.reviewer_name.clone(),
            quiet_start: next.quiet_hours.start.clone(),
            quiet_end: next.quiet_hours.end.clone(),
            daily_text_limit: i64::from(next.daily_text_limit),
        },
    )
    .await?;
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "workspace.campaign_settings",
        "workspace",
        ws.id().as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(next)
}

impl QuietHours {
    fn times(&self) -> Option<(TimeOfDay, TimeOfDay)> {
        let start = TimeOfDay::parse(&self.start).ok()?;
        let end = TimeOfDay::parse(&self.end).ok()?;
        (start != end).then_some((start, end))
    }

    /// When a marketing text may leave, if `now` is within the quiet hours in `tz`: the end
    /// of them. Hours that wrap midnight (21:00–08:00) are quiet before the end or from the
    /// start.
    pub fn wait_until(&self, now: Timestamp, tz: &jiff::tz::TimeZone) -> Option<Timestamp> {
        let (start, end) = self.times()?;
        let local: Time = now.to_zoned(tz.clone()).time();
        let (s, e) = (start.time(), end.time());
        let quiet = if s < e {
            local >= s && local < e
        } else {
            local >= s || local < e
        };
        quiet.then(|| crate::schedule::next_daily(now, end, tz))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn quiet_hours_wrap_midnight_in_the_workspace_zone() {
        let la = jiff::tz::TimeZone::get("America/Los_Angeles").unwrap();
        let q = QuietHours {
            start: "21:00".into(),
            end: "08:00".into(),
        };
        // 20:59 in Los Angeles (PST, UTC−8): not quiet; 21:00 and 07:59: quiet until 08:00.
        assert_eq!(q.wait_until(at("2026-12-06T04:59:00Z"), &la), None);
        assert_eq!(
            q.wait_until(at("2026-12-06T05:00:00Z"), &la),
            Some(at("2026-12-06T16:00:00Z"))
        );
        assert_eq!(
            q.wait_until(at("2026-12-06T15:59:00Z"), &la),
            Some(at("2026-12-06T16:00:00Z"))
        );
        assert_eq!(q.wait_until(at("2026-12-06T16:00:00Z"), &la), None);
        // Hours within one day, and none at all.
        let day = QuietHours {
            start: "12:00".into(),
            end: "13:00".into(),
        };
        assert!(day.wait_until(at("2026-12-06T20:30:00Z"), &la).is_some());
        assert!(day.wait_until(at("2026-12-06T19:59:00Z"), &la).is_none());
        let none = QuietHours {
            start: "09:00".into(),
            end: "09:00".into(),
        };
        assert!(none.wait_until(at("2026-12-06T17:00:00Z"), &la).is_none());
    }

    #[test]
    fn approval_needs_a_reviewer_and_everything_is_checked_at_once() {
        let input = SettingsInput {
            approval: Some(ApprovalInput {
                required: Some(true),
                reviewer_email: Some("not an email".into()),
                reviewer_name: None,
            }),
            quiet_hours: Some(QuietHours {
                start: "25:00".into(),
                end: "08:00".into(),
            }),
            daily_text_limit: Some(1_000_000),
        };
        match apply(&CampaignSettings::default(), &input) {
            Err(AppError::InvalidMany(all)) => assert_eq!(all.len(), 4, "{all:?}"),
            other => panic!("{other:?}"),
        }
        let ok = apply(
            &CampaignSettings::default(),
            &SettingsInput {
                approval: Some(ApprovalInput {
                    required: Some(true),
                    reviewer_email: Some(" Compliance@LoanFactory.com ".into()),
                    reviewer_name: Some("Compliance".into()),
                }),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(
            ok.approval.reviewer_email.as_deref(),
            Some("compliance@loanfactory.com")
        );
    }
}

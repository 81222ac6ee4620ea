//! Insights (SPEC §9.2, `monitor_usage`): facts computed from a workspace's data — upcoming
//! yearly dates (year-less birthdays too), contacts gone quiet in the pipeline, stalled deals,
//! failed messages, how templates do — each naming the contacts it concerns, kept per person,
//! never added twice (each fact has a key: the same birthday, the same quiet spell), and
//! dismissable. With AI configured, a few ideas from the model on top, marked as such.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::actor::{Actor, Scope};
use super::field::FieldType;
use super::ids::InsightId;
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;

/// How far ahead yearly dates are announced.
pub const UPCOMING_DAYS: i32 = 14;
/// Nothing logged for this long while in a stage: gone quiet.
pub const STALE_DAYS: i64 = 30;
/// In the same stage this long: stalled.
pub const STALL_DAYS: i64 = 21;
/// A template needs this many sends before its rates mean anything.
const MIN_SENDS: i64 = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Content {
    pub title: String,
    pub detail: String,
    pub contact_ids: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Insight {
    pub id: String,
    pub workspace_id: String,
    pub workspace_name: String,
    /// `upcoming_date`, `stale_contact`, `pipeline_stall`, `failed_messages`,
    /// `template_performance`, or `ai_idea`.
    pub kind: String,
    pub content: Content,
    /// 1.0 for a computed fact; lower for an AI idea.
    pub confidence: f64,
    pub created_at: String,
    pub dismissed_at: Option<String>,
}

impl Insight {
    pub fn is_ai(&self) -> bool {
        self.kind == "ai_idea"
    }
}

/// A fact found by the job, before it is kept for each person.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub kind: &'static str,
    pub key: String,
    pub content: Content,
    pub confidence: f64,
}

#[derive(Debug, Default, Deserialize)]
pub struct InsightQuery {
    /// One workspace only.
    pub workspace_id: Option<String>,
    /// Dismissed ones too.
    pub dismissed: Option<bool>,
}

/// The caller's insights, across their workspaces or in one.
pub async fn list(state: &AppState, actor: &Actor, query: &InsightQuery, limit: i64) -> AppResult<Vec<Insight>> {
    actor.require(Scope::ReadContacts)?;
    let ws = match query.workspace_id.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        Some(id) => Some(super::workspace::resolve_text(&state.db, actor, id).await?),
        None => pinned(state, actor).await?,
    };
    let rows = storage::insights::list(
        &state.db,
        &actor.user_id,
        ws.as_ref(),
        query.dismissed.unwrap_or(false),
        limit,
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Insight {
                content: serde_json::from_str(&r.content).ok()?,
                id: r.id,
                workspace_id: r.workspace_id,
                workspace_name: r.workspace_name,
                kind: r.kind,
                confidence: r.confidence,
                created_at: r.created_at,
                dismissed_at: r.dismissed_at,
            })
        })
        .collect())
}

pub async fn dismiss(state: &AppState, actor: &Actor, id: &InsightId) -> AppResult<()> {
    actor.require(Scope::ReadContacts)?;
    let only = pinned(state, actor).await?;
    if storage::insights::dismiss(&state.db, &actor.user_id, only.as_ref(), id, &crate::clock::now_text()).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// A key pinned to one workspace reaches only that workspace's insights.
async fn pinned(state: &AppState, actor: &Actor) -> AppResult<Option<WorkspaceAccess>> {
    match actor.pinned_workspace() {
        Some(id) => Ok(Some(super::workspace::resolve(&state.db, actor, id).await?)),
        None => Ok(None),
    }
}

/// Keeps `facts` for `user`: how many were new to them.
pub async fn keep(
    state: &AppState,
    user: &super::ids::UserId,
    ws: &WorkspaceAccess,
    facts: &[Fact],
) -> AppResult<usize> {
    let now = crate::clock::now_text();
    let mut added = 0;
    for f in facts {
        let content = serde_json::to_string(&f.content).map_err(anyhow::Error::from)?;
        let new = storage::insights::New {
            kind: f.kind,
            fact_key: &f.key,
            content: &content,
            confidence: f.confidence,
        };
        if storage::insights::add(&state.db, user, ws, &new, &now).await? {
            added += 1;
        }
    }
    Ok(added)
}

/// The facts of one workspace on `today` (its own date), with `now` for the windows.
pub async fn facts(state: &AppState, ws: &WorkspaceAccess, today: Date, now: jiff::Timestamp) -> AppResult<Vec<Fact>> {
    let mut out = Vec::new();
    let fields = super::field_definition::applicable(&state.db, ws).await?;
    let dates: Vec<String> = fields
        .0
        .iter()
        .filter(|d| d.field_type == FieldType::Date)
        .map(|d| d.field_name.clone())
        .collect();
    let labels: BTreeMap<String, String> = fields
        .0
        .iter()
        .map(|d| (d.field_name.clone(), d.label.clone()))
        .collect();
    for (contact, name, field, stored) in storage::insights::date_values(&state.db, ws, &dates).await? {
        let Some((on, years)) = next_occurrence(&stored, today) else {
            continue;
        };
        let days = (on - today).get_days();
        if !(0..=UPCOMING_DAYS).contains(&days) {
            continue;
        }
        let label = labels.get(&field).cloned().unwrap_or_else(|| field.clone());
        let who = display_name(&name);
        let when = match days {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            n => format!("in {n} days"),
        };
        let shown = super::dates::display(&format!("--{:02}-{:02}", on.month(), on.day())).unwrap_or_default();
        let detail = match years {
            Some(n) if n > 0 => format!("{label}: {shown} ({n} {})", if n == 1 { "year" } else { "years" }),
            _ => format!("{label}: {shown}"),
        };
        out.push(Fact {
            kind: "upcoming_date",
            key: format!("upcoming_date:{contact}:{field}:{on}"),
            content: Content {
                title: format!("{who} — {} {when}", label.to_lowercase()),
                detail,
                contact_ids: vec![contact],
            },
            confidence: 1.0,
        });
    }
    let stale_before = now - jiff::SignedDuration::from_hours(24 * STALE_DAYS);
    let stall_before = now - jiff::SignedDuration::from_hours(24 * STALL_DAYS);
    for (contact, name, stage, since, last) in storage::insights::in_stages(&state.db, ws).await? {
        let who = display_name(&name);
        if let Some(last_at) = timestamp(&last).filter(|t| *t < stale_before) {
            let quiet = now.duration_since(last_at).as_hours() / 24;
            out.push(Fact {
                kind: "stale_contact",
                key: format!("stale_contact:{contact}:{last}"),
                content: Content {
                    title: format!("{who} has not heard from you in {quiet} days"),
                    detail: format!("In {stage}; nothing logged since {}.", &last[..10.min(last.len())]),
                    contact_ids: vec![contact.clone()],
                },
                confidence: 1.0,
            });
        }
        if let Some(since_at) = timestamp(&since).filter(|t| *t < stall_before) {
            let days = now.duration_since(since_at).as_hours() / 24;
            out.push(Fact {
                kind: "pipeline_stall",
                key: format!("pipeline_stall:{contact}:{stage}:{since}"),
                content: Content {
                    title: format!("{who} has been in {stage} for {days} days"),
                    detail: "Move them on, or note what they are waiting for.".into(),
                    contact_ids: vec![contact],
                },
                confidence: 1.0,
            });
        }
    }
    let day_ago = crate::clock::format(now - jiff::SignedDuration::from_hours(24));
    let failed = storage::insights::failed_since(&state.db, ws, &day_ago).await?;
    if !failed.is_empty() {
        let mut ids: Vec<String> = failed.iter().map(|(id, _)| id.clone()).collect();
        ids.dedup();
        let names: Vec<String> = failed.iter().map(|(_, n)| display_name(n)).take(5).collect();
        out.push(Fact {
            kind: "failed_messages",
            key: format!("failed_messages:{today}"),
            content: Content {
                title: format!(
                    "{} {} did not go through in the last day",
                    failed.len(),
                    if failed.len() == 1 { "message" } else { "messages" }
                ),
                detail: format!(
                    "To {}. Open each to see why, then send again or fix the address.",
                    names.join(", ")
                ),
                contact_ids: ids,
            },
            confidence: 1.0,
        });
    }
    let month_ago = crate::clock::format(now - jiff::SignedDuration::from_hours(24 * 30));
    let week = today.iso_week_date();
    for (id, name, sent, opened, replied) in storage::insights::template_results(&state.db, ws, &month_ago).await? {
        if sent < MIN_SENDS {
            continue;
        }
        let pct = |n: i64| (n * 100 + sent / 2) / sent;
        out.push(Fact {
            kind: "template_performance",
            key: format!("template_performance:{id}:{}-W{:02}", week.year(), week.week()),
            content: Content {
                title: format!("\"{name}\": {}% opened, {}% replied", pct(opened), pct(replied)),
                detail: format!("{sent} sent in the last 30 days; {opened} opened, {replied} answered within a week."),
                contact_ids: Vec::new(),
            },
            confidence: 1.0,
        });
    }
    Ok(out)
}

fn display_name(name: &str) -> String {
    if name.trim().is_empty() {
        "A contact without a name".into()
    } else {
        name.trim().to_string()
    }
}

fn timestamp(text: &str) -> Option<jiff::Timestamp> {
    crate::clock::parse(text)
}

/// The next time a stored date (`YYYY-MM-DD` or `--MM-DD`) comes round on or after `today`,
/// and how many years it will be then (`None` without a year; a date still ahead of its
/// first occurrence counts 0). 29 February falls on 28 February in other years.
pub fn next_occurrence(stored: &str, today: Date) -> Option<(Date, Option<i16>)> {
    let (year, month, day) = match stored.strip_prefix("--") {
        Some(md) => {
            let (m, d) = md.split_once('-')?;
            (None, m.parse::<i8>().ok()?, d.parse::<i8>().ok()?)
        }
        None => {
            let mut parts = stored.splitn(3, '-');
            let y = parts.next()?.parse::<i16>().ok()?;
            (
                Some(y),
                parts.next()?.parse::<i8>().ok()?,
                parts.next()?.parse::<i8>().ok()?,
            )
        }
    };
    let in_year = |y: i16| -> Option<Date> {
        Date::new(y, month, day)
            .ok()
            .or_else(|| (month == 2 && day == 29).then(|| Date::new(y, 2, 28).ok()).flatten())
    };
    let mut on = in_year(today.year())?;
    if on < today {
        on = in_year(today.year() + 1)?;
    }
    if year.is_some_and(|y| y > on.year()) {
        return None;
    }
    Some((on, year.map(|y| on.year() - y)))
}

/// What the model is told for its ideas: counts only, never names.
pub fn ideas_prompt(facts: &[Fact]) -> Option<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in facts {
        *counts.entry(f.kind).or_default() += 1;
    }
    if counts.is_empty() {
        return None;
    }
    let lines: Vec<String> = counts
        .iter()
        .map(|(k, n)| {
            let what = match *k {
                "upcoming_date" => "birthdays or anniversaries in the next two weeks",
                "stale_contact" => "people in the pipeline not contacted for a month",
                "pipeline_stall" => "deals in the same stage for three weeks",
                "failed_messages" => "days with failed messages",
                _ => "templates with measured open and reply rates",
            };
            format!("- {n} {what}")
        })
        .collect();
    Some(format!(
        "A loan officer's small CRM found these facts today:\n{}\nSuggest at most 3 short, practical actions for today. Answer with one JSON object only: {{\"ideas\": [{{\"title\": a short action, \"detail\": one sentence}}]}}. Never invent numbers.",
        lines.join("\n")
    ))
}

/// The model's ideas as facts of `today` (keyed by the day, so a second run adds none).
pub fn ideas_from(answer: &str, today: Date) -> Vec<Fact> {
    let Some(object) = super::ai_reply::read_object(answer) else {
        return Vec::new();
    };
    let Some(Value::Array(ideas)) = object.get("ideas") else {
        return Vec::new();
    };
    ideas
        .iter()
        .take(3)
        .enumerate()
        .filter_map(|(i, idea)| {
            let title = idea.get("title")?.as_str()?.trim();
            let detail = idea.get("detail").and_then(Value::as_str).unwrap_or("").trim();
            (!title.is_empty()).then(|| Fact {
                kind: "ai_idea",
                key: format!("ai_idea:{today}:{i}"),
                content: Content {
                    title: title.chars().take(200).collect(),
                    detail: detail.chars().take(500).collect(),
                    contact_ids: Vec::new(),
                },
                confidence: 0.5,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn yearly_dates_come_round_with_their_age() {
        let today = date(2026, 11, 28);
        assert_eq!(next_occurrence("--12-01", today), Some((date(2026, 12, 1), None)));
        assert_eq!(
            next_occurrence("1980-11-28", today),
            Some((date(2026, 11, 28), Some(46)))
        );
        assert_eq!(
            next_occurrence("1980-11-27", today),
            Some((date(2027, 11, 27), Some(47)))
        );
        // 29 February on 28 February in a common year; itself in a leap year.
        assert_eq!(
            next_occurrence("2000-02-29", date(2027, 2, 1)),
            Some((date(2027, 2, 28), Some(27)))
        );
        assert_eq!(
            next_occurrence("--02-29", date(2028, 2, 1)),
            Some((date(2028, 2, 29), None))
        );
        // A closing next week counts 0 years; one next year has no occurrence yet.
        assert_eq!(next_occurrence("2026-12-03", today), Some((date(2026, 12, 3), Some(0))));
        assert_eq!(next_occurrence("2027-12-03", today), None);
        assert_eq!(next_occurrence("not a date", today), None);
    }

    #[test]
    fn ideas_are_read_from_the_models_object() {
        let ideas = ideas_from(
            r#"{"ideas": [{"title": "Call the quiet ones", "detail": "Five people."}, {"title": ""}]}"#,
            date(2026, 11, 28),
        );
        assert_eq!(ideas.len(), 1);
        assert_eq!(ideas[0].key, "ai_idea:2026-11-28:0");
        assert!(ideas_from("no", date(2026, 11, 28)).is_empty());
    }
}

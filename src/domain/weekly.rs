//! The weekly summary (SPEC §9.2): each person's week in numbers, the dates coming up and the
//! open insights, across their workspaces. The same summary is the Monday email (sent by the
//! `weekly-summary` job through the first workspace with an email provider) and the
//! dashboard's "This week" card, so a person without email loses nothing.

use askama::Template;
use jiff::Timestamp;

use super::actor::{Actor, Via};
use super::insights::{self, InsightQuery};
use super::messaging::outbox;
use super::workspace;
use crate::error::AppResult;
use crate::state::AppState;
use crate::storage;

pub struct WorkspaceWeek {
    pub name: String,
    pub contacts: i64,
    pub new_contacts: i64,
    pub sent: i64,
    pub received: i64,
    pub failed: i64,
}

pub struct Summary {
    /// `2026-W48`.
    pub week: String,
    /// "Week of November 23".
    pub title: String,
    pub person: String,
    pub workspaces: Vec<WorkspaceWeek>,
    /// `(title, detail)` of dates in the next 14 days.
    pub upcoming: Vec<(String, String)>,
    /// `(title, detail, is_ai)` of open insights besides dates.
    pub insights: Vec<(String, String, bool)>,
}

impl Summary {
    pub fn is_quiet(&self) -> bool {
        self.upcoming.is_empty()
            && self.insights.is_empty()
            && self
                .workspaces
                .iter()
                .all(|w| w.new_contacts == 0 && w.sent == 0 && w.received == 0)
    }
}

/// The email's HTML part.
#[derive(Template)]
#[template(path = "emails/weekly_summary.html")]
struct SummaryEmail<'a> {
    s: &'a Summary,
}

/// The ISO week a day is in, as the summaries are keyed: `2026-W48`.
pub fn week_key(day: jiff::civil::Date) -> String {
    let week = day.iso_week_date();
    format!("{}-W{:02}", week.year(), week.week())
}

/// The person's summary for the week that contains `now` (in their own zone).
pub async fn summary(state: &AppState, actor: &Actor, now: Timestamp) -> AppResult<Summary> {
    let me = super::user::me(&state.db, actor).await?;
    let tz = super::user::zone_of(state, actor).await?;
    let local = now.to_zoned(tz);
    let monday = local.date() - jiff::Span::new().days(i64::from(local.date().weekday().to_monday_zero_offset()));
    let workspaces = numbers(state, actor, now).await?;
    let mut upcoming = Vec::new();
    for ws in workspace::list(&state.db, actor).await? {
        let today = now.to_zoned(ws.time_zone(&state.config)?).date();
        for fact in insights::facts(state, &ws, today, now).await? {
            if fact.kind == "upcoming_date" {
                upcoming.push((fact.content.title, format!("{} · {}", fact.content.detail, ws.name())));
            }
        }
    }
    let open = insights::list(state, actor, &InsightQuery::default(), 20)
        .await
        .unwrap_or_default();
    let insights = open
        .into_iter()
        .filter(|i| i.kind != "upcoming_date")
        .take(6)
        .map(|i| {
            (
                i.content.title.clone(),
                format!("{} · {}", i.content.detail, i.workspace_name),
                i.is_ai(),
            )
        })
        .collect();
    Ok(Summary {
        week: week_key(local.date()),
        title: format!(
            "Week of {}",
            super::dates::display(&format!("--{:02}-{:02}", monday.month(), monday.day())).unwrap_or_default()
        ),
        person: me.name,
        workspaces,
        upcoming,
        insights,
    })
}

/// The last seven days' numbers in each of the person's workspaces (the dashboard's card).
pub async fn numbers(state: &AppState, actor: &Actor, now: Timestamp) -> AppResult<Vec<WorkspaceWeek>> {
    // To the minute, so the same week is asked for (and kept) for a minute at a time.
    let minute = now.round(jiff::Unit::Minute).unwrap_or(now);
    let since = super::ids::v7_floor(minute - jiff::SignedDuration::from_hours(24 * 7));
    let mut out = Vec::new();
    for ws in workspace::list(&state.db, actor).await? {
        let key = format!("week {} {since}", ws.id());
        let (contacts, new_contacts, sent, received, failed) = state
            .stats
            .get_or(&state.db, key, || async {
                Ok(storage::weekly::numbers(&state.db, &ws, &since).await?)
            })
            .await?;
        out.push(WorkspaceWeek {
            name: ws.name().to_string(),
            contacts,
            new_contacts,
            sent,
            received,
            failed,
        });
    }
    Ok(out)
}

/// What one `weekly-summary` run did.
#[derive(Debug, Default)]
pub struct Queued {
    pub emailed: usize,
    pub dashboard_only: usize,
}

/// Queues the summaries due at `now`: each person's, once a week, on Monday from 07:00 in their
/// own time zone (or at the first run after, if the Pi was off), in the outbox of their first
/// workspace with an email provider; without one it is only on the dashboard. The summary's
/// record and its outbox row commit together, so it is made once and never lost.
pub async fn queue_due(state: &AppState, now: Timestamp) -> AppResult<Queued> {
    let mut queued = Queued::default();
    for id in storage::users::list(&state.db).await?.into_iter().map(|u| u.id) {
        let actor = Actor::person(id.clone(), Via::Job);
        let local = now.to_zoned(super::user::zone_of(state, &actor).await?);
        let since_monday = i64::from(local.weekday().to_monday_zero_offset());
        let monday_seven = local
            .date()
            .checked_sub(jiff::Span::new().days(since_monday))
            .map_err(anyhow::Error::from)?
            .at(7, 0, 0, 0)
            .to_zoned(local.time_zone().clone())
            .map_err(anyhow::Error::from)?;
        // Before this week's Monday 07:00 it waits; after, it is made once.
        let week = week_key(local.date());
        if local < monday_seven || storage::weekly::made(&state.db, &id, &week).await? {
            continue;
        }
        let summary = summary(state, &actor, now).await?;
        let mut home = None;
        for ws in workspace::list(&state.db, &actor).await? {
            if super::messaging::providers::configured(state, &ws).await?.0 {
                home = Some(ws);
                break;
            }
        }
        let now_text = state.clock.now_text();
        let mut tx = storage::db::begin_write(&state.db).await?;
        let made = match &home {
            None => storage::weekly::record(&mut tx, &id, &week, "dashboard_only", None, &now_text).await?,
            Some(ws) => {
                let me = super::user::me(&state.db, &actor).await?;
                let (subject, text, html) = render(&summary);
                let notice = outbox::Notice {
                    to: &me.email,
                    subject,
                    text,
                    html,
                };
                let row = outbox::queue_notice(&mut tx, ws, outbox::Purpose::Summary, None, notice, &now_text).await?;
                storage::weekly::record(&mut tx, &id, &week, "sending", Some(row.as_str()), &now_text).await?
            }
        };
        // Made meanwhile by another run: this one's rows go with the rollback.
        if !made {
            continue;
        }
        tx.commit().await?;
        match home {
            Some(_) => queued.emailed += 1,
            None => queued.dashboard_only += 1,
        }
    }
    if queued.emailed > 0 {
        state.outbox.notify_one();
    }
    Ok(queued)
}

/// The summary as an email's subject, plain text and HTML.
pub fn render(s: &Summary) -> (String, String, String) {
    let subject = format!("Your week in pi-crm — {}", s.title.to_lowercase());
    let mut text = format!("Hello {},\n\nHere is your {}.\n", s.person, s.title.to_lowercase());
    for w in &s.workspaces {
        text.push_str(&format!(
            "\n{}: {} contacts ({} new), {} messages sent, {} received, {} did not go through.",
            w.name, w.contacts, w.new_contacts, w.sent, w.received, w.failed
        ));
    }
    if !s.upcoming.is_empty() {
        text.push_str("\n\nComing up in the next two weeks:\n");
        for (title, detail) in &s.upcoming {
            text.push_str(&format!("- {title} ({detail})\n"));
        }
    }
    if !s.insights.is_empty() {
        text.push_str("\nWorth a look:\n");
        for (title, detail, ai) in &s.insights {
            text.push_str(&format!("- {}{title}: {detail}\n", if *ai { "[AI idea] " } else { "" }));
        }
    }
    text.push_str("\n— pi-crm\n");
    let html = SummaryEmail { s }
        .render()
        .unwrap_or_else(|_| super::messaging::send::text_to_html(&text));
    (subject, text, html)
}

//! The `weekly-summary` job (SPEC §9.2, §15): each person's summary once a week, on Monday
//! from 07:00 in their own time zone (or at the first run after, if the Pi was off), through
//! the email provider of their first workspace that has one; without one it is only on the
//! dashboard. Each send is claimed in the database first, so it never goes twice.

use jiff::Timestamp;

use crate::domain::actor::{Actor, Via};
use crate::domain::{providers, user, weekly, workspace};
use crate::providers::{Email, EmailSender, Outcome};
use crate::state::AppState;
use crate::storage;

/// Checked hourly: people live in different zones.
pub fn next_after(after: Timestamp) -> Timestamp {
    let hour = after.as_second().div_euclid(3600) * 3600;
    Timestamp::from_second(hour + 3600).unwrap_or(after)
}

pub async fn run(state: &AppState) -> anyhow::Result<String> {
    run_at(state, Timestamp::now()).await
}

/// Sends the summaries due at `now`.
pub async fn run_at(state: &AppState, now: Timestamp) -> anyhow::Result<String> {
    let (mut sent, mut dashboard, mut failed) = (0, 0, Vec::new());
    for id in storage::users::list(&state.db).await?.into_iter().map(|u| u.id) {
        let actor = Actor::person(id.clone(), Via::Job);
        let local = now.to_zoned(user::zone_of(state, &actor).await?);
        let since_monday = i64::from(local.weekday().to_monday_zero_offset());
        let monday_seven = local
            .date()
            .checked_sub(jiff::Span::new().days(since_monday))?
            .at(7, 0, 0, 0)
            .to_zoned(local.time_zone().clone())?;
        // Before this week's Monday 07:00 it waits; after, it goes once (its claim says so).
        if local < monday_seven {
            continue;
        }
        // Claimed before anything is computed: a summary already sent (or being sent) costs
        // nothing on the hourly runs after it.
        let week = weekly::week_key(local.date());
        if !storage::weekly::claim(&state.db, &id, &week, &crate::clock::now_text()).await? {
            continue;
        }
        let summary = match weekly::summary(state, &actor, now).await {
            Ok(s) => s,
            Err(e) => {
                storage::weekly::release(&state.db, &id, &week).await?;
                return Err(e.into());
            }
        };
        let mut mailer = None;
        for ws in workspace::list(&state.db, &actor).await? {
            if let Ok(Some(m)) = providers::mailer(state, &ws).await {
                mailer = Some(m);
                break;
            }
        }
        let Some(mailer) = mailer else {
            storage::weekly::finish(&state.db, &id, &summary.week, "dashboard_only", None).await?;
            dashboard += 1;
            continue;
        };
        let me = user::me(&state.db, &actor).await?;
        let (subject, text, html) = weekly::render(&summary);
        let email = Email {
            from: mailer.provider.from().to_string(),
            to: me.email,
            subject,
            text,
            html: Some(html),
            headers: Vec::new(),
            outbox_id: crate::domain::ids::OutboxId::generate().to_string(),
        };
        match mailer.send(&email).await {
            Outcome::Sent { .. } => {
                storage::weekly::finish(&state.db, &id, &summary.week, "sent", None).await?;
                sent += 1;
            }
            // Nothing went out: the claim is given back, and the next hour tries again.
            Outcome::Retry { reason, .. } => {
                storage::weekly::release(&state.db, &id, &summary.week).await?;
                failed.push(reason);
            }
            // It failed, or may have gone: never sent twice, the dashboard shows it instead.
            Outcome::Failed { reason, .. } | Outcome::Unknown { reason } => {
                storage::weekly::finish(&state.db, &id, &summary.week, "failed", Some(&reason)).await?;
                failed.push(reason);
            }
        }
    }
    let line = format!("{sent} weekly summaries emailed, {dashboard} on the dashboard only");
    if failed.is_empty() {
        Ok(line)
    } else {
        anyhow::bail!("{line}; {} could not be sent: {}", failed.len(), failed.join("; "))
    }
}

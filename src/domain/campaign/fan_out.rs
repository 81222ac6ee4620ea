//! The fan-out (SPEC §10): each pending recipient personalised and queued in the outbox, a
//! batch per transaction, every skip recorded with its reason (suppressed, no address, a
//! template that does not fill in). A recipient moves from `pending` to `queued` in the same
//! transaction as its outbox row, so a crash, a restart or a second runner never queues anyone
//! twice; the outbox then never sends anything twice. Also what marketing adds to a message
//! (the unsubscribe line and headers, the STOP line) and the preview for one recipient.

use std::collections::HashMap;

use super::sending::{check_provider, query_of, snapshot_of};
use super::{Status, Stored};
use crate::domain::actor::{Actor, Scope, Via as ActorVia};
use crate::domain::audit;
use crate::domain::contact::ContactRecord;
use crate::domain::ids::{CampaignId, ContactId, UserId};
use crate::domain::messaging::Channel;
use crate::domain::messaging::send::{self, Stored as Message};
use crate::domain::template::Filler;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage;
use crate::storage::campaign_recipients::Settled;

/// Recipients queued per transaction: small enough that other writers wait milliseconds,
/// large enough that 10,000 take well under two seconds.
const BATCH: i64 = 500;

/// Who a campaign's messages are from on the timeline (and `sender.*`): the person who made
/// it, else the workspace's owner.
async fn sender_actor(state: &AppState, ws: &WorkspaceAccess, stored: &Stored) -> AppResult<Actor> {
    if let Some(id) = stored.row.created_by.as_deref().and_then(UserId::parse)
        && storage::users::find(&state.db, &id).await?.is_some()
    {
        return Ok(Actor::person(id, ActorVia::Job));
    }
    let owner = workspace::owner(&state.db, ws).await?;
    Ok(Actor::person(owner, ActorVia::Job))
}

/// What becomes of one recipient.
enum Plan {
    Queue {
        address: String,
        message: Message,
    },
    Skip {
        reason: &'static str,
        detail: String,
        address: Option<String>,
    },
    /// Deleted since the segment was resolved.
    Gone,
}

/// The one-click link and the visible footer every campaign email carries (SPEC §8.4); the
/// footer is left out when the template already shows the link.
fn marketing_email(state: &AppState, ws: &WorkspaceAccess, from: &str, to: &str, mut message: Message) -> Message {
    message.headers = crate::domain::messaging::unsubscribe::headers(
        &state.secret,
        state.config.public_url.as_deref(),
        ws.id(),
        to,
        from,
    );
    let link =
        crate::domain::messaging::unsubscribe::link(&state.secret, state.config.public_url.as_deref(), ws.id(), to);
    let (html_line, text_line) = match &link {
        Some(url) => (
            format!(
                "<p style=\"font-size:12px;color:#64748b;margin-top:24px\">Don't want these emails? <a href=\"{}\">Unsubscribe</a>.</p>",
                crate::domain::template::render::html_escape(url)
            ),
            format!("Don't want these emails? Unsubscribe: {url}"),
        ),
        None => (
            "<p style=\"font-size:12px;color:#64748b;margin-top:24px\">Don't want these emails? Reply with \"unsubscribe\".</p>".to_string(),
            "Don't want these emails? Reply with \"unsubscribe\".".to_string(),
        ),
    };
    let shown = link.as_deref().is_some_and(|url| message.text.contains(url));
    if !shown {
        message.text = format!("{}\n\n{text_line}", message.text.trim_end());
        if let Some(html) = &mut message.html {
            match html.to_ascii_lowercase().rfind("</body>") {
                Some(at) => html.insert_str(at, &html_line),
                None => html.push_str(&html_line),
            }
        }
    }
    message
}

/// Marketing texts end with how to opt out, unless the template says it already.
fn marketing_text(mut message: Message) -> Message {
    if !message.text.to_lowercase().contains("stop") {
        message.text = format!("{}\n\nReply STOP to opt out", message.text.trim_end());
    }
    message
}

#[allow(clippy::too_many_arguments)]
fn plan(
    state: &AppState,
    ws: &WorkspaceAccess,
    via: Channel,
    from: &str,
    filler: &Filler,
    template_id: &str,
    contact: Option<&ContactRecord>,
    suppressed: &std::collections::HashSet<String>,
) -> Plan {
    let Some(contact) = contact else {
        return Plan::Gone;
    };
    let address = match via {
        Channel::Email => contact.base.primary_email.clone(),
        Channel::Text => contact.base.primary_phone.clone(),
    }
    .filter(|a| !a.trim().is_empty());
    let Some(address) = address else {
        return Plan::Skip {
            reason: "no_address",
            detail: match via {
                Channel::Email => "no email address".into(),
                Channel::Text => "no phone number".into(),
            },
            address: None,
        };
    };
    if suppressed.contains(&address) {
        return Plan::Skip {
            reason: "suppressed",
            detail: "on the suppression list".into(),
            address: Some(address),
        };
    }
    let message = filler
        .fill(state, contact)
        .and_then(|rendered| send::from_rendered(via, rendered, template_id))
        .map(|m| m.to(via, contact))
        .map(|m| match via {
            Channel::Email => marketing_email(state, ws, from, &address, m),
            Channel::Text => marketing_text(m),
        })
        .and_then(|m| {
            if via == Channel::Text && m.text.chars().count() > send::TEXT_MAX_CHARS {
                Err(AppError::invalid(
                    "body",
                    format!("the text is longer than {} characters", send::TEXT_MAX_CHARS),
                ))
            } else {
                Ok(m)
            }
        });
    match message {
        Ok(message) => Plan::Queue { address, message },
        Err(e) => Plan::Skip {
            reason: "render_error",
            detail: e.public_message(),
            address: Some(address),
        },
    }
}

/// What one fan-out did.
#[derive(Debug, Default, Clone, Copy)]
pub struct FannedOut {
    pub queued: usize,
    pub skipped: usize,
}

/// Queues every pending recipient of the campaign, a batch per transaction, while it is
/// sending (or a yearly one is scheduled); stops at a pause or cancel between batches.
pub async fn fan_out(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<FannedOut> {
    let outcome = queue_pending(state, ws, id).await;
    // What a person can fix is shown on the campaign's page until a pass gets through.
    let problem = match &outcome {
        Err(
            e @ (AppError::Refused { .. }
            | AppError::Invalid { .. }
            | AppError::InvalidMany(_)
            | AppError::Conflict { .. }),
        ) => Some(e.public_message()),
        _ => None,
    };
    let had = storage::campaigns::find(&state.db, ws, id)
        .await?
        .and_then(|r| r.problem);
    if had != problem && (problem.is_some() || outcome.is_ok()) {
        let mut tx = storage::db::begin_write(&state.db).await?;
        storage::campaigns::set_problem(&mut tx, ws, id.as_str(), problem.as_deref()).await?;
        tx.commit().await?;
    }
    outcome
}

async fn queue_pending(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<FannedOut> {
    let mut done = FannedOut::default();
    let stored = super::load(state, ws, id).await?;
    if !matches!(stored.status(), Status::Sending | Status::Scheduled) {
        return Ok(done);
    }
    if storage::campaign_recipients::pending(&state.db, ws, id.as_str(), 1)
        .await?
        .is_empty()
    {
        finish(state, ws, id).await?;
        return Ok(done);
    }
    let snapshot = snapshot_of(&stored)?;
    let via = stored.via();
    let from = check_provider(state, ws, via).await?;
    let actor = sender_actor(state, ws, &stored).await?;
    let filler = Filler::for_source(state, &actor, ws, &snapshot.source()).await?;
    loop {
        let batch = storage::campaign_recipients::pending(&state.db, ws, id.as_str(), BATCH).await?;
        if batch.is_empty() {
            break;
        }
        let ids: Vec<String> = batch.iter().map(|(_, c)| c.clone()).collect();
        let contacts: HashMap<String, ContactRecord> =
            storage::contacts::load_many(&state.db, ws, &ids, storage::contacts::Values::All)
                .await?
                .into_iter()
                .map(|c| (c.id.clone(), c))
                .collect();
        let addresses: Vec<String> = contacts
            .values()
            .filter_map(|c| match via {
                Channel::Email => c.base.primary_email.clone(),
                Channel::Text => c.base.primary_phone.clone(),
            })
            .collect();
        let suppressed = storage::suppressions::among(&state.db, ws, via.as_str(), &addresses).await?;
        let plans: Vec<(String, String, Plan)> = batch
            .into_iter()
            .map(|(occurrence, contact)| {
                let p = plan(
                    state,
                    ws,
                    via,
                    &from,
                    &filler,
                    &snapshot.template_id,
                    contacts.get(&contact),
                    &suppressed,
                );
                (occurrence, contact, p)
            })
            .collect();
        let at = state.clock.now_text();
        let mut tx = storage::db::begin_write(&state.db).await?;
        // A pause or cancel since the batch was read stops it here, inside the lock.
        let now_status = storage::campaigns::find(&mut *tx, ws, id)
            .await?
            .map(|r| Status::parse(&r.status));
        if !matches!(now_status, Some(Status::Sending | Status::Scheduled)) {
            return Ok(done);
        }
        let keys: Vec<(String, String)> = plans.iter().map(|(o, c, _)| (o.clone(), c.clone())).collect();
        let mine = storage::campaign_recipients::claim(&mut tx, ws, id.as_str(), &keys).await?;
        for (occurrence, contact, plan) in &plans {
            if !mine.contains(&(occurrence.clone(), contact.clone())) {
                continue;
            }
            let mut queued = None;
            let settled = match plan {
                Plan::Queue { address, message } => {
                    let contact_id = ContactId::found(contact)?;
                    queued = Some(
                        send::queue(
                            &mut tx,
                            &actor,
                            ws,
                            &contact_id,
                            &send::Outgoing {
                                via,
                                from: &from,
                                to: address,
                                message,
                                campaign: Some(id.as_str()),
                                at: &at,
                            },
                        )
                        .await?,
                    );
                    done.queued += 1;
                    Settled {
                        state: "queued",
                        reason: None,
                        detail: None,
                        address: Some(address.as_str()),
                        communication: None,
                    }
                }
                Plan::Skip {
                    reason,
                    detail,
                    address,
                } => {
                    done.skipped += 1;
                    Settled {
                        state: "skipped",
                        reason: Some(*reason),
                        detail: Some(detail.as_str()),
                        address: address.as_deref(),
                        communication: None,
                    }
                }
                Plan::Gone => Settled {
                    state: "cancelled",
                    reason: None,
                    detail: Some("the contact was deleted"),
                    address: None,
                    communication: None,
                },
            };
            let settled = Settled {
                communication: queued.as_ref().map(|c| c.as_str()),
                ..settled
            };
            storage::campaign_recipients::settle(&mut tx, ws, id.as_str(), occurrence, contact, &settled).await?;
        }
        tx.commit().await?;
        state.outbox.notify_one();
    }
    if done.queued + done.skipped > 0 {
        let mut tx = storage::db::begin_write(&state.db).await?;
        audit::in_workspace_with(
            &mut tx,
            &actor,
            ws.id(),
            "campaign.queue",
            "campaign",
            id.as_str(),
            &serde_json::json!({"queued": done.queued, "skipped": done.skipped}),
        )
        .await?;
        tx.commit().await?;
    }
    finish(state, ws, id).await?;
    Ok(done)
}

/// A one-off campaign with nothing left to queue or send is `sent`.
async fn finish(state: &AppState, ws: &WorkspaceAccess, id: &CampaignId) -> AppResult<()> {
    let mut tx = storage::db::begin_write(&state.db).await?;
    storage::campaigns::finish_if_done(&mut tx, ws, id.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

/// A campaign's message as one recipient gets it.
#[derive(Debug, Clone)]
pub struct Preview {
    pub contact_id: Option<String>,
    pub contact_name: String,
    pub address: Option<String>,
    pub subject: String,
    pub body_html: Option<String>,
    pub body_text: String,
}

/// What `contact` (or the segment's first contact, or a sample) would get: the frozen snapshot
/// once there is one, else the template as it is now; with the unsubscribe footer or the STOP
/// line marketing carries.
pub async fn preview(
    state: &AppState,
    actor: &Actor,
    ws: &WorkspaceAccess,
    id: &CampaignId,
    contact: Option<&ContactId>,
) -> AppResult<Preview> {
    actor.require(Scope::ReadCampaigns)?;
    let stored = super::load(state, ws, id).await?;
    let snapshot = match &stored.row.snapshot {
        Some(_) => snapshot_of(&stored)?,
        None => super::approval::freeze(state, actor, ws, &stored).await?,
    };
    let filler = Filler::for_source(state, actor, ws, &snapshot.source()).await?;
    let record =
        match contact {
            Some(c) => Some(storage::contacts::load(&state.db, ws, c).await?.ok_or_else(|| {
                AppError::invalid("contact_id", "there is no contact with this id in this workspace")
            })?),
            None => {
                let q = query_of(state, ws, &snapshot).await?;
                match storage::segments::first(&state.db, ws, &q).await? {
                    Some(first) => storage::contacts::load(&state.db, ws, &first).await?,
                    None => None,
                }
            }
        };
    let record = record.unwrap_or_else(|| crate::domain::template::sample_contact(filler.fields()));
    let via = stored.via();
    let address = match via {
        Channel::Email => record.base.primary_email.clone(),
        Channel::Text => record.base.primary_phone.clone(),
    };
    let rendered = filler.fill(state, &record)?;
    let message = send::from_rendered(via, rendered, &snapshot.template_id)?;
    let from = check_provider(state, ws, via).await.unwrap_or_default();
    let message = match via {
        Channel::Email => marketing_email(
            state,
            ws,
            &from,
            address.as_deref().unwrap_or("someone@example.com"),
            message,
        ),
        Channel::Text => marketing_text(message),
    };
    Ok(Preview {
        contact_id: (!record.id.is_empty()).then(|| record.id.clone()),
        contact_name: record.display_name(),
        address,
        subject: message.subject,
        body_html: message.html,
        body_text: message.text,
    })
}

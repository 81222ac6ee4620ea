//! The suppression list (SPEC §8.4): addresses and numbers no send may reach, because they
//! unsubscribed, bounced, complained, replied STOP, or someone put them there by hand.

use serde::{Deserialize, Serialize};
use sqlx::{SqliteConnection, SqlitePool};

use super::actor::{Actor, Scope};
use super::audit;
use super::ids::SuppressionId;
use super::page::{Page, PageRequest};
use super::phone::Phone;
use super::user::Email;
use super::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
use crate::storage;

pub const REASONS: &[&str] = &["unsubscribed", "bounced", "complained", "stop", "manual"];

/// Which kind of address: an email or a phone number for texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Email,
    Text,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Email => "email",
            Via::Text => "text",
        }
    }

    /// `email` or `text`, as the API, the forms and the outbox name them.
    pub fn parse(text: &str) -> Option<Via> {
        match text.trim() {
            "email" => Some(Via::Email),
            "text" => Some(Via::Text),
            _ => None,
        }
    }

    /// The channel of an outbox row, which only ever holds `email` or `text`.
    pub fn of_outbox(channel: &str) -> Via {
        Via::parse(channel).unwrap_or(Via::Text)
    }

    /// Refuses with 409 `suppressed` when `address` is on the workspace's list.
    pub async fn refuse_if_suppressed(
        self,
        conn: &mut SqliteConnection,
        ws: &WorkspaceAccess,
        address: &str,
    ) -> AppResult<()> {
        match is_suppressed(conn, ws, self, address).await? {
            Some(reason) => Err(AppError::refused(
                "suppressed",
                format!("{address} is on the suppression list ({reason}); nothing is sent to it"),
            )),
            None => Ok(()),
        }
    }

    /// The address as stored: a lower-case email, or a number in E.164.
    pub fn normalise(self, raw: &str, default_region: &str, field: &str) -> AppResult<String> {
        match self {
            Via::Email => Ok(Email::parse(raw, field)?.as_str().to_string()),
            Via::Text => Ok(Phone::parse(raw, default_region, field)?.into_string()),
        }
    }
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Suppression {
    pub id: String,
    pub channel: String,
    pub address: String,
    pub reason: String,
    pub created_at: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SuppressionInput {
    pub address: String,
    pub channel: String,
    /// unsubscribed, bounced, complained, stop or manual (the default).
    pub reason: Option<String>,
}

pub async fn list(
    db: &SqlitePool,
    actor: &Actor,
    ws: &WorkspaceAccess,
    page: &PageRequest,
) -> AppResult<Page<Suppression>> {
    actor.require(Scope::ReadContacts)?;
    let spec = page.parse()?;
    let rows = storage::suppressions::page(db, ws, &spec).await?;
    Ok(Page::from_rows(rows, &spec, |s| s.id.clone()))
}

/// Adds an address by hand (201), or answers the one already there (200: `false`).
pub async fn add(
    db: &SqlitePool,
    default_region: &str,
    actor: &Actor,
    ws: &WorkspaceAccess,
    input: SuppressionInput,
) -> AppResult<(Suppression, bool)> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut bad = Invalids::default();
    let via =
        bad.check(Via::parse(&input.channel).ok_or_else(|| AppError::invalid("channel", "channel is email or text")))?;
    let reason = input
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("manual");
    if !REASONS.contains(&reason) {
        bad.check::<()>(Err(AppError::invalid(
            "reason",
            "reason is unsubscribed, bounced, complained, stop or manual",
        )))?;
    }
    let address = match via {
        Some(v) => bad.check(v.normalise(&input.address, default_region, "address"))?,
        None => None,
    };
    bad.finish()?;
    let (Some(via), Some(address)) = (via, address) else {
        return Err(AppError::invalid("address", "address is required"));
    };
    let mut tx = storage::db::begin_write(db).await?;
    let (entry, added) = suppress(&mut tx, ws, via, &address, reason).await?;
    if added {
        audit::in_workspace(&mut tx, actor, ws.id(), "suppression.create", "suppression", &entry.id).await?;
    }
    tx.commit().await?;
    Ok((entry, added))
}

/// Puts an address on the list (in the caller's transaction) unless it is there; gives the
/// entry, and whether it is new. Webhooks, unsubscribe links and STOP replies come here.
pub async fn suppress(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Via,
    address: &str,
    reason: &str,
) -> AppResult<(Suppression, bool)> {
    let entry = Suppression {
        id: SuppressionId::generate().to_string(),
        channel: via.as_str().into(),
        address: address.to_string(),
        reason: reason.to_string(),
        created_at: crate::clock::now_text(),
    };
    if storage::suppressions::insert(conn, ws, &entry).await? {
        return Ok((entry, true));
    }
    let existing = storage::suppressions::find(conn, ws, via.as_str(), address)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a suppression vanished while being added")))?;
    Ok((existing, false))
}

pub async fn is_suppressed(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Via,
    address: &str,
) -> AppResult<Option<String>> {
    Ok(storage::suppressions::find(conn, ws, via.as_str(), address)
        .await?
        .map(|s| s.reason))
}

pub async fn remove(db: &SqlitePool, actor: &Actor, ws: &WorkspaceAccess, id: &SuppressionId) -> AppResult<()> {
    actor.require(Scope::WriteContacts)?;
    ws.require_editor()?;
    let mut tx = storage::db::begin_write(db).await?;
    if !storage::suppressions::delete(&mut tx, ws, id).await? {
        return Err(AppError::NotFound);
    }
    audit::in_workspace(
        &mut tx,
        actor,
        ws.id(),
        "suppression.delete",
        "suppression",
        id.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

//! The suppression list (SPEC §8.4): addresses and numbers no send may reach, because they
//! unsubscribed, bounced, complained, replied STOP, or someone put them there by hand.

use sqlx::{SqliteConnection, SqlitePool};

use super::Channel;
use crate::domain::actor::{Actor, Scope};
use crate::domain::audit;
use crate::domain::ids::SuppressionId;
use crate::domain::page::{Page, PageRequest};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::{AppError, AppResult, Invalids};
pub use crate::model::suppression::{SendKind, SuppressionScope};
use crate::storage;
pub use crate::storage::suppressions::Suppression;

pub const REASONS: &[&str] = &["unsubscribed", "bounced", "complained", "stop", "manual"];

/// Refuses with 409 `suppressed` when `address` is on the workspace's list for `channel` in a
/// scope that stops a send of `kind`.
pub async fn refuse_if_suppressed(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    channel: Channel,
    address: &str,
    kind: SendKind,
) -> AppResult<()> {
    match is_suppressed(conn, ws, channel, address, kind).await? {
        Some(entry) => Err(AppError::refused("suppressed", entry.why_stopped())),
        None => Ok(()),
    }
}

impl Suppression {
    /// "maria@example.com is on the suppression list (bounced); nothing is sent to it".
    pub fn why_stopped(&self) -> String {
        match self.scope {
            SuppressionScope::Marketing => format!(
                "{} unsubscribed from marketing on {}; campaigns are not sent to it",
                self.address,
                self.day()
            ),
            SuppressionScope::All => format!(
                "{} is on the suppression list ({}); nothing is sent to it",
                self.address, self.reason
            ),
        }
    }

    /// The day it was added, "Dec 6, 2026".
    pub fn day(&self) -> String {
        match crate::clock::parse(&self.created_at) {
            Some(t) => t.strftime("%b %-d, %Y").to_string(),
            None => self.created_at.clone(),
        }
    }
}

#[derive(Debug)]
pub struct SuppressionInput {
    pub address: String,
    pub channel: String,
    /// unsubscribed, bounced, complained, stop or manual (the default).
    pub reason: Option<String>,
    /// What it stops: `marketing` (campaigns only) or `all`. By default an unsubscribe is
    /// `marketing` and every other reason `all`.
    pub scope: Option<String>,
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
    let via = bad.check(
        Channel::parse(&input.channel).ok_or_else(|| AppError::invalid("channel", "channel is email or text")),
    )?;
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
    let scope = match input.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => SuppressionScope::of_reason(reason),
        Some(text) => bad
            .check(
                SuppressionScope::parse(text).ok_or_else(|| AppError::invalid("scope", "scope is marketing or all")),
            )?
            .unwrap_or(SuppressionScope::All),
    };
    let address = match via {
        Some(v) => bad.check(v.normalise(&input.address, default_region, "address"))?,
        None => None,
    };
    bad.finish()?;
    let (Some(via), Some(address)) = (via, address) else {
        return Err(AppError::invalid("address", "address is required"));
    };
    let mut tx = storage::db::begin_write(db).await?;
    let (entry, added) = suppress_as(&mut tx, ws, via, &address, reason, scope).await?;
    if added {
        audit::in_workspace(&mut tx, actor, ws.id(), "suppression.create", "suppression", &entry.id).await?;
    }
    tx.commit().await?;
    Ok((entry, added))
}

/// Puts an address on the list (in the caller's transaction) in its reason's scope unless it
/// is there; gives the entry, and whether it is new or wider. Webhooks, unsubscribe links and
/// STOP replies come here.
pub async fn suppress(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Channel,
    address: &str,
    reason: &str,
) -> AppResult<(Suppression, bool)> {
    suppress_as(conn, ws, via, address, reason, SuppressionScope::of_reason(reason)).await
}

async fn suppress_as(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Channel,
    address: &str,
    reason: &str,
    scope: SuppressionScope,
) -> AppResult<(Suppression, bool)> {
    let entry = Suppression {
        id: SuppressionId::generate().to_string(),
        channel: via,
        address: address.to_string(),
        reason: reason.to_string(),
        scope,
        created_at: crate::clock::now_text(),
    };
    let changed = storage::suppressions::insert(conn, ws, &entry).await?;
    let stored = find(conn, ws, via, address)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a suppression vanished while being added")))?;
    Ok((stored, changed))
}

/// The address's entry on the workspace's list for `via`, whatever its scope.
pub async fn find(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Channel,
    address: &str,
) -> AppResult<Option<Suppression>> {
    Ok(storage::suppressions::find(conn, ws, via.as_str(), address).await?)
}

/// The entry that stops a send of `kind` to the address, if one does.
pub async fn is_suppressed(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    via: Channel,
    address: &str,
    kind: SendKind,
) -> AppResult<Option<Suppression>> {
    Ok(find(conn, ws, via, address).await?.filter(|s| s.scope.stops(kind)))
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

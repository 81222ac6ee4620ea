//! API keys: `pcrm_<prefix>_<secret>`, 32 random bytes of secret, shown once and stored only
//! as a SHA-256 digest. The prefix identifies a key in lists without revealing it.

use sqlx::SqlitePool;

use super::activity::Activity;
use super::actor::{Actor, KeyLimits, Scope, Via, parse_scopes};
use super::audit;
use super::ids::ApiKeyId;
use super::workspace;
use crate::auth::tokens;
use crate::clock;
use crate::error::{AppError, AppResult};
use crate::storage;
pub use crate::storage::api_keys::ApiKeyView;

impl ApiKeyView {
    pub fn is_expired(&self) -> bool {
        self.expires_at
            .as_deref()
            .is_some_and(|e| e <= clock::now_text().as_str())
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewKey {
    pub description: String,
    pub scopes: Vec<String>,
    pub workspace_id: Option<String>,
    /// `YYYY-MM-DD` (the key works through the end of that day, UTC) or an RFC 3339 time.
    pub expires_at: Option<String>,
}

/// The key as shown once, with its stored view.
pub struct CreatedKey {
    pub view: ApiKeyView,
    pub key: String,
}

fn parse_expiry(raw: Option<&str>) -> AppResult<Option<String>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let when = if let Some(t) = clock::parse(raw) {
        t
    } else if let Some(end_of_day) = raw
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.at(23, 59, 59, 0).to_zoned(jiff::tz::TimeZone::UTC).ok())
    {
        end_of_day.timestamp()
    } else {
        return Err(AppError::invalid(
            "expires_at",
            "use a date like 2027-01-31 or an RFC 3339 time",
        ));
    };
    if when <= clock::now() {
        return Err(AppError::invalid("expires_at", "the expiry must be in the future"));
    }
    Ok(Some(clock::format(when)))
}

pub async fn create(db: &SqlitePool, actor: &Actor, new: NewKey) -> AppResult<CreatedKey> {
    actor.require(Scope::ManageKeys)?;
    let description = new.description.trim().to_string();
    if description.chars().count() > 200 {
        return Err(AppError::invalid(
            "description",
            "a description is at most 200 characters",
        ));
    }
    let scopes = parse_scopes(&new.scopes, "scopes")?;
    if let Some(beyond) = scopes.iter().find(|s| !actor.grantable_scopes().contains(s)) {
        return Err(AppError::forbidden(format!(
            "a key cannot grant the {beyond} scope it lacks itself"
        )));
    }
    let requested_ws = new.workspace_id.as_deref().map(str::trim).filter(|s| !s.is_empty());
    // A pinned key only mints keys pinned to the same workspace.
    let ws_text = requested_ws
        .map(str::to_string)
        .or_else(|| actor.pinned_workspace().map(|w| w.to_string()));
    let workspace = match ws_text {
        Some(id) => Some(workspace::resolve_text(db, actor, &id).await?),
        None => None,
    };
    let expires_at = parse_expiry(new.expires_at.as_deref())?;
    let scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_string()).collect();

    let mut tx = storage::db::begin_write(db).await?;
    let prefix = tokens::random_hex(4);
    let key = format!("pcrm_{prefix}_{}", tokens::random_hex(32));
    let row = storage::api_keys::NewRow {
        id: ApiKeyId::generate(),
        user_id: actor.user_id.clone(),
        prefix: prefix.clone(),
        key_hash: tokens::sha256_hex(&key),
        description,
        scopes: serde_json::to_string(&scope_names).expect("strings serialise"),
        workspace_id: workspace.as_ref().map(|w| w.id().clone()),
        created_at: clock::now_text(),
        expires_at,
    };
    storage::api_keys::insert(&mut tx, &row).await?;
    audit::record(
        &mut tx,
        actor,
        "api_key.create",
        "api_key",
        Some(row.id.as_str()),
        row.workspace_id.as_ref(),
    )
    .await?;
    tx.commit().await?;
    let view = ApiKeyView {
        id: row.id.to_string(),
        prefix,
        description: row.description,
        scopes: scope_names,
        workspace_id: row.workspace_id.map(|w| w.to_string()),
        expires_at: row.expires_at,
        created_at: row.created_at,
        last_used_at: None,
    };
    Ok(CreatedKey { view, key })
}

/// The actor's keys that are not revoked, newest first. A pinned key sees only the keys
/// pinned to its own workspace.
pub async fn list(db: &SqlitePool, actor: &Actor) -> AppResult<Vec<ApiKeyView>> {
    actor.require(Scope::ManageKeys)?;
    let mut keys = storage::api_keys::list_for_user(db, &actor.user_id).await?;
    if let Some(pinned) = actor.pinned_workspace() {
        keys.retain(|k| k.workspace_id.as_deref() == Some(pinned.as_str()));
    }
    Ok(keys)
}

pub async fn revoke(db: &SqlitePool, actor: &Actor, id: &ApiKeyId) -> AppResult<()> {
    actor.require(Scope::ManageKeys)?;
    let key = storage::api_keys::find_for_user(db, &actor.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(pinned) = actor.pinned_workspace()
        && key.workspace_id.as_deref() != Some(pinned.as_str())
    {
        return Err(AppError::NotFound);
    }
    let mut tx = storage::db::begin_write(db).await?;
    storage::api_keys::revoke(&mut tx, &actor.user_id, id).await?;
    audit::record(&mut tx, actor, "api_key.revoke", "api_key", Some(id.as_str()), None).await?;
    tx.commit().await?;
    Ok(())
}

/// Revokes a key on the operator's word (the CLI, run by whoever holds the data dir), acting
/// as the key's owner. False when no active key has this id.
pub async fn revoke_by_operator(db: &SqlitePool, id: &ApiKeyId) -> AppResult<bool> {
    let Some(owner) = storage::api_keys::owner_of(db, id).await? else {
        return Ok(false);
    };
    revoke(db, &Actor::person(owner, Via::Cli), id).await?;
    Ok(true)
}

/// The one answer to any key that does not work, whatever the reason.
pub fn refused() -> AppError {
    AppError::Unauthorized("the API key is missing, invalid, revoked or expired".into())
}

/// Turns a presented key into an actor. Anything wrong — malformed, unknown, revoked,
/// expired — is the same 401, so a caller learns nothing about which keys exist.
pub async fn authenticate(db: &SqlitePool, activity: &Activity, presented: &str) -> AppResult<Actor> {
    let found = active(db, activity, presented).await?;
    Ok(actor_of(found, None))
}

/// A phone's CardDAV sign-in (SPEC §16): the account's email and an app password — a key with
/// the `dav` scope, never the account's password. Within CardDAV such a key reads and writes
/// contacts (the scopes a phone's address book needs) and names the phone in every change it
/// makes. Any mismatch is the same 401 as a bad key.
pub async fn authenticate_app_password(
    db: &SqlitePool,
    activity: &Activity,
    email: &str,
    password: &str,
) -> AppResult<Actor> {
    let found = active(db, activity, password).await?;
    if !found.scopes.iter().any(|s| s == Scope::Dav.as_str()) {
        return Err(refused());
    }
    let owner = storage::users::find(db, &found.user_id).await?.ok_or_else(refused)?;
    if !owner.email.eq_ignore_ascii_case(email.trim()) {
        return Err(refused());
    }
    let device = found.description.trim();
    let device = if device.is_empty() { "a phone" } else { device }.to_string();
    let mut actor = actor_of(found, Some(device));
    if let Some(key) = actor.key.as_mut() {
        key.scopes = vec![Scope::ReadContacts, Scope::WriteContacts, Scope::Dav];
    }
    Ok(actor)
}

async fn active(db: &SqlitePool, activity: &Activity, presented: &str) -> AppResult<storage::api_keys::ActiveKey> {
    let presented = presented.trim();
    if !presented.starts_with("pcrm_") || presented.len() > 100 {
        return Err(refused());
    }
    let found = storage::api_keys::find_active_by_hash(db, &tokens::sha256_hex(presented))
        .await?
        .ok_or_else(refused)?;
    let now = clock::now_text();
    if found.expires_at.as_deref().is_some_and(|e| e <= now.as_str()) {
        return Err(refused());
    }
    activity.key_used(&found.id);
    Ok(found)
}

fn actor_of(found: storage::api_keys::ActiveKey, device: Option<String>) -> Actor {
    let scopes = found.scopes.iter().filter_map(|s| Scope::parse(s)).collect();
    Actor {
        user_id: found.user_id,
        via: Via::Api,
        key: Some(KeyLimits {
            key_id: found.id,
            scopes,
            pinned_workspace: found.workspace_id,
            device,
        }),
    }
}

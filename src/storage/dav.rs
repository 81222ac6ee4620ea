//! What CardDAV keeps beside contacts (migration 0033): the change journal sync tokens are
//! numbers of, and each phone-made card's name, UID and the properties pi-crm has no field for.

use std::collections::HashMap;

use sqlx::{SqliteConnection, SqlitePool};

use crate::model::access::WorkspaceAccess;
use crate::model::ids::ContactId;

/// A card's keepings: the resource name a phone gave it, its UID, its other properties (content
/// lines, unfolded, one per line).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Kept {
    pub name: String,
    pub uid: Option<String>,
    pub extra: Option<String>,
}

/// What a card's resource name ends with when pi-crm named it (`{contact id}.vcf`).
pub const CARD_SUFFIX: &str = ".vcf";

/// The newest change number anywhere: the sync token of this moment.
pub async fn latest_change(db: &SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM contact_changes")
        .fetch_one(db)
        .await
}

/// One journal entry: a contact changed (or deleted) after some token, under the name the
/// phone knows it by.
#[derive(Debug, sqlx::FromRow)]
pub struct Change {
    pub contact_id: String,
    pub name: String,
    pub deleted: bool,
}

/// The contacts of a workspace changed after change `since`, oldest change first.
pub async fn changes_since(db: &SqlitePool, ws: &WorkspaceAccess, since: i64) -> Result<Vec<Change>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.contact_id, coalesce(k.name, c.contact_id || '.vcf') AS name, c.deleted
           FROM contact_changes c LEFT JOIN contact_cards k ON k.contact_id = c.contact_id
          WHERE c.seq > ?1 AND c.workspace_id = ?2
          ORDER BY c.seq",
    )
    .bind(since)
    .bind(ws.id())
    .fetch_all(db)
    .await
}

/// The keepings of every card of a workspace that has any, by contact id.
pub async fn all_kept(db: &SqlitePool, ws: &WorkspaceAccess) -> Result<HashMap<String, Kept>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT contact_id, name, uid, extra FROM contact_cards WHERE workspace_id = ?")
            .bind(ws.id())
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, uid, extra)| (id, Kept { name, uid, extra }))
        .collect())
}

pub async fn kept_of<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    contact: &str,
) -> Result<Option<Kept>, sqlx::Error> {
    sqlx::query_as("SELECT name, uid, extra FROM contact_cards WHERE contact_id = ? AND workspace_id = ?")
        .bind(contact)
        .bind(ws.id())
        .fetch_optional(db)
        .await
}

/// The contact a phone's resource name stands for: one it named itself, else a contact id.
/// The contact may since have been deleted (its tombstone keeps the name).
pub async fn contact_named<'e>(
    db: impl sqlx::SqliteExecutor<'e>,
    ws: &WorkspaceAccess,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT contact_id FROM contact_cards WHERE workspace_id = ? AND name = ?")
        .bind(ws.id())
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn keep(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
    kept: &Kept,
) -> Result<(), sqlx::Error> {
    // A name a deleted contact's tombstone still holds is free for a new card.
    sqlx::query(
        "DELETE FROM contact_cards WHERE workspace_id = ?1 AND name = ?2 AND contact_id <> ?3
            AND contact_id NOT IN (SELECT id FROM base_contacts)",
    )
    .bind(ws.id())
    .bind(&kept.name)
    .bind(contact)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO contact_cards (contact_id, workspace_id, name, uid, extra) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (contact_id) DO UPDATE SET uid = excluded.uid, extra = excluded.extra",
    )
    .bind(contact)
    .bind(ws.id())
    .bind(&kept.name)
    .bind(&kept.uid)
    .bind(&kept.extra)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A change to the card alone (its kept properties), which no trigger sees: journalled here.
pub async fn note_change(
    conn: &mut SqliteConnection,
    ws: &WorkspaceAccess,
    contact: &ContactId,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_changes (contact_id, workspace_id, seq, deleted)
         VALUES (?1, ?2, (SELECT coalesce(max(seq), 0) + 1 FROM contact_changes), 0)
         ON CONFLICT (contact_id) DO UPDATE SET seq = excluded.seq, deleted = 0",
    )
    .bind(contact)
    .bind(ws.id())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

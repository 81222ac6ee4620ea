//! Triggers set aside while one transaction writes many rows, and made again before it
//! commits.
//!
//! An import's contacts and values are hidden until it shows them, which the
//! CardDAV journal's triggers skip (migration 0033) — yet SQLite runs a trigger's program for
//! every row to find that out, and an `INSERT … SELECT` into a table with row triggers copies
//! its rows to a temporary table first: 5 s of a million values. Making a trigger again is a
//! change to the schema and costs no work on rows.
//!
//! Dropping and making happen inside the caller's transaction, so nobody else ever sees them
//! missing, and a crash or a rollback brings them back as they were. Other connections read
//! the schema again after such a commit (about a millisecond).

use sqlx::SqliteConnection;

/// The CardDAV journal's triggers on new contacts and new custom values (they skip an
/// import's hidden contacts).
pub const JOURNAL_NEW_CONTACTS: &str = "contact_changes_on_insert";
pub const JOURNAL_NEW_VALUES: &str = "contact_changes_on_value_insert";

/// The statements that make the set-aside triggers again.
#[must_use = "the triggers stay dropped until rebuilt"]
pub struct Paused(Vec<String>);

/// Drops the named triggers (those of the constants above) inside the caller's transaction.
pub async fn pause(conn: &mut SqliteConnection, names: &[&'static str]) -> Result<Paused, sqlx::Error> {
    let mut statements = Vec::with_capacity(names.len());
    for name in names {
        let found: Option<String> =
            sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'trigger' AND name = ?")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some(sql) = found {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TRIGGER {name}")))
                .execute(&mut *conn)
                .await?;
            statements.push(sql);
        }
    }
    Ok(Paused(statements))
}

impl Paused {
    /// Makes the triggers again.
    pub async fn rebuild(self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        for sql in self.0 {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

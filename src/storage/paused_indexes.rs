//! Indexes and triggers set aside while one transaction writes or removes many rows, and
//! made again before it commits.
//!
//! Indexes: while one transaction removes many rows (a revert), built again each with one
//! sort. Imports no longer do this: they write in many short transactions so that other
//! people keep working (`domain::import::job`), and a dropped index cannot span transactions.
//! Rows whose keys land all over an index (custom values by field and value, contacts by
//! name) cost a random page each once the index outgrows the page cache: a million values
//! took 8 s through the value index, and the name index took 1.3 s of a 100k-row import,
//! where building either again takes under a second. Only plain indexes are set aside: the
//! unique ones are how an import finds duplicates as it goes.
//!
//! Triggers: an import's contacts and values are hidden until it shows them, which the
//! CardDAV journal's triggers skip (migration 0033) — yet SQLite runs a trigger's program for
//! every row to find that out, and an `INSERT … SELECT` into a table with row triggers copies
//! its rows to a temporary table first: 5 s of a million values. Making a trigger again is a
//! change to the schema and costs no work on rows.
//!
//! Dropping and making happen inside the caller's transaction, so nobody else ever sees them
//! missing, and a crash or a rollback brings them back as they were. Other connections read
//! the schema again after such a commit (about a millisecond).

use sqlx::SqliteConnection;

/// Custom values by workspace, field and value: the filters' index.
pub const CUSTOM_VALUES: &str = "custom_fields_lookup";
/// Custom values that are numbers, by workspace, field and number: a number field's sort.
pub const CUSTOM_NUMBERS: &str = "custom_fields_numbers";
/// Contacts by workspace and name: the list's sort.
pub const CONTACT_NAMES: &str = "base_contacts_by_name";
/// Contacts by workspace, name and company: the duplicates view's namesakes.
pub const SAME_PERSON: &str = "base_contacts_same_person";
/// The CardDAV journal's triggers on new contacts and new custom values (they skip an
/// import's hidden contacts).
pub const JOURNAL_NEW_CONTACTS: &str = "contact_changes_on_insert";
pub const JOURNAL_NEW_VALUES: &str = "contact_changes_on_value_insert";

/// The statements that make the set-aside indexes and triggers again.
#[must_use = "the indexes and triggers stay dropped until rebuilt"]
pub struct Paused(Vec<(String, String)>);

/// Drops the named indexes and triggers (those of the constants above) inside the caller's
/// transaction.
pub async fn pause(conn: &mut SqliteConnection, names: &[&'static str]) -> Result<Paused, sqlx::Error> {
    let mut statements = Vec::with_capacity(names.len());
    for name in names {
        let found: Option<(String, String)> =
            sqlx::query_as("SELECT type, sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND name = ?")
                .bind(name)
                .fetch_optional(&mut *conn)
                .await?;
        if let Some((kind, sql)) = found {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP {kind} {name}")))
                .execute(&mut *conn)
                .await?;
            statements.push((kind, sql));
        }
    }
    Ok(Paused(statements))
}

impl Paused {
    /// Makes the triggers and builds the indexes again. Each index build sorts every row of
    /// its table. The sort's runs go to temporary files rather than memory (the pool's
    /// `temp_store = memory` would hold them all: 170 MB at a million values), and a helper
    /// thread sorts half of them on the other core.
    pub async fn rebuild(self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        let (indexes, triggers): (Vec<_>, Vec<_>) = self.0.into_iter().partition(|(kind, _)| kind == "index");
        run_each(conn, triggers.into_iter().map(|(_, sql)| sql)).await?;
        if indexes.is_empty() {
            return Ok(());
        }
        // SQLite refuses to move temp storage once this transaction has used it (a very wide
        // file's value statements do); the sort then runs in memory, which is what it did
        // before the switch existed, rather than failing the import.
        let on_disk = super::db::temp_on_disk(conn, true).await.is_ok();
        sqlx::query("PRAGMA threads = 1").execute(&mut *conn).await?;
        let built = run_each(conn, indexes.into_iter().map(|(_, sql)| sql)).await;
        sqlx::query("PRAGMA threads = 0").execute(&mut *conn).await?;
        if on_disk {
            super::db::temp_on_disk(conn, false).await?;
        }
        built
    }
}

/// Runs each statement in turn, stopping at the first that fails.
async fn run_each(conn: &mut SqliteConnection, statements: impl Iterator<Item = String>) -> Result<(), sqlx::Error> {
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}

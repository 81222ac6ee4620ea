//! Indexes set aside while one transaction removes many rows (a revert), and built again,
//! each with one sort, before it commits. Imports no longer do this: they write in many short
//! transactions so that other people keep working (`domain::import::job`), and a dropped
//! index cannot span transactions.
//!
//! Rows whose keys land all over an index (custom values by field and value, contacts by
//! name) cost a random page each once the index outgrows the page cache: a million values
//! took 8 s through the value index, and the name index took 1.3 s of a 100k-row import,
//! where building either again takes under a second. Dropping and building happen inside the
//! caller's transaction, so a crash or a rollback brings the indexes back as they were. Only
//! plain indexes are set aside: the unique ones are how an import finds duplicates as it goes.

use sqlx::SqliteConnection;

/// Custom values by workspace, field and value: the filters' index.
pub const CUSTOM_VALUES: &str = "custom_fields_lookup";
/// Custom values that are numbers, by workspace, field and number: a number field's sort.
pub const CUSTOM_NUMBERS: &str = "custom_fields_numbers";
/// Contacts by workspace and name: the list's sort.
pub const CONTACT_NAMES: &str = "base_contacts_by_name";
/// Contacts by workspace, name and company: the duplicates view's namesakes.
pub const SAME_PERSON: &str = "base_contacts_same_person";

/// The statements that make the set-aside indexes again.
#[must_use = "the indexes stay dropped until rebuilt"]
pub struct Paused(Vec<String>);

/// Drops the named indexes (those of the constants above) inside the caller's transaction.
pub async fn pause(conn: &mut SqliteConnection, names: &[&'static str]) -> Result<Paused, sqlx::Error> {
    let mut statements = Vec::with_capacity(names.len());
    for name in names {
        let sql: Option<String> = sqlx::query_scalar("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(sql) = sql {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
                .execute(&mut *conn)
                .await?;
            statements.push(sql);
        }
    }
    Ok(Paused(statements))
}

impl Paused {
    /// Builds the indexes again. Each build sorts every row of its table. The sort's runs go
    /// to temporary files rather than memory (the pool's `temp_store = memory` would hold them
    /// all: 170 MB at a million values), and a helper thread sorts half of them on the other
    /// core.
    pub async fn rebuild(self, conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
        if self.0.is_empty() {
            return Ok(());
        }
        // SQLite refuses to move temp storage once this transaction has used it (a very wide
        // file's value statements do); the sort then runs in memory, which is what it did
        // before the switch existed, rather than failing the import.
        let on_disk = super::db::temp_on_disk(conn, true).await.is_ok();
        sqlx::query("PRAGMA threads = 1").execute(&mut *conn).await?;
        let mut built = Ok(());
        for sql in self.0 {
            built = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
                .map(|_| ());
            if built.is_err() {
                break;
            }
        }
        sqlx::query("PRAGMA threads = 0").execute(&mut *conn).await?;
        if on_disk {
            super::db::temp_on_disk(conn, false).await?;
        }
        built
    }
}

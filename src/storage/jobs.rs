//! The `jobs` table: when each scheduled job runs next, how its last run went, and who is
//! running it now.

use sqlx::SqlitePool;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JobRow {
    pub name: String,
    pub next_run_at: String,
    pub last_run_at: Option<String>,
    pub last_error: Option<String>,
    pub running_until: Option<String>,
}

/// Adds the job with its first run time, if it is not there yet.
pub async fn ensure(db: &SqlitePool, name: &str, next_run_at: &str) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query("INSERT INTO jobs (name, next_run_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")
        .bind(name)
        .bind(next_run_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn all(db: &SqlitePool) -> Result<Vec<JobRow>, sqlx::Error> {
    sqlx::query_as("SELECT name, next_run_at, last_run_at, last_error, running_until FROM jobs ORDER BY name")
        .fetch_all(db)
        .await
}

pub async fn find(db: &SqlitePool, name: &str) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as("SELECT name, next_run_at, last_run_at, last_error, running_until FROM jobs WHERE name = ?")
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Claims a run until `until`: a due one (`due_by` given: its time has come) or any (by hand).
/// Nobody else may be running it. True when this caller got it.
pub async fn claim(
    db: &SqlitePool,
    name: &str,
    now: &str,
    until: &str,
    due_by: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    let claimed: Option<String> = sqlx::query_scalar(
        "UPDATE jobs SET running_until = ?3
          WHERE name = ?1 AND (running_until IS NULL OR running_until < ?2)
            AND (?4 IS NULL OR next_run_at <= ?4)
         RETURNING name",
    )
    .bind(name)
    .bind(now)
    .bind(until)
    .bind(due_by)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed.is_some())
}

/// Records how a claimed run went and when the job runs next.
pub async fn finish(
    db: &SqlitePool,
    name: &str,
    ran_at: &str,
    error: Option<&str>,
    next_run_at: &str,
) -> Result<(), sqlx::Error> {
    let mut tx = super::db::begin_write(db).await?;
    sqlx::query(
        "UPDATE jobs SET last_run_at = ?, last_error = ?, next_run_at = ?, running_until = NULL WHERE name = ?",
    )
    .bind(ran_at)
    .bind(error)
    .bind(next_run_at)
    .bind(name)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

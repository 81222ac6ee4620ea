use sqlx::{SqliteConnection, SqlitePool};

use crate::clock;
use crate::model::ids::UserId;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: UserId,
    email: String,
    name: String,
    created_at: String,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id,
            email: r.email,
            name: r.name,
            created_at: r.created_at,
        }
    }
}

pub async fn insert(
    conn: &mut SqliteConnection,
    email: &str,
    name: &str,
    password_hash: &str,
) -> Result<User, sqlx::Error> {
    let id = UserId::generate();
    let now = clock::now_text();
    sqlx::query(
        // The first account is the one who set up pi-crm (migration 0032).
        "INSERT INTO users (id, email, password_hash, name, created_at, password_changed_at, is_installer)
         VALUES (?, ?, ?, ?, ?, ?, NOT EXISTS (SELECT 1 FROM users))",
    )
    .bind(&id)
    .bind(email)
    .bind(password_hash)
    .bind(name)
    .bind(&now)
    .bind(&now)
    .execute(conn)
    .await?;
    Ok(User {
        id,
        email: email.into(),
        name: name.into(),
        created_at: now,
    })
}

/// Whether `user` set up pi-crm (see migration 0032).
pub async fn is_installer(db: &SqlitePool, user: &UserId) -> Result<bool, sqlx::Error> {
    let found: Option<bool> = sqlx::query_scalar("SELECT is_installer FROM users WHERE id = ?")
        .bind(user)
        .fetch_optional(db)
        .await?;
    Ok(found.unwrap_or(false))
}

/// The name of the person who set up pi-crm, while their account exists.
pub async fn installer_name(db: &SqlitePool) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT name FROM users WHERE is_installer = 1")
        .fetch_optional(db)
        .await
}

pub async fn count<'c>(db: impl sqlx::SqliteExecutor<'c>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db).await
}

pub async fn find_with_hash(db: &SqlitePool, email: &str) -> Result<Option<(User, String)>, sqlx::Error> {
    let row: Option<(UserId, String, String, String, String)> =
        sqlx::query_as("SELECT id, email, name, created_at, password_hash FROM users WHERE email = ?")
            .bind(email)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(id, email, name, created_at, hash)| {
        (
            User {
                id,
                email,
                name,
                created_at,
            },
            hash,
        )
    }))
}

pub async fn find_by_email(db: &SqlitePool, email: &str) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, email, name, created_at FROM users WHERE email = ?")
        .bind(email)
        .fetch_optional(db)
        .await?;
    Ok(row.map(User::from))
}

pub async fn find(db: &SqlitePool, id: &UserId) -> Result<Option<User>, sqlx::Error> {
    let row: Option<UserRow> = sqlx::query_as("SELECT id, email, name, created_at FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(User::from))
}

pub async fn list(db: &SqlitePool) -> Result<Vec<User>, sqlx::Error> {
    let rows: Vec<UserRow> = sqlx::query_as("SELECT id, email, name, created_at FROM users ORDER BY email")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

pub async fn hash_of(db: &SqlitePool, id: &UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE id = ?")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn set_password_hash(conn: &mut SqliteConnection, id: &UserId, hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?")
        .bind(hash)
        .bind(clock::now_text())
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_name(conn: &mut SqliteConnection, id: &UserId, name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET name = ? WHERE id = ?")
        .bind(name)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn timezone_of(db: &SqlitePool, id: &UserId) -> Result<Option<String>, sqlx::Error> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT timezone FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

pub async fn set_timezone(conn: &mut SqliteConnection, id: &UserId, zone: Option<&str>) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET timezone = ? WHERE id = ?")
        .bind(zone)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub created_at: String,
}

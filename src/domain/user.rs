//! People who sign in: parsing of their email, name and password, and the account rules.

use sqlx::SqlitePool;

use super::actor::Actor;
use super::audit;
use super::ids::UserId;
use crate::auth::password;
use crate::error::{AppError, AppResult, on_unique};
use crate::storage;
pub use crate::storage::users::User;

/// An email address, trimmed and lower-cased, with a plausible shape (one `@`, a dotted
/// domain, no spaces). Deliverability is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str, field: &str) -> AppResult<Email> {
        let email = raw.trim().to_lowercase();
        let bad = |why: &str| AppError::invalid(field, why.to_string());
        if email.is_empty() {
            return Err(bad("an email address is required"));
        }
        if email.len() > 254 {
            return Err(bad("an email address is at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(bad("an email address needs an @"));
        };
        // A domain without a dot (`user@localhost`, `contact@invalid`) is rare but legal, and
        // real address books hold them; only the shape is checked here.
        let domain_ok = !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:@\"".contains(c));
        if !local_ok || !domain_ok {
            return Err(bad("this is not a valid email address"));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1–100 characters, no control characters.
pub fn parse_name(raw: &str, field: &str) -> AppResult<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(AppError::invalid(field, "a name is required"));
    }
    if name.chars().count() > 100 {
        return Err(AppError::invalid(field, "a name is at most 100 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::invalid(field, "a name cannot hold control characters"));
    }
    Ok(name.to_string())
}

/// A new password: at least 10 characters (NIST SP 800-63B allows 8; we ask a little more),
/// at most 1024 so hashing cannot be used to burn CPU.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str, field: &str) -> AppResult<NewPassword> {
        let count = raw.chars().count();
        if count < 10 {
            return Err(AppError::invalid(field, "a password needs at least 10 characters"));
        }
        if count > 1024 {
            return Err(AppError::invalid(field, "a password is at most 1024 characters"));
        }
        Ok(NewPassword(raw.to_string()))
    }
}

/// Creates an account. The first one is made by `/setup` or `pi-crm user create`; `actor` is
/// `None` then, and the new user is recorded as the one who acted.
pub async fn create(
    db: &SqlitePool,
    actor: Option<&Actor>,
    via: super::actor::Via,
    email: &str,
    name: &str,
    password: &str,
) -> AppResult<User> {
    insert(db, actor, via, NewAccount { email, name, password }, false).await
}

/// The first account, from the setup page. "No account yet" is checked inside the write
/// transaction that inserts it, so setups racing each other make exactly one; the others
/// find the page gone (404).
pub async fn create_first(
    db: &SqlitePool,
    via: super::actor::Via,
    email: &str,
    name: &str,
    password: &str,
) -> AppResult<User> {
    insert(db, None, via, NewAccount { email, name, password }, true).await
}

struct NewAccount<'a> {
    email: &'a str,
    name: &'a str,
    password: &'a str,
}

async fn insert(
    db: &SqlitePool,
    actor: Option<&Actor>,
    via: super::actor::Via,
    new: NewAccount<'_>,
    only_if_first: bool,
) -> AppResult<User> {
    let email = Email::parse(new.email, "email")?;
    let name = parse_name(new.name, "name")?;
    let password = NewPassword::parse(new.password, "password")?;
    let hash = password::hash(password.0).await?;
    let mut tx = storage::db::begin_write(db).await?;
    if only_if_first && storage::users::count(&mut *tx).await? > 0 {
        return Err(AppError::NotFound);
    }
    let user = storage::users::insert(&mut tx, email.as_str(), &name, &hash)
        .await
        .map_err(on_unique("users.email", || {
            AppError::invalid("email", "an account with this email already exists")
        }))?;
    let acting = actor.cloned().unwrap_or_else(|| Actor::person(user.id.clone(), via));
    audit::record(&mut tx, &acting, "user.create", "user", Some(user.id.as_str()), None).await?;
    tx.commit().await?;
    Ok(user)
}

/// Checks an email and password. Unknown email and wrong password look the same and cost the
/// same; both are `None`.
pub async fn authenticate(db: &SqlitePool, email: &str, password: &str) -> AppResult<Option<User>> {
    let email = email.trim().to_lowercase();
    let found = storage::users::find_with_hash(db, &email).await?;
    let (user, stored) = match found {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(password.to_string(), stored).await?;
    Ok(if ok { user } else { None })
}

/// Changes the actor's password after checking the current one, and ends every other session
/// of theirs (`keep_session` survives, so the person is not thrown out of the tab they used).
pub async fn change_password(
    db: &SqlitePool,
    actor: &Actor,
    current: &str,
    new: &str,
    keep_session: Option<&super::ids::SessionId>,
) -> AppResult<()> {
    let new = NewPassword::parse(new, "new_password")?;
    let stored = storage::users::hash_of(db, &actor.user_id).await?;
    if !password::verify(current.to_string(), stored).await? {
        return Err(AppError::invalid("current_password", "the current password is wrong"));
    }
    let hash = password::hash(new.0).await?;
    set_password_hash(db, actor, &actor.user_id, &hash, keep_session).await
}

/// A new password checked as every form checks it (`field` names it in the error), hashed.
pub async fn hash_new_password(raw: &str, field: &str) -> AppResult<String> {
    let new = NewPassword::parse(raw, field)?;
    Ok(password::hash(new.0).await?)
}

/// Sets a password without knowing the old one (operator reset from the CLI).
pub async fn reset_password(db: &SqlitePool, actor: &Actor, email: &str, new: &str) -> AppResult<()> {
    let new = NewPassword::parse(new, "password")?;
    let email = Email::parse(email, "email")?;
    let user = storage::users::find_by_email(db, email.as_str())
        .await?
        .ok_or_else(|| AppError::invalid("email", "no account has this email"))?;
    let hash = password::hash(new.0).await?;
    set_password_hash(db, actor, &user.id, &hash, None).await
}

async fn set_password_hash(
    db: &SqlitePool,
    actor: &Actor,
    user_id: &UserId,
    hash: &str,
    keep_session: Option<&super::ids::SessionId>,
) -> AppResult<()> {
    let mut tx = storage::db::begin_write(db).await?;
    storage::users::set_password_hash(&mut tx, user_id, hash).await?;
    storage::sessions::delete_all_for_user_except(&mut tx, user_id, keep_session).await?;
    audit::record(
        &mut tx,
        actor,
        "user.password_change",
        "user",
        Some(user_id.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn rename(db: &SqlitePool, actor: &Actor, name: &str) -> AppResult<()> {
    let name = parse_name(name, "name")?;
    let mut tx = storage::db::begin_write(db).await?;
    storage::users::set_name(&mut tx, &actor.user_id, &name).await?;
    audit::record(
        &mut tx,
        actor,
        "user.update",
        "user",
        Some(actor.user_id.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person's own profile.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The IANA zone every time is shown in for this person; `null`: the workspace's, else
    /// the server's.
    pub timezone: Option<String>,
}

pub async fn me(db: &SqlitePool, actor: &Actor) -> AppResult<Me> {
    let user = storage::users::find(db, &actor.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Me {
        id: user.id.to_string(),
        name: user.name,
        email: user.email,
        timezone: storage::users::timezone_of(db, &actor.user_id).await?,
    })
}

/// The zone the person lives in: their own, else the server's (for "Monday 07:00").
pub async fn zone_of(state: &crate::state::AppState, actor: &Actor) -> AppResult<jiff::tz::TimeZone> {
    let own = storage::users::timezone_of(&state.db, &actor.user_id).await?;
    Ok(match own.and_then(|name| jiff::tz::TimeZone::get(&name).ok()) {
        Some(tz) => tz,
        None => state.config.time_zone()?,
    })
}

/// Changes the caller's name and/or time zone (an empty zone: back to the workspace's or the
/// server's). Both are checked before either is written.
pub async fn update_me(
    db: &SqlitePool,
    actor: &Actor,
    name: Option<&str>,
    timezone: Option<&str>,
    email: Option<&str>,
) -> AppResult<Me> {
    if email.is_some() {
        return Err(AppError::invalid("email", "an email address cannot be changed here"));
    }
    let mut bad = crate::error::Invalids::default();
    let name = match name {
        Some(n) => bad.check(parse_name(n, "name"))?,
        None => None,
    };
    let zone = match timezone {
        Some(z) => bad.check(super::workspace::parse_timezone(z))?,
        None => None,
    };
    bad.finish()?;
    let mut tx = storage::db::begin_write(db).await?;
    if let Some(name) = &name {
        storage::users::set_name(&mut tx, &actor.user_id, name).await?;
    }
    if timezone.is_some() {
        storage::users::set_timezone(&mut tx, &actor.user_id, zone.flatten().as_deref()).await?;
    }
    audit::record(
        &mut tx,
        actor,
        "user.update",
        "user",
        Some(actor.user_id.as_str()),
        None,
    )
    .await?;
    tx.commit().await?;
    me(db, actor).await
}

/// A person's display name, for showing who did something (`None` for a removed account).
/// Every account, oldest first (`pi-crm user list`: the machine's administrator asks).
pub async fn everyone(db: &SqlitePool) -> AppResult<Vec<User>> {
    Ok(storage::users::list(db).await?)
}

/// The account with this (lower-case) email, for the command line.
pub async fn by_email(db: &SqlitePool, email: &str) -> AppResult<Option<User>> {
    Ok(storage::users::find_by_email(db, email).await?)
}

pub async fn name_of(db: &SqlitePool, id: &UserId) -> AppResult<Option<String>> {
    Ok(storage::users::find(db, id).await?.map(|u| u.name))
}

pub async fn any_exist(db: &SqlitePool) -> AppResult<bool> {
    Ok(storage::users::count(db).await? > 0)
}

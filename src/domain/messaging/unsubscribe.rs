//! One-click unsubscribe (SPEC §8.4, RFC 8058). The link's token names the workspace and the
//! address and carries an HMAC of both under the data-dir key: unguessable, and checked without
//! looking anything up by a guessable id. `GET` only asks; `POST` suppresses.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use sqlx::SqlitePool;

use super::Channel;
use super::suppression;
use crate::domain::ids::WorkspaceId;
use crate::domain::workspace::{self, WorkspaceAccess};
use crate::error::AppResult;
use crate::state::SecretKey;
use crate::storage;

/// Bytes of HMAC kept in a token: 128 bits is far beyond guessing.
const TAG_LEN: usize = 16;

fn tag(key: &SecretKey, ws: &str, address: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(key.bytes()).expect("HMAC takes any key length");
    mac.update(b"pi-crm unsubscribe v1\n");
    mac.update(ws.as_bytes());
    mac.update(b"\n");
    mac.update(address.as_bytes());
    mac.finalize().into_bytes()[..TAG_LEN].to_vec()
}

/// The token for `address` (stored form, lower-case) in workspace `ws`.
pub fn token(key: &SecretKey, ws: &WorkspaceId, address: &str) -> String {
    let payload = format!("{ws}\n{address}");
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(payload.as_bytes()),
        URL_SAFE_NO_PAD.encode(tag(key, ws.as_str(), address))
    )
}

/// The workspace and address a genuine token names; `None` for anything else.
pub fn read(key: &SecretKey, token: &str) -> Option<(WorkspaceId, String)> {
    let (payload, given) = token.trim().split_once('.')?;
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let given = URL_SAFE_NO_PAD.decode(given).ok()?;
    let (ws, address) = payload.split_once('\n')?;
    let expected = tag(key, ws, address);
    if given.len() != TAG_LEN || !bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), given.as_slice())) {
        return None;
    }
    Some((WorkspaceId::parse(ws)?, address.to_string()))
}

/// What a genuine link points at.
pub struct Target {
    pub ws: WorkspaceAccess,
    pub address: String,
    pub already: bool,
}

/// Looks a token up without changing anything (the `GET` page).
pub async fn look_up(db: &SqlitePool, key: &SecretKey, token: &str) -> AppResult<Option<Target>> {
    let Some((ws_id, address)) = read(key, token) else {
        return Ok(None);
    };
    // The token's HMAC was the proof: only pi-crm can have made it for this workspace.
    let Some((ws, _)) = workspace::for_system(&workspace::System::acting(), db, &ws_id).await? else {
        return Ok(None);
    };
    let mut conn = db.acquire().await?;
    // Off the marketing list already (or off every list, after a bounce).
    let already = suppression::is_suppressed(
        &mut conn,
        &ws,
        Channel::Email,
        &address,
        suppression::SendKind::Marketing,
    )
    .await?
    .is_some();
    Ok(Some(Target { ws, address, already }))
}

/// Suppresses the token's address (`POST`); a repeat changes nothing.
pub async fn confirm(db: &SqlitePool, key: &SecretKey, token: &str) -> AppResult<Option<Target>> {
    let Some(target) = look_up(db, key, token).await? else {
        return Ok(None);
    };
    let mut tx = storage::db::begin_write(db).await?;
    suppression::suppress(&mut tx, &target.ws, Channel::Email, &target.address, "unsubscribed").await?;
    tx.commit().await?;
    Ok(Some(target))
}

/// The one-click page for `address`, when pi-crm has a public address (`public_url`).
pub fn link(key: &SecretKey, public_url: Option<&str>, ws: &WorkspaceId, address: &str) -> Option<String> {
    public_url.map(|base| format!("{}/u/{}", base.trim_end_matches('/'), token(key, ws, address)))
}

/// `List-Unsubscribe` / `List-Unsubscribe-Post` for a campaign email (RFC 8058): the one-click
/// link when pi-crm has an `https://` public address. RFC 8058 §3.1 requires HTTPS for one-click,
/// so under an `http://` one the link is offered beside a mailto to the sender, without
/// `List-Unsubscribe-Post`; with no public address, the mailto alone.
pub fn headers(
    key: &SecretKey,
    public_url: Option<&str>,
    ws: &WorkspaceId,
    address: &str,
    from: &str,
) -> Vec<(String, String)> {
    let bare = from
        .parse::<lettre::message::Mailbox>()
        .map(|m| m.email.to_string())
        .unwrap_or_else(|_| from.to_string());
    let mailto = format!("<mailto:{bare}?subject=unsubscribe>");
    match link(key, public_url, ws, address) {
        Some(url) if url.starts_with("https://") => vec![
            ("List-Unsubscribe".into(), format!("<{url}>")),
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into()),
        ],
        Some(url) => vec![("List-Unsubscribe".into(), format!("{mailto}, <{url}>"))],
        None => vec![("List-Unsubscribe".into(), mailto)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_address_and_cannot_be_forged() {
        let key = SecretKey::from_bytes(vec![3; 32]);
        let ws = WorkspaceId::generate();
        let t = token(&key, &ws, "ada@example.com");
        assert_eq!(read(&key, &t), Some((ws.clone(), "ada@example.com".to_string())));
        // Another key, another address under the same tag, a cut tag: refused.
        assert_eq!(read(&SecretKey::from_bytes(vec![4; 32]), &t), None);
        let (_, tag) = t.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(format!("{ws}\nbob@example.com")));
        assert_eq!(read(&key, &forged), None);
        assert_eq!(read(&key, &t[..t.len() - 2]), None);
        assert_eq!(read(&key, "nonsense"), None);
    }

    #[test]
    fn headers_follow_rfc_8058() {
        let key = SecretKey::from_bytes(vec![3; 32]);
        let ws = WorkspaceId::generate();
        let h = headers(
            &key,
            Some("https://crm.example.com/"),
            &ws,
            "ada@example.com",
            "Andy <andy@example.com>",
        );
        assert!(h[0].1.starts_with("<https://crm.example.com/u/") && h[0].1.ends_with('>'));
        assert_eq!(
            h[1],
            ("List-Unsubscribe-Post".into(), "List-Unsubscribe=One-Click".into())
        );
        let h = headers(&key, None, &ws, "ada@example.com", "Andy <andy@example.com>");
        assert_eq!(
            h,
            vec![(
                "List-Unsubscribe".into(),
                "<mailto:andy@example.com?subject=unsubscribe>".into()
            )]
        );
        // RFC 8058 §3.1: one-click only over HTTPS. Under http:// the link is offered beside
        // the mailto, without `List-Unsubscribe-Post`.
        let h = headers(&key, Some("http://crm.lan"), &ws, "ada@example.com", "andy@example.com");
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(
            h[0].1
                .starts_with("<mailto:andy@example.com?subject=unsubscribe>, <http://crm.lan/u/"),
            "{h:?}"
        );
    }
}

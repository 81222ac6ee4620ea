//! The properties of each CardDAV resource, as iOS, DAVx5, Thunderbird and vdirsyncer ask for
//! them: where the principal and address books are, what an address book supports, and each
//! card's ETag and text.

use super::xml::{self, CALENDARSERVER, CARDDAV, DAV, Name, Wanted};
use crate::domain::actor::Actor;
use crate::domain::dav::{Entry, SyncToken};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppResult;
use crate::state::AppState;

/// Who is asking, for the hrefs that name their principal and home.
pub struct Context {
    user_id: String,
    user_name: String,
}

impl Context {
    pub async fn of(state: &AppState, actor: &Actor) -> AppResult<Context> {
        let name = crate::domain::user::name_of(&state.db, &actor.user_id).await?;
        Ok(Context {
            user_id: actor.user_id.to_string(),
            user_name: name.unwrap_or_else(|| "pi-crm".into()),
        })
    }

    fn principal_href(&self) -> String {
        format!("/dav/principals/{}/", self.user_id)
    }

    fn home_href(&self) -> String {
        format!("/dav/addressbooks/{}/", self.user_id)
    }

    fn book_href(&self, ws: &WorkspaceAccess) -> String {
        format!("{}{}/", self.home_href(), ws.id())
    }

    pub fn card_href(&self, ws: &WorkspaceAccess, name: &str) -> String {
        format!("{}{}", self.book_href(ws), encode_segment(name))
    }

    /// The card name an href in a request names within this address book (a path or a full
    /// URL, percent-encoded), or `None` when it points elsewhere.
    pub fn card_name_in(&self, ws: &WorkspaceAccess, href: &str) -> Option<String> {
        let href = href.trim();
        let path = match href.find("://") {
            Some(i) => &href[href[i + 3..].find('/').map(|j| i + 3 + j)?..],
            None => href,
        };
        let rest = path.strip_prefix(&self.book_href(ws))?;
        let name = percent_decode(rest)?;
        (!name.is_empty() && !name.contains('/')).then_some(name)
    }
}

/// A path segment with everything but unreserved characters percent-encoded (RFC 3986).
fn encode_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@+=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub enum Resource<'a> {
    Root,
    Principal,
    Home,
    Book { ws: WorkspaceAccess, token: SyncToken },
    Card { ws: &'a WorkspaceAccess, entry: Entry },
}

fn name(ns: &str, local: &str) -> Name {
    Name {
        ns: ns.into(),
        local: local.into(),
    }
}

/// What `allprop` (and `propname`) answer for each kind of resource.
fn everyday(resource: &Resource) -> Vec<Name> {
    let mut names = vec![
        name(DAV, "resourcetype"),
        name(DAV, "displayname"),
        name(DAV, "current-user-principal"),
    ];
    match resource {
        Resource::Root | Resource::Principal => {
            names.push(name(CARDDAV, "addressbook-home-set"));
            names.push(name(DAV, "principal-URL"));
        }
        Resource::Home => {}
        Resource::Book { .. } => {
            names.extend([
                name(CALENDARSERVER, "getctag"),
                name(DAV, "sync-token"),
                name(DAV, "supported-report-set"),
                name(DAV, "current-user-privilege-set"),
                name(CARDDAV, "supported-address-data"),
            ]);
        }
        Resource::Card { .. } => {
            names.retain(|n| !n.is(DAV, "displayname"));
            names.extend([name(DAV, "getetag"), name(DAV, "getcontenttype")]);
        }
    }
    names
}

/// Whether a request asks for the cards' text.
pub fn wants_card(wanted: &Wanted) -> bool {
    matches!(wanted, Wanted::Props(names) if names.iter().any(|n| n.is(CARDDAV, "address-data")))
}

fn href(path: &str) -> String {
    format!("<d:href>{}</d:href>", xml::escape(path))
}

fn privileges(can_edit: bool) -> String {
    let mut names = vec!["read", "read-current-user-privilege-set"];
    if can_edit {
        names.extend(["write", "write-content", "write-properties", "bind", "unbind"]);
    }
    names
        .iter()
        .map(|p| format!("<d:privilege><d:{p}/></d:privilege>"))
        .collect()
}

/// A property's value (XML), or `None` when the resource has no such property.
fn value(ctx: &Context, resource: &Resource, wanted: &Name) -> Option<String> {
    let (ns, local) = (wanted.ns.as_str(), wanted.local.as_str());
    let collection = !matches!(resource, Resource::Card { .. });
    Some(match (ns, local, resource) {
        (DAV, "resourcetype", Resource::Principal) => "<d:principal/><d:collection/>".into(),
        (DAV, "resourcetype", Resource::Book { .. }) => "<d:collection/><card:addressbook/>".into(),
        (DAV, "resourcetype", Resource::Card { .. }) => String::new(),
        (DAV, "resourcetype", _) => "<d:collection/>".into(),
        (DAV, "displayname", Resource::Root) => "pi-crm".into(),
        (DAV, "displayname", Resource::Principal) => xml::escape(&ctx.user_name),
        (DAV, "displayname", Resource::Home) => "Address books".into(),
        (DAV, "displayname", Resource::Book { ws, .. }) => xml::escape(ws.name()),
        (DAV, "current-user-principal", _) => href(&ctx.principal_href()),
        (DAV, "principal-URL", Resource::Principal | Resource::Root) => href(&ctx.principal_href()),
        (DAV, "principal-collection-set", _) => href("/dav/principals/"),
        (DAV, "owner", Resource::Book { .. } | Resource::Home) => href(&ctx.principal_href()),
        (CARDDAV, "addressbook-home-set", _) if collection => href(&ctx.home_href()),
        (DAV, "current-user-privilege-set", Resource::Book { ws, .. }) => privileges(ws.can_edit()),
        (DAV, "current-user-privilege-set", Resource::Card { ws, .. }) => privileges(ws.can_edit()),
        (DAV, "current-user-privilege-set", _) => privileges(false),
        (DAV, "supported-report-set", Resource::Book { .. }) => [
            "<card:addressbook-multiget/>",
            "<card:addressbook-query/>",
            "<d:sync-collection/>",
        ]
        .iter()
        .map(|r| format!("<d:supported-report><d:report>{r}</d:report></d:supported-report>"))
        .collect(),
        (CALENDARSERVER, "getctag", Resource::Book { token, .. }) => token.0.to_string(),
        (DAV, "sync-token", Resource::Book { token, .. }) => xml::escape(&token.uri()),
        (CARDDAV, "supported-address-data", Resource::Book { .. }) => {
            "<card:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>\
             <card:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
                .into()
        }
        (CARDDAV, "addressbook-description", Resource::Book { ws, .. }) => {
            xml::escape(&format!("Contacts of {} in pi-crm", ws.name()))
        }
        (CARDDAV, "max-resource-size", Resource::Book { .. }) => super::MAX_CARD_BYTES.to_string(),
        (DAV, "getetag", Resource::Card { entry, .. }) => xml::escape(&entry.etag),
        (DAV, "getcontenttype", Resource::Card { .. }) => "text/vcard; charset=utf-8".into(),
        (CARDDAV, "address-data", Resource::Card { entry, .. }) => xml::escape(entry.card.as_deref()?),
        _ => return None,
    })
}

fn href_of(ctx: &Context, resource: &Resource) -> String {
    match resource {
        Resource::Root => "/dav/".into(),
        Resource::Principal => ctx.principal_href(),
        Resource::Home => ctx.home_href(),
        Resource::Book { ws, .. } => ctx.book_href(ws),
        Resource::Card { ws, entry } => ctx.card_href(ws, &entry.name),
    }
}

/// The `response` element for one resource.
pub fn response(ctx: &Context, resource: &Resource, wanted: &Wanted) -> xml::Response {
    let mut out = xml::Response {
        href: href_of(ctx, resource),
        found: Vec::new(),
        missing: Vec::new(),
    };
    match wanted {
        Wanted::Names => out.found = everyday(resource).into_iter().map(|n| (n, String::new())).collect(),
        Wanted::All => {
            for n in everyday(resource) {
                if let Some(v) = value(ctx, resource, &n) {
                    out.found.push((n, v));
                }
            }
        }
        Wanted::Props(names) => {
            for n in names {
                match value(ctx, resource, n) {
                    Some(v) => out.found.push((n.clone(), v)),
                    None => out.missing.push(n.clone()),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_survive_the_trip_through_an_href() {
        assert_eq!(encode_segment("a b/ü.vcf"), "a%20b%2F%C3%BC.vcf");
        assert_eq!(percent_decode("a%20b%C3%BC.vcf").as_deref(), Some("a bü.vcf"));
        assert_eq!(percent_decode("%zz"), None);
    }
}

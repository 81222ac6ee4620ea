//! The XML of WebDAV (RFC 4918), CardDAV (RFC 6352) and sync-collection (RFC 6578): reading
//! what a client asks for, writing `multistatus` answers. Namespaces are matched by URI, never
//! by the prefix a client happened to use.

use crate::error::{AppError, AppResult};

pub const DAV: &str = "DAV:";
pub const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";

/// A property's name: its namespace URI and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub ns: String,
    pub local: String,
}

impl Name {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }

    /// An empty element of this name (`<d:getetag/>`), its namespace declared where it is not
    /// one of the three the answer declares.
    pub fn empty(&self) -> String {
        match prefix_of(&self.ns) {
            Some(p) => format!("<{p}:{}/>", self.local),
            None => format!("<x:{} xmlns:x=\"{}\"/>", self.local, escape(&self.ns)),
        }
    }

    /// This element holding `inner` (already XML).
    pub fn holding(&self, inner: &str) -> String {
        match prefix_of(&self.ns) {
            Some(p) => format!("<{p}:{0}>{inner}</{p}:{0}>", self.local),
            None => format!("<x:{0} xmlns:x=\"{1}\">{inner}</x:{0}>", self.local, escape(&self.ns)),
        }
    }
}

fn prefix_of(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("d"),
        CARDDAV => Some("card"),
        CALENDARSERVER => Some("cs"),
        _ => None,
    }
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// What a `PROPFIND` or `REPORT` asks of each resource.
#[derive(Debug, Clone)]
pub enum Wanted {
    /// `allprop`, or an empty body.
    All,
    /// `propname`: the names only.
    Names,
    Props(Vec<Name>),
}

/// The address-data a client asked for: the vCard version (`<card:address-data
/// content-type="text/vcard" version="4.0"/>`), else 3.0.
pub fn wants_v4(doc: &roxmltree::Document) -> bool {
    doc.descendants()
        .find(|n| n.has_tag_name((CARDDAV, "address-data")))
        .and_then(|n| n.attribute("version"))
        .is_some_and(|v| v.trim() == "4.0")
}

pub fn parse(body: &str) -> AppResult<roxmltree::Document<'_>> {
    roxmltree::Document::parse(body).map_err(|e| AppError::BadRequest(format!("the XML body cannot be read: {e}")))
}

/// The properties asked for under `parent`'s `prop` (or `allprop`/`propname`).
pub fn wanted_in(parent: roxmltree::Node) -> Wanted {
    for child in parent.children().filter(|n| n.is_element()) {
        let tag = child.tag_name();
        if tag.namespace() != Some(DAV) {
            continue;
        }
        match tag.name() {
            "allprop" => return Wanted::All,
            "propname" => return Wanted::Names,
            "prop" => {
                return Wanted::Props(
                    child
                        .children()
                        .filter(|n| n.is_element())
                        .map(|n| Name {
                            ns: n.tag_name().namespace().unwrap_or("").to_string(),
                            local: n.tag_name().name().to_string(),
                        })
                        .collect(),
                );
            }
            _ => {}
        }
    }
    Wanted::All
}

/// A `PROPFIND` body: empty means `allprop` (RFC 4918 §9.1).
pub fn propfind(body: &str) -> AppResult<Wanted> {
    if body.trim().is_empty() {
        return Ok(Wanted::All);
    }
    let doc = parse(body)?;
    let root = doc.root_element();
    if !root.has_tag_name((DAV, "propfind")) {
        return Err(AppError::BadRequest("a PROPFIND body is a DAV:propfind element".into()));
    }
    Ok(wanted_in(root))
}

/// One resource of a `multistatus`: its href, and each property with its value (XML) or
/// `None` when it has no such property (reported under 404).
pub struct Response {
    pub href: String,
    pub found: Vec<(Name, String)>,
    pub missing: Vec<Name>,
}

impl Response {
    pub fn write(&self, out: &mut String) {
        out.push_str("<d:response><d:href>");
        out.push_str(&escape(&self.href));
        out.push_str("</d:href>");
        if !self.found.is_empty() {
            out.push_str("<d:propstat><d:prop>");
            for (name, value) in &self.found {
                if value.is_empty() {
                    out.push_str(&name.empty());
                } else {
                    out.push_str(&name.holding(value));
                }
            }
            out.push_str("</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>");
        }
        if !self.missing.is_empty() {
            out.push_str("<d:propstat><d:prop>");
            for name in &self.missing {
                out.push_str(&name.empty());
            }
            out.push_str("</d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>");
        }
        out.push_str("</d:response>");
    }
}

/// A `multistatus` document: responses, resources gone (404, as sync-collection reports a
/// deletion or multiget a name that is no card), and a sync token for sync-collection.
#[derive(Default)]
pub struct Multistatus {
    body: String,
}

impl Multistatus {
    pub fn push(&mut self, response: &Response) {
        response.write(&mut self.body);
    }

    pub fn finish(self, sync_token: Option<&str>) -> String {
        format!("{}{}{}", opening(), self.body, closing(sync_token))
    }
}

/// A resource that is not there (any more): a deletion in sync-collection, a name that is no
/// card in multiget.
pub fn gone(href: &str, out: &mut String) {
    out.push_str("<d:response><d:href>");
    out.push_str(&escape(href));
    out.push_str("</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>");
}

/// A `multistatus` document's start and end, for one written in pieces (streamed).
pub fn opening() -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus xmlns:d=\"{DAV}\" xmlns:card=\"{CARDDAV}\" \
         xmlns:cs=\"{CALENDARSERVER}\">"
    )
}

pub fn closing(sync_token: Option<&str>) -> String {
    let token = sync_token
        .map(|t| format!("<d:sync-token>{}</d:sync-token>", escape(t)))
        .unwrap_or_default();
    format!("{token}</d:multistatus>\n")
}

/// A DAV `error` body naming the precondition that failed (`<d:valid-sync-token/>`).
pub fn error(ns: &str, local: &str) -> String {
    let name = Name {
        ns: ns.into(),
        local: local.into(),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error xmlns:d=\"{DAV}\" xmlns:card=\"{CARDDAV}\" \
         xmlns:cs=\"{CALENDARSERVER}\">{}</d:error>\n",
        name.empty()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_read_by_namespace_not_by_prefix() {
        let body = r#"<?xml version="1.0"?><A:propfind xmlns:A="DAV:" xmlns:Q="urn:ietf:params:xml:ns:carddav">
            <A:prop><A:getetag/><Q:address-data/><Z:other xmlns:Z="urn:x"/></A:prop></A:propfind>"#;
        let Wanted::Props(names) = propfind(body).unwrap() else {
            panic!("a prop list")
        };
        assert!(names[0].is(DAV, "getetag"));
        assert!(names[1].is(CARDDAV, "address-data"));
        assert_eq!(names[2].empty(), "<x:other xmlns:x=\"urn:x\"/>");
        assert!(matches!(propfind("").unwrap(), Wanted::All));
        assert!(propfind("<nope").is_err());
    }
}

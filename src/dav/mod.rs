//! The CardDAV face (SPEC §16): `/.well-known/carddav`, the principal, the address-book home,
//! one address book per workspace and a vCard per contact. Phones sign in with HTTP Basic: the
//! account's email and an app password (an API key with the `dav` scope), checked by
//! `auth::api_key::layer` so the rate limit counts per key. What a request may do and see is
//! `domain::dav`'s to say; this file speaks HTTP and XML.

mod props;
pub mod xml;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::auth::api_key::CheckedKey;
use crate::domain::actor::Actor;
use crate::domain::dav::{self, SyncToken, Version, write::Preconditions};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use props::{Context, Resource};
use xml::{CARDDAV, DAV, Multistatus};

/// The largest card a phone may send: a contact photo fits, a video does not.
const MAX_CARD_BYTES: usize = 2 * 1024 * 1024;
/// The largest PROPFIND or REPORT body: vdirsyncer asks for every card of a first sync in one
/// `addressbook-multiget` (10,000 hrefs are 1.3 MB).
const MAX_XML_BYTES: usize = 8 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/carddav", any(well_known))
        .route("/dav", any(root))
        .route("/dav/", any(root))
        .route("/dav/principals/{user}", any(principal))
        .route("/dav/principals/{user}/", any(principal))
        .route("/dav/addressbooks/{user}", any(home))
        .route("/dav/addressbooks/{user}/", any(home))
        .route("/dav/addressbooks/{user}/{ws}", any(book))
        .route("/dav/addressbooks/{user}/{ws}/", any(book))
        .route("/dav/addressbooks/{user}/{ws}/{card}", any(card))
}

/// An error as a DAV client reads it: the status, a sentence, and for a 401 the challenge
/// that makes a phone ask for the password.
struct DavError(AppError);

impl From<AppError> for DavError {
    fn from(e: AppError) -> Self {
        DavError(e)
    }
}

impl IntoResponse for DavError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log_if_internal();
        let mut response = (
            e.status(),
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{}\n", e.public_message()),
        )
            .into_response();
        let h = response.headers_mut();
        match &e {
            AppError::Unauthorized(_) => {
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"pi-crm\", charset=\"UTF-8\""),
                );
            }
            AppError::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    h.insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        response
    }
}

type DavResult = Result<Response, DavError>;

/// An error as a DAV client reads it, for answers made outside this face (the rate limit,
/// the router's 404).
pub fn error_response(e: AppError) -> Response {
    DavError(e).into_response()
}

/// The phone's sign-in, as the key layer checked it. Anything else — no credentials, a wrong
/// password, an API key without the `dav` scope — is the same 401.
fn caller(req: &Request) -> Result<Actor, DavError> {
    req.extensions()
        .get::<CheckedKey>()
        .and_then(|k| k.0.clone())
        .filter(|actor| actor.device().is_some())
        .ok_or_else(|| {
            DavError(AppError::Unauthorized(
                "sign in with your email and an app password (Settings → API keys → for a phone)".into(),
            ))
        })
}

fn options() -> Response {
    (
        StatusCode::OK,
        [
            (header::HeaderName::from_static("dav"), "1, 3, addressbook"),
            (header::ALLOW, "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT"),
        ],
    )
        .into_response()
}

fn method_is(req: &Request, name: &str) -> bool {
    req.method().as_str().eq_ignore_ascii_case(name)
}

fn not_allowed(req: &Request) -> DavResult {
    Err(DavError(AppError::MethodNotAllowed(req.method().to_string())))
}

async fn body_text(req: Request, limit: usize) -> Result<String, DavError> {
    let bytes: Bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| AppError::PayloadTooLarge(format!("a body here is at most {} KB", limit / 1024)))?;
    String::from_utf8(bytes.to_vec()).map_err(|_| DavError(AppError::BadRequest("the body is not UTF-8".into())))
}

/// `Depth`: 0 or 1 (RFC 4918 §10.2); `infinity` is answered as 1, which is all there is below
/// an address book.
fn depth(headers: &HeaderMap) -> u8 {
    match headers.get("depth").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("0") => 0,
        _ => 1,
    }
}

/// An XML answer: a multistatus (207), or a DAV error naming a failed precondition.
fn xml_answer(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn multistatus(body: String) -> Response {
    xml_answer(StatusCode::MULTI_STATUS, body)
}

async fn well_known() -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, "/dav/")]).into_response()
}

/// `PROPFIND` on resources with no members worth listing below them (or at depth 0).
async fn propfind_of(req: Request, ctx: &Context, resources: Vec<Resource<'_>>) -> DavResult {
    let wanted = xml::propfind(&body_text(req, MAX_XML_BYTES).await?)?;
    let mut out = Multistatus::default();
    for r in &resources {
        out.push(&props::response(ctx, r, &wanted));
    }
    Ok(multistatus(out.finish(None)))
}

/// How every DAV handler opens: `OPTIONS` is answered without a sign-in (clients probe with
/// it first); anything else needs the phone's sign-in and, under `/principals/{user}/` or
/// `/addressbooks/{user}/`, that user must be the caller — another person's is 404.
enum Opening {
    Options(Response),
    Caller(Actor),
}

fn open(req: &Request, user: Option<&str>) -> Result<Opening, DavError> {
    if req.method() == Method::OPTIONS {
        return Ok(Opening::Options(options()));
    }
    let actor = caller(req)?;
    if user.is_some_and(|u| u != actor.user_id.as_str()) {
        return Err(AppError::NotFound.into());
    }
    Ok(Opening::Caller(actor))
}

/// `open` for a collection that only takes `PROPFIND` (besides `OPTIONS`).
fn open_for_propfind(req: &Request, user: Option<&str>) -> Result<Opening, DavError> {
    let opening = open(req, user)?;
    if matches!(opening, Opening::Caller(_)) && !method_is(req, "PROPFIND") {
        return Err(DavError(AppError::MethodNotAllowed(req.method().to_string())));
    }
    Ok(opening)
}

async fn root(State(state): State<AppState>, req: Request) -> DavResult {
    let actor = match open_for_propfind(&req, None)? {
        Opening::Options(r) => return Ok(r),
        Opening::Caller(actor) => actor,
    };
    let ctx = Context::of(&state, &actor).await?;
    propfind_of(req, &ctx, vec![Resource::Root]).await
}

async fn principal(State(state): State<AppState>, Path(user): Path<String>, req: Request) -> DavResult {
    let actor = match open_for_propfind(&req, Some(&user))? {
        Opening::Options(r) => return Ok(r),
        Opening::Caller(actor) => actor,
    };
    let ctx = Context::of(&state, &actor).await?;
    propfind_of(req, &ctx, vec![Resource::Principal]).await
}

async fn home(State(state): State<AppState>, Path(user): Path<String>, req: Request) -> DavResult {
    let actor = match open_for_propfind(&req, Some(&user))? {
        Opening::Options(r) => return Ok(r),
        Opening::Caller(actor) => actor,
    };
    let ctx = Context::of(&state, &actor).await?;
    let mut resources = vec![Resource::Home];
    if depth(req.headers()) == 1 {
        let token = dav::latest(&state.db).await?;
        for ws in dav::address_books(&state.db, &actor).await? {
            resources.push(Resource::Book { ws, token });
        }
    }
    propfind_of(req, &ctx, resources).await
}

async fn book(State(state): State<AppState>, Path((user, ws)): Path<(String, String)>, req: Request) -> DavResult {
    let actor = match open(&req, Some(&user))? {
        Opening::Options(r) => return Ok(r),
        Opening::Caller(actor) => actor,
    };
    let ws = dav::address_book(&state.db, &actor, &ws).await?;
    let ctx = Context::of(&state, &actor).await?;
    if method_is(&req, "PROPFIND") {
        let token = dav::latest(&state.db).await?;
        let depth = depth(req.headers());
        let wanted = xml::propfind(&body_text(req, MAX_XML_BYTES).await?)?;
        let mut head = String::new();
        props::response(&ctx, &Resource::Book { ws: ws.clone(), token }, &wanted).write(&mut head);
        if depth == 0 {
            return Ok(multistatus(format!("{}{head}{}", xml::opening(), xml::closing(None))));
        }
        let version = props::wants_card(&wanted).then_some(Version::V3);
        let pages = dav::all(&state.db, &actor, &ws, version).await?;
        return Ok(streamed(ctx, ws, wanted, head, pages, None));
    }
    if method_is(&req, "REPORT") {
        return report(&state, &actor, ctx, ws, req).await;
    }
    not_allowed(&req)
}

/// A `multistatus` about many cards, written a page of contacts at a time as the client reads
/// it: a first sync of 10,000 cards never sits in memory whole. A failure mid-way ends the
/// body early, so the client sees a broken answer rather than a short one.
fn streamed(
    ctx: Context,
    ws: WorkspaceAccess,
    wanted: xml::Wanted,
    head: String,
    pages: dav::Pages,
    sync_token: Option<String>,
) -> Response {
    enum Step {
        Open(String),
        Pages,
        Done,
    }
    let state = (Step::Open(head), pages, ctx, ws, wanted, sync_token);
    let stream = futures_util::stream::try_unfold(state, |(step, mut pages, ctx, ws, wanted, token)| async move {
        let chunk = match step {
            Step::Done => return Ok::<_, std::io::Error>(None),
            Step::Open(head) => {
                let chunk = format!("{}{head}", xml::opening());
                return Ok(Some((Bytes::from(chunk), (Step::Pages, pages, ctx, ws, wanted, token))));
            }
            Step::Pages => pages.next().await.map_err(|e| std::io::Error::other(e.to_string()))?,
        };
        let Some(items) = chunk else {
            let end = xml::closing(token.as_deref());
            return Ok(Some((Bytes::from(end), (Step::Done, pages, ctx, ws, wanted, token))));
        };
        let mut out = String::new();
        for item in items {
            match item {
                dav::Item::Card(entry) => {
                    props::response(&ctx, &Resource::Card { ws: &ws, entry }, &wanted).write(&mut out)
                }
                dav::Item::Gone(name) => xml::gone(&ctx.card_href(&ws, &name), &mut out),
            }
        }
        Ok(Some((Bytes::from(out), (Step::Pages, pages, ctx, ws, wanted, token))))
    });
    xml_answer(StatusCode::MULTI_STATUS, Body::from_stream(stream))
}

async fn report(state: &AppState, actor: &Actor, ctx: Context, ws: WorkspaceAccess, req: Request) -> DavResult {
    let body = body_text(req, MAX_XML_BYTES).await?;
    let doc = xml::parse(&body)?;
    let root = doc.root_element();
    let wanted = xml::wanted_in(root);
    let version = props::wants_card(&wanted).then(|| if xml::wants_v4(&doc) { Version::V4 } else { Version::V3 });
    if root.has_tag_name((CARDDAV, "addressbook-multiget")) {
        let names: Vec<String> = root
            .children()
            .filter(|n| n.has_tag_name((DAV, "href")))
            .filter_map(|n| n.text())
            .filter_map(|href| ctx.card_name_in(&ws, href))
            .collect();
        let pages = dav::named(&state.db, actor, &ws, names, version).await?;
        return Ok(streamed(ctx, ws, wanted, String::new(), pages, None));
    }
    if root.has_tag_name((DAV, "sync-collection")) {
        let latest = dav::latest(&state.db).await?;
        let given = root
            .children()
            .find(|n| n.has_tag_name((DAV, "sync-token")))
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let since = match given {
            None => None,
            Some(text) => match SyncToken::parse(text, latest) {
                Some(token) => Some(token),
                None => return Ok(xml_answer(StatusCode::FORBIDDEN, xml::error(DAV, "valid-sync-token"))),
            },
        };
        let (pages, token) = dav::changes(&state.db, actor, &ws, since, version).await?;
        return Ok(streamed(ctx, ws, wanted, String::new(), pages, Some(token.uri())));
    }
    if root.has_tag_name((CARDDAV, "addressbook-query")) {
        // Every card: pi-crm evaluates no filters here (a client filters what it gets).
        let has_filter = root
            .children()
            .find(|n| n.has_tag_name((CARDDAV, "filter")))
            .is_some_and(|f| f.children().any(|c| c.is_element()));
        if has_filter {
            return Ok((
                StatusCode::NOT_IMPLEMENTED,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "addressbook-query filters are not supported; use sync-collection or PROPFIND\n",
            )
                .into_response());
        }
        let pages = dav::all(&state.db, actor, &ws, version).await?;
        return Ok(streamed(ctx, ws, wanted, String::new(), pages, None));
    }
    Ok(xml_answer(StatusCode::FORBIDDEN, xml::error(DAV, "supported-report")))
}

fn preconditions(headers: &HeaderMap) -> Preconditions {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    Preconditions {
        if_match: text(header::IF_MATCH),
        if_none_match: text(header::IF_NONE_MATCH),
    }
}

/// 4.0 when the client's `Accept` asks for it (`text/vcard; version=4.0`), else 3.0.
fn version_accepted(headers: &HeaderMap) -> Version {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accept.replace(' ', "").contains("version=4.0") {
        Version::V4
    } else {
        Version::V3
    }
}

async fn card(
    State(state): State<AppState>,
    Path((user, ws, name)): Path<(String, String, String)>,
    req: Request,
) -> DavResult {
    let actor = match open(&req, Some(&user))? {
        Opening::Options(r) => return Ok(r),
        Opening::Caller(actor) => actor,
    };
    let ws = dav::address_book(&state.db, &actor, &ws).await?;
    let method = req.method().clone();
    if method == Method::GET || method == Method::HEAD {
        let version = version_accepted(req.headers());
        let entry = dav::one(&state.db, &actor, &ws, &name, version).await?;
        let text = entry.card.unwrap_or_default();
        let mut response = Response::new(if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(text)
        });
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/vcard; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&entry.etag) {
            h.insert(header::ETAG, v);
        }
        return Ok(response);
    }
    if method == Method::PUT {
        let pre = preconditions(req.headers());
        let body = body_text(req, MAX_CARD_BYTES).await?;
        let region = state.config.default_phone_region.clone();
        let stored = dav::write::put(&state.db, &actor, &ws, &region, &name, &body, &pre).await?;
        let status = if stored.created {
            StatusCode::CREATED
        } else {
            StatusCode::NO_CONTENT
        };
        let mut response = status.into_response();
        if let Ok(v) = HeaderValue::from_str(&stored.etag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        return Ok(response);
    }
    if method == Method::DELETE {
        let pre = preconditions(req.headers());
        dav::write::delete(&state.db, &actor, &ws, &name, &pre).await?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    if method_is(&req, "PROPFIND") {
        let ctx = Context::of(&state, &actor).await?;
        let wanted = xml::propfind(&body_text(req, MAX_XML_BYTES).await?)?;
        let version = props::wants_card(&wanted).then_some(Version::V3);
        let mut entry = dav::one(&state.db, &actor, &ws, &name, Version::V3).await?;
        if version.is_none() {
            entry.card = None;
        }
        let mut out = Multistatus::default();
        out.push(&props::response(&ctx, &Resource::Card { ws: &ws, entry }, &wanted));
        return Ok(multistatus(out.finish(None)));
    }
    not_allowed(&req)
}

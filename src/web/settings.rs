//! `/settings/…`: profile and password, sessions, API keys, the audit log.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use super::chrome::{Chrome, CurrentUser};
use super::error::PageError;
use super::flash;
use super::forms::FormErrors;
use crate::domain::actor::Scope;
use crate::domain::api_key::{self, ApiKeyView, NewKey};
use crate::domain::ids::ApiKeyId;
use crate::domain::ids::SessionId;
use crate::domain::session::{self as domain_session, Listing as SessionListing};
use crate::domain::{audit, user};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::extract::PagePath;

#[derive(Template, WebTemplate)]
#[template(path = "settings/profile.html")]
struct ProfilePage {
    chrome: Chrome,
    tab: &'static str,
    email: String,
    name: String,
    timezone: String,
    timezone_names: Vec<String>,
    errors: FormErrors,
}

fn profile_page(
    user: &CurrentUser,
    chrome: Chrome,
    errors: FormErrors,
    name: Option<String>,
    timezone: String,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = ProfilePage {
        chrome: chrome.in_section("settings"),
        tab: "profile",
        email: user.email.clone(),
        name: name.unwrap_or_else(|| user.name.clone()),
        timezone,
        timezone_names: crate::domain::workspace::time_zone_names(),
        errors,
    };
    (status, page).into_response()
}

pub async fn profile(State(state): State<AppState>, user: CurrentUser, chrome: Chrome) -> Result<Response, PageError> {
    let zone = user::me(&state.db, &user.actor()).await?.timezone;
    Ok(profile_page(
        &user,
        chrome,
        FormErrors::none(),
        None,
        zone.unwrap_or_default(),
    ))
}

#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    timezone: String,
}

pub async fn save_profile(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<ProfileForm>,
) -> Result<Response, PageError> {
    match user::update_me(&state.db, &user.actor(), Some(&form.name), Some(&form.timezone), None).await {
        Ok(_) => Ok(flash::redirect(&state, "/settings", "success", "Profile saved.")),
        Err(e) => Ok(profile_page(
            &user,
            chrome,
            FormErrors::from_error(e)?,
            Some(form.name),
            form.timezone,
        )),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let result = user::change_password(
        &state.db,
        &user.actor(),
        &form.current_password,
        &form.new_password,
        Some(&user.session_id),
    )
    .await;
    match result {
        Ok(()) => Ok(flash::redirect(
            &state,
            "/settings",
            "success",
            "Password changed. Your other sessions have been signed out.",
        )),
        Err(e) => {
            let zone = user::me(&state.db, &user.actor()).await?.timezone;
            Ok(profile_page(
                &user,
                chrome,
                FormErrors::from_error(e)?,
                None,
                zone.unwrap_or_default(),
            ))
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/sessions.html")]
struct SessionsPage {
    chrome: Chrome,
    tab: &'static str,
    sessions: Vec<SessionListing>,
    current: SessionId,
}

pub async fn sessions(State(state): State<AppState>, user: CurrentUser, chrome: Chrome) -> Result<Response, PageError> {
    let sessions = domain_session::list(&state.db, &user.actor()).await?;
    Ok(SessionsPage {
        chrome: chrome.in_section("settings"),
        tab: "sessions",
        sessions,
        current: user.session_id,
    }
    .into_response())
}

pub async fn end_session(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<SessionId>,
) -> Result<Response, PageError> {
    domain_session::end(&state.db, &user.actor(), &id).await?;
    Ok(flash::redirect(
        &state,
        "/settings/sessions",
        "success",
        "That session has been signed out.",
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/keys.html")]
struct KeysPage {
    chrome: Chrome,
    tab: &'static str,
    keys: Vec<ApiKeyView>,
    all_scopes: Vec<&'static str>,
    created_key: Option<String>,
    /// What to type into a phone, when the key just made is a phone's app password.
    phone: Option<PhoneSetup>,
    /// This server's address as the browser reached it: what a phone at home types in.
    server: String,
    email: String,
    errors: FormErrors,
}

/// The three things a phone's CardDAV account asks for (docs/carddav.md).
struct PhoneSetup {
    device: String,
    password: String,
}

impl KeysPage {
    fn workspace_name(&self, id: &str) -> String {
        self.chrome
            .workspaces
            .iter()
            .find(|w| w.id().as_str() == id)
            .map(|w| w.name().to_string())
            .unwrap_or_else(|| "a workspace".into())
    }
}

/// `http://pi-crm.local:8080`: the address the browser used, which a phone on the same network
/// reaches too.
fn server_address(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c)))
        .map(str::to_string)
        .unwrap_or_else(|| state.config.bind.to_string());
    let scheme = if state.config.is_tls() { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// What the keys page shows after a key is made: the key, and for a phone how to use it.
enum Made {
    Nothing,
    Key(String),
    Phone { device: String, password: String },
}

async fn keys_page(
    state: &AppState,
    user: &CurrentUser,
    chrome: Chrome,
    headers: &HeaderMap,
    made: Made,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let keys = api_key::list(&state.db, &user.actor()).await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = KeysPage {
        chrome: chrome.in_section("settings"),
        tab: "keys",
        keys,
        all_scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        created_key: match &made {
            Made::Key(key) => Some(key.clone()),
            _ => None,
        },
        phone: match made {
            Made::Phone { device, password } => Some(PhoneSetup { device, password }),
            _ => None,
        },
        server: server_address(state, headers),
        email: user.email.clone(),
        errors,
    };
    Ok((status, page).into_response())
}

pub async fn keys(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    keys_page(&state, &user, chrome, &headers, Made::Nothing, FormErrors::none()).await
}

/// The new-key form: several `scopes` checkboxes share one name.
#[derive(Deserialize)]
pub struct KeyForm {
    #[serde(default)]
    description: String,
    #[serde(default)]
    scopes: Vec<String>,
    workspace_id: Option<String>,
    expires_at: Option<String>,
}

pub async fn create_key(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    headers: HeaderMap,
    Form(form): Form<KeyForm>,
) -> Result<Response, PageError> {
    let for_phone = form.scopes == [Scope::Dav.as_str()];
    let new = NewKey {
        description: form.description,
        scopes: form.scopes,
        workspace_id: form.workspace_id,
        expires_at: form.expires_at,
    };
    match api_key::create(&state.db, &user.actor(), new).await {
        // The key is rendered into this response only: it is never stored or shown again.
        Ok(created) => {
            let made = if for_phone {
                Made::Phone {
                    device: created.view.description,
                    password: created.key,
                }
            } else {
                Made::Key(created.key)
            };
            keys_page(&state, &user, chrome, &headers, made, FormErrors::none()).await
        }
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            keys_page(&state, &user, chrome, &headers, Made::Nothing, errors).await
        }
    }
}

pub async fn revoke_key(
    State(state): State<AppState>,
    user: CurrentUser,
    PagePath(id): PagePath<ApiKeyId>,
) -> Result<Response, PageError> {
    api_key::revoke(&state.db, &user.actor(), &id).await?;
    Ok(flash::redirect(
        &state,
        "/settings/keys",
        "success",
        "Key revoked. It stops working at once.",
    ))
}

pub struct AuditRow {
    pub entry: audit::Entry,
    pub who: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings/audit.html")]
struct AuditPage {
    chrome: Chrome,
    tab: &'static str,
    rows: Vec<AuditRow>,
    vias: [&'static str; 4],
    filter_action: String,
    filter_entity_type: String,
    filter_via: String,
    filter_since: String,
    filter_until: String,
    filter_workspace: String,
    error: Option<String>,
    next_url: Option<String>,
}

impl AuditPage {
    fn via_selected(&self, via: &str) -> bool {
        self.filter_via == via
    }
}

pub async fn audit_log(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Query(filter): Query<audit::Filter>,
) -> Result<Response, PageError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (rows, next_url, error) = match audit::list(&state.db, &user.actor(), &filter).await {
        Ok(page) => {
            let mut names = std::collections::HashMap::new();
            let mut rows = Vec::with_capacity(page.items.len());
            for entry in page.items {
                let who = match entry.user_id.as_deref() {
                    Some(id) if id == user.id.as_str() => "you".to_string(),
                    Some(id) => match names.get(id) {
                        Some(n) => String::clone(n),
                        None => {
                            let name = match crate::domain::ids::UserId::parse(id) {
                                Some(uid) => crate::domain::user::name_of(&state.db, &uid).await?,
                                None => None,
                            }
                            .unwrap_or_else(|| "a removed account".into());
                            names.insert(id.to_string(), name.clone());
                            name
                        }
                    },
                    None => "pi-crm".to_string(),
                };
                rows.push(AuditRow { entry, who });
            }
            let next_url = page.next_cursor.map(|c| {
                let mut q = form_urlencoded::Serializer::new(String::new());
                for (k, v) in [
                    ("action", &filter.action),
                    ("entity_type", &filter.entity_type),
                    ("via", &filter.via),
                    ("since", &filter.since),
                    ("until", &filter.until),
                    ("workspace_id", &filter.workspace_id),
                ] {
                    if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                        q.append_pair(k, v);
                    }
                }
                q.append_pair("cursor", &c);
                format!("/settings/audit?{}", q.finish())
            });
            (rows, next_url, None)
        }
        Err(AppError::Invalid { message, .. }) => (Vec::new(), None, Some(message)),
        Err(e) => return Err(e.into()),
    };
    let page = AuditPage {
        chrome: chrome.in_section("settings"),
        tab: "audit",
        rows,
        vias: ["ui", "api", "cli", "job"],
        filter_action: text(&filter.action),
        filter_entity_type: text(&filter.entity_type),
        filter_via: text(&filter.via),
        filter_since: text(&filter.since),
        filter_until: text(&filter.until),
        filter_workspace: text(&filter.workspace_id),
        error,
        next_url,
    };
    Ok(page.into_response())
}

/// The audit log as filtered on the page, whole, as a CSV file.
pub async fn audit_csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(filter): Query<audit::Filter>,
) -> Result<Response, PageError> {
    let csv = crate::domain::audit_export::prepare(&state.db, &user.actor(), filter).await?;
    Ok(crate::download::audit_log(csv))
}

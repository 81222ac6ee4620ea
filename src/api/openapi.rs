//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::v1;

#[derive(OpenApi)]
#[openapi(
    info(title = "pi-crm", description = "The pi-crm JSON API. Authenticate with `X-Api-Key: <key>` or `Authorization: Bearer <key>`. Errors are `{\"error\":{\"code\",\"message\",\"field\"}}`; lists are `{\"items\",\"next_cursor\"}`."),
    paths(
        v1::keys::create, v1::keys::list, v1::keys::revoke,
        v1::workspaces::list, v1::workspaces::create, v1::workspaces::get, v1::workspaces::rename, v1::workspaces::delete,
        v1::workspaces::members, v1::workspaces::add_member, v1::workspaces::remove_member,
        v1::audit::list,
        v1::me::get, v1::me::update,
        v1::invites::create, v1::invites::list, v1::invites::revoke,
        v1::backups::list,
        v1::reachability::last, v1::reachability::check,
        v1::fields::list_global, v1::fields::create_global, v1::fields::update_global, v1::fields::delete_global,
        v1::fields::list_workspace, v1::fields::create_workspace, v1::fields::update_workspace, v1::fields::delete_workspace,
        v1::contacts::list, v1::contacts::create, v1::contacts::get, v1::contacts::update, v1::contacts::delete,
        v1::contacts::merge, v1::contacts::duplicates, v1::contacts::add_to_list, v1::contacts::remove_from_list,
        v1::contacts::communications, v1::contacts::export, v1::contacts::add_communication, v1::contacts::pin_communication, v1::contacts::delete_communication,
        v1::imports::create, v1::imports::list, v1::imports::get, v1::imports::revert, v1::imports::problem_rows,
        v1::lists::all, v1::lists::create, v1::lists::update, v1::lists::delete,
        v1::providers::view, v1::providers::put, v1::providers::delete, v1::providers::test,
        v1::providers::gmail_consent, v1::providers::gmail_link,
        v1::messages::send, v1::messages::send_again,
        v1::messages::suppressions, v1::messages::suppress, v1::messages::unsuppress,
        v1::messages::inbox, v1::messages::inbox_to_contact,
        v1::templates::list, v1::templates::create, v1::templates::get, v1::templates::update, v1::templates::delete,
        v1::templates::copy, v1::templates::share, v1::templates::favorite, v1::templates::unfavorite,
        v1::templates::preview, v1::templates::preview_draft,
        v1::templates::shared, v1::templates::shared_one, v1::templates::copy_shared,
        v1::insights::list, v1::insights::dismiss,
        v1::ai::draft_template, v1::ai::prompt, v1::ai::message, v1::ai::usage, v1::ai::workflow,
        v1::campaigns::list, v1::campaigns::create, v1::campaigns::get, v1::campaigns::update, v1::campaigns::delete,
        v1::campaigns::submit, v1::campaigns::approve, v1::campaigns::reject, v1::campaigns::schedule,
        v1::campaigns::pause, v1::campaigns::resume, v1::campaigns::cancel, v1::campaigns::recipients,
        v1::campaigns::preview, v1::campaigns::audience,
    ),
    modifiers(&Security),
    security(("api_key" = []), ("bearer" = [])),
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/v1/openapi.json`, built for each request (rare: the docs page and tools).
pub async fn document() -> axum::Json<serde_json::Value> {
    axum::Json(json())
}

/// The document as tools read it: generated from the handlers' annotations, then completed
/// where they leave things out (`openapi_tidy`).
pub fn json() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    super::openapi_tidy::tidy(&mut doc);
    doc
}

#[cfg(test)]
mod tests {
    /// utoipa names a schema after its type and keeps the last of two with one name, so an
    /// operation silently answers with another type's shape (the import preview once came out
    /// as the campaign preview). Every type that derives `ToSchema` has a name of its own, or a
    /// `#[schema(as = …)]` that gives it one.
    #[test]
    fn every_schema_has_a_name_of_its_own() {
        let mut names: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let mut pending: Option<Option<String>> = None;
                for line in text.lines().map(str::trim) {
                    if line.starts_with("#[derive(") && line.contains("ToSchema") {
                        pending = Some(None);
                    } else if let Some(renamed) = line.strip_prefix("#[schema(as = ") {
                        if let Some(p) = pending.as_mut() {
                            *p = Some(renamed.trim_end_matches(")]").to_string());
                        }
                    } else if let Some(p) =
                        pending.take_if(|_| line.starts_with("pub struct ") || line.starts_with("pub enum "))
                    {
                        let declared = line.split_whitespace().nth(2).unwrap_or("");
                        let declared: String = declared
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let name = p.unwrap_or(declared);
                        names.entry(name).or_default().push(path.display().to_string());
                    }
                }
            }
        }
        assert!(names.len() > 50, "the scan found the schemas: {}", names.len());
        let twice: Vec<_> = names.iter().filter(|(_, at)| at.len() > 1).collect();
        assert!(twice.is_empty(), "schema names used twice: {twice:?}");
    }
}

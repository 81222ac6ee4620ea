//! The JSON face, under `/api/v1`. Thin: parse, call `domain`, answer JSON.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod openapi_tidy;
pub mod shapes;
pub mod v1;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post, put};
use axum::{Router, middleware};

use crate::state::AppState;

/// JSON bodies are small; uploads (imports) get their own limit on their own routes.
const JSON_LIMIT: usize = 1024 * 1024;

/// `max_upload` bounds the import routes; every other JSON body stays under `JSON_LIMIT`.
pub fn router(max_upload: usize) -> Router<AppState> {
    use v1::{
        ai, audit, backups, campaigns, contacts, fields, imports, insights, invites, keys, lists, me, messages,
        providers, reachability, templates, workspaces,
    };
    const WS: &str = "/api/v1/workspaces/{ws}";
    Router::new()
        .route("/api/v1/keys", get(keys::list).post(keys::create))
        .route("/api/v1/keys/{id}", delete(keys::revoke))
        .route("/api/v1/workspaces", get(workspaces::list).post(workspaces::create))
        .route(
            "/api/v1/workspaces/{ws}",
            get(workspaces::get)
                .patch(workspaces::rename)
                .delete(workspaces::delete),
        )
        .route(
            "/api/v1/workspaces/{ws}/members",
            get(workspaces::members).post(workspaces::add_member),
        )
        .route(
            "/api/v1/workspaces/{ws}/members/{user_id}",
            delete(workspaces::remove_member),
        )
        .route("/api/v1/me", get(me::get).patch(me::update))
        .route("/api/v1/invites", get(invites::list).post(invites::create))
        .route("/api/v1/invites/{id}", delete(invites::revoke))
        .route("/api/v1/audit", get(audit::list))
        .route("/api/v1/insights", get(insights::list))
        .route("/api/v1/insights/{id}/dismiss", post(insights::dismiss))
        .route("/api/v1/backups", get(backups::list))
        .route("/api/v1/reachability", get(reachability::last))
        .route("/api/v1/reachability/check", post(reachability::check))
        .route(
            "/api/v1/custom-fields",
            get(fields::list_global).post(fields::create_global),
        )
        .route(
            "/api/v1/custom-fields/{id}",
            patch(fields::update_global).delete(fields::delete_global),
        )
        .route(
            &format!("{WS}/custom-fields"),
            get(fields::list_workspace).post(fields::create_workspace),
        )
        .route(
            &format!("{WS}/custom-fields/{{id}}"),
            patch(fields::update_workspace).delete(fields::delete_workspace),
        )
        .route(&format!("{WS}/contacts"), get(contacts::list).post(contacts::create))
        .route(
            &format!("{WS}/contacts/{{id}}"),
            get(contacts::get).patch(contacts::update).delete(contacts::delete),
        )
        .route(&format!("{WS}/contacts/{{id}}/merge"), post(contacts::merge))
        .route(
            &format!("{WS}/contacts/{{id}}/lists/{{list_id}}"),
            put(contacts::add_to_list).delete(contacts::remove_from_list),
        )
        .route(
            &format!("{WS}/contacts/{{id}}/communications"),
            get(contacts::communications).post(contacts::add_communication),
        )
        .route(
            &format!("{WS}/contacts/{{id}}/communications/{{entry}}"),
            patch(contacts::pin_communication).delete(contacts::delete_communication),
        )
        .route(&format!("{WS}/duplicates"), get(contacts::duplicates))
        .route(&format!("{WS}/export"), get(contacts::export))
        .route(
            &format!("{WS}/imports"),
            get(imports::list)
                .post(imports::create)
                .layer(DefaultBodyLimit::max(max_upload)),
        )
        .route(&format!("{WS}/imports/{{id}}"), get(imports::get))
        .route(&format!("{WS}/imports/{{id}}/revert"), post(imports::revert))
        .route(&format!("{WS}/imports/{{id}}/problems.csv"), get(imports::problem_rows))
        .route(&format!("{WS}/lists"), get(lists::all).post(lists::create))
        .route(
            &format!("{WS}/lists/{{id}}"),
            patch(lists::update).delete(lists::delete),
        )
        .route(&format!("{WS}/contacts/{{id}}/messages"), post(messages::send))
        .route(
            &format!("{WS}/contacts/{{id}}/communications/{{entry}}/send-again"),
            post(messages::send_again),
        )
        .route(
            &format!("{WS}/suppressions"),
            get(messages::suppressions).post(messages::suppress),
        )
        .route(&format!("{WS}/suppressions/{{id}}"), delete(messages::unsuppress))
        .route(&format!("{WS}/inbox"), get(messages::inbox))
        .route(&format!("{WS}/inbox/{{id}}/contact"), post(messages::inbox_to_contact))
        .route(&format!("{WS}/templates"), get(templates::list).post(templates::create))
        .route(&format!("{WS}/templates/preview"), post(templates::preview_draft))
        .route(
            &format!("{WS}/templates/{{id}}"),
            get(templates::get).patch(templates::update).delete(templates::delete),
        )
        .route(&format!("{WS}/templates/{{id}}/copy"), post(templates::copy))
        .route(&format!("{WS}/templates/{{id}}/share"), post(templates::share))
        .route(
            &format!("{WS}/templates/{{id}}/favorite"),
            put(templates::favorite).delete(templates::unfavorite),
        )
        .route(&format!("{WS}/templates/{{id}}/preview"), post(templates::preview))
        .route("/api/v1/templates/shared", get(templates::shared))
        .route("/api/v1/templates/shared/{id}", get(templates::shared_one))
        .route("/api/v1/templates/shared/{id}/copy", post(templates::copy_shared))
        .route(&format!("{WS}/campaigns"), get(campaigns::list).post(campaigns::create))
        .route(&format!("{WS}/campaigns/audience"), post(campaigns::audience))
        .route(
            &format!("{WS}/campaigns/{{id}}"),
            get(campaigns::get).patch(campaigns::update).delete(campaigns::delete),
        )
        .route(&format!("{WS}/campaigns/{{id}}/submit"), post(campaigns::submit))
        .route(&format!("{WS}/campaigns/{{id}}/approve"), post(campaigns::approve))
        .route(&format!("{WS}/campaigns/{{id}}/reject"), post(campaigns::reject))
        .route(&format!("{WS}/campaigns/{{id}}/schedule"), post(campaigns::schedule))
        .route(&format!("{WS}/campaigns/{{id}}/pause"), post(campaigns::pause))
        .route(&format!("{WS}/campaigns/{{id}}/resume"), post(campaigns::resume))
        .route(&format!("{WS}/campaigns/{{id}}/cancel"), post(campaigns::cancel))
        .route(&format!("{WS}/campaigns/{{id}}/recipients"), get(campaigns::recipients))
        .route(&format!("{WS}/campaigns/{{id}}/preview"), get(campaigns::preview))
        .route(&format!("{WS}/ai/workflows"), post(ai::workflow))
        .route(&format!("{WS}/ai/templates"), post(ai::draft_template))
        .route(&format!("{WS}/ai/templates/prompt"), post(ai::prompt))
        .route(&format!("{WS}/ai/messages"), post(ai::message))
        .route(&format!("{WS}/ai/usage"), get(ai::usage))
        .route(&format!("{WS}/providers"), get(providers::view))
        .route(
            &format!("{WS}/providers/{{channel}}"),
            put(providers::put).delete(providers::delete),
        )
        .route(&format!("{WS}/providers/{{channel}}/test"), post(providers::test))
        .route(
            &format!("{WS}/providers/email/gmail/consent"),
            post(providers::gmail_consent),
        )
        .route(&format!("{WS}/providers/email/gmail/link"), post(providers::gmail_link))
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(middleware::from_fn(error::json_errors))
}

//! The HTML face: askama pages and urlencoded forms. Thin: parse, call `domain`, render.

pub mod auth_pages;
pub mod backups;
pub mod campaigns;
pub mod chrome;
pub mod contacts;
pub mod csrf;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod fields;
pub mod flash;
pub mod forms;
pub mod imports;
pub mod inbox;
pub mod invites;
pub mod lists;
pub mod messaging;
pub mod password_reset;
pub mod pipeline;
pub mod reach;
pub mod review;
pub mod settings;
pub mod templates;
pub mod times;
pub mod unsubscribe;
pub mod workspaces;

use axum::routing::{get, post};
use axum::{Router, middleware};

use crate::state::AppState;

pub fn router(state: AppState) -> Router<AppState> {
    let upload_limit = axum::extract::DefaultBodyLimit::max(state.config.max_upload_bytes());
    Router::new()
        .route("/", get(dashboard::show))
        .route("/setup", get(auth_pages::setup_page).post(auth_pages::setup_submit))
        .route("/login", get(auth_pages::login_page).post(auth_pages::login_submit))
        .route("/logout", post(auth_pages::logout))
        .route("/workspaces", post(dashboard::create_workspace))
        .route("/insights/{id}/dismiss", post(dashboard::dismiss_insight))
        .route("/workspaces/{ws}", get(workspaces::show))
        .route("/workspaces/{ws}/rename", post(workspaces::rename))
        .route("/workspaces/{ws}/timezone", post(workspaces::set_timezone))
        .route(
            "/workspaces/{ws}/campaign-settings",
            post(workspaces::set_campaign_settings),
        )
        .route("/workspaces/{ws}/delete", post(workspaces::delete))
        .route("/workspaces/{ws}/members", post(workspaces::add_member))
        .route(
            "/workspaces/{ws}/members/{user_id}/remove",
            post(workspaces::remove_member),
        )
        .route("/settings", get(settings::profile))
        .route("/settings/profile", post(settings::save_profile))
        .route("/settings/password", post(settings::change_password))
        .route("/settings/sessions", get(settings::sessions))
        .route("/settings/sessions/{id}/end", post(settings::end_session))
        .route("/settings/keys", get(settings::keys).post(settings::create_key))
        .route("/settings/keys/{id}/revoke", post(settings::revoke_key))
        .route("/settings/audit", get(settings::audit_log))
        .route("/settings/people", get(invites::page).post(invites::create))
        .route("/settings/people/invites/{id}/revoke", post(invites::revoke))
        .route("/invite/{token}", get(invites::accept_page).post(invites::accept))
        .route("/forgot", get(password_reset::forgot_page).post(password_reset::forgot))
        .route(
            "/reset/{token}",
            get(password_reset::reset_page).post(password_reset::reset),
        )
        .route("/settings/people/{id}/reset-link", post(password_reset::make_link))
        .route("/settings/audit.csv", get(settings::audit_csv))
        .route("/settings/backups", get(backups::page).post(backups::back_up_now))
        .route("/settings/backups/{file}", get(backups::download))
        .route("/settings/reach", get(reach::page))
        .route("/settings/reach/check", post(reach::check))
        .route("/settings/fields", get(fields::page).post(fields::create))
        .route("/settings/fields/{id}", get(fields::edit).post(fields::update))
        .route(
            "/settings/fields/{id}/delete",
            get(fields::delete_page).post(fields::delete),
        )
        .route(
            "/workspaces/{ws}/contacts",
            get(contacts::list_page).post(contacts::create),
        )
        .route("/workspaces/{ws}/contacts/new", get(contacts::new_page))
        .route(
            "/workspaces/{ws}/contacts/{id}",
            get(contacts::show).post(contacts::update),
        )
        .route("/workspaces/{ws}/contacts/{id}/edit", get(contacts::edit_page))
        .route(
            "/workspaces/{ws}/contacts/{id}/delete",
            get(contacts::delete_page).post(contacts::delete),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/stage",
            post(contacts::timeline::set_stage),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/lists",
            post(contacts::timeline::add_tag),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/lists/{list_id}/remove",
            post(contacts::timeline::remove_tag),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline",
            post(contacts::timeline::add_entry),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/messages",
            post(contacts::messages::send),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/ai-draft",
            post(contacts::messages::ai_draft),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline/{entry}/send-again",
            post(contacts::messages::send_again),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline/{entry}/pin",
            post(contacts::timeline::pin),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline/{entry}/edit",
            post(contacts::timeline::edit_entry),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline/{entry}/follow-up",
            post(contacts::timeline::follow_up),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/timeline/{entry}/delete",
            post(contacts::timeline::delete_entry),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/fields/{name}/remove",
            post(contacts::timeline::remove_value),
        )
        .route(
            "/workspaces/{ws}/contacts/{id}/merge",
            get(contacts::merge::merge_page).post(contacts::merge::merge),
        )
        .route("/workspaces/{ws}/duplicates", get(contacts::merge::duplicates))
        .route("/workspaces/{ws}/export", get(contacts::export))
        .route("/workspaces/{ws}/contacts/bulk", post(contacts::bulk::apply))
        .route("/workspaces/{ws}/contacts/columns", post(contacts::choose_columns))
        .route(
            "/workspaces/{ws}/imports",
            get(imports::index).post(imports::upload).layer(upload_limit),
        )
        .route("/workspaces/{ws}/imports/{id}", get(imports::show))
        .route(
            "/workspaces/{ws}/imports/{id}/map",
            get(imports::map).post(imports::check),
        )
        .route("/workspaces/{ws}/imports/{id}/start", post(imports::start))
        .route("/workspaces/{ws}/imports/{id}/progress", get(imports::progress))
        .route(
            "/workspaces/{ws}/imports/{id}/revert",
            get(imports::confirm_revert).post(imports::revert),
        )
        .route("/workspaces/{ws}/imports/{id}/problems.csv", get(imports::problem_rows))
        .route("/workspaces/{ws}/inbox", get(inbox::page))
        .route("/workspaces/{ws}/inbox/{id}/contact", post(inbox::create_contact))
        .route("/workspaces/{ws}/messaging", get(messaging::page))
        .route("/workspaces/{ws}/messaging/suppressions", post(messaging::suppress))
        .route(
            "/workspaces/{ws}/messaging/suppressions/{id}/delete",
            post(messaging::unsuppress),
        )
        .route(
            "/workspaces/{ws}/messaging/email/gmail/consent",
            post(messaging::gmail_consent),
        )
        .route(
            "/workspaces/{ws}/messaging/email/gmail/link",
            post(messaging::gmail_link),
        )
        .route("/workspaces/{ws}/messaging/{channel}", post(messaging::save))
        .route("/workspaces/{ws}/messaging/{channel}/delete", post(messaging::remove))
        .route("/workspaces/{ws}/messaging/{channel}/test", post(messaging::test))
        .route(
            "/workspaces/{ws}/templates",
            get(templates::list).post(templates::create),
        )
        .route("/workspaces/{ws}/templates/new", get(templates::new_page))
        .route("/workspaces/{ws}/templates/preview", post(templates::preview::draft))
        .route(
            "/workspaces/{ws}/templates/wizard",
            get(templates::wizard::page).post(templates::wizard::submit),
        )
        .route(
            "/workspaces/{ws}/templates/{id}",
            get(templates::show).post(templates::update),
        )
        .route(
            "/workspaces/{ws}/templates/{id}/preview",
            get(templates::preview::saved),
        )
        .route("/workspaces/{ws}/templates/{id}/delete", post(templates::delete))
        .route("/workspaces/{ws}/templates/{id}/favorite", post(templates::favorite))
        .route("/workspaces/{ws}/templates/{id}/copy", post(templates::copy))
        .route("/workspaces/{ws}/templates/{id}/share", post(templates::share))
        .route("/templates/shared", get(templates::shared))
        .route("/templates/shared/{id}/preview", get(templates::preview::shared))
        .route("/templates/shared/{id}/copy", post(templates::copy_shared))
        .route(
            "/workspaces/{ws}/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/workspaces/{ws}/campaigns/new", get(campaigns::new_page))
        .route("/workspaces/{ws}/campaigns/audience", post(campaigns::audience))
        .route("/workspaces/{ws}/campaigns/{id}", get(campaigns::show::page))
        .route(
            "/workspaces/{ws}/campaigns/{id}/edit",
            get(campaigns::edit_page).post(campaigns::update),
        )
        .route("/workspaces/{ws}/campaigns/{id}/preview", get(campaigns::show::preview))
        .route("/workspaces/{ws}/campaigns/{id}/{action}", post(campaigns::show::act))
        .route("/workspaces/{ws}/pipeline", get(pipeline::board))
        .route("/workspaces/{ws}/pipeline/move", post(pipeline::move_card))
        .route("/workspaces/{ws}/lists", get(lists::page).post(lists::create))
        .route(
            "/workspaces/{ws}/lists/mortgage-stages",
            post(lists::add_mortgage_stages),
        )
        .route("/workspaces/{ws}/lists/{id}", post(lists::update))
        .route("/workspaces/{ws}/lists/{id}/delete", post(lists::delete))
        .layer(middleware::from_fn_with_state(state.clone(), flash::layer))
        .layer(middleware::from_fn_with_state(state, csrf::layer))
}

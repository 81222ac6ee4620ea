//! The contacts list's checkboxes: what to do with the contacts ticked (issue 13). Moves and
//! list additions go at once; deleting asks first, on a page that names everyone it removes.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;

use crate::domain::bulk::{self, BulkAction};
use crate::domain::contact::ContactRecord;
use crate::domain::ids::ListId;
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::chrome::Chrome;
use crate::web::error::PageError;
use crate::web::extract::PageWs;
use crate::web::flash;
use crate::web::forms::Pairs;

#[derive(Template, WebTemplate)]
#[template(path = "contacts/bulk_delete.html")]
struct ConfirmDelete {
    chrome: Chrome,
    ws: WorkspaceAccess,
    contacts: Vec<ContactRecord>,
}

pub async fn apply(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs,
    Form(Pairs(pairs)): Form<Pairs>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let action = field("action");
    let (verb, target) = action.split_once(':').unwrap_or((action.as_str(), ""));
    // Downloading is reading; everything else here is a change, refused to a viewer before
    // anything about the selection is said.
    if !verb.starts_with("export-") {
        ws.require_editor()?;
    }
    let list_url = format!("/workspaces/{}/contacts", ws.id());
    let ids: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.clone())
        .collect();
    let chosen = match bulk::selection(&ids) {
        Ok(chosen) => chosen,
        Err(AppError::Invalid { message, .. }) => return Ok(flash::redirect(&state, &list_url, "error", &message)),
        Err(e) => return Err(e.into()),
    };
    let outcome = match verb {
        "export-csv" | "export-vcf" => {
            let format = crate::domain::export::Format::parse(if verb == "export-csv" { "csv" } else { "vcf" })?;
            let export = crate::domain::export::prepare(&state.db, &actor, &ws, format).await?;
            return Ok(crate::download::export(export.only(&chosen), ws.name()));
        }
        "stage" | "list" => {
            let to = ListId::found(target)?;
            let moved = bulk::apply(&state.db, &actor, &ws, &chosen, &BulkAction::AddTo(to)).await?;
            let what = if verb == "stage" { "Moved" } else { "Added" };
            format!("{what} {}.", people(moved))
        }
        "delete" if field("confirm") == "yes" => {
            let gone = bulk::apply(&state.db, &actor, &ws, &chosen, &BulkAction::Delete).await?;
            format!("Deleted {}.", people(gone))
        }
        "delete" => {
            let contacts = bulk::to_delete(&state.db, &actor, &ws, &chosen).await?;
            let page = ConfirmDelete {
                chrome: chrome.in_section("contacts"),
                ws,
                contacts,
            };
            return Ok(page.into_response());
        }
        _ => {
            return Ok(flash::redirect(
                &state,
                &list_url,
                "error",
                "Choose what to do with them first.",
            ));
        }
    };
    Ok(flash::redirect(&state, &list_url, "success", &outcome))
}

/// "1 contact", "3 contacts".
fn people(n: usize) -> String {
    format!("{n} contact{}", if n == 1 { "" } else { "s" })
}

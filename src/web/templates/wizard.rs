//! `/workspaces/{ws}/templates/wizard`: the guided AI wizard (SPEC §9.2) — goal, audience,
//! tone, length and call to action; "Show the prompt" shows exactly what will be sent; "Write
//! the draft" asks the model and opens the draft in the editor, marked as AI-written. Without
//! an AI provider the page says so and links to the settings.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::Deserialize;

use crate::auth::workspace::Editor;
use crate::domain::ai::{self, WizardInput};
use crate::domain::workspace::WorkspaceAccess;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::chrome::Chrome;
use crate::web::error::PageError;
use crate::web::extract::PageWs;
use crate::web::flash;
use crate::web::forms::FormErrors;

#[derive(Template, WebTemplate)]
#[template(path = "library/wizard.html")]
struct WizardPage {
    chrome: Chrome,
    ws: WorkspaceAccess,
    form: WizardForm,
    /// The prompt, once asked for.
    prompt: Option<String>,
    errors: FormErrors,
    configured: bool,
}

#[derive(Deserialize, Default, Clone)]
pub struct WizardForm {
    #[serde(default)]
    pub goal: String,
    #[serde(default)]
    pub audience: String,
    #[serde(default)]
    pub tone: String,
    #[serde(default)]
    pub length: String,
    #[serde(default)]
    pub call_to_action: String,
    #[serde(default)]
    pub channel: String,
    /// `prompt` or `draft`.
    #[serde(default)]
    pub step: String,
}

impl WizardForm {
    fn input(&self) -> WizardInput {
        WizardInput {
            goal: Some(self.goal.clone()),
            audience: Some(self.audience.clone()),
            tone: Some(self.tone.clone()),
            length: Some(self.length.clone()),
            call_to_action: Some(self.call_to_action.clone()),
            channel: Some(self.channel.clone()),
        }
    }
}

async fn render(
    state: &AppState,
    ws: WorkspaceAccess,
    chrome: Chrome,
    form: WizardForm,
    prompt: Option<String>,
    errors: FormErrors,
) -> Result<Response, PageError> {
    let configured = crate::domain::messaging::providers::ai(state, &ws)
        .await
        .ok()
        .flatten()
        .is_some();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        WizardPage {
            chrome: chrome.in_section("templates"),
            ws,
            form,
            prompt,
            errors,
            configured,
        },
    )
        .into_response())
}

pub async fn page(
    State(state): State<AppState>,
    PageWs { ws, chrome, .. }: PageWs<Editor>,
) -> Result<Response, PageError> {
    let form = WizardForm {
        length: "short".into(),
        channel: "email".into(),
        ..WizardForm::default()
    };
    render(&state, ws, chrome, form, None, FormErrors::none()).await
}

pub async fn submit(
    State(state): State<AppState>,
    PageWs { actor, ws, chrome, .. }: PageWs<Editor>,
    Form(form): Form<WizardForm>,
) -> Result<Response, PageError> {
    let input = form.input();
    if form.step != "draft" {
        return match ai::wizard_prompt(&state, &actor, &ws, &input).await {
            Ok(p) => render(&state, ws, chrome, form, Some(p.as_text()), FormErrors::none()).await,
            Err(e) => {
                let errors = FormErrors::from_error(e)?;
                render(&state, ws, chrome, form, None, errors).await
            }
        };
    }
    match ai::draft_template(&state, &actor, &ws, &input).await {
        Ok(t) => Ok(flash::redirect(
            &state,
            &format!("/workspaces/{}/templates/{}", ws.id(), t.id),
            "success",
            "Drafted by AI and saved. Read it through and change what is not right before you use it.",
        )),
        // The service failed, timed out, answered nonsense, or the day's budget is spent:
        // said plainly above the form, which keeps what was typed.
        Err(e @ (AppError::Upstream { .. } | AppError::OverLimit { .. } | AppError::Refused { .. })) => {
            let prompt = ai::wizard_prompt(&state, &actor, &ws, &input)
                .await
                .ok()
                .map(|p| p.as_text());
            render(
                &state,
                ws,
                chrome,
                form,
                prompt,
                FormErrors::general_message(e.public_message()),
            )
            .await
        }
        Err(e) => {
            let errors = FormErrors::from_error(e)?;
            render(&state, ws, chrome, form, None, errors).await
        }
    }
}

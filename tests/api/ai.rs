//! The AI service against a local fake that answers like OpenAI's chat completions (and like
//! Ollama, without `usage`): the wizard's template draft, a personal message for one contact,
//! the daily token cap, and every way the service can fail (SPEC §9.2).

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::messaging::{Setup, put_provider, setup};

const ALL: &[&str] = &[
    "read:contacts",
    "write:contacts",
    "read:templates",
    "write:templates",
    "send:messages",
    "execute:ai-workflow",
    "manage:workspaces",
];

/// OpenAI's own example answer (tests/fixtures/corpus/openai), with `content` replaced.
fn openai_answer(content: &str) -> Value {
    let mut v: Value = serde_json::from_str(include_str!("../fixtures/corpus/openai/chat_completion.json")).unwrap();
    v["choices"][0]["message"]["content"] = json!(content);
    v
}

async fn ai_setup(key: Option<&str>, extra: Value) -> (Setup, MockServer, crate::common::Api) {
    let mut s = setup().await;
    let andy = s.app.user_by_email("andy@example.com").await;
    s.key = s.app.key(&andy, ALL, None).await;
    let fake = MockServer::start().await;
    let mut body = json!({"kind": "openai", "base_url": format!("{}/v1", fake.uri()), "model": "gpt-test"});
    if let Some(k) = key {
        body["api_key"] = json!(k);
    }
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = put_provider(&s, "ai", body).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let api = s.app.api(&s.key);
    (s, fake, api)
}

async fn answer_with(fake: &MockServer, response: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(response)
        .mount(fake)
        .await;
}

fn wizard() -> Value {
    json!({"goal": "tell past clients that rates fell this week", "audience": "past clients",
           "tone": "warm", "length": "short", "call_to_action": "book a 15-minute call", "channel": "email"})
}

fn ai_path(s: &Setup, what: &str) -> String {
    format!("/api/v1/workspaces/{}/ai/{what}", s.ws)
}

#[tokio::test]
async fn the_wizard_drafts_a_template_marked_as_ai_generated() {
    let (s, fake, api) = ai_setup(Some("sk-test-123"), json!({})).await;
    let draft = json!({"name": "Rates fell", "subject": "{{ first_name | default(\"Hi\") }}, rates just fell",
                       "preheader": "A good week to look again",
                       "body": "<p>Hi {{ first_name | default(\"there\") }},</p><p>Rates fell this week.</p><p>{{ sender.name }}</p>"});
    let content = format!("Here you go:\n```json\n{draft}\n```");
    answer_with(&fake, ResponseTemplate::new(200).set_body_json(openai_answer(&content))).await;

    // The prompt can be read before anything is sent.
    let r = api.post(&ai_path(&s, "templates/prompt"), wizard()).await;
    assert_eq!(r.status(), 200);
    let prompt = r.json::<Value>().await.unwrap()["prompt"].as_str().unwrap().to_string();
    assert!(
        prompt.contains("Goal: tell past clients that rates fell this week"),
        "{prompt}"
    );
    assert!(prompt.contains("Call to action: book a 15-minute call"), "{prompt}");
    assert!(fake.received_requests().await.unwrap().is_empty());

    let r = api.post(&ai_path(&s, "templates"), wizard()).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["ai_generated"], true);
    assert_eq!(t["channel"], "email");
    assert_eq!(t["name"], "Rates fell");
    assert_eq!(t["subject"], draft["subject"]);

    // What the service was sent: the model, a system and a user message, the key as Bearer.
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let sent: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(sent["model"], "gpt-test");
    assert_eq!(sent["stream"], false);
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(sent["messages"][1]["role"], "user");
    assert_eq!(
        format!(
            "[system]\n{}\n\n[user]\n{}",
            sent["messages"][0]["content"].as_str().unwrap(),
            sent["messages"][1]["content"].as_str().unwrap()
        ),
        prompt,
        "what was shown is what was sent"
    );
    assert_eq!(requests[0].headers.get("authorization").unwrap(), "Bearer sk-test-123");
    // Its tokens (29, from usage) are counted for today.
    let usage: Value = api.get(&ai_path(&s, "usage")).await.json().await.unwrap();
    assert_eq!(usage["tokens"], 29);
    assert_eq!(usage["limit"], 200_000);
    // The key is never shown again.
    let providers: Value = api
        .get(&format!("/api/v1/workspaces/{}/providers", s.ws))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers["ai"]["secrets_set"], json!(["api_key"]));
    assert!(!providers.to_string().contains("sk-test-123"));
    s.app.stop().await;
}

/// Small local models answer as a person would: "Subject: …", then the email. That is a draft
/// too — the subject from the first Subject line, the rest the body, as paragraphs.
#[tokio::test]
async fn a_plain_subject_answer_from_a_small_model_is_a_draft() {
    let (s, fake, api) = ai_setup(None, json!({})).await;
    let answer = "Sure! Here's a short email:\n\n**Subject:** Rates just fell, {{ first_name | default(\"friend\") }}\n\nHi {{ first_name | default(\"there\") }},\n\nRates fell this week & it may be time to look again.\nA 15-minute call is all it takes.\n\n{{ sender.name }}";
    answer_with(&fake, ResponseTemplate::new(200).set_body_json(openai_answer(answer))).await;
    let r = api.post(&ai_path(&s, "templates"), wizard()).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["ai_generated"], true);
    assert_eq!(t["subject"], "Rates just fell, {{ first_name | default(\"friend\") }}");
    assert_eq!(
        t["body"],
        "<p>Hi {{ first_name | default(\"there\") }},</p>\n<p>Rates fell this week &amp; it may be time to look again.<br>\nA 15-minute call is all it takes.</p>\n<p>{{ sender.name }}</p>"
    );
    // The goal names it, as when the model gives no name.
    assert_eq!(t["name"], "tell past clients that rates fell this week");
    // The personal message reads the same shape.
    let r = api
        .post(
            &ai_path(&s, "messages"),
            json!({"contact_id": s.ada, "channel": "email", "goal": "rates fell"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["subject"], "Rates just fell, {{ first_name | default(\"friend\") }}");
    assert!(m["body"].as_str().unwrap().starts_with("Hi {{ first_name"), "{m}");
    s.app.stop().await;
}

#[tokio::test]
async fn a_local_server_without_key_or_usage_works_and_tokens_are_estimated() {
    let (s, fake, api) = ai_setup(None, json!({})).await;
    // Ollama answers without `usage`.
    let mut answer = openai_answer(
        r#"{"name": "Check-in", "body": "Hi {{ first_name | default(\"there\") }}, how is the new house?"}"#,
    );
    answer.as_object_mut().unwrap().remove("usage");
    answer_with(&fake, ResponseTemplate::new(200).set_body_json(answer)).await;
    let mut input = wizard();
    input["channel"] = json!("text");
    let r = api.post(&ai_path(&s, "templates"), input).await;
    assert_eq!(r.status(), 201);
    let t: Value = r.json().await.unwrap();
    assert_eq!(t["channel"], "text");
    assert_eq!(
        t["body"],
        "Hi {{ first_name | default(\"there\") }}, how is the new house?"
    );
    let requests = fake.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("authorization").is_none(),
        "no key, no Authorization header"
    );
    let usage: Value = api.get(&ai_path(&s, "usage")).await.json().await.unwrap();
    assert!(
        usage["tokens"].as_u64().unwrap() > 100,
        "estimated from the characters: {usage}"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn every_failure_of_the_service_is_said_plainly() {
    // A refusal with OpenAI's error body.
    let (s, fake, api) = ai_setup(Some("sk-wrong"), json!({})).await;
    answer_with(
        &fake,
        ResponseTemplate::new(401).set_body_json(json!({"error": {"message": "Incorrect API key provided: sk-wrong.", "type": "invalid_request_error", "code": "invalid_api_key"}})),
    )
    .await;
    let r = api.post(&ai_path(&s, "templates"), wizard()).await;
    assert_eq!(r.status(), 502);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "ai_failed");
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("401") && message.contains("check the API key") && message.contains("Incorrect API key"),
        "{message}"
    );
    fake.reset().await;

    // A proxy's HTML 502.
    answer_with(
        &fake,
        ResponseTemplate::new(502).set_body_raw(
            "<html><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>",
            "text/html",
        ),
    )
    .await;
    let e: Value = api
        .post(&ai_path(&s, "templates"), wizard())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "ai_failed");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("answered 502 Bad Gateway, not in the OpenAI error format"),
        "{e}"
    );
    fake.reset().await;

    // An answer with no text (a tool call), and words that are not the object asked for.
    let tool_calls: Value = serde_json::from_str(include_str!(
        "../fixtures/corpus/openai/chat_completion_tool_calls.json"
    ))
    .unwrap();
    answer_with(&fake, ResponseTemplate::new(200).set_body_json(tool_calls)).await;
    let e: Value = api
        .post(&ai_path(&s, "templates"), wizard())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("without any text (finish_reason: tool_calls)"),
        "{e}"
    );
    fake.reset().await;
    answer_with(
        &fake,
        ResponseTemplate::new(200).set_body_json(openai_answer("Hello! How can I assist you today?")),
    )
    .await;
    let e: Value = api
        .post(&ai_path(&s, "templates"), wizard())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "ai_bad_answer");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Hello! How can I assist you today?"),
        "{e}"
    );
    fake.reset().await;

    // A draft with a placeholder pi-crm does not know is not saved.
    answer_with(
        &fake,
        ResponseTemplate::new(200).set_body_json(openai_answer(
            r#"{"name": "x", "subject": "Hi {{ nickname }}", "body": "<p>x</p>"}"#,
        )),
    )
    .await;
    let e: Value = api
        .post(&ai_path(&s, "templates"), wizard())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(e["error"]["code"], "ai_bad_answer");
    assert!(e["error"]["message"].as_str().unwrap().contains("nickname"), "{e}");
    assert_eq!(s.app.count("SELECT count(*) FROM templates").await, 0);

    // Wizard answers are checked before anything is sent.
    let r = api
        .post(
            &ai_path(&s, "templates"),
            json!({"goal": "", "length": "epic", "channel": "fax"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        crate::common::error_fields(&r.json().await.unwrap()),
        ["goal", "length", "channel"]
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_slow_service_times_out_with_a_clear_message() {
    let (s, fake, api) = ai_setup(None, json!({"timeout_seconds": 5})).await;
    answer_with(
        &fake,
        ResponseTemplate::new(200)
            .set_body_json(openai_answer("{}"))
            .set_delay(Duration::from_secs(8)),
    )
    .await;
    let started = std::time::Instant::now();
    let r = api.post(&ai_path(&s, "templates"), wizard()).await;
    assert_eq!(r.status(), 502);
    assert!(started.elapsed() < Duration::from_secs(8));
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "ai_timeout");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("within 5 seconds"),
        "{e}"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn without_a_provider_or_past_the_cap_ai_says_so() {
    let mut s = setup().await;
    let andy = s.app.user_by_email("andy@example.com").await;
    s.key = s.app.key(&andy, ALL, None).await;
    let api = s.app.api(&s.key);
    let r = api.post(&ai_path(&s, "templates"), wizard()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "ai_not_configured");
    let r = api
        .post(
            &ai_path(&s, "messages"),
            json!({"contact_id": s.ada, "goal": "hi", "channel": "text"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(api.get(&ai_path(&s, "usage")).await.status(), 404);
    // Bad settings are named.
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "openai", "base_url": "ftp://x", "model": "", "daily_token_limit": 0}),
    )
    .await;
    assert_eq!(r.status(), 422);
    assert_eq!(
        crate::common::error_fields(&r.json().await.unwrap()),
        ["base_url", "model", "daily_token_limit"]
    );

    // A cap of 20 tokens: the first call (29 tokens) goes, the next is refused until tomorrow.
    let fake = MockServer::start().await;
    answer_with(
        &fake,
        ResponseTemplate::new(200).set_body_json(openai_answer(r#"{"body": "Hi Ada!"}"#)),
    )
    .await;
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "ollama", "base_url": format!("{}/v1", fake.uri()), "model": "llama3.2", "daily_token_limit": 20}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = json!({"contact_id": s.ada, "goal": "say hello", "channel": "text"});
    assert_eq!(api.post(&ai_path(&s, "messages"), body.clone()).await.status(), 200);
    let r = api.post(&ai_path(&s, "messages"), body).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "budget_exceeded");
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
    s.app.stop().await;
}

#[tokio::test]
async fn a_personal_message_uses_only_that_contacts_facts_and_is_logged() {
    let (s, fake, api) = ai_setup(Some("sk-test"), json!({})).await;
    api.post(
        &format!("/api/v1/workspaces/{}/custom-fields", s.ws),
        json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
    )
    .await;
    api.patch(
        &format!("/api/v1/workspaces/{}/contacts/{}", s.ws, s.ada),
        json!({"company": "Analytical Engines", "custom_fields": {"birthday": "--07-04"}}),
    )
    .await;
    api.post(
        &format!("/api/v1/workspaces/{}/contacts", s.ws),
        json!({"first_name": "Grace", "last_name": "Hopper", "primary_email": "grace@example.com"}),
    )
    .await;
    answer_with(
        &fake,
        ResponseTemplate::new(200).set_body_json(openai_answer(
            r#"{"subject": "Happy early birthday, Ada", "body": "Hi Ada,\n\nI hear July 4 is your day. Happy early birthday!\n\nAndy"}"#,
        )),
    )
    .await;
    let r = api
        .post(
            &ai_path(&s, "messages"),
            json!({"contact_id": s.ada, "goal": "wish a happy birthday", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let draft: Value = r.json().await.unwrap();
    assert_eq!(draft["subject"], "Happy early birthday, Ada");
    assert!(draft["body"].as_str().unwrap().starts_with("Hi Ada,"));
    let sent: Value = serde_json::from_slice(&fake.received_requests().await.unwrap()[0].body).unwrap();
    let user = sent["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("First name: Ada") && user.contains("Birthday: July 4") && user.contains("Analytical Engines"),
        "{user}"
    );
    assert!(
        !user.contains("Grace") && !user.contains("ada@example.com"),
        "nothing beyond the task: {user}"
    );
    // On Ada's timeline as `ai`.
    let timeline: Value = api
        .get(&format!(
            "/api/v1/workspaces/{}/contacts/{}/communications",
            s.ws, s.ada
        ))
        .await
        .json()
        .await
        .unwrap();
    let ai = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ai")
        .expect("an ai entry");
    assert_eq!(ai["content"]["goal"], "wish a happy birthday");
    assert_eq!(ai["content"]["subject"], "Happy early birthday, Ada");
    // Another workspace's contact, or a missing goal.
    let r = api
        .post(
            &ai_path(&s, "messages"),
            json!({"contact_id": "00000000-0000-7000-8000-000000000000", "goal": "x", "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let r = api
        .post(
            &ai_path(&s, "messages"),
            json!({"contact_id": s.ada, "channel": "email"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    // A key without the AI scope.
    let andy = s.app.user_by_email("andy@example.com").await;
    let no_ai = s.app.api(
        &s.app
            .key(&andy, &["read:contacts", "write:templates", "read:templates"], None)
            .await,
    );
    assert_eq!(no_ai.post(&ai_path(&s, "templates"), wizard()).await.status(), 403);
    assert_eq!(
        no_ai.post(&ai_path(&s, "templates/prompt"), wizard()).await.status(),
        403
    );
    s.app.stop().await;
}

/// Issue 31 point 5: thirty calls at once against a 1,500-token day: the first reserves its
/// estimate before calling, so the others see the budget taken and get 429 — the model is
/// asked once, and the day's count is what it said it used.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_made_at_once_cannot_overspend_the_daily_budget() {
    let (s, fake, api) = ai_setup(Some("sk-test"), json!({"daily_token_limit": 1500})).await;
    let mut answer = openai_answer(r#"{"body": "Hi Ada!"}"#);
    answer["usage"] = json!({"prompt_tokens": 400, "completion_tokens": 600, "total_tokens": 1000});
    answer_with(
        &fake,
        ResponseTemplate::new(200)
            .set_body_json(answer)
            .set_delay(std::time::Duration::from_millis(300)),
    )
    .await;
    let body = json!({"contact_id": s.ada, "goal": "say hello", "channel": "text"});
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let client = api.client.clone();
        let url = s.app.url(&ai_path(&s, "messages"));
        let body = body.clone();
        calls.spawn(async move { client.post(url).json(&body).send().await.unwrap().status().as_u16() });
    }
    let statuses = calls.join_all().await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 29, "{statuses:?}");
    assert_eq!(fake.received_requests().await.unwrap().len(), 1);
    let spent: i64 = sqlx::query_scalar("SELECT tokens FROM ai_usage")
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(spent, 1000, "the reservation became what the model used");
    s.app.stop().await;
}

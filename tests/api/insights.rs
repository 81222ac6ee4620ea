//! Insights and the weekly summary with a fixed clock (SPEC §9.2, §15): facts found once and
//! never again for the same occasion, per person, dismissable; AI ideas from the fake model
//! without anyone's name in the prompt; the Monday summary emailed once, in the person's zone.

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::messaging::{Setup, mailgun, mailgun_accepts, put_provider, setup_with};

const ALL: &[&str] = &[
    "read:contacts",
    "write:contacts",
    "send:messages",
    "manage:workspaces",
    "execute:ai-workflow",
];

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

/// Andy (Los Angeles time) with Ada, whose birthday (no year) is on 1 December.
async fn andy_and_ada() -> (Setup, crate::common::Api) {
    let mut s = setup_with(|c| c.timezone = "America/Los_Angeles".into()).await;
    let andy = s.app.user_by_email("andy@example.com").await;
    s.key = s.app.key(&andy, ALL, None).await;
    let api = s.app.api(&s.key);
    api.post(
        &format!("/api/v1/workspaces/{}/custom-fields", s.ws),
        json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
    )
    .await;
    let r = api
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{}", s.ws, s.ada),
            json!({"custom_fields": {"birthday": "--12-01"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    (s, api)
}

async fn insights(api: &crate::common::Api, query: &str) -> Vec<Value> {
    let v: Value = api.get(&format!("/api/v1/insights{query}")).await.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_birthday_in_three_days_is_one_insight_however_often_the_job_runs() {
    let (s, api) = andy_and_ada().await;
    // Monalisa sees Andy's workspace too: she gets her own copy, dismissed on its own.
    let mona = s.app.create_user("mona@example.com", "Monalisa").await;
    api.post(
        &format!("/api/v1/workspaces/{}/members", s.ws),
        json!({"email": "mona@example.com", "role": "viewer"}),
    )
    .await;
    let mona_api = s.app.api(&s.app.key(&mona, &["read:contacts"], None).await);

    let line = pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-28T18:00:00Z"))
        .await
        .unwrap();
    assert!(line.starts_with("2 new insights for 2 people"), "{line}");
    for _ in 0..2 {
        pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-28T18:05:00Z"))
            .await
            .unwrap();
    }
    // The next day, the same birthday is the same fact.
    pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-29T18:00:00Z"))
        .await
        .unwrap();
    let mine = insights(&api, "").await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    let i = &mine[0];
    assert_eq!(i["type"], "upcoming_date");
    assert_eq!(i["confidence"], 1.0);
    assert_eq!(i["content"]["title"], "Ada Lovelace — birthday in 3 days");
    assert_eq!(i["content"]["detail"], "Birthday: December 1");
    assert_eq!(i["content"]["contact_ids"], json!([s.ada]));
    assert_eq!(i["workspace_name"], "Loans");
    assert_eq!(insights(&mona_api, "").await.len(), 1);

    // Dismissed: gone from the list, kept with `dismissed=true`; nobody else can dismiss it.
    let id = i["id"].as_str().unwrap();
    assert_eq!(
        mona_api
            .post(&format!("/api/v1/insights/{id}/dismiss"), json!({}))
            .await
            .status(),
        404
    );
    assert_eq!(
        api.post(&format!("/api/v1/insights/{id}/dismiss"), json!({}))
            .await
            .status(),
        204
    );
    assert!(insights(&api, "").await.is_empty());
    assert_eq!(insights(&api, "?dismissed=true").await.len(), 1);
    assert_eq!(insights(&mona_api, "").await.len(), 1, "her copy is hers");
    // A run after dismissing does not bring it back.
    pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-30T18:00:00Z"))
        .await
        .unwrap();
    assert!(insights(&api, "").await.is_empty());
    // Another person's workspace id in the filter is a 404, like any other route.
    let other = s.app.workspace(&mona, "Hers").await;
    assert_eq!(
        api.get(&format!("/api/v1/insights?workspace_id={other}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        insights(&api, &format!("?workspace_id={}&dismissed=true", s.ws))
            .await
            .len(),
        1
    );
    // A key without read:contacts sees no insights; a key pinned to another workspace sees
    // and dismisses none of these.
    let templates_only = s
        .app
        .api(&s.app.key(&andy_user(&s).await, &["read:templates"], None).await);
    assert_eq!(templates_only.get("/api/v1/insights").await.status(), 403);
    let other_mine = s.app.workspace(&andy_user(&s).await, "Personal").await;
    let pinned = s.app.api(
        &s.app
            .key(&andy_user(&s).await, &["read:contacts"], Some(&other_mine))
            .await,
    );
    assert!(insights(&pinned, "?dismissed=true").await.is_empty());
    assert_eq!(
        pinned
            .post(&format!("/api/v1/insights/{id}/dismiss"), json!({}))
            .await
            .status(),
        404
    );
    // Far from the date, nothing.
    let far = pi_crm::jobs::insights::run_at(&s.app.state, at("2026-06-01T18:00:00Z"))
        .await
        .unwrap();
    assert!(far.starts_with("0 new"), "{far}");
    s.app.stop().await;
}

#[tokio::test]
async fn quiet_and_stalled_deals_and_failed_messages_are_found() {
    let (s, api) = andy_and_ada().await;
    let stage = api
        .post(
            &format!("/api/v1/workspaces/{}/lists", s.ws),
            json!({"name": "Application", "is_primary": true}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .client
        .put(
            s.app
                .url(&format!("/api/v1/workspaces/{}/contacts/{}/lists/{stage}", s.ws, s.ada)),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    // Forty days ago she was added and moved; nothing logged since.
    let now = jiff::Timestamp::now();
    let forty_days_ago = pi_crm::clock::format(now - jiff::SignedDuration::from_hours(24 * 40));
    for sql in [
        "UPDATE base_contacts SET created_on = ?",
        "UPDATE contact_list_assignments SET assigned_at = ?",
        "UPDATE communication_logs SET timestamp = ?",
    ] {
        sqlx::query(sql)
            .bind(&forty_days_ago)
            .execute(&s.app.state.db)
            .await
            .unwrap();
    }
    // A message that Mailgun refuses, today.
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"message": "'to' parameter is not a valid address"})),
        )
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    crate::messaging::queue(&s, json!({"channel": "email", "subject": "Hi", "body": "Hello"})).await;
    s.app.drain_outbox().await;
    pi_crm::jobs::insights::run_at(&s.app.state, now).await.unwrap();
    let all = insights(&api, "").await;
    let kinds: Vec<&str> = all.iter().map(|i| i["type"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"pipeline_stall"), "{all:?}");
    assert!(kinds.contains(&"failed_messages"), "{all:?}");
    let stall = all.iter().find(|i| i["type"] == "pipeline_stall").unwrap();
    assert_eq!(
        stall["content"]["title"], "Ada Lovelace has been in Application for 40 days",
        "{stall}"
    );
    let failed = all.iter().find(|i| i["type"] == "failed_messages").unwrap();
    assert_eq!(
        failed["content"]["title"],
        "1 message did not go through in the last day"
    );
    assert_eq!(failed["content"]["contact_ids"], json!([s.ada]));
    // The failed send is her latest entry, so she is not "quiet"; take it away and she is.
    sqlx::query("DELETE FROM communication_logs")
        .execute(&s.app.state.db)
        .await
        .unwrap();
    pi_crm::jobs::insights::run_at(&s.app.state, now).await.unwrap();
    let stale: Vec<Value> = insights(&api, "")
        .await
        .into_iter()
        .filter(|i| i["type"] == "stale_contact")
        .collect();
    assert_eq!(stale.len(), 1);
    assert_eq!(
        stale[0]["content"]["title"],
        "Ada Lovelace has not heard from you in 40 days"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn ai_ideas_come_on_top_marked_as_ai_and_carry_no_names() {
    let (s, api) = andy_and_ada().await;
    let fake = MockServer::start().await;
    let answer = json!({"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant",
        "content": "{\"ideas\": [{\"title\": \"Send a birthday note\", \"detail\": \"One birthday is close.\"}]}"}}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&fake)
        .await;
    let r = put_provider(
        &s,
        "ai",
        json!({"kind": "openai", "base_url": format!("{}/v1", fake.uri()), "model": "m"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-28T18:00:00Z"))
        .await
        .unwrap();
    pi_crm::jobs::insights::run_at(&s.app.state, at("2026-11-28T19:00:00Z"))
        .await
        .unwrap();
    let all = insights(&api, "").await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["type"], "upcoming_date", "facts first");
    assert_eq!(all[1]["type"], "ai_idea");
    assert_eq!(all[1]["confidence"], 0.5);
    assert_eq!(all[1]["content"]["title"], "Send a birthday note");
    let prompt = String::from_utf8(fake.received_requests().await.unwrap()[0].body.clone()).unwrap();
    assert!(prompt.contains("1 birthdays or anniversaries"), "{prompt}");
    assert!(!prompt.contains("Ada") && !prompt.contains("Lovelace"), "{prompt}");
    s.app.stop().await;
}

#[tokio::test]
async fn the_weekly_summary_goes_once_on_monday_morning_in_the_persons_zone() {
    let (s, _api) = andy_and_ada().await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("weekly.1@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    // Monday 30 November, 06:30 in Los Angeles: not yet.
    let early = pi_crm::jobs::weekly_summary::run_at(&s.app.state, at("2026-11-30T14:30:00Z"))
        .await
        .unwrap();
    assert!(early.starts_with("0 weekly summaries queued"), "{early}");
    // 08:00 there: once, however often the job runs.
    for hour in ["2026-11-30T16:00:00Z", "2026-11-30T17:00:00Z", "2026-12-01T16:00:00Z"] {
        pi_crm::jobs::weekly_summary::run_at(&s.app.state, at(hour))
            .await
            .unwrap();
    }
    // It goes through the outbox, which records how it went.
    s.app.drain_outbox().await;
    let requests = fake.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let body = String::from_utf8_lossy(&requests[0].body).to_string();
    assert!(body.contains("andy@example.com"), "{body}");
    assert!(body.contains("Your week in pi-crm"), "{body}");
    assert!(body.contains("Ada Lovelace — birthday tomorrow"), "{body}");
    assert!(body.contains("Loans: 1 contacts (1 new)"), "{body}");
    let andy = s.app.user_by_email("andy@example.com").await;
    let (state, purpose): (String, String) = sqlx::query_as(
        "SELECT w.state, o.purpose FROM weekly_summaries w JOIN outbox o ON o.id = w.outbox_id WHERE w.user_id = ?",
    )
    .bind(andy.id.to_string())
    .fetch_one(&s.app.state.db)
    .await
    .unwrap();
    assert_eq!((state.as_str(), purpose.as_str()), ("sent", "summary"));
    // The next week, the next one.
    pi_crm::jobs::weekly_summary::run_at(&s.app.state, at("2026-12-07T16:00:00Z"))
        .await
        .unwrap();
    s.app.drain_outbox().await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 2);
    // Someone without an email provider anywhere: on the dashboard only.
    let mona = s.app.create_user("mona@example.com", "Monalisa").await;
    s.app.workspace(&mona, "Hers").await;
    pi_crm::jobs::weekly_summary::run_at(&s.app.state, at("2026-12-07T17:00:00Z"))
        .await
        .unwrap();
    s.app.drain_outbox().await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 2);
    let state: String = sqlx::query_scalar("SELECT state FROM weekly_summaries WHERE user_id = ?")
        .bind(mona.id.to_string())
        .fetch_one(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(state, "dashboard_only");
    s.app.stop().await;
}

#[tokio::test]
async fn a_templates_open_and_reply_rates_are_reported_once_a_week() {
    let (mut s, _) = andy_and_ada().await;
    let andy = s.app.user_by_email("andy@example.com").await;
    s.key = s
        .app
        .key(
            &andy,
            &[
                "read:contacts",
                "write:contacts",
                "send:messages",
                "manage:workspaces",
                "read:templates",
                "write:templates",
            ],
            None,
        )
        .await;
    let api = s.app.api(&s.key);
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("perf@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let t: Value = api
        .post(
            &format!("/api/v1/workspaces/{}/templates", s.ws),
            json!({"name": "Rates", "channel": "email", "subject": "Hi", "body": "<p>Hi {{ first_name }}</p>"}),
        )
        .await
        .json()
        .await
        .unwrap();
    for _ in 0..5 {
        crate::messaging::queue(&s, json!({"channel": "email", "template_id": t["id"]})).await;
    }
    s.app.drain_outbox().await;
    // Two were opened; Ada wrote back after one of them.
    sqlx::query("UPDATE communication_logs SET status = 'opened' WHERE id IN (SELECT id FROM communication_logs WHERE type = 'email' ORDER BY id LIMIT 2)")
        .execute(&s.app.state.db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO communication_logs (id, workspace_id, contact_id, type, content, status, timestamp)
         VALUES ('01900000-0000-7000-8000-000000000001', ?, ?, 'text', '{\"body\": \"thanks!\"}', 'received', strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '+1 minute'))",
    )
    .bind(&s.ws)
    .bind(&s.ada)
    .execute(&s.app.state.db)
    .await
    .unwrap();
    let now = jiff::Timestamp::now();
    // A second run an hour apart in the same week, whatever the hour (late on a Sunday in the
    // server's zone, an hour on is the next week).
    let zone = s.app.state.config.time_zone().unwrap();
    let week = |t: jiff::Timestamp| t.to_zoned(zone.clone()).date().iso_week_date().week();
    let later = now + jiff::SignedDuration::from_hours(1);
    let second = if week(later) == week(now) {
        later
    } else {
        now - jiff::SignedDuration::from_hours(1)
    };
    pi_crm::jobs::insights::run_at(&s.app.state, now).await.unwrap();
    pi_crm::jobs::insights::run_at(&s.app.state, second).await.unwrap();
    let perf: Vec<Value> = insights(&api, "")
        .await
        .into_iter()
        .filter(|i| i["type"] == "template_performance")
        .collect();
    assert_eq!(perf.len(), 1, "{perf:?}");
    assert_eq!(perf[0]["content"]["title"], "\"Rates\": 40% opened, 100% replied");
    assert_eq!(
        perf[0]["content"]["detail"],
        "5 sent in the last 30 days; 2 opened, 5 answered within a week."
    );
    s.app.stop().await;
}

async fn andy_user(s: &Setup) -> pi_crm::domain::user::User {
    s.app.user_by_email("andy@example.com").await
}

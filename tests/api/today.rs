//! The dashboard's "Today" (issue 13): follow-up fields (SPEC §6 `is_follow_up`), the people
//! whose follow-up date has come, the pipeline per stage with its sum, and recent activity.

use serde_json::{Value, json};

use crate::messaging_ui::ui;

/// The dashboard's section with this id, up to its end.
fn section(body: &str, id: &str) -> String {
    body.split(&format!("id=\"{id}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no section {id}"))
        .split("</section>")
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn follow_ups_pipeline_totals_and_activity_are_on_the_dashboard() {
    let u = ui().await;
    let andy = u.app.user_by_email("andy@example.com").await;
    let api = u
        .app
        .api(&u.app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let ws = &u.ws;
    // Only a date can be a follow-up field.
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "notes2", "field_type": "text", "is_follow_up": true}),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "is_follow_up");
    let r = api
        .post(
            &format!("/api/v1/workspaces/{ws}/custom-fields"),
            json!({"field_name": "next_call", "label": "Next call", "field_type": "date", "is_follow_up": true}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(r.json::<Value>().await.unwrap()["is_follow_up"], true);
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system()).date();
    let day = |d: i64| (today + jiff::Span::new().days(d)).to_string();
    let mut ids = Vec::new();
    for (first, when, amount) in [
        ("Late", day(-3), "350000"),
        ("Due", day(0), "200000"),
        ("Later", day(5), "125000.5"),
    ] {
        let c: Value = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": first, "custom_fields": {"next_call": when, "loan_amount": amount}}),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    // A year-less date is never "due".
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts"),
        json!({"first_name": "Yearless", "custom_fields": {"next_call": "--01-01"}}),
    )
    .await;
    let stage: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Application", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    api.post(
        &format!("/api/v1/workspaces/{ws}/lists"),
        json!({"name": "Closed", "is_primary": true}),
    )
    .await;
    for id in &ids[..2] {
        api.client
            .put(u.app.url(&format!(
                "/api/v1/workspaces/{ws}/contacts/{id}/lists/{}",
                stage["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
    }
    api.post(
        &format!("/api/v1/workspaces/{ws}/contacts/{}/communications", ids[1]),
        json!({"type": "call", "content": {"body": "Talked about the appraisal"}}),
    )
    .await;

    let page = u.browser.get("/").await;
    assert_eq!(page.status, 200);
    let follow = section(&page.body, "follow-ups");
    assert!(
        follow.contains(">Late</a>") && follow.contains("3 days late"),
        "{follow}"
    );
    assert!(follow.contains(">Due</a>") && follow.contains(">today<"), "{follow}");
    assert!(!follow.contains("Later") && !follow.contains("Yearless"), "{follow}");
    assert!(
        follow.find(">Late<").unwrap() < follow.find(">Due<").unwrap(),
        "the latest first"
    );
    let pipeline = section(&page.body, "pipeline-totals");
    assert!(
        pipeline.contains("2 in the pipeline · Loan amount 550,000"),
        "{pipeline}"
    );
    assert!(
        pipeline.contains("<rect width=\"100\" height=\"10\" rx=\"2\" fill=\"#6366f1\"/>"),
        "the fullest stage's bar: {pipeline}"
    );
    assert!(
        pipeline.contains(">Closed</th>") && pipeline.contains("<rect width=\"0\""),
        "{pipeline}"
    );
    let activity = section(&page.body, "activity");
    assert!(
        activity.contains("Talked about the appraisal") && activity.contains(">Call<"),
        "{activity}"
    );
    // Another person's dashboard shows none of it.
    let (_, mona) = u.app.user_browser("mona@example.com").await;
    let hers = mona.get("/").await;
    assert!(!hers.body.contains("Late") && !hers.body.contains("appraisal"));
    assert!(hers.body.contains("Nothing due today."));
    u.app.stop().await;
}

/// A note or call can carry its own "follow up on" day (SPEC §7, §11.1): due ones are on the
/// dashboard with a Done button; done, changed, cleared and reopened through the page and the
/// API; nobody else's entry can be touched.
#[tokio::test]
async fn notes_and_calls_carry_their_own_follow_up_day() {
    let u = ui().await;
    let andy = u.app.user_by_email("andy@example.com").await;
    let api = u
        .app
        .api(&u.app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let (ws, ada) = (&u.ws, &u.ada);
    let entries = format!("/api/v1/workspaces/{ws}/contacts/{ada}/communications");
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::system()).date();
    let day = |d: i64| (today + jiff::Span::new().days(d)).to_string();

    // Bad input: not a day, and a follow-up on a kind that cannot carry one.
    for (content, kind) in [
        (json!({"body": "Call back", "follow_up_on": "2026-13-40"}), "call"),
        (json!({"body": "Call back", "follow_up_on": 20261208}), "note"),
        (json!({"subject": "Hi", "body": "x", "follow_up_on": day(1)}), "email"),
    ] {
        let r = api.post(&entries, json!({"type": kind, "content": content})).await;
        assert_eq!(r.status(), 422, "{kind}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["field"],
            "content.follow_up_on"
        );
    }
    assert_eq!(
        u.app
            .count("SELECT count(*) FROM communication_logs WHERE type <> 'system'")
            .await,
        0
    );

    let call: Value = api
        .post(
            &entries,
            json!({"type": "call", "content": {"body": "Wants the rate sheet\nafter the appraisal", "follow_up_on": format!(" {} ", day(-1))}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(call["content"]["follow_up_on"], day(-1), "stored as the day it is");
    let call_id = call["id"].as_str().unwrap().to_string();
    api.post(
        &entries,
        json!({"type": "note", "content": {"body": "Ask about the condo", "follow_up_on": day(3)}}),
    )
    .await;

    let follow_ups = |body: &str| section(body, "follow-ups");
    let dash = u.browser.get("/").await;
    let due = follow_ups(&dash.body);
    assert!(due.contains(">Ada</a>") && due.contains("Call: "), "{due}");
    assert!(due.contains("Wants the rate sheet after the appraisal"), "{due}");
    assert!(due.contains("1 day late"), "{due}");
    assert!(!due.contains("condo"), "not due yet: {due}");

    // Done from the dashboard: CSRF first, then back to the dashboard without it.
    let done_url = format!("/workspaces/{ws}/contacts/{ada}/timeline/{call_id}/follow-up");
    let refused = u
        .browser
        .post_raw(&done_url, &[("done", "1"), ("back", "dashboard")])
        .await;
    assert_eq!(refused.status, 403);
    let done = u
        .browser
        .submit("/", &done_url, &[("done", "1"), ("back", "dashboard")])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/#follow-ups"));
    assert!(!follow_ups(&u.browser.get("/").await.body).contains("rate sheet"));
    let contact = u.browser.get(&format!("/workspaces/{ws}/contacts/{ada}")).await;
    assert!(
        contact.body.contains("data-follow-up=\"done\""),
        "the entry says it was done"
    );
    assert!(
        contact.body.contains("data-follow-up=\"open\""),
        "the note's is still open"
    );

    // The API opens it again, moves it, refuses nonsense, and takes it away.
    let entry = format!("{entries}/{call_id}");
    assert_eq!(api.patch(&entry, json!({"follow_up_done": false})).await.status(), 204);
    assert!(follow_ups(&u.browser.get("/").await.body).contains("rate sheet"));
    assert_eq!(api.patch(&entry, json!({"follow_up_on": day(2)})).await.status(), 204);
    assert!(!follow_ups(&u.browser.get("/").await.body).contains("rate sheet"));
    let r = api.patch(&entry, json!({"follow_up_on": "next tuesday"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "follow_up_on");
    assert_eq!(api.patch(&entry, json!({"follow_up_on": null})).await.status(), 204);
    let r = api.patch(&entry, json!({"follow_up_done": true})).await;
    assert_eq!(r.status(), 422, "nothing to mark done");
    let listed: Value = api.get(&entries).await.json().await.unwrap();
    let stored = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == call_id.as_str())
        .unwrap();
    assert!(stored["content"].get("follow_up_on").is_none(), "{stored}");
    assert!(stored["content"].get("follow_up_done").is_none(), "{stored}");
    assert!(
        u.app
            .audit_actions()
            .await
            .iter()
            .any(|(a, _)| a == "communication.update")
    );

    // The contact page's form: a day with the note, and a clear error for a bad one.
    let contact_url = format!("/workspaces/{ws}/contacts/{ada}");
    let added = u
        .browser
        .submit(
            &contact_url,
            &format!("{contact_url}/timeline"),
            &[
                ("kind", "note"),
                ("body", "Send the closing gift"),
                ("follow_up_on", &day(0)),
            ],
        )
        .await;
    assert_eq!(added.status, 303);
    let due = follow_ups(&u.browser.get("/").await.body);
    assert!(
        due.contains("Send the closing gift") && due.contains(">today<"),
        "{due}"
    );
    let bad = u
        .browser
        .submit(
            &contact_url,
            &format!("{contact_url}/timeline"),
            &[
                ("kind", "note"),
                ("body", "Typed by hand"),
                ("follow_up_on", "08/12/2026"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("write the follow-up day as YYYY-MM-DD"),
        "{}",
        bad.body
    );

    // Another household member's entry is not there for her.
    let (_, mona) = u.app.user_browser("mona@example.com").await;
    let hers = mona.submit("/", &done_url, &[("done", "1")]).await;
    assert_eq!(hers.status, 404);
    assert!(!follow_ups(&mona.get("/").await.body).contains("closing gift"));
    u.app.stop().await;
}

/// The dashboard keeps its costly numbers (stage sums, the week's counts) between views, but
/// never past a write: a move, a changed amount, or contacts imported by the CLI in another
/// process show at once.
#[tokio::test]
async fn the_dashboards_kept_numbers_follow_every_write() {
    let u = ui().await;
    let andy = u.app.user_by_email("andy@example.com").await;
    let api = u
        .app
        .api(&u.app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    let ws = &u.ws;
    api.post(
        &format!("/api/v1/workspaces/{ws}/custom-fields"),
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
    )
    .await;
    let stage: Value = api
        .post(
            &format!("/api/v1/workspaces/{ws}/lists"),
            json!({"name": "Application", "is_primary": true}),
        )
        .await
        .json()
        .await
        .unwrap();
    let stage = stage["id"].as_str().unwrap().to_string();
    let join = |id: String| {
        let (client, url) = (
            api.client.clone(),
            u.app
                .url(&format!("/api/v1/workspaces/{ws}/contacts/{id}/lists/{stage}")),
        );
        async move { assert!(client.put(url).send().await.unwrap().status().is_success()) }
    };
    let pipeline = |body: String| section(&body, "pipeline-totals");
    api.patch(
        &format!("/api/v1/workspaces/{ws}/contacts/{}", u.ada),
        json!({"custom_fields": {"loan_amount": 300000}}),
    )
    .await;
    join(u.ada.clone()).await;
    let first = pipeline(u.browser.get("/").await.body);
    assert!(first.contains("1 in the pipeline · Loan amount 300,000"), "{first}");
    // Seen again with nothing written: the same numbers.
    assert_eq!(pipeline(u.browser.get("/").await.body), first);

    api.patch(
        &format!("/api/v1/workspaces/{ws}/contacts/{}", u.ada),
        json!({"custom_fields": {"loan_amount": 325000}}),
    )
    .await;
    let changed = pipeline(u.browser.get("/").await.body);
    assert!(changed.contains("1 in the pipeline · Loan amount 325,000"), "{changed}");

    let contacts_this_week = |body: &str| {
        body.split("id=\"this-week\"")
            .nth(1)
            .unwrap()
            .split("<dt class=\"text-xs text-slate-500\">contacts</dt><dd class=\"text-lg font-semibold\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(contacts_this_week(&u.browser.get("/").await.body), "1");
    assert_eq!(contacts_this_week(&u.browser.get("/").await.body), "1");

    // Another process writes: the CLI imports two contacts.
    let file = u.app.state.config.data_dir.join("two.csv");
    std::fs::write(
        &file,
        "First Name,Email,Loan amount\nBea,bea@example.com,100000\nCy,cy@example.com,50000\n",
    )
    .unwrap();
    let out = crate::common::pi_crm(
        &u.app.state.config.data_dir,
        &[
            "import",
            "--user",
            "andy@example.com",
            "--workspace",
            ws,
            file.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(contacts_this_week(&u.browser.get("/").await.body), "3");
    // And a contact the CLI's import brought in, moved into the stage here, counts at once.
    let bea: String = sqlx::query_scalar("SELECT id FROM base_contacts WHERE first_name = 'Bea'")
        .fetch_one(&u.app.state.db)
        .await
        .unwrap();
    join(bea).await;
    let moved = pipeline(u.browser.get("/").await.body);
    assert!(moved.contains("2 in the pipeline · Loan amount 425,000"), "{moved}");
    u.app.stop().await;
}

/// Birthdays and other yearly dates are on the dashboard as soon as they are saved (issue 34):
/// computed live for the next 14 days — across New Year, year-less ones too — soonest first,
/// each with its kind's icon; a follow-up date is not among them, and the insights list does
/// not repeat them.
#[tokio::test]
async fn yearly_dates_of_the_next_two_weeks_are_on_the_dashboard_at_once() {
    let app = crate::common::TestApp::spawn_at("2026-12-24T18:00:00Z", |_| {}).await;
    let (andy, browser) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    let api = app.api(&app.key(&andy, &["read:contacts", "write:contacts"], None).await);
    for (name, label, follow_up) in [
        ("birthday", "Birthday", false),
        ("wedding_anniversary", "Wedding anniversary", false),
        ("closing_date", "Closing date", false),
        ("next_call", "Next call", true),
    ] {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/custom-fields"),
                json!({"field_name": name, "label": label, "field_type": "date", "is_follow_up": follow_up}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    for (first, values) in [
        ("Maria", json!({"birthday": "--12-24"})),
        ("Tom", json!({"birthday": "1980-01-03"})),
        ("Wei", json!({"wedding_anniversary": "2015-12-31"})),
        ("Hana", json!({"closing_date": "2020-12-26"})),
        ("Far", json!({"birthday": "--01-10"})),
        ("Past", json!({"birthday": "1990-12-20"})),
        ("Due", json!({"next_call": "2026-12-25"})),
    ] {
        let r = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": first, "custom_fields": values}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let page = browser.get("/").await;
    let yearly = section(&page.body, "yearly-dates");
    let rows: Vec<String> = yearly
        .split("<li ")
        .skip(1)
        .map(|li| {
            let text: String = li
                .split('<')
                .filter_map(|t| t.split_once('>').map(|(_, text)| text.trim()))
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            text.split(" Loans").next().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        rows,
        [
            "🎂 Maria Birthday: December 24 today",
            "🏠 Hana Closing date: December 26 (6 years) in 2 days",
            "💍 Wei Wedding anniversary: December 31 (11 years) in 7 days",
            "🎂 Tom Birthday: January 3 (47 years) in 10 days",
        ],
        "{yearly}"
    );
    // The insights job has not run: nothing came from it, and its facts would not be repeated.
    assert_eq!(app.count("SELECT COUNT(*) FROM ai_insights").await, 0);
    let worth = section(&page.body, "insights");
    assert!(!worth.contains("Maria"), "{worth}");
    // The lookup is one range of the month-day index.
    let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "EXPLAIN QUERY PLAN SELECT v.contact_id FROM custom_fields v
          WHERE v.workspace_id = ? AND v.field_value GLOB '*[0-9][0-9]-[0-9][0-9]'
            AND substr(v.field_value, -5) BETWEEN '12-24' AND '12-31' AND v.field_name IN ('birthday')",
    )
    .bind(&ws)
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert!(
        plan.iter().any(|(_, _, _, d)| d.contains("custom_fields_month_day")),
        "{plan:?}"
    );
}

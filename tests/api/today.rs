//! The dashboard's "Today" (issue 13): follow-up fields (SPEC §6 `is_follow_up`), the people
//! whose follow-up date has come, the pipeline per stage with its sum, and recent activity.

use serde_json::{Value, json};

use crate::messaging_ui::ui;

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
    let follow = page
        .body
        .split("id=\"follow-ups\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
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
    let pipeline = page
        .body
        .split("id=\"pipeline-totals\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
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
    let activity = page
        .body
        .split("id=\"activity\"")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
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

//! The campaign pages over real HTTP with a signed-in browser: the editor's form (CSRF, every
//! mistake shown, a local time read in the workspace's zone), the live reach count, the
//! campaign's page and its actions, and the owner's campaign settings form.

use serde_json::{Value, json};

use crate::campaigns::camp;

#[tokio::test]
async fn the_editor_saves_a_campaign_and_shows_every_mistake() {
    let c = camp().await;
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let ws = &c.ws;
    let new = format!("/workspaces/{ws}/campaigns/new");
    let list = c.lists["past"].clone();

    // Without the CSRF token: refused, nothing made.
    let r = b
        .post_raw(
            &format!("/workspaces/{ws}/campaigns"),
            &[("name", "X"), ("channel", "email")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(c.app.count("SELECT count(*) FROM campaigns").await, 0);

    // Mistakes come back all at once, with what was typed.
    let bad = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/campaigns"),
            &[
                ("name", ""),
                ("channel", "email"),
                ("schedule_kind", "at"),
                ("at_local", "someday"),
                ("cond_field_0", "nope"),
                ("cond_op_0", "gte"),
                ("cond_value_0", "5"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("give the campaign a name"), "{}", bad.body);
    assert!(bad.body.contains("schedule.at") && bad.body.contains("segment.conditions[0]"));
    assert_eq!(c.app.count("SELECT count(*) FROM campaigns").await, 0);

    // The live count, as the editor posts it.
    let reach = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/campaigns/audience"),
            &[("channel", "email"), ("lists_any", &list)],
        )
        .await;
    assert_eq!(reach.status, 200);
    assert!(
        reach.body.contains("<strong>0</strong> people will get it"),
        "{}",
        reach.body
    );

    // A good one: a time typed in the workspace's zone is stored as the instant it means.
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{ws}"),
            json!({"timezone": "America/Los_Angeles"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let saved = b
        .submit(
            &new,
            &format!("/workspaces/{ws}/campaigns"),
            &[
                ("name", "Holiday rates"),
                ("channel", "email"),
                ("template_id", &c.template),
                ("lists_any", &list),
                ("schedule_kind", "at"),
                ("at_local", "2026-12-24T09:00"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let campaigns: Value = c.api().get(&c.url("campaigns")).await.json().await.unwrap();
    let made = &campaigns["items"][0];
    assert_eq!(made["schedule"], json!({"kind": "at", "at": "2026-12-24T17:00:00Z"}));
    assert_eq!(made["segment"]["lists_any"], json!([list]));
    let id = made["id"].as_str().unwrap();
    let page = b.get(&format!("/workspaces/{ws}/campaigns/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Holiday rates") && page.body.contains("In Past clients"));
    assert!(
        page.body.contains("Thursday, December 24, 2026 at 9:00 AM"),
        "{}",
        page.body
    );
    // The edit form shows the time back in the zone.
    let edit = b.get(&format!("/workspaces/{ws}/campaigns/{id}/edit")).await;
    assert!(edit.body.contains("value=\"2026-12-24T09:00\""));
    // Scheduling it from the page; an action it cannot take says why, on the page.
    let r = b
        .submit(
            &format!("/workspaces/{ws}/campaigns/{id}"),
            &format!("/workspaces/{ws}/campaigns/{id}/schedule"),
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(c.get(id).await["status"], "scheduled");
    let r = b
        .submit(
            &format!("/workspaces/{ws}/campaigns/{id}"),
            &format!("/workspaces/{ws}/campaigns/{id}/resume"),
            &[],
        )
        .await;
    assert_eq!(r.status, 303);
    let after = b.get(r.location.as_deref().unwrap()).await;
    assert!(
        after.body.contains("only a paused campaign can be resumed"),
        "{}",
        after.body
    );
    let r = b
        .submit(
            &format!("/workspaces/{ws}/campaigns/{id}"),
            &format!("/workspaces/{ws}/campaigns/{id}/delete"),
            &[],
        )
        .await;
    let after = b.get(r.location.as_deref().unwrap()).await;
    assert!(after.body.contains("cancel it before deleting it"), "{}", after.body);
    // "Use as a new campaign": the editor starts from its settings, under a new name.
    assert!(after.body.contains(&format!("/campaigns/new?from={id}")));
    let copy = b.get(&format!("/workspaces/{ws}/campaigns/new?from={id}")).await;
    assert_eq!(copy.status, 200);
    assert!(copy.body.contains("value=\"Copy of Holiday rates\""), "{}", copy.body);
    assert!(copy.body.contains("value=\"2026-12-24T09:00\""));
    // Another person's campaign cannot be a starting point.
    let (_, mona) = c.app.user_browser("mona@example.com").await;
    let theirs = mona.get(&format!("/workspaces/{ws}/campaigns/new?from={id}")).await;
    assert_eq!(theirs.status, 404);
}

#[tokio::test]
async fn the_owner_sets_approval_quiet_hours_and_the_text_limit_on_the_workspace_page() {
    let c = camp().await;
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let ws = &c.ws;
    let page = format!("/workspaces/{ws}");
    let action = format!("/workspaces/{ws}/campaign-settings");
    let bad = b
        .submit(
            &page,
            &action,
            &[
                ("approval_required", "1"),
                ("reviewer_email", "not-an-email"),
                ("quiet_start", "21:00"),
                ("quiet_end", "8 in the morning"),
                ("daily_text_limit", "500"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"not-an-email\""), "what was typed stays");
    let settings: Value = c
        .api()
        .get(&format!("/api/v1/workspaces/{ws}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(settings["approval"]["required"], false, "nothing saved");
    let good = b
        .submit(
            &page,
            &action,
            &[
                ("approval_required", "1"),
                ("reviewer_email", "compliance@loanfactory.example"),
                ("reviewer_name", "Pat Reviewer"),
                ("quiet_start", "20:30"),
                ("quiet_end", "08:30"),
                ("daily_text_limit", "250"),
            ],
        )
        .await;
    assert_eq!(good.status, 303, "{}", good.body);
    let settings: Value = c
        .api()
        .get(&format!("/api/v1/workspaces/{ws}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        settings["approval"],
        json!({"required": true, "reviewer_email": "compliance@loanfactory.example", "reviewer_name": "Pat Reviewer"})
    );
    assert_eq!(settings["quiet_hours"], json!({"start": "20:30", "end": "08:30"}));
    assert_eq!(settings["daily_text_limit"], 250);
    // An editor may not change them.
    let (_, mona) = c.app.user_browser("mona@example.com").await;
    let r = c
        .api()
        .post(
            &format!("/api/v1/workspaces/{ws}/members"),
            json!({"email": "mona@example.com", "role": "editor"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = mona.submit(&page, &action, &[("daily_text_limit", "9")]).await;
    assert_eq!(r.status, 403);
}

//! The contacts list (issue 13): its total, sorting by any custom field (numbers as numbers,
//! contacts without a value last, paged by cursor), and what the checkboxes do — move to a
//! stage, add to a list, download, delete after a confirmation — all or nothing, never on
//! another person's contacts, never by a viewer.

use serde_json::{Value, json};

use crate::common::TestApp;

struct Book {
    app: TestApp,
    b: crate::common::Browser,
    api: crate::common::Api,
    ws: String,
    /// By first name: Ann, Ben, Cat, Dan, Eve (created in that order).
    ids: std::collections::BTreeMap<&'static str, String>,
}

async fn book() -> Book {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Borrowers").await;
    let api = app.api(
        &app.key(&andy, &["read:contacts", "write:contacts", "manage:workspaces"], None)
            .await,
    );
    for field in [
        json!({"field_name": "loan_amount", "label": "Loan amount", "field_type": "number"}),
        json!({"field_name": "city", "label": "City"}),
    ] {
        let r = api.post(&format!("/api/v1/workspaces/{ws}/custom-fields"), field).await;
        assert_eq!(r.status(), 201);
    }
    let mut ids = std::collections::BTreeMap::new();
    for (first, values) in [
        ("Ann", json!({"loan_amount": 9, "city": "Fresno"})),
        ("Ben", json!({"loan_amount": 100000, "city": "Berkeley"})),
        ("Cat", json!({"loan_amount": "25,000.50", "city": "Davis"})),
        ("Dan", json!({})),
        ("Eve", json!({})),
    ] {
        let c: Value = api
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                json!({"first_name": first, "last_name": "Lee", "custom_fields": values}),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.insert(first, c["id"].as_str().unwrap().to_string());
    }
    Book { app, b, api, ws, ids }
}

impl Book {
    /// First names in the order the API lists them for `query`, following every cursor.
    async fn order(&self, query: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut url = format!("/api/v1/workspaces/{}/contacts?limit=2&{query}", self.ws);
        loop {
            let r = self.api.get(&url).await;
            assert_eq!(r.status(), 200, "{url}");
            let page: Value = r.json().await.unwrap();
            for c in page["items"].as_array().unwrap() {
                names.push(c["first_name"].as_str().unwrap().to_string());
            }
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    url = format!(
                        "/api/v1/workspaces/{}/contacts?limit=2&{query}&cursor={cursor}",
                        self.ws
                    )
                }
                None => return names,
            }
        }
    }

    async fn list(&self, name: &str) -> String {
        let l: Value = self
            .api
            .post(
                &format!("/api/v1/workspaces/{}/lists", self.ws),
                json!({"name": name, "is_primary": name == "Application"}),
            )
            .await
            .json()
            .await
            .unwrap();
        l["id"].as_str().unwrap().to_string()
    }

    async fn lists_of(&self, first: &str) -> Vec<String> {
        let c: Value = self
            .api
            .get(&format!("/api/v1/workspaces/{}/contacts/{}", self.ws, self.ids[first]))
            .await
            .json()
            .await
            .unwrap();
        c["lists"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["name"].as_str().unwrap().to_string())
            .collect()
    }

    fn bulk(&self) -> String {
        format!("/workspaces/{}/contacts/bulk", self.ws)
    }

    fn contacts_page(&self) -> String {
        format!("/workspaces/{}/contacts", self.ws)
    }
}

#[tokio::test]
async fn sorted_by_a_custom_field_numbers_as_numbers_and_empty_values_last() {
    let k = book().await;
    assert_eq!(
        k.order("sort=field.loan_amount").await,
        ["Ann", "Cat", "Ben", "Eve", "Dan"]
    );
    assert_eq!(
        k.order("sort=-field.loan_amount").await,
        ["Ben", "Cat", "Ann", "Eve", "Dan"]
    );
    assert_eq!(k.order("sort=field.city").await, ["Ben", "Cat", "Ann", "Eve", "Dan"]);
    assert_eq!(k.order("sort=-field.city").await, ["Ann", "Cat", "Ben", "Eve", "Dan"]);
    // With the search's other conditions: a list, and words.
    let vip = k.list("VIP").await;
    for who in ["Ann", "Ben", "Dan"] {
        k.api
            .client
            .put(k.app.url(&format!(
                "/api/v1/workspaces/{}/contacts/{}/lists/{vip}",
                k.ws, k.ids[who]
            )))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(k.order("sort=-field.loan_amount&list=VIP").await, ["Ben", "Ann", "Dan"]);
    assert_eq!(k.order("sort=field.city&q=berkeley").await, ["Ben"]);
    // Bad input is a 422 naming what is wrong.
    for (query, field) in [
        ("sort=field.nope", "sort"),
        ("sort=-field.", "sort"),
        ("sort=field.loan_amount&cursor=zz", "cursor"),
        // A name-sort cursor is not a field-sort cursor.
        ("sort=field.loan_amount&cursor=5b22612d225d", "cursor"),
    ] {
        let r = k
            .api
            .get(&format!("/api/v1/workspaces/{}/contacts?{query}", k.ws))
            .await;
        assert_eq!(r.status(), 422, "{query}");
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], field, "{query}");
    }

    // The page: a total, headers that sort, the order shown.
    let page = k.b.get(&format!("{}?sort=-field.loan_amount", k.contacts_page())).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(">1–5 of 5<"), "the total");
    assert!(
        page.body.contains("aria-sort=\"descending\""),
        "the sorted column says so"
    );
    let at = |name: &str| page.body.find(&format!(">{name} Lee<")).unwrap();
    assert!(at("Ben") < at("Cat") && at("Cat") < at("Ann") && at("Ann") < at("Eve"));
    assert!(
        page.body.contains("sort=field.loan_amount\""),
        "the header now sorts the other way"
    );
    let searched = k.b.get(&format!("{}?q=lee&sort=field.city", k.contacts_page())).await;
    assert!(searched.body.contains(">1–5 of 5<"));
    let none = k.b.get(&format!("{}?q=nobody", k.contacts_page())).await;
    assert!(none.body.contains("Nobody matches"));
    k.app.stop().await;
}

#[tokio::test]
async fn numbers_sort_below_zero_between_whole_numbers_and_across_ties_page_by_page() {
    let k = book().await;
    for (first, amount) in [
        ("Fay", json!(-1500.5)),
        ("Gus", json!("-2")),
        ("Hal", json!(9)),
        ("Ivy", json!(0.25)),
    ] {
        let r = k
            .api
            .post(
                &format!("/api/v1/workspaces/{}/contacts", k.ws),
                json!({"first_name": first, "last_name": "Lee", "custom_fields": {"loan_amount": amount}}),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    // Two a page, so every cursor lands somewhere awkward: on a tie (Ann and Hal, in the
    // order they were made), on the last number, on the first contact without one.
    assert_eq!(
        k.order("sort=field.loan_amount").await,
        ["Fay", "Gus", "Ivy", "Ann", "Hal", "Cat", "Ben", "Eve", "Dan"]
    );
    assert_eq!(
        k.order("sort=-field.loan_amount").await,
        ["Ben", "Cat", "Hal", "Ann", "Ivy", "Gus", "Fay", "Eve", "Dan"]
    );
    k.app.stop().await;
}

#[tokio::test]
async fn the_list_counts_and_pages_with_its_range() {
    let k = book().await;
    for i in 0..52 {
        k.api
            .post(
                &format!("/api/v1/workspaces/{}/contacts", k.ws),
                json!({"first_name": format!("More{i:02}")}),
            )
            .await;
    }
    let first = k.b.get(&k.contacts_page()).await;
    assert!(first.body.contains(">1–50 of 57<"), "the range and total");
    let next = first
        .body
        .split("href=\"")
        .find(|s| s.contains("cursor="))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let second = k.b.get(&next).await;
    assert!(second.body.contains(">51–57 of 57<"), "page two knows where it starts");
    k.app.stop().await;
}

#[tokio::test]
async fn ticked_contacts_move_join_a_list_download_and_go_all_or_nothing() {
    let k = book().await;
    let stage = k.list("Application").await;
    let vip = k.list("VIP").await;
    let bulk = k.bulk();
    let from = k.contacts_page();
    let page = k.b.get(&from).await;
    assert!(
        page.body.contains(&format!("value=\"stage:{stage}\"")),
        "stages are offered"
    );
    assert!(
        page.body.contains(&format!("value=\"list:{vip}\"")),
        "lists are offered"
    );

    // CSRF first.
    let refused =
        k.b.post_raw(&bulk, &[("ids", &k.ids["Ann"]), ("action", &format!("stage:{stage}"))])
            .await;
    assert_eq!(refused.status, 403);

    let moved =
        k.b.submit(
            &from,
            &bulk,
            &[
                ("ids", &k.ids["Ann"]),
                ("ids", &k.ids["Ben"]),
                ("ids", &k.ids["Ann"]),
                ("action", &format!("stage:{stage}")),
            ],
        )
        .await;
    assert_eq!(moved.status, 303);
    assert!(k.b.get(&from).await.body.contains("Moved 2 contacts."));
    assert_eq!(k.lists_of("Ann").await, ["Application"]);
    assert_eq!(k.lists_of("Ben").await, ["Application"]);
    let timeline: Value = k
        .api
        .get(&format!(
            "/api/v1/workspaces/{}/contacts/{}/communications",
            k.ws, k.ids["Ann"]
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "stage_change"),
        "each move is on the contact's timeline"
    );

    let added =
        k.b.submit(
            &from,
            &bulk,
            &[("ids", &k.ids["Cat"]), ("action", &format!("list:{vip}"))],
        )
        .await;
    assert_eq!(added.status, 303);
    assert_eq!(k.lists_of("Cat").await, ["VIP"]);

    // Download the selection: the same file as the export, only them.
    let csv =
        k.b.submit(
            &from,
            &bulk,
            &[("ids", &k.ids["Ann"]), ("ids", &k.ids["Cat"]), ("action", "export-csv")],
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers["content-type"].to_str().unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines.len(), 3, "{}", csv.body);
    assert!(lines[0].starts_with("first_name,last_name"));
    assert!(csv.body.contains("Ann,Lee") && csv.body.contains("Cat,Lee,") && !csv.body.contains("Ben"));
    assert!(csv.body.contains("25000.5"));
    let vcf =
        k.b.submit(&from, &bulk, &[("ids", &k.ids["Ben"]), ("action", "export-vcf")])
            .await;
    assert_eq!(vcf.body.matches("BEGIN:VCARD").count(), 1);

    // Nothing ticked, or nothing chosen: said plainly, nothing changes.
    let empty = k.b.submit(&from, &bulk, &[("action", "delete")]).await;
    assert_eq!(empty.status, 303);
    assert!(k.b.get(&from).await.body.contains("tick at least one contact first"));
    let no_action =
        k.b.submit(&from, &bulk, &[("ids", &k.ids["Dan"]), ("action", "")])
            .await;
    assert_eq!(no_action.status, 303);
    assert!(k.b.get(&from).await.body.contains("Choose what to do with them first."));

    // Someone else's contact in the selection: 404, and none of it happens.
    let (mona, mb) = k.app.user_browser("mona@example.com").await;
    let hers_ws = k.app.workspace(&mona, "Mine").await;
    let hers: Value = k
        .app
        .api(&k.app.key(&mona, &["write:contacts"], None).await)
        .post(
            &format!("/api/v1/workspaces/{hers_ws}/contacts"),
            json!({"first_name": "Zoe"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let zoe = hers["id"].as_str().unwrap();
    for action in ["list:".to_string() + &vip, "delete".into(), "export-csv".into()] {
        let r =
            k.b.submit(
                &from,
                &bulk,
                &[
                    ("ids", &k.ids["Dan"]),
                    ("ids", zoe),
                    ("action", &action),
                    ("confirm", "yes"),
                ],
            )
            .await;
        if action == "export-csv" {
            assert!(!r.body.contains("Zoe"), "her contact is not in his download");
        } else {
            assert_eq!(r.status, 404, "{action}");
        }
    }
    assert!(k.lists_of("Dan").await.is_empty(), "Dan was not added: all or nothing");
    assert_eq!(k.app.count("SELECT count(*) FROM base_contacts").await, 6);
    // And she cannot act on his workspace at all.
    let hers_try = mb
        .submit(
            "/",
            &bulk,
            &[("ids", &k.ids["Dan"]), ("action", "delete"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(hers_try.status, 404);

    // A viewer may download but not change anything.
    k.api
        .post(
            &format!("/api/v1/workspaces/{}/members", k.ws),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    let viewer_move = mb
        .submit(
            &from,
            &bulk,
            &[("ids", &k.ids["Dan"]), ("action", &format!("stage:{stage}"))],
        )
        .await;
    assert_eq!(viewer_move.status, 403);
    let viewer_delete = mb
        .submit(&from, &bulk, &[("ids", &k.ids["Dan"]), ("action", "delete")])
        .await;
    assert_eq!(viewer_delete.status, 403);
    let viewer_csv = mb
        .submit(&from, &bulk, &[("ids", &k.ids["Dan"]), ("action", "export-csv")])
        .await;
    assert_eq!(viewer_csv.status, 200);
    assert!(viewer_csv.body.contains("Dan,Lee"));
    assert!(
        !mb.get(&from).await.body.contains("Delete…"),
        "a viewer is not offered it"
    );
    k.app.stop().await;
}

#[tokio::test]
async fn deleting_ticked_contacts_asks_first_and_names_them() {
    let k = book().await;
    let bulk = k.bulk();
    let from = k.contacts_page();
    let ask =
        k.b.submit(
            &from,
            &bulk,
            &[("ids", &k.ids["Ann"]), ("ids", &k.ids["Ben"]), ("action", "delete")],
        )
        .await;
    assert_eq!(ask.status, 200);
    assert!(ask.body.contains("Delete 2 contacts?"));
    assert!(ask.body.contains("Ann Lee") && ask.body.contains("Ben Lee") && !ask.body.contains("Cat Lee"));
    assert!(ask.body.contains("cannot be undone"));
    assert_eq!(
        k.app.count("SELECT count(*) FROM base_contacts").await,
        5,
        "asking changes nothing"
    );
    // The confirmation page's own form.
    let csrf = ask.csrf();
    let done =
        k.b.post_raw(
            &bulk,
            &[
                ("csrf_token", &csrf),
                ("ids", &k.ids["Ann"]),
                ("ids", &k.ids["Ben"]),
                ("action", "delete"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(k.b.get(&from).await.body.contains("Deleted 2 contacts."));
    let r = k
        .api
        .get(&format!("/api/v1/workspaces/{}/contacts/{}", k.ws, k.ids["Ann"]))
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(k.order("").await, ["Eve", "Dan", "Cat"]);
    assert_eq!(
        k.app
            .audit_actions()
            .await
            .iter()
            .filter(|(a, _)| a == "contact.delete")
            .count(),
        2
    );
    k.app.stop().await;
}

/// Each person chooses the custom fields shown as columns, in a workspace: kept for them, not
/// for anyone else; a field that is not there is refused; a deleted field stops showing.
#[tokio::test]
async fn each_person_chooses_the_lists_columns() {
    let k = book().await;
    let from = k.contacts_page();
    let columns = format!("/workspaces/{}/contacts/columns", k.ws);
    let header = |body: &str| {
        body.split("<thead")
            .nth(1)
            .unwrap()
            .split("</thead>")
            .next()
            .unwrap()
            .to_string()
    };
    let before = header(&k.b.get(&from).await.body);
    assert!(
        before.contains("Loan amount") && before.contains("City"),
        "the first fields by default"
    );

    let refused = k.b.post_raw(&columns, &[("cols", "city")]).await;
    assert_eq!(refused.status, 403, "CSRF first");
    let saved = k.b.submit(&from, &columns, &[("cols", "city")]).await;
    assert_eq!(saved.status, 303);
    let page = k.b.get(&from).await.body;
    assert!(page.contains("Columns saved."));
    let after = header(&page);
    assert!(after.contains("City") && !after.contains("Loan amount"), "{after}");

    let bad = k.b.submit(&from, &columns, &[("cols", "city"), ("cols", "nope")]).await;
    assert_eq!(bad.status, 303);
    assert!(k.b.get(&from).await.body.contains("no custom field named nope here"));
    assert!(
        header(&k.b.get(&from).await.body).contains("City"),
        "the choice before stays"
    );
    let more = ["f1", "f2", "f3", "f4", "f5"];
    for name in more {
        k.api
            .post(
                &format!("/api/v1/workspaces/{}/custom-fields", k.ws),
                json!({"field_name": name}),
            )
            .await;
    }
    let seven: Vec<(&str, &str)> = ["city", "loan_amount"]
        .into_iter()
        .chain(more)
        .map(|n| ("cols", n))
        .collect();
    assert_eq!(k.b.submit(&from, &columns, &seven).await.status, 303);
    assert!(k.b.get(&from).await.body.contains("choose at most 6 columns"));

    // A viewer has a view of their own, and it does not change Andy's.
    let (_, mona) = k.app.user_browser("mona@example.com").await;
    let r = k
        .api
        .post(
            &format!("/api/v1/workspaces/{}/members", k.ws),
            json!({"email": "mona@example.com", "role": "viewer"}),
        )
        .await;
    assert!(r.status().is_success());
    let hers = header(&mona.get(&from).await.body);
    assert!(hers.contains("Loan amount") && hers.contains("City"), "her default");
    assert_eq!(
        mona.submit(&from, &columns, &[("cols", "loan_amount")]).await.status,
        303
    );
    assert!(!header(&mona.get(&from).await.body).contains("City"));
    let his = header(&k.b.get(&from).await.body);
    assert!(
        his.contains("City") && !his.contains("Loan amount"),
        "his choice stays his: {his}"
    );

    // A deleted field simply stops showing.
    let defs: Value = k
        .api
        .get(&format!("/api/v1/workspaces/{}/custom-fields", k.ws))
        .await
        .json()
        .await
        .unwrap();
    let city = defs
        .as_array()
        .or_else(|| defs["items"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["field_name"] == "city")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = k
        .api
        .delete(&format!("/api/v1/workspaces/{}/custom-fields/{city}", k.ws))
        .await;
    assert_eq!(r.status(), 204);
    let page = k.b.get(&from).await;
    assert_eq!(page.status, 200);
    assert!(!header(&page.body).contains("City"));
    k.app.stop().await;
}

/// The rows read only the values of the columns shown, whichever order the page is in —
/// sorted by a field that is not shown among them — and a value changed since shows at once.
#[tokio::test]
async fn rows_show_the_shown_columns_values_in_every_order() {
    let k = book().await;
    let from = k.contacts_page();
    // The chosen fields' cells: each row's cells after its first six (tick, name, email,
    // phone, company, stage).
    let cells = |body: &str| -> Vec<String> {
        let rows = body.split("<tbody>").nth(1).unwrap().split("</tbody>").next().unwrap();
        rows.split("<tr>")
            .skip(1)
            .flat_map(|row| {
                row.split("<td>")
                    .skip(7)
                    .map(|cell| cell.split("</td>").next().unwrap().to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let newest = k.b.get(&from).await.body;
    assert_eq!(
        cells(&newest),
        [
            "", "", "", "", "25,000.5", "Davis", "100,000", "Berkeley", "9", "Fresno"
        ],
        "loan amount and city, newest first (Eve, Dan, Cat, Ben, Ann)"
    );

    let columns = format!("/workspaces/{}/contacts/columns", k.ws);
    assert_eq!(k.b.submit(&from, &columns, &[("cols", "city")]).await.status, 303);
    let by_amount = k.b.get(&format!("{from}?sort=-field.loan_amount")).await.body;
    assert_eq!(
        cells(&by_amount),
        ["Berkeley", "Davis", "Fresno", "", ""],
        "largest loan first, then those without one; only the city shown"
    );
    assert!(!by_amount.contains("100,000"), "the loan amount is not a column now");

    let r = k
        .api
        .patch(
            &format!("/api/v1/workspaces/{}/contacts/{}", k.ws, k.ids["Ben"]),
            json!({"custom_fields": {"city": "Oakland"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let after = k.b.get(&format!("{from}?sort=-field.loan_amount")).await.body;
    assert_eq!(cells(&after), ["Oakland", "Davis", "Fresno", "", ""]);
    k.app.stop().await;
}

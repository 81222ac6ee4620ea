//! Campaigns and Loan Factory's approval queue (SPEC §10), black-box over HTTP against a fake
//! Mailgun and a fake Twilio that speak their wire protocols: refusal without approval, the
//! reviewer's email and link, one message per eligible recipient, skips counted, reject,
//! edit-after-submit voids, review-link states, pause/resume/cancel, yearly occurrences with a
//! fixed clock, quiet hours and the daily text limit, isolation and scopes.

use std::collections::HashMap;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{Api, TestApp};
use crate::messaging::{MAILGUN_KEY, SIGNING_KEY, TWILIO_SID, TWILIO_TOKEN, mailgun_accepts, multipart_field};

pub const SCOPES: &[&str] = &[
    "read:contacts",
    "write:contacts",
    "read:templates",
    "write:templates",
    "read:campaigns",
    "write:campaigns",
    "send:messages",
    "manage:workspaces",
];

/// Andy's workspace with a fake Mailgun, two lists, a template, and contacts by first name.
pub struct Camp {
    pub app: TestApp,
    pub ws: String,
    pub key: String,
    pub mailgun: MockServer,
    pub lists: HashMap<&'static str, String>,
    pub contacts: HashMap<String, String>,
    pub template: String,
}

impl Camp {
    pub fn api(&self) -> Api {
        self.app.api(&self.key)
    }

    pub fn url(&self, tail: &str) -> String {
        format!("/api/v1/workspaces/{}/{tail}", self.ws)
    }

    pub async fn add_contact(
        &mut self,
        first: &str,
        email: Option<&str>,
        phone: Option<&str>,
        lists: &[&str],
    ) -> String {
        let r = self
            .api()
            .post(
                &self.url("contacts"),
                json!({"first_name": first, "last_name": "Test", "primary_email": email, "primary_phone": phone}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let id = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
        for l in lists {
            let list = self.lists[l].clone();
            let r = self
                .api()
                .client
                .put(self.app.url(&self.url(&format!("contacts/{id}/lists/{list}"))))
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        }
        self.contacts.insert(first.to_string(), id.clone());
        id
    }

    /// A text template saying `body`: its id.
    pub async fn text_template(&self, body: &str) -> String {
        let r = self
            .api()
            .post(
                &self.url("templates"),
                json!({"name": "Text", "channel": "text", "body": body}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    pub async fn campaign(&self, body: Value) -> String {
        let r = self.api().post(&self.url("campaigns"), body).await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, id: &str) -> Value {
        let r = self.api().get(&self.url(&format!("campaigns/{id}"))).await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    pub async fn act(&self, id: &str, action: &str) -> reqwest::Response {
        self.api()
            .post(&self.url(&format!("campaigns/{id}/{action}")), json!({}))
            .await
    }

    /// Queues the campaign's recipients and sends them, as the campaigns pump and the outbox
    /// would; it is then `sent`.
    pub async fn until_sent(&self, id: &str) -> Value {
        self.app.drain_campaigns().await;
        self.app.drain_outbox().await;
        let c = self.get(id).await;
        assert_eq!(c["status"], "sent", "the campaign did not finish: {c}");
        c
    }

    /// Two fields of each row of the campaign's log (filtered by `status`, "" for all), sorted.
    pub async fn log(&self, id: &str, status: &str, (a, b): (&str, &str)) -> Vec<(String, String)> {
        let page: Value = self
            .api()
            .get(&self.url(&format!("campaigns/{id}/recipients?status={status}")))
            .await
            .json()
            .await
            .unwrap();
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut rows: Vec<(String, String)> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (text(&r[a]), text(&r[b])))
            .collect();
        rows.sort();
        rows
    }

    /// Emails the fake Mailgun took, by recipient.
    pub async fn mail_to(&self) -> Vec<(String, String)> {
        self.mailgun
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| {
                let body = String::from_utf8_lossy(&r.body).to_string();
                (bare_address(&multipart_field(&body, "to").unwrap_or_default()), body)
            })
            .collect()
    }
}

pub async fn camp_with(adjust: impl FnOnce(&mut pi_crm::config::Config)) -> Camp {
    camp_on(
        TestApp::spawn_with(|c| {
            c.outbox_retry_base_seconds = 0;
            c.public_url = Some("https://crm.example.com".into());
            adjust(c);
        })
        .await,
    )
    .await
}

/// `camp` on a fixed clock at `at`.
pub async fn camp_at(at: &str) -> Camp {
    camp_on(
        TestApp::spawn_at(at, |c| {
            c.outbox_retry_base_seconds = 0;
            c.public_url = Some("https://crm.example.com".into());
        })
        .await,
    )
    .await
}

async fn camp_on(app: TestApp) -> Camp {
    let andy = app.create_user("andy@example.com", "Andy Lee").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app.key(&andy, SCOPES, None).await;
    let mailgun = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261205.1@mg.example.com"))
        .mount(&mailgun)
        .await;
    let mut camp = Camp {
        app,
        ws,
        key,
        mailgun,
        lists: HashMap::new(),
        contacts: HashMap::new(),
        template: String::new(),
    };
    let r = camp
        .api()
        .client
        .put(camp.app.url(&camp.url("providers/email")))
        .json(
            &json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": MAILGUN_KEY,
                      "webhook_signing_key": SIGNING_KEY, "from": "Andy Lee <andy@mg.example.com>",
                      "api_base": camp.mailgun.uri(), "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    for (key, name) in [("past", "Past clients"), ("dnm", "Do not mail")] {
        let r = camp.api().post(&camp.url("lists"), json!({"name": name})).await;
        assert_eq!(r.status(), 201);
        camp.lists.insert(
            key,
            r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string(),
        );
    }
    let r = camp
        .api()
        .post(
            &camp.url("templates"),
            json!({"name": "Rates fell", "channel": "email", "subject": "Rates for {{ first_name }}",
                   "body": "<p>Hi {{ first_name }},</p><p>Rates fell this week.</p>"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    camp.template = r.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    camp
}

pub async fn camp() -> Camp {
    camp_with(|_| {}).await
}

/// Past clients Ada, Bob (emails), Cy (no email), Dee (unsubscribed), Fay (also "do not
/// mail"), and Eve outside the list.
pub async fn people(c: &mut Camp) {
    c.add_contact("Ada", Some("ada@example.com"), None, &["past"]).await;
    c.add_contact("Bob", Some("bob@example.com"), None, &["past"]).await;
    c.add_contact("Cy", None, Some("+14155550101"), &["past"]).await;
    c.add_contact("Dee", Some("dee@example.com"), None, &["past"]).await;
    c.add_contact("Fay", Some("fay@example.com"), None, &["past", "dnm"])
        .await;
    c.add_contact("Eve", Some("eve@example.com"), None, &[]).await;
    let r = c
        .api()
        .post(
            &c.url("suppressions"),
            json!({"address": "dee@example.com", "channel": "email", "reason": "unsubscribed"}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
}

/// The past clients, a reviewer required, and a draft to them: its id.
pub async fn reviewed_draft(c: &mut Camp) -> String {
    people(c).await;
    require_approval(c).await;
    c.campaign(past_clients(c)).await
}

pub async fn require_approval(c: &Camp) {
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"approval": {"required": true, "reviewer_email": "Compliance@LoanFactory.example",
                                "reviewer_name": "Pat Reviewer"}}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let ws: Value = r.json().await.unwrap();
    assert_eq!(ws["approval"]["required"], true);
    assert_eq!(ws["approval"]["reviewer_email"], "compliance@loanfactory.example");
    assert_eq!(ws["quiet_hours"], json!({"start": "21:00", "end": "08:00"}));
    assert_eq!(ws["daily_text_limit"], 500);
}

pub fn past_clients(c: &Camp) -> Value {
    json!({"name": "December rates", "channel": "email", "template_id": c.template,
           "segment": {"lists_any": [c.lists["past"]], "lists_none": [c.lists["dnm"]]},
           "schedule": {"kind": "now"}})
}

/// The review link's token from the email the reviewer got.
pub fn review_token(body: &str) -> String {
    let text = multipart_field(body, "text").unwrap();
    let at = text
        .find("https://crm.example.com/review/")
        .expect("the link is in the email")
        + 31;
    text[at..at + 64].to_string()
}

/// The reviewer's page for `token`, as someone without an account opens it.
pub async fn review_page(c: &Camp, token: &str) -> reqwest::Response {
    outsider_get(c, &format!("/review/{token}")).await
}

/// `path`, as someone without an account opens it.
pub async fn outsider_get(c: &Camp, path: &str) -> reqwest::Response {
    c.app.anonymous().get(c.app.url(path)).send().await.unwrap()
}

/// The review emails the fake provider got, once the outbox has sent what it holds.
pub async fn review_emails(c: &Camp) -> Vec<String> {
    c.app.drain_outbox().await;
    c.mail_to()
        .await
        .into_iter()
        .filter(|(to, _)| to == "compliance@loanfactory.example")
        .map(|(_, body)| body)
        .collect()
}

#[tokio::test]
async fn a_campaign_is_reviewed_through_its_link_and_sends_the_approved_words_once_to_each() {
    let mut c = camp().await;
    let id = reviewed_draft(&mut c).await;

    // The live count: five past clients without "do not mail" Fay; Cy has no email, Dee is
    // unsubscribed.
    let r = c
        .api()
        .post(
            &c.url("campaigns/audience"),
            json!({"channel": "email", "segment": {"lists_any": [c.lists["past"]], "lists_none": [c.lists["dnm"]]}}),
        )
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"contacts": 4, "no_address": 1, "suppressed": 1, "reachable": 2})
    );

    // Not without approval.
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "approval_required");

    let r = c.act(&id, "submit").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let submitted: Value = r.json().await.unwrap();
    assert_eq!(submitted["status"], "pending_approval");
    assert_eq!(submitted["approval"]["status"], "pending");
    assert_eq!(
        submitted["approval"]["reviewer_email"],
        "compliance@loanfactory.example"
    );
    let emails = review_emails(&c).await;
    assert_eq!(emails.len(), 1, "one review email");
    assert!(
        multipart_field(&emails[0], "subject")
            .unwrap()
            .contains("December rates")
    );
    let token = review_token(&emails[0]);
    // The subject in the email is filled in for the sample, as on the page: no raw braces.
    let email_html = multipart_field(&emails[0], "html").unwrap();
    assert!(email_html.contains("Rates for Ada<br>"), "{email_html}");
    assert!(!email_html.contains("{{"), "{email_html}");

    // The reviewer's page works without an account and shows the frozen sample.
    let page = review_page(&c, &token).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Rates for Ada<span"),
        "the subject filled in for the sample"
    );
    assert!(
        html.contains("December rates") && html.contains("Pat Reviewer"),
        "{html}"
    );
    assert!(
        html.contains("Andy Lee") && html.contains("<strong>2</strong> people"),
        "{html}"
    );
    let sample = outsider_get(&c, &format!("/review/{token}/sample")).await;
    assert!(
        sample.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(sample.text().await.unwrap().contains("Hi Ada,"));

    // The template changes after submission: what is approved and sent is the snapshot.
    let r = c
        .api()
        .patch(
            &c.url(&format!("templates/{}", c.template)),
            json!({"body": "<p>Hello {{ first_name }}, NEW WORDS</p>"}),
        )
        .await;
    assert_eq!(r.status(), 200);

    // A decision needs a name; then it is taken once.
    let decide = |decision: &'static str, name: &'static str| {
        let client = c.app.anonymous();
        let url = c.app.url(&format!("/review/{token}"));
        async move {
            client
                .post(url)
                .form(&[
                    ("decision", decision),
                    ("name", name),
                    ("notes", "OK to send; NMLS line present."),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(decide("approve", " ").await.status(), 422);
    let r = decide("approve", "Pat Reviewer").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Approved by Pat Reviewer"));
    let again = decide("reject", "Someone Else").await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("decided already"));
    let approved = c.get(&id).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approval"]["decided_by"], "Pat Reviewer");
    assert_eq!(approved["approval"]["notes"], "OK to send; NMLS line present.");
    assert_eq!(approved["approval"]["recorded_by"], Value::Null);

    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let done = c.until_sent(&id).await;
    assert_eq!(
        done["stats"],
        json!({"recipients": 4, "queued": 0, "sent": 2, "delivered": 0, "opened": 0, "failed": 0, "unknown": 0,
               "cancelled": 0, "skipped": {"suppressed": 1, "no_address": 1, "render_error": 0}})
    );

    // Exactly one each to Ada and Bob, personalised, in the approved words, with the one-click
    // unsubscribe headers and a visible link.
    let sent: Vec<(String, String)> = c
        .mail_to()
        .await
        .into_iter()
        .filter(|(to, _)| to != "compliance@loanfactory.example")
        .collect();
    let mut to: Vec<&str> = sent.iter().map(|(t, _)| t.as_str()).collect();
    to.sort();
    assert_eq!(to, ["ada@example.com", "bob@example.com"]);
    for (to, body) in &sent {
        let first = if to.starts_with("ada") { "Ada" } else { "Bob" };
        assert_eq!(multipart_field(body, "subject").unwrap(), format!("Rates for {first}"));
        let html = multipart_field(body, "html").unwrap();
        assert!(
            html.contains(&format!("Hi {first},")) && !html.contains("NEW WORDS"),
            "{html}"
        );
        let unsubscribe = multipart_field(body, "h:List-Unsubscribe").unwrap();
        assert!(unsubscribe.starts_with("<https://crm.example.com/u/"), "{unsubscribe}");
        assert_eq!(
            multipart_field(body, "h:List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
        assert!(
            multipart_field(body, "text")
                .unwrap()
                .contains("Unsubscribe: https://crm.example.com/u/")
        );
    }

    // The log, filtered; one timeline entry naming the campaign on Ada's timeline.
    let reasons = c.log(&id, "skipped", ("name", "reason")).await;
    assert_eq!(
        reasons,
        [
            ("Cy Test".into(), "no_address".into()),
            ("Dee Test".into(), "suppressed".into())
        ]
    );
    let timeline: Value = c
        .api()
        .get(&c.url(&format!("contacts/{}/communications", c.contacts["Ada"])))
        .await
        .json()
        .await
        .unwrap();
    let emails: Vec<&Value> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "email")
        .collect();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["content"]["campaign_id"], id.as_str());
    assert_eq!(emails[0]["status"], "sent");

    // Every step is audited, the reviewer's decision without an account.
    let actions = c.app.audit_actions().await;
    for a in [
        "campaign.create",
        "campaign.submit",
        "campaign.approve",
        "campaign.schedule",
        "campaign.queue",
    ] {
        assert!(actions.iter().any(|(action, _)| action == a), "{a} in {actions:?}");
    }
    let approvals = c
        .app
        .count("SELECT count(*) FROM campaign_approvals WHERE status = 'approved'")
        .await;
    assert_eq!(approvals, 1);
    // A sent campaign cannot change or be scheduled again.
    assert_eq!(c.act(&id, "schedule").await.status(), 409);
    let r = c
        .api()
        .patch(&c.url(&format!("campaigns/{id}")), json!({"name": "Other"}))
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn rejection_editing_after_submit_and_decisions_recorded_by_the_owner() {
    let mut c = camp().await;
    let id = reviewed_draft(&mut c).await;

    // Submitted, then its segment changes: the approval is void, the link says so, and it is
    // a draft again.
    assert_eq!(c.act(&id, "submit").await.status(), 200);
    let first = review_token(&review_emails(&c).await[0]);
    let r = c
        .api()
        .patch(
            &c.url(&format!("campaigns/{id}")),
            json!({"segment": {"lists_any": [c.lists["past"]]}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let edited: Value = r.json().await.unwrap();
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["approval"], Value::Null);
    let page = c
        .app
        .anonymous()
        .get(c.app.url(&format!("/review/{first}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("changed after this link was sent"));
    let r = c
        .app
        .anonymous()
        .post(c.app.url(&format!("/review/{first}")))
        .form(&[("decision", "approve"), ("name", "Pat")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(c.get(&id).await["status"], "draft");

    // Renaming alone does not void a submission.
    assert_eq!(c.act(&id, "submit").await.status(), 200);
    let second = review_token(&review_emails(&c).await[1]);
    let r = c
        .api()
        .patch(&c.url(&format!("campaigns/{id}")), json!({"name": "Holiday rates"}))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "pending_approval");

    // Rejected through the link, with notes the owner sees.
    let r = c
        .app
        .anonymous()
        .post(c.app.url(&format!("/review/{second}")))
        .form(&[
            ("decision", "reject"),
            ("name", "Pat Reviewer"),
            ("notes", "Add the NMLS number."),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rejected = c.get(&id).await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["approval"]["notes"], "Add the NMLS number.");
    assert_eq!(c.act(&id, "schedule").await.status(), 409);

    // Submitted again; the reviewer answers by phone and the owner records it.
    assert_eq!(c.act(&id, "submit").await.status(), 200);
    let r = c
        .api()
        .post(&c.url(&format!("campaigns/{id}/approve")), json!({"notes": "by phone"}))
        .await;
    assert_eq!(r.status(), 422, "who decided is required");
    // An editor (not the owner) cannot record a decision.
    let mona = c.app.create_user("mona@example.com", "Monalisa").await;
    let andy = c.app.user_by_email("andy@example.com").await;
    let actor = pi_crm::domain::actor::Actor::person(andy.id.clone(), pi_crm::domain::actor::Via::Cli);
    let ws = pi_crm::domain::workspace::resolve(
        &c.app.state.db,
        &actor,
        &pi_crm::domain::ids::WorkspaceId::parse(&c.ws).unwrap(),
    )
    .await
    .unwrap();
    pi_crm::domain::workspace::add_member(&c.app.state.db, &actor, &ws, "mona@example.com", "editor")
        .await
        .unwrap();
    let mona_key = c.app.key(&mona, SCOPES, None).await;
    let r = c
        .app
        .api(&mona_key)
        .post(&c.url(&format!("campaigns/{id}/approve")), json!({"decided_by": "Pat"}))
        .await;
    assert_eq!(r.status(), 403);
    let r = c
        .api()
        .post(
            &c.url(&format!("campaigns/{id}/approve")),
            json!({"decided_by": "Pat Reviewer", "notes": "Approved by phone, 10:40"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let approved: Value = r.json().await.unwrap();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approval"]["recorded_by"], "Andy Lee");
    // The third link can no longer decide.
    let third = review_token(&review_emails(&c).await[2]);
    let page = c
        .app
        .anonymous()
        .get(c.app.url(&format!("/review/{third}")))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Recorded by the sender"), "{html}");
    assert!(!html.contains("name=\"decision\""));
    assert_eq!(
        c.app.count("SELECT count(*) FROM campaign_approvals").await,
        3,
        "every submission is kept"
    );
}

#[tokio::test]
async fn review_links_that_are_wrong_or_expired_say_so_and_decide_nothing() {
    let mut c = camp_at("2026-12-07T09:00:00Z").await;
    let id = reviewed_draft(&mut c).await;
    let anon = c.app.anonymous();
    for bad in ["nope", &"0".repeat(64), "../../etc/passwd"] {
        let r = anon.get(c.app.url(&format!("/review/{bad}"))).send().await.unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
    assert_eq!(c.act(&id, "submit").await.status(), 200);
    let token = review_token(&review_emails(&c).await[0]);
    // The link works for 30 days to the second: still on the last one's eve, gone at its end.
    c.app.clock().set(at("2027-01-06T08:59:59Z"));
    let page = anon.get(c.app.url(&format!("/review/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    c.app.clock().set(at("2027-01-06T09:00:00Z"));
    let page = anon.get(c.app.url(&format!("/review/{token}"))).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("expired"));
    let r = anon
        .post(c.app.url(&format!("/review/{token}")))
        .form(&[("decision", "approve"), ("name", "Pat")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert_eq!(c.get(&id).await["status"], "pending_approval");

    // Without a reviewer or an email provider, submitting says what is missing.
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"approval": {"required": true, "reviewer_email": ""}}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"approval": {"required": false, "reviewer_email": ""}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = c.act(&id, "submit").await;
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "no_reviewer");
}

#[tokio::test]
async fn bad_campaigns_are_refused_with_every_reason() {
    let c = camp().await;
    let r = c
        .api()
        .post(
            &c.url("campaigns"),
            json!({"name": "", "channel": "fax", "segment": {"lists_any": ["not-a-list"],
                   "conditions": [{"field": "nope", "op": "gte", "value": "1"}]},
                   "schedule": {"kind": "yearly", "field": "birthday", "time": "25:00"}}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let fields = crate::common::error_fields(&r.json::<Value>().await.unwrap());
    for f in [
        "name",
        "channel",
        "segment.lists_any[0]",
        "segment.conditions[0]",
        "schedule.field",
        "schedule.time",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    // A text template for an email campaign; a time that is not RFC 3339.
    let text_template = c.text_template("Hi {{ first_name }}").await;
    let r = c
        .api()
        .post(
            &c.url("campaigns"),
            json!({"name": "X", "channel": "email", "template_id": text_template,
                   "schedule": {"kind": "at", "at": "next tuesday"}}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let fields = crate::common::error_fields(&r.json::<Value>().await.unwrap());
    assert_eq!(fields, ["template_id", "schedule.at"]);
    // Without a template it cannot be scheduled.
    let id = c.campaign(json!({"name": "No template yet", "channel": "email"})).await;
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 422);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["field"], "template_id");
    // Unknown filters of the log.
    let r = c
        .api()
        .get(&c.url(&format!("campaigns/{id}/recipients?status=lost")))
        .await;
    assert_eq!(r.status(), 422);
    // Malformed JSON and unknown schedule kinds are refused cleanly.
    let r = c
        .api()
        .post(
            &c.url("campaigns"),
            json!({"name": "Y", "channel": "email", "schedule": {"kind": "weekly"}}),
        )
        .await;
    assert!(r.status() == 422 || r.status() == 400, "{}", r.status());
}

async fn many(c: &mut Camp, n: usize) {
    for i in 0..n {
        c.add_contact(
            &format!("P{i:02}"),
            Some(&format!("p{i:02}@example.com")),
            None,
            &["past"],
        )
        .await;
    }
}

#[tokio::test]
async fn pause_holds_what_waits_resume_sends_the_rest_once_and_cancel_drops_it() {
    let mut c = camp().await;
    many(&mut c, 40).await;
    let everyone = json!({"name": "Everyone", "channel": "email", "template_id": c.template,
                          "segment": {"lists_any": [c.lists["past"]]}});
    let id = c.campaign(everyone.clone()).await;
    assert_eq!(c.act(&id, "pause").await.status(), 409, "a draft cannot be paused");
    assert_eq!(c.act(&id, "schedule").await.status(), 200);
    // Its recipients are queued; sixteen are claimed and out with the provider when it is paused.
    c.app.drain_campaigns().await;
    let in_flight = pi_crm::domain::messaging::outbox::claim(&c.app.state, 16)
        .await
        .unwrap();
    assert_eq!(in_flight.len(), 16);
    let r = c.act(&id, "pause").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "paused");
    // What was in flight finishes; nothing more goes while it is paused.
    let system = pi_crm::domain::workspace::System::acting();
    let mut senders = pi_crm::domain::messaging::senders::Senders::default();
    for row in in_flight {
        let sender = senders.get(&c.app.state, &system, &row).await;
        pi_crm::domain::messaging::outbox::deliver(c.app.state.clone(), row, sender)
            .await
            .unwrap();
    }
    c.app.drain_campaigns().await;
    c.app.drain_outbox().await;
    let during = c.mail_to().await.len();
    assert_eq!(during, 16, "what was in flight went, and nothing after it");
    let paused = c.get(&id).await;
    assert_eq!(paused["waiting"]["reason"], "paused", "{paused}");
    assert_eq!(
        paused["waiting"]["messages"].as_i64().unwrap() + paused["stats"]["sent"].as_i64().unwrap(),
        40,
        "{paused}"
    );
    let r = c.act(&id, "resume").await;
    assert_eq!(r.status(), 200);
    let done = c.until_sent(&id).await;
    assert_eq!(done["stats"]["sent"], 40);
    let mut to: Vec<String> = c.mail_to().await.into_iter().map(|(t, _)| t).collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 40, "each once");
    assert_eq!(c.mail_to().await.len(), 40, "nobody twice");

    // Cancelled while paused: what waited is dropped, with its timeline entries.
    let other = c.campaign(everyone).await;
    assert_eq!(c.act(&other, "schedule").await.status(), 200);
    assert_eq!(c.act(&other, "pause").await.status(), 200);
    let r = c.act(&other, "cancel").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    c.app.drain_campaigns().await;
    c.app.drain_outbox().await;
    let cancelled = c.get(&other).await;
    let sent = cancelled["stats"]["sent"].as_i64().unwrap();
    assert_eq!(
        sent + cancelled["stats"]["cancelled"].as_i64().unwrap(),
        40,
        "{cancelled}"
    );
    assert_eq!(c.mail_to().await.len() as i64, 40 + sent);
    let entries = c
        .app
        .count("SELECT count(*) FROM communication_logs WHERE type = 'email' AND status = 'queued'")
        .await;
    assert_eq!(
        entries, 0,
        "no timeline says queued for a message that will never leave"
    );
    assert_eq!(c.act(&other, "resume").await.status(), 409);
    assert_eq!(c.act(&other, "cancel").await.status(), 409);
    // A finished campaign can be deleted; its messages stay on the timelines.
    let r = c.api().delete(&c.url(&format!("campaigns/{id}"))).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        c.app
            .count("SELECT count(*) FROM communication_logs WHERE type = 'email' AND status = 'sent'")
            .await,
        40 + sent
    );
}

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

async fn yearly_run(c: &Camp, when: &str) {
    pi_crm::jobs::campaigns::run_at(&c.app.state, at(when)).await.unwrap();
    c.app.drain_outbox().await;
}

async fn birthday(c: &mut Camp, first: &str, date: &str) {
    let id = c
        .add_contact(first, Some(&format!("{}@example.com", first.to_lowercase())), None, &[])
        .await;
    let r = c
        .api()
        .patch(
            &c.url(&format!("contacts/{id}")),
            json!({"custom_fields": {"birthday": date}}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn a_birthday_campaign_sends_each_year_once_on_the_day_and_keeps_leap_days() {
    let mut c = camp().await;
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"timezone": "America/Los_Angeles"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r = c
        .api()
        .post(
            &c.url("custom-fields"),
            json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    birthday(&mut c, "Ada", "1980-12-05").await;
    birthday(&mut c, "Bob", "--12-05").await;
    birthday(&mut c, "Cy", "1990-06-01").await;
    birthday(&mut c, "Leap", "1992-02-29").await;
    let id = c
        .campaign(
            json!({"name": "Birthdays", "channel": "email", "template_id": c.template,
                         "schedule": {"kind": "yearly", "field": "birthday", "time": "09:00"}}),
        )
        .await;
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "scheduled");
    // The clock below is fixed; the campaign was scheduled "before" it.
    sqlx::query("UPDATE campaigns SET next_at = '2026-01-01T00:00:00Z'")
        .execute(&c.app.state.db)
        .await
        .unwrap();

    // 08:30 in Los Angeles: not yet.
    yearly_run(&c, "2026-12-05T16:30:00Z").await;
    assert!(c.mail_to().await.is_empty());
    // The Pi was off at 09:00 and is back at 10:05: today's birthdays still go, once —
    // Ada's and Bob's (whose year nobody knows), not Cy's.
    yearly_run(&c, "2026-12-05T18:05:00Z").await;
    let mut to: Vec<String> = c.mail_to().await.into_iter().map(|(t, _)| t).collect();
    to.sort();
    assert_eq!(to, ["ada@example.com", "bob@example.com"]);
    // Another pass the same day, even one forced to look again, sends nothing.
    yearly_run(&c, "2026-12-05T18:30:00Z").await;
    sqlx::query("UPDATE campaigns SET next_at = '2026-01-01T00:00:00Z'")
        .execute(&c.app.state.db)
        .await
        .unwrap();
    yearly_run(&c, "2026-12-05T19:00:00Z").await;
    assert_eq!(c.mail_to().await.len(), 2);
    assert_eq!(c.get(&id).await["status"], "scheduled");

    // 29 February is celebrated on the 28th in a common year — by two runners at once, once.
    let (a, b) = tokio::join!(
        pi_crm::jobs::campaigns::run_at(&c.app.state, at("2027-02-28T18:00:00Z")),
        pi_crm::jobs::campaigns::run_at(&c.app.state, at("2027-02-28T18:00:00Z")),
    );
    a.unwrap();
    b.unwrap();
    c.app.drain_outbox().await;
    let leap: Vec<String> = c
        .mail_to()
        .await
        .into_iter()
        .map(|(t, _)| t)
        .filter(|t| t == "leap@example.com")
        .collect();
    assert_eq!(leap.len(), 1);
    // In a leap year, on the day itself and not the day before.
    yearly_run(&c, "2028-02-28T18:00:00Z").await;
    assert_eq!(c.mail_to().await.len(), 3);
    yearly_run(&c, "2028-02-29T18:00:00Z").await;
    assert_eq!(c.mail_to().await.len(), 4);
    let occurrences = c.log(&id, "", ("occurrence", "name")).await;
    assert_eq!(
        occurrences,
        [
            ("2026".into(), "Ada Test".into()),
            ("2026".into(), "Bob Test".into()),
            ("2027".into(), "Leap Test".into()),
            ("2028".into(), "Leap Test".into())
        ]
    );
}

async fn twilio_fake(c: &Camp) -> MockServer {
    twilio_fake_answering(
        c,
        ResponseTemplate::new(201).set_body_json(json!({
            "sid": "SM0b6e2697aae04182a9f5b5c7a8994c7f", "status": "queued", "num_segments": "1",
            "error_code": null, "to": "+14155550123", "from": "+14155550100"})),
    )
    .await
}

/// A Twilio fake giving `answer` to every text, set as the workspace's provider.
async fn twilio_fake_answering(c: &Camp, answer: ResponseTemplate) -> MockServer {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{TWILIO_SID}/Messages.json")))
        .respond_with(answer)
        .mount(&fake)
        .await;
    let r = c
        .api()
        .client
        .put(c.app.url(&c.url("providers/sms")))
        .json(
            &json!({"kind": "twilio", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
                      "from": "+1 415 555 0100", "api_base": fake.uri(), "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    fake
}

fn texts_to(requests: &[wiremock::Request]) -> Vec<(String, String)> {
    requests
        .iter()
        .map(|r| {
            let form: HashMap<String, String> = form_urlencoded::parse(&r.body).into_owned().collect();
            (form["To"].clone(), form["Body"].clone())
        })
        .collect()
}

#[tokio::test]
async fn marketing_texts_wait_for_quiet_hours_and_the_daily_limit() {
    // 20:30 in the workspace's zone (UTC): quiet from 20:00 to 22:00.
    let mut c = camp_at("2026-12-07T20:30:00Z").await;
    let fake = twilio_fake(&c).await;
    for (i, name) in ["Ann", "Ben", "Cat"].iter().enumerate() {
        c.add_contact(name, None, Some(&format!("+1415555020{i}")), &["past"])
            .await;
    }
    let text = c.text_template("Hi {{ first_name }}, rates fell.").await;
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"timezone": "UTC", "quiet_hours": {"start": "20:00", "end": "22:00"}}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let id = c
        .campaign(json!({"name": "Rates text", "channel": "text", "template_id": text,
                         "segment": {"lists_any": [c.lists["past"]]}}))
        .await;
    assert_eq!(c.act(&id, "schedule").await.status(), 200);
    c.app.drain_campaigns().await;
    c.app.drain_outbox().await;
    assert!(
        fake.received_requests().await.unwrap().is_empty(),
        "nothing leaves in quiet hours"
    );
    let waiting = c.get(&id).await;
    assert_eq!(waiting["status"], "sending");
    assert_eq!(waiting["waiting"]["messages"], 3, "{waiting}");
    assert!(
        waiting["waiting"]["reason"].as_str().unwrap().contains("quiet hours"),
        "{waiting}"
    );
    assert_eq!(waiting["waiting"]["until"], "2026-12-07T22:00:00Z", "{waiting}");
    // Still quiet a minute before the end: nothing goes.
    c.app.clock().set(at("2026-12-07T21:59:00Z"));
    c.app.drain_outbox().await;
    assert!(fake.received_requests().await.unwrap().is_empty());

    // The hours end; a daily limit of 2 lets two go and holds the third until tomorrow.
    let r = c
        .api()
        .patch(&format!("/api/v1/workspaces/{}", c.ws), json!({"daily_text_limit": 2}))
        .await;
    assert_eq!(r.status(), 200);
    c.app.clock().set(at("2026-12-07T22:00:00Z"));
    c.app.drain_outbox().await;
    let sent = texts_to(&fake.received_requests().await.unwrap());
    assert_eq!(sent.len(), 2, "{sent:?}");
    for (_, body) in &sent {
        assert!(body.ends_with("rates fell.\n\nReply STOP to opt out"), "{body:?}");
    }
    let held = c.get(&id).await;
    assert_eq!(held["waiting"]["messages"], 1, "{held}");
    assert!(
        held["waiting"]["reason"].as_str().unwrap().contains("daily limit"),
        "{held}"
    );
    assert_eq!(held["waiting"]["until"], "2026-12-08T00:00:00Z", "{held}");
    assert_eq!(held["stats"]["sent"], 2);
    // The next day, the third goes, and the campaign is done.
    c.app.clock().set(at("2026-12-08T00:00:00Z"));
    c.app.drain_outbox().await;
    assert_eq!(fake.received_requests().await.unwrap().len(), 3);
    assert_eq!(c.get(&id).await["status"], "sent");
}

/// Issue 31 point 5: the daily text limit holds when many texts are in flight at once, and
/// when two outbox pumps (the server's and `pi-crm jobs run outbox`) drain together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_text_limit_holds_under_concurrency() {
    let mut c = camp_at("2026-12-07T12:00:00Z").await;
    // Each text takes Twilio a moment, so many are in flight at once.
    let fake = twilio_fake_answering(
        &c,
        ResponseTemplate::new(201)
            .set_body_json(json!({"sid": "SM0b6e2697aae04182a9f5b5c7a8994c7f", "status": "queued"}))
            .set_delay(std::time::Duration::from_millis(100)),
    )
    .await;
    for i in 0..40 {
        c.add_contact(
            &format!("P{i}"),
            None,
            Some(&format!("+1415555{:04}", 1000 + i)),
            &["past"],
        )
        .await;
    }
    let text = c.text_template("Rates fell.").await;
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"timezone": "UTC", "quiet_hours": {"start": "22:00", "end": "06:00"}, "daily_text_limit": 10}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let id = c
        .campaign(json!({"name": "Rates text", "channel": "text", "template_id": text,
                         "segment": {"lists_any": [c.lists["past"]]}}))
        .await;
    assert_eq!(c.act(&id, "schedule").await.status(), 200);
    c.app.drain_campaigns().await;
    let (a, b) = tokio::join!(
        pi_crm::jobs::outbox::drain(&c.app.state),
        pi_crm::jobs::outbox::drain(&c.app.state)
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(
        fake.received_requests().await.unwrap().len(),
        10,
        "exactly the day's limit went"
    );
    let held = c.get(&id).await;
    assert_eq!(held["waiting"]["messages"], 30, "{held}");
    c.app.stop().await;
}

#[tokio::test]
async fn quiet_hours_and_the_daily_limit_with_a_fixed_clock() {
    let c = camp().await;
    let r = c
        .api()
        .patch(
            &format!("/api/v1/workspaces/{}", c.ws),
            json!({"timezone": "America/Los_Angeles", "quiet_hours": {"start": "21:00", "end": "08:00"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let andy = c.app.user_by_email("andy@example.com").await;
    let actor = pi_crm::domain::actor::Actor::person(andy.id.clone(), pi_crm::domain::actor::Via::Cli);
    let ws = pi_crm::domain::workspace::resolve(
        &c.app.state.db,
        &actor,
        &pi_crm::domain::ids::WorkspaceId::parse(&c.ws).unwrap(),
    )
    .await
    .unwrap();
    let hold = |when: &'static str| {
        let (state, ws) = (c.app.state.clone(), ws.clone());
        async move {
            pi_crm::domain::campaign::texts::text_hold(&state, &ws, "ffffffff-ffff-7fff-bfff-ffffffffffff", at(when))
                .await
                .unwrap()
        }
    };
    // 21:30 PST: held until 08:00 PST (16:00 UTC), with the reason.
    let (until, why) = hold("2026-12-06T05:30:00Z").await.expect("quiet");
    assert_eq!(until, at("2026-12-06T16:00:00Z"));
    assert!(why.contains("quiet hours (21:00–08:00)"), "{why}");
    // 07:59 PDT in summer (UTC−7): held until 08:00 PDT.
    let (until, _) = hold("2026-07-06T14:59:00Z").await.expect("quiet");
    assert_eq!(until, at("2026-07-06T15:00:00Z"));
    // 09:00 PST: it may go.
    assert!(hold("2026-12-06T17:00:00Z").await.is_none());
    // A limit of 0: every marketing text waits for the next day's midnight (then quiet hours).
    let r = c
        .api()
        .patch(&format!("/api/v1/workspaces/{}", c.ws), json!({"daily_text_limit": 0}))
        .await;
    assert_eq!(r.status(), 200);
    let (until, why) = hold("2026-12-06T17:00:00Z").await.expect("over the limit");
    assert_eq!(until, at("2026-12-07T08:00:00Z"), "midnight PST");
    assert!(why.contains("daily limit of 0"), "{why}");
}

#[tokio::test]
async fn campaigns_are_isolated_scoped_and_refuse_graph() {
    let mut c = camp().await;
    people(&mut c).await;
    let id = c.campaign(past_clients(&c)).await;
    // Monalisa has her own workspace; Andy's campaign is a 404 to her, on every route.
    let mona = c.app.create_user("mona@example.com", "Monalisa").await;
    let mona_ws = c.app.workspace(&mona, "Mine").await;
    let mona_key = c.app.key(&mona, SCOPES, None).await;
    let theirs = c.app.api(&mona_key);
    let base = c.url(&format!("campaigns/{id}"));
    assert_eq!(theirs.get(&base).await.status(), 404);
    assert_eq!(theirs.patch(&base, json!({"name": "x"})).await.status(), 404);
    assert_eq!(theirs.delete(&base).await.status(), 404);
    for action in ["submit", "approve", "reject", "schedule", "pause", "resume", "cancel"] {
        let r = theirs
            .post(&format!("{base}/{action}"), json!({"decided_by": "x"}))
            .await;
        assert_eq!(r.status(), 404, "{action}");
    }
    assert_eq!(theirs.get(&format!("{base}/recipients")).await.status(), 404);
    assert_eq!(theirs.get(&format!("{base}/preview")).await.status(), 404);
    // Her workspace with Andy's campaign id: still nothing.
    let crossed = format!("/api/v1/workspaces/{mona_ws}/campaigns/{id}");
    assert_eq!(theirs.get(&crossed).await.status(), 404);
    assert_eq!(
        theirs.post(&format!("{crossed}/schedule"), json!({})).await.status(),
        404
    );

    // Scopes: reading needs read:campaigns, changing write:campaigns, sending send:messages.
    let andy = c.app.user_by_email("andy@example.com").await;
    let reader = c.app.key(&andy, &["read:campaigns"], None).await;
    assert_eq!(c.app.api(&reader).get(&base).await.status(), 200);
    assert_eq!(
        c.app.api(&reader).patch(&base, json!({"name": "x"})).await.status(),
        403
    );
    let writer = c
        .app
        .key(&andy, &["read:campaigns", "write:campaigns", "read:templates"], None)
        .await;
    assert_eq!(
        c.app
            .api(&writer)
            .post(&format!("{base}/schedule"), json!({}))
            .await
            .status(),
        403
    );
    let no_read = c.app.key(&andy, &["read:contacts"], None).await;
    assert_eq!(c.app.api(&no_read).get(&c.url("campaigns")).await.status(), 403);

    // Preview for a chosen recipient, with the footer marketing carries.
    let preview: Value = c
        .api()
        .get(&format!("{base}/preview?contact_id={}", c.contacts["Bob"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["subject"], "Rates for Bob");
    assert!(preview["body_html"].as_str().unwrap().contains("Unsubscribe</a>"));
    let r = c.api().get(&format!("{base}/preview?contact_id=nobody")).await;
    assert_eq!(r.status(), 422);

    // Microsoft Graph cannot carry List-Unsubscribe: campaigns are refused with the reason.
    let r = c
        .api()
        .client
        .put(c.app.url(&c.url("providers/email")))
        .json(
            &json!({"kind": "graph", "tenant_id": "tenant-1234", "client_id": "client-5678",
                      "client_secret": "graph-secret-~123", "sender": "andy@lee-family.example",
                      "from": "andy@lee-family.example", "api_base": "http://127.0.0.1:9",
                      "login_base": "http://127.0.0.1:9", "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "provider_unsuitable");
    assert!(body["error"]["message"].as_str().unwrap().contains("List-Unsubscribe"));
    assert_eq!(
        c.get(&id).await["status"],
        "draft",
        "a refused schedule changes nothing"
    );
}

#[tokio::test]
async fn ai_workflows_draft_a_campaign_and_request_approval() {
    let mut c = camp().await;
    people(&mut c).await;
    require_approval(&c).await;
    let andy = c.app.user_by_email("andy@example.com").await;
    let mut scopes = SCOPES.to_vec();
    scopes.push("execute:ai-workflow");
    c.key = c.app.key(&andy, &scopes, None).await;
    let body = json!({"action": "draft_campaign", "template_id": c.template, "goal": "tell past clients rates fell"});
    // Without an AI provider it says so.
    let r = c.api().post(&c.url("ai/workflows"), body.clone()).await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "ai_not_configured");

    let fake = MockServer::start().await;
    let answer = json!({"name": "Rates fell: past clients", "lists_any": ["past clients", "VIPs nobody made"]});
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": answer.to_string()}}],
            "usage": {"prompt_tokens": 90, "completion_tokens": 20, "total_tokens": 110}})))
        .mount(&fake)
        .await;
    let r = c
        .api()
        .client
        .put(c.app.url(&c.url("providers/ai")))
        .json(&json!({"kind": "openai", "base_url": format!("{}/v1", fake.uri()), "model": "test-model"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = c.api().post(&c.url("ai/workflows"), body).await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let drafted: Value = r.json().await.unwrap();
    assert_eq!(drafted["name"], "Rates fell: past clients");
    assert_eq!(drafted["status"], "draft");
    // Only the list that exists; the made-up one is dropped, never created.
    assert_eq!(drafted["segment"]["lists_any"], json!([c.lists["past"]]));
    assert_eq!(c.app.count("SELECT count(*) FROM contact_lists").await, 2);
    // The prompt carried list names and the goal, no contact's data.
    let prompt = String::from_utf8_lossy(&fake.received_requests().await.unwrap()[0].body).to_string();
    assert!(prompt.contains("Past clients") && prompt.contains("rates fell"));
    assert!(!prompt.contains("ada@example.com") && !prompt.contains("Ada"));

    let id = drafted["id"].as_str().unwrap();
    let r = c
        .api()
        .post(
            &c.url("ai/workflows"),
            json!({"action": "request_approval", "campaign_id": id}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "pending_approval");
    assert_eq!(review_emails(&c).await.len(), 1);
    let r = c
        .api()
        .post(&c.url("ai/workflows"), json!({"action": "launch_rockets"}))
        .await;
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn a_campaign_that_cannot_send_says_why_and_goes_once_it_can() {
    let mut c = camp().await;
    let r = c
        .api()
        .post(
            &c.url("custom-fields"),
            json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    birthday(&mut c, "Ada", "--12-05").await;
    let id = c
        .campaign(
            json!({"name": "Birthdays", "channel": "email", "template_id": c.template,
                         "schedule": {"kind": "yearly", "field": "birthday", "time": "09:00"}}),
        )
        .await;
    assert_eq!(c.act(&id, "schedule").await.status(), 200);
    // The email provider is removed after scheduling: the day comes and nothing can go.
    let r = c.api().delete(&c.url("providers/email")).await;
    assert_eq!(r.status(), 204);
    sqlx::query("UPDATE campaigns SET next_at = '2026-01-01T00:00:00Z'")
        .execute(&c.app.state.db)
        .await
        .unwrap();
    yearly_run(&c, "2026-12-05T18:00:00Z").await;
    let stuck = c.get(&id).await;
    assert!(
        stuck["problem"].as_str().unwrap().contains("no email provider"),
        "{stuck}"
    );
    assert_eq!(stuck["stats"]["queued"], 1, "Ada waits, resolved but not queued");
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{}/campaigns/{id}", c.ws)).await;
    assert!(page.body.contains("It cannot send right now"), "{}", page.body);
    // The provider is back: the next pass sends, and the problem is gone.
    let r = c
        .api()
        .client
        .put(c.app.url(&c.url("providers/email")))
        .json(
            &json!({"kind": "mailgun", "domain": "mg.example.com", "api_key": MAILGUN_KEY,
                      "webhook_signing_key": SIGNING_KEY, "from": "Andy Lee <andy@mg.example.com>",
                      "api_base": c.mailgun.uri(), "per_minute": 0}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    yearly_run(&c, "2026-12-05T18:01:00Z").await;
    let fine = c.get(&id).await;
    assert_eq!(fine["problem"], Value::Null, "{fine}");
    assert_eq!(fine["stats"]["sent"], 1);
    assert_eq!(c.mail_to().await.len(), 1);
}

/// The reviewer's email goes through the outbox (issue 29): the approval row and its email
/// commit together, so a submission's link always names a real approval; when the provider
/// refuses the email, the submission stands and says why on the campaign, and submitting again
/// sends a new link that works (the old one does not).
#[tokio::test]
async fn the_reviewers_email_is_queued_with_its_approval_and_a_refusal_shows_on_the_campaign() {
    let mut c = camp().await;
    let id = reviewed_draft(&mut c).await;
    // Mailgun refuses everything for now (a wrong key): nothing is retried, nothing lost.
    c.mailgun.reset().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Forbidden"))
        .mount(&c.mailgun)
        .await;
    let r = c.act(&id, "submit").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let submitted: Value = r.json().await.unwrap();
    assert_eq!(submitted["approval"]["status"], "pending");
    // Every review email in the outbox names an approval row of its workspace.
    let orphans = c
        .app
        .count(
            "SELECT count(*) FROM outbox o WHERE o.purpose = 'review' AND NOT EXISTS
               (SELECT 1 FROM campaign_approvals a WHERE a.id = o.approval_id AND a.workspace_id = o.workspace_id)",
        )
        .await;
    assert_eq!(orphans, 0);
    assert_eq!(
        c.app
            .count("SELECT count(*) FROM outbox WHERE purpose = 'review'")
            .await,
        1
    );
    c.app.drain_outbox().await;
    let shown = c.get(&id).await;
    assert_eq!(shown["approval"]["email"], "failed", "{shown}");
    let why = shown["approval"]["email_error"].as_str().unwrap().to_string();
    assert!(
        why.contains("401") || why.to_lowercase().contains("forbidden") || why.contains("key"),
        "{why}"
    );
    // Nothing reached anyone's timeline: a review email is no contact's message.
    assert_eq!(
        c.app
            .count("SELECT count(*) FROM communication_logs WHERE type = 'email'")
            .await,
        0
    );
    // The campaign page says so, and how to go on.
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{}/campaigns/{id}", c.ws)).await;
    assert!(
        page.body.contains("The email with the link could not be sent") && page.body.contains("sends a new one"),
        "{}",
        page.body
    );

    // Mailgun takes mail again: a second submission sends a new link.
    c.mailgun.reset().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("review.2@mg.example.com"))
        .mount(&c.mailgun)
        .await;
    let r = c.act(&id, "submit").await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let emails = review_emails(&c).await;
    assert_eq!(emails.len(), 1, "one review email reached the provider");
    assert_eq!(c.get(&id).await["approval"]["email"], "sent");
    let token = review_token(&emails[0]);
    let page = review_page(&c, &token).await;
    assert_eq!(page.status(), 200);
    c.app.stop().await;
}

/// Links for outsiders come from `public_url` only (issue 30, point 3): without one, submitting
/// for review and scheduling an email campaign answer 409 `public_url_required` and nothing is
/// queued, and the page says so before the button. With one, a request's
/// own `Host` (which the person submitting controls) never makes the reviewer's link.
#[tokio::test]
async fn links_for_outsiders_come_from_public_url_only() {
    let mut c = camp_with(|cfg| cfg.public_url = None).await;
    people(&mut c).await;
    let id = c.campaign(past_clients(&c)).await;
    let r = c.act(&id, "schedule").await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "public_url_required", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("public_url"),
        "{body}"
    );
    require_approval(&c).await;
    let r = c.act(&id, "submit").await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "public_url_required");
    assert_eq!(
        c.app.count("SELECT count(*) FROM outbox").await,
        0,
        "nothing was queued"
    );
    assert_eq!(c.app.count("SELECT count(*) FROM campaign_approvals").await, 0);
    assert_eq!(c.get(&id).await["status"], "draft");
    let b = c.app.browser();
    b.login("andy@example.com", crate::common::PASSWORD).await;
    let page = b.get(&format!("/workspaces/{}/campaigns/{id}", c.ws)).await;
    assert!(page.body.contains("id=\"public-url-needed\""), "{}", page.body);
    c.app.stop().await;

    // With a public address, a spoofed Host changes nothing in the reviewer's link.
    let mut c = camp().await;
    let id = reviewed_draft(&mut c).await;
    let r = c
        .api()
        .client
        .post(c.app.url(&c.url(&format!("campaigns/{id}/submit"))))
        .header("host", "attacker.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let emails = review_emails(&c).await;
    let text = multipart_field(&emails[0], "text").unwrap();
    assert!(text.contains("https://crm.example.com/review/"), "{text}");
    assert!(!text.contains("attacker.example"), "{text}");
    c.app.stop().await;
}

/// `ada@example.com` from `"Ada Lovelace" <ada@example.com>` (the `To:` names the contact).
pub fn bare_address(to: &str) -> String {
    match (to.rfind('<'), to.rfind('>')) {
        (Some(start), Some(end)) if start < end => to[start + 1..end].to_string(),
        _ => to.to_string(),
    }
}

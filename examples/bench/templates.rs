//! Templates (issue 15, for SPEC §14's campaign fan-out): one email template with a custom
//! field, a default filter and an HTML body, filled in for 10,000 contacts — the contacts read
//! from the database 200 at a time (the API's page) as a campaign's fan-out will, each rendered (HTML
//! escaped, preheader, plain-text part derived). In process: this is the renderer's cost,
//! not the server's.

use std::time::Instant;

use pi_crm::config::Config;
use pi_crm::domain::actor::{Actor, Via};
use pi_crm::domain::messaging::Channel;
use pi_crm::domain::search;
use pi_crm::domain::template;
use pi_crm::domain::template::render::{self, Sender, Source};
use pi_crm::domain::{contact, field_definition, user, workspace};
use serde_json::json;

const CONTACTS: usize = 10_000;

pub fn run(_binary: &std::path::Path) {
    let rt = super::runtime();
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    rt.block_on(async {
        let state = pi_crm::app::open_state(config).await.unwrap();
        let db = &state.db;
        let owner = user::create(db, None, Via::Cli, "bench@example.com", "Bench", super::PASSWORD)
            .await
            .unwrap();
        let actor = Actor::person(owner.id.clone(), Via::Cli);
        let ws = workspace::create(db, &actor, "Campaigns").await.unwrap();
        let def: pi_crm::api::shapes::fields::DefinitionInput =
            serde_json::from_value(json!({"field_name": "birthday", "label": "Birthday", "field_type": "date"})).unwrap();
        field_definition::create(db, &actor, field_definition::Home::Workspace(&ws), "US", def.into())
            .await
            .unwrap();
        for i in 0..CONTACTS {
            let input: pi_crm::api::shapes::contacts::ContactInput = serde_json::from_value(json!({
                "first_name": if i % 10 == 0 { String::new() } else { format!("Borrower {i}") },
                "last_name": "O'Brien & <Sons>",
                "primary_email": format!("b{i}@example.com"),
                "company": "Acme Lending",
                "custom_fields": {"birthday": format!("--{:02}-{:02}", i % 12 + 1, i % 28 + 1)}}))
            .unwrap();
            contact::create(db, &actor, &ws, "US", input.into()).await.unwrap();
        }
        let fields = field_definition::applicable(db, &ws).await.unwrap();
        let body = "<html><body><p>Hi {{ first_name | default(\"there\") }},</p>\
            <p>Happy early birthday ({{ custom.birthday }}) from all of us at {{ workspace.name }}!</p>\
            <p>Rates fell this week. Shall we look at {{ company | default(\"your\") }}'s numbers?</p>\
            <p>{{ sender.name }}<br>{{ sender.email }}</p>\
            <p style=\"font-size:12px\"><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p></body></html>";
        let source = Source {
            channel: Channel::Email,
            subject: "{{ first_name | default(\"Hello\") }}, rates fell",
            preheader: "News for {{ full_name }}",
            body,
        };
        let compiled = template::verify(&source, &fields).unwrap();
        let sender = Sender {
            name: "Andy Lee".into(),
            email: "andy@example.com".into(),
        };

        let started = Instant::now();
        let mut rendered = 0usize;
        let mut bytes = 0usize;
        let mut render_time = std::time::Duration::ZERO;
        let mut cursor: Option<String> = None;
        loop {
            let mut params: search::Params = vec![("limit".into(), "200".into())];
            if let Some(c) = &cursor {
                params.push(("cursor".into(), c.clone()));
            }
            let (page, _) = search::search(db, &actor, &ws, "US", &params).await.unwrap();
            let t = Instant::now();
            for c in &page.items {
                let ctx = render::context(c, &fields, &sender, ws.name(), Some("https://crm.example/u/token"));
                let r = compiled.render(&ctx).unwrap();
                bytes += r.body_html.as_ref().map_or(0, String::len) + r.body_text.len();
                rendered += 1;
            }
            render_time += t.elapsed();
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let total = started.elapsed();
        assert_eq!(rendered, CONTACTS);
        println!(
            "template filled in for {CONTACTS} contacts: {:.0} ms in all (read + render), {:.0} ms rendering ({:.0} µs each, {:.1} MB out)",
            total.as_secs_f64() * 1000.0,
            render_time.as_secs_f64() * 1000.0,
            render_time.as_secs_f64() * 1e6 / CONTACTS as f64,
            bytes as f64 / 1e6
        );
        state.db.close().await;
    });
}

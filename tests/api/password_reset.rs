//! Forgotten passwords (issue 34): "Forgot password?" emails a one-time link through the
//! person's first workspace with an email provider and answers the same for any address; the
//! link works once, for an hour, and ends every session; an inviter can make one for the
//! person they brought in, and nobody else can.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::{PASSWORD, TestApp};
use crate::messaging::{mailgun, mailgun_accepts, multipart_field, setup_with};

fn token_in(text: &str) -> String {
    let at = text.find("/reset/").expect("the email has the link") + "/reset/".len();
    text[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect()
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_an_emailed_link_once() {
    let s = setup_with(|c| c.public_url = Some("https://crm.lee-family.example".into())).await;
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261207.1.RESET@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    // Andy is signed in on his laptop.
    let laptop = s.app.browser();
    laptop.login("andy@example.com", PASSWORD).await;
    assert_eq!(laptop.get("/").await.status, 200);

    let phone = s.app.browser();
    let login = phone.get("/login").await;
    assert!(login.body.contains("href=\"/forgot\""), "{}", login.body);
    let asked = phone
        .submit("/forgot", "/forgot", &[("email", "Andy@Example.com")])
        .await;
    assert_eq!(asked.status, 200);
    let nobody = phone
        .submit("/forgot", "/forgot", &[("email", "nobody@example.com")])
        .await;
    // The same sentence for an account and for no account.
    let sentence = |body: &str, email: &str| {
        let start = body.find("id=\"forgot-sent\">").expect("a sentence") + 17;
        body[start..].split('<').next().unwrap().replace(email, "…")
    };
    assert_eq!(
        sentence(&asked.body, "Andy@Example.com"),
        sentence(&nobody.body, "nobody@example.com")
    );
    assert!(sentence(&asked.body, "x").contains("a link to choose a new password is on its way"));
    let bad = phone.submit("/forgot", "/forgot", &[("email", "not an email")]).await;
    assert_eq!(bad.status, 422);

    // One email, to Andy, through his workspace's Mailgun; nobody else's.
    assert_eq!(
        s.app
            .count("SELECT COUNT(*) FROM outbox WHERE purpose = 'account'")
            .await,
        1
    );
    s.app.drain_outbox().await;
    let sent = fake.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    let body = String::from_utf8_lossy(&sent[0].body).to_string();
    assert_eq!(multipart_field(&body, "to").unwrap(), "andy@example.com");
    assert_eq!(multipart_field(&body, "subject").unwrap(), "Reset your pi-crm password");
    let text = multipart_field(&body, "text").unwrap();
    assert!(text.contains("https://crm.lee-family.example/reset/"), "{text}");
    let token = token_in(&text);
    assert_eq!(token.len(), 64);
    // Only its hash is kept.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_all(&s.app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, [pi_crm::auth::tokens::sha256_hex(&token)]);

    // Opening the link changes nothing; a short password is refused and the link still works.
    let link = format!("/reset/{token}");
    let page = phone.get(&link).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("andy@example.com"));
    let short = phone.submit(&link, &link, &[("password", "short")]).await;
    assert_eq!(short.status, 422);
    let done = phone
        .submit(&link, &link, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/login"));
    // Every session ended: the laptop is signed out.
    assert_eq!(laptop.get("/").await.status, 303);
    // Once only.
    assert_eq!(phone.get(&link).await.status, 404);
    let again = phone
        .submit("/login", &link, &[("password", "another new passphrase")])
        .await;
    assert_eq!(again.status, 404);
    // The new password works, the old one no longer does.
    let fresh = s.app.browser();
    fresh.login("andy@example.com", "a brand new passphrase").await;
    let old = s.app.browser();
    let r = old
        .submit(
            "/login",
            "/login",
            &[("email", "andy@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 401);

    // Asked for over and over: three emails in an hour at most, the same answer every time.
    for _ in 0..5 {
        let again = phone
            .submit("/forgot", "/forgot", &[("email", "andy@example.com")])
            .await;
        assert_eq!(again.status, 200);
    }
    assert_eq!(
        s.app
            .count("SELECT COUNT(*) FROM outbox WHERE purpose = 'account'")
            .await,
        3
    );
    // A newer link ends the older ones.
    assert_eq!(
        s.app
            .count("SELECT COUNT(*) FROM password_resets WHERE used_at IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn without_a_public_address_nothing_is_emailed_and_the_page_says_what_to_do() {
    let app = TestApp::spawn().await;
    app.create_user("andy@example.com", "Andy").await;
    let b = app.browser();
    let r = b.submit("/forgot", "/forgot", &[("email", "andy@example.com")]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("it has no public address yet"), "{}", r.body);
    assert!(r.body.contains("Settings → People"));
    assert_eq!(app.count("SELECT COUNT(*) FROM password_resets").await, 0);
}

/// Andy invited Monalisa: he can make her a reset link (one hour, by the app's clock); she
/// cannot make one for him, nor can anyone for a person they did not invite.
#[tokio::test]
async fn an_inviter_makes_a_reset_link_for_the_person_they_brought_in() {
    let app = TestApp::spawn_at("2026-12-07T09:00:00Z", |_| {}).await;
    let (andy_user, andy) = app.user_browser("andy@example.com").await;
    let actor = pi_crm::domain::actor::Actor::person(andy_user.id.clone(), pi_crm::domain::actor::Via::Ui);
    let made = pi_crm::domain::invite::create(&app.state.db, &actor, "mona@example.com", None)
        .await
        .unwrap();
    let mona_user = pi_crm::domain::invite::accept(&app.state.db, &made.token, "Monalisa", "her own passphrase")
        .await
        .unwrap();
    let mona = app.browser();
    mona.login("mona@example.com", "her own passphrase").await;
    let (_, stranger) = app.user_browser("stranger@example.com").await;

    let people = andy.get("/settings/people").await;
    assert!(
        people.body.contains("Make a reset link for Monalisa"),
        "{}",
        people.body
    );
    let action = format!("/settings/people/{}/reset-link", mona_user.id);
    let r = andy.submit("/settings/people", &action, &[]).await;
    assert_eq!(r.status, 200);
    let marker = "id=\"reset-link-value\" value=\"";
    let start = r.body.find(marker).expect("the link is shown") + marker.len();
    let link = r.body[start..].split('"').next().unwrap().to_string();
    assert!(link.starts_with("/reset/"), "no public address: the path, {link}");
    assert!(r.body.contains("data-copy=\"reset-link-value\""), "a copy button");
    // Nobody else may make one for her, or for Andy.
    let r = stranger.submit("/settings/people", &action, &[]).await;
    assert_eq!(r.status, 404);
    let r = mona
        .submit(
            "/settings/people",
            &format!("/settings/people/{}/reset-link", andy_user.id),
            &[],
        )
        .await;
    assert_eq!(r.status, 404);
    // Without a CSRF token: refused.
    assert_eq!(andy.post_raw(&action, &[]).await.status, 403);

    // An hour and a minute later it no longer works.
    app.clock().set("2026-12-07T10:01:00Z".parse().unwrap());
    assert_eq!(mona.get(&link).await.status, 404);
    app.clock().set("2026-12-07T09:30:00Z".parse().unwrap());
    let r = mona
        .submit(&link, &link, &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(r.status, 303);
    // Her own session ended with the reset, as every other would.
    assert_eq!(mona.get("/").await.status, 303);
    let audit: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_logs WHERE action LIKE 'user.password_reset%' ORDER BY id")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(audit, ["user.password_reset_link", "user.password_reset"]);
}

/// An invite can be emailed as well as copied (issue 34): through the inviter's workspace's
/// email provider, with the link under the public address; without a provider the page says
/// so and the link is still there to copy.
#[tokio::test]
async fn an_invite_is_emailed_when_asked_and_still_shown_to_copy() {
    let s = setup_with(|c| c.public_url = Some("https://crm.lee-family.example".into())).await;
    let andy = s.app.browser();
    andy.login("andy@example.com", PASSWORD).await;
    // No provider yet: not emailed, said why, the link still there.
    let r = andy
        .submit(
            "/settings/people",
            "/settings/people",
            &[("email", "mona@example.com"), ("send", "1")],
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains("Not emailed: none of your workspaces has an email provider yet"),
        "{}",
        r.body
    );
    assert!(r.body.contains("data-copy=\"invite-link-value\""));
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v3/mg.example.com/messages"))
        .respond_with(mailgun_accepts("20261207.2.INVITE@mg.example.com"))
        .mount(&fake)
        .await;
    mailgun(&s, &fake).await;
    let r = andy
        .submit(
            "/settings/people",
            "/settings/people",
            &[("email", "mona@example.com"), ("send", "1")],
        )
        .await;
    assert!(
        r.body.contains("The invite is on its way to mona@example.com."),
        "{}",
        r.body
    );
    s.app.drain_outbox().await;
    let sent = fake.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    let body = String::from_utf8_lossy(&sent[0].body).to_string();
    assert_eq!(multipart_field(&body, "to").unwrap(), "mona@example.com");
    let text = multipart_field(&body, "text").unwrap();
    assert!(text.contains("https://crm.lee-family.example/invite/"), "{text}");
    // The emailed link is the one shown (the newest invite; the first was revoked by it).
    let shown_start =
        r.body.find("id=\"invite-link-value\" value=\"").unwrap() + "id=\"invite-link-value\" value=\"".len();
    let shown = r.body[shown_start..].split('"').next().unwrap();
    assert!(text.contains(shown), "{shown} in {text}");
}

use crate::common::{PASSWORD, TestApp};

#[tokio::test]
async fn api_keys_are_rate_limited_per_key_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 5).await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let first = app.api(&app.key(&andy, &["read:contacts"], None).await);
    let second = app.api(&app.key(&andy, &["read:contacts"], None).await);
    for _ in 0..5 {
        assert_eq!(first.get("/api/v1/workspaces").await.status(), 200);
    }
    let r = first.get("/api/v1/workspaces").await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        second.get("/api/v1/workspaces").await.status(),
        200,
        "each key has its own budget"
    );
    // Static assets are exempt.
    assert_eq!(
        app.anonymous()
            .get(app.url("/assets/app.css"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn anonymous_requests_are_limited_per_ip_and_only_trusted_proxies_set_it() {
    let app = TestApp::spawn_with(|c| c.rate_limit_per_minute = 3).await;
    let anon = app.anonymous();
    for _ in 0..3 {
        assert_eq!(anon.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    }
    // X-Forwarded-For is ignored without a trusted proxy: a spoofed header changes nothing.
    let spoofed = anon
        .get(app.url("/healthz"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), 429);
    assert!(spoofed.headers().get("retry-after").is_some());

    let proxied = TestApp::spawn_with(|c| {
        c.rate_limit_per_minute = 2;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let send = |ip: &'static str| {
        let anon = proxied.anonymous();
        let url = proxied.url("/healthz");
        async move {
            anon.get(url)
                .header("x-forwarded-for", ip)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(send("198.51.100.1").await, 200);
    assert_eq!(send("198.51.100.1").await, 200);
    assert_eq!(send("198.51.100.1").await, 429);
    assert_eq!(
        send("198.51.100.2").await,
        200,
        "another client behind the proxy has its own budget"
    );
}

#[tokio::test]
async fn login_is_throttled_per_account_after_a_burst() {
    let app = TestApp::spawn_with(|c| {
        c.login_burst = 3;
        c.login_attempts_per_hour = 20;
    })
    .await;
    app.create_user("andy@example.com", "Andy").await;
    let b = app.browser();
    for _ in 0..3 {
        let p = b
            .submit(
                "/login",
                "/login",
                &[("email", "andy@example.com"), ("password", "wrong password")],
            )
            .await;
        assert_eq!(p.status, 401);
    }
    let p = b
        .submit(
            "/login",
            "/login",
            &[("email", "andy@example.com"), ("password", "wrong password")],
        )
        .await;
    assert_eq!(p.status, 429);
    assert!(p.body.contains("Too many sign-in attempts"));
    assert!(p.headers.get("retry-after").is_some());
    // Even the right password waits: the account is under attack.
    let p = b
        .submit(
            "/login",
            "/login",
            &[("email", "andy@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(p.status, 429);
    // Another account is not affected (the per-IP budget is larger than one account's).
    app.create_user("mona@example.com", "Mona").await;
    b.login("mona@example.com", PASSWORD).await;
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_budget() {
    let app = TestApp::spawn_with(|c| {
        c.login_burst = 2;
        c.login_attempts_per_hour = 1;
    })
    .await;
    app.create_user("andy@example.com", "Andy").await;
    for _ in 0..5 {
        app.browser().login("andy@example.com", PASSWORD).await;
    }
}

#[tokio::test]
async fn a_guesser_locks_only_their_own_address_out_of_an_account() {
    // Behind a trusted proxy, so each request can come from its own address.
    let app = TestApp::spawn_with(|c| {
        c.login_burst = 3;
        c.login_attempts_per_hour = 20;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.create_user("andy@example.com", "Andy").await;
    let attempt = |from: &'static str, password: &'static str| {
        let b = app.browser();
        async move { sign_in_from(&b, from, password).await }
    };
    for _ in 0..3 {
        assert_eq!(attempt("203.0.113.9", "wrong password").await, 401);
    }
    assert_eq!(attempt("203.0.113.9", "wrong password").await, 429);
    assert_eq!(
        attempt("203.0.113.9", PASSWORD).await,
        429,
        "the guesser's address waits"
    );
    assert_eq!(
        attempt("198.51.100.7", PASSWORD).await,
        303,
        "the owner, elsewhere, signs in"
    );

    // Guesses spread over many addresses run into the account's own budget (ten addresses'
    // worth), and then every address waits.
    let sources = [
        "203.0.113.10",
        "203.0.113.11",
        "203.0.113.12",
        "203.0.113.13",
        "203.0.113.14",
        "203.0.113.15",
        "203.0.113.16",
        "203.0.113.17",
        "203.0.113.18",
        "203.0.113.19",
    ];
    let mut refused = 0;
    for from in sources {
        for _ in 0..3 {
            if attempt(from, "wrong password").await == 429 {
                refused += 1;
            }
        }
    }
    assert!(refused >= 3, "the account's budget ran out ({refused} refused)");
    assert_eq!(attempt("198.51.100.8", "wrong password").await, 429);
}

/// Signs in through `b`'s own cookie jar as `from` (behind a trusted proxy): the status.
async fn sign_in_from(b: &crate::common::Browser, from: &str, password: &str) -> u16 {
    let token = b.get("/login").await.csrf();
    b.client
        .post(format!("{}/login", b.base))
        .header("x-forwarded-for", from)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "andy@example.com"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Issue 31 point 6: an IPv6 /64 is one source, so a guesser cannot spread over the
/// addresses of one home or phone to spend the account's budget.
#[tokio::test]
async fn guesses_from_one_ipv6_slash_64_are_one_source() {
    let app = TestApp::spawn_with(|c| {
        c.login_burst = 3;
        c.login_attempts_per_hour = 20;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.create_user("andy@example.com", "Andy").await;
    let mut refused = 0;
    for i in 1..=40 {
        let from = format!("2001:db8:1:2::{i:x}");
        if sign_in_from(&app.browser(), &from, "wrong password").await == 429 {
            refused += 1;
        }
    }
    assert_eq!(refused, 37, "three guesses, then the whole /64 waits");
    assert_eq!(
        sign_in_from(&app.browser(), "198.51.100.7", PASSWORD).await,
        303,
        "the owner is not locked out"
    );
    app.stop().await;
}

/// Issue 31 point 6: guesses from many sources spend the account's budget; the owner still
/// signs in from the browser they used before, or (a few times an hour) from a source with no
/// failures — and there a wrong password is answered as throttled, so it tells a guesser
/// nothing. The guessers' sources stay throttled.
#[tokio::test]
async fn the_owner_gets_past_a_spent_account_budget_and_the_guessers_do_not() {
    let app = TestApp::spawn_with(|c| {
        c.login_burst = 3;
        c.login_attempts_per_hour = 20;
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    app.create_user("andy@example.com", "Andy").await;
    let laptop = app.browser();
    assert_eq!(sign_in_from(&laptop, "198.51.100.7", PASSWORD).await, 303);
    // Signed out again: the session ends, the browser is still one that signed in before.
    assert_eq!(laptop.submit("/settings", "/logout", &[]).await.status, 303);
    // A botnet: ten addresses, three guesses each, spend the account's budget.
    for n in 10..20 {
        for _ in 0..3 {
            assert_eq!(
                sign_in_from(&app.browser(), &format!("203.0.113.{n}"), "wrong password").await,
                401
            );
        }
    }
    assert_eq!(
        sign_in_from(&app.browser(), "203.0.113.50", "wrong password").await,
        429,
        "a fresh guesser's wrong password reads as throttled"
    );
    assert_eq!(
        sign_in_from(&app.browser(), "203.0.113.10", PASSWORD).await,
        429,
        "a guessing source waits, right password or not"
    );
    // The owner's laptop, from the coffee shop's address: in.
    assert_eq!(sign_in_from(&laptop, "192.0.2.99", PASSWORD).await, 303);
    // A new phone at home, whose address never failed: in.
    assert_eq!(sign_in_from(&app.browser(), "198.51.100.8", PASSWORD).await, 303);
    app.stop().await;
}

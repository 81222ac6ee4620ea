use serde_json::Value;

use crate::common::TestApp;

#[tokio::test]
async fn healthz_answers_without_auth() {
    let app = TestApp::spawn().await;
    let r = app.anonymous().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "db": "ok", "last_backup": null}),
        "no backup yet"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    for path in [
        "/login",
        "/healthz",
        "/api/v1/workspaces",
        "/nowhere",
        "/assets/app.css",
    ] {
        let r = app.anonymous().get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("CSP on {path}"))
            .to_str()
            .unwrap();
        for part in [
            "script-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
        assert!(h.get("referrer-policy").is_some());
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain http");
    }
}

#[tokio::test]
async fn api_errors_are_json_with_the_right_status() {
    let app = TestApp::spawn().await;
    let andy = app.create_user("andy@example.com", "Andy").await;
    let key = app.key(&andy, &["manage:workspaces"], None).await;
    let client = app.anonymous();
    let url = app.url("/api/v1/workspaces");

    let malformed = client
        .post(&url)
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let wrong_type = client
        .post(&url)
        .header("x-api-key", &key)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_type.status(), 415);
    let wrong_shape = client
        .post(&url)
        .header("x-api-key", &key)
        .json(&serde_json::json!({"name": 42}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_shape.status(), 422);
    let huge = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let too_big = client
        .post(&url)
        .header("x-api-key", &key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let unknown = client
        .get(app.url("/api/v1/nothing-here"))
        .header("x-api-key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let method = client.put(&url).header("x-api-key", &key).send().await.unwrap();
    assert_eq!(method.status(), 405);

    for r in [malformed, wrong_type, wrong_shape, too_big, unknown, method] {
        let status = r.status();
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{status}"
        );
        let body: Value = r.json().await.unwrap();
        assert!(body["error"]["code"].is_string(), "{status}: {body}");
        assert!(body["error"]["message"].is_string(), "{status}: {body}");
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM workspaces").await,
        0,
        "no bad request wrote anything"
    );
}

#[tokio::test]
async fn unknown_pages_are_a_friendly_html_404() {
    let app = TestApp::spawn().await;
    let (_, b) = app.user_browser("andy@example.com").await;
    let p = b.get("/no/such/page").await;
    assert_eq!(p.status, 404);
    assert!(p.body.contains("Page not found"));
}

#[tokio::test]
async fn openapi_and_swagger_ui_are_served_from_the_binary() {
    let app = TestApp::spawn().await;
    let r = app
        .anonymous()
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let doc: Value = r.json().await.unwrap();
    for path in [
        "/api/v1/keys",
        "/api/v1/workspaces",
        "/api/v1/workspaces/{ws}/members",
        "/api/v1/audit",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    assert!(doc["components"]["securitySchemes"].get("api_key").is_some());
    let ui = app.anonymous().get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"));
}

#[tokio::test]
async fn assets_are_embedded_and_cached_for_long() {
    let app = TestApp::spawn().await;
    for (name, kind) in [
        ("app.css", "text/css"),
        ("htmx.min.js", "text/javascript"),
        ("app.js", "text/javascript"),
    ] {
        let r = app
            .anonymous()
            .get(app.url(&format!("/assets/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with(kind));
        assert!(r.headers()["cache-control"].to_str().unwrap().contains("immutable"));
        assert!(!r.bytes().await.unwrap().is_empty());
    }
    assert_eq!(
        app.anonymous()
            .get(app.url("/assets/../Cargo.toml"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Issue 32 point 6: pages, JSON and assets are compressed for a client that accepts it;
/// API answers are never cached; a wrong method is 405 `method_not_allowed`.
#[tokio::test]
async fn http_conventions_compression_caching_and_405() {
    let app = TestApp::spawn().await;
    let (andy, b) = app.user_browser("andy@example.com").await;
    let ws = app.workspace(&andy, "Loans").await;
    let key = app.key(&andy, &["read:contacts", "write:contacts"], None).await;
    for i in 0..100 {
        app.api(&key)
            .post(
                &format!("/api/v1/workspaces/{ws}/contacts"),
                serde_json::json!({"first_name": format!("Borrower {i}"), "primary_email": format!("b{i}@example.com")}),
            )
            .await;
    }
    let page = format!("/workspaces/{ws}/contacts?limit=100");
    let page_as = |accepts: &'static str| b.client.get(app.url(&page)).header("accept-encoding", accepts).send();
    let plain = b.client.get(app.url(&page)).send().await.unwrap();
    assert!(plain.headers().get("content-encoding").is_none());
    let plain_len = plain.bytes().await.unwrap().len();
    // Pages are gzipped even for a browser that offers brotli too (brotli costs the Pi twice
    // the CPU per page); the fingerprinted assets are brotli.
    for accepts in ["gzip, deflate, br, zstd", "gzip"] {
        let r = page_as(accepts).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["cache-control"], "no-store");
        assert_eq!(r.headers()["vary"], "accept-encoding");
        // Compressed in one piece: its length is known before it is sent.
        let stated: usize = r.headers()["content-length"].to_str().unwrap().parse().unwrap();
        let packed = r.bytes().await.unwrap();
        assert_eq!(packed.len(), stated);
        assert!(
            packed.len() * 4 < plain_len,
            "{accepts}: {} bytes against {plain_len}",
            packed.len()
        );
        let mut page = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut page).unwrap();
        assert!(
            page.starts_with("<!doctype html>") && page.contains("Borrower 99"),
            "{page}"
        );
        assert!(
            page.len().abs_diff(plain_len) < 200,
            "{} against {plain_len}",
            page.len()
        );
    }
    // A client that refuses gzip gets the page as it is.
    for refuses in ["gzip;q=0", "identity", "br;q=0, *;q=0"] {
        let r = page_as(refuses).await.unwrap();
        assert!(r.headers().get("content-encoding").is_none(), "{refuses}");
    }
    let css = app
        .anonymous()
        .get(app.url("/assets/app.css"))
        .header("accept-encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-encoding"], "br");
    assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
    let json = app
        .api(&key)
        .client
        .get(app.url(&format!("/api/v1/workspaces/{ws}/contacts?limit=100")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(json.headers()["content-encoding"], "gzip");
    assert_eq!(json.headers()["cache-control"], "no-store");
    // A method the address does not take.
    let r = app.api(&key).client.put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert_eq!(body["error"]["message"], "this address does not take a PUT request");
    app.stop().await;
}

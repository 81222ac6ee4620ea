//! The shipped deployment files cannot rot (issue 30, point 5): `deploy/Caddyfile` is what
//! `caddy validate` accepts, and what it adapts to proxies the public listener's paths only.

use std::path::Path;
use std::process::Command;

fn caddy(args: &[&str], home: &Path) -> std::process::Output {
    Command::new("caddy")
        .args(args)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .output()
        .expect("caddy is installed (scripts/test installs the Debian package)")
}

#[test]
fn the_shipped_caddyfile_is_valid_and_proxies_only_the_public_listener() {
    let home = tempfile::tempdir().unwrap();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/Caddyfile");
    let file = file.to_str().unwrap();
    let valid = caddy(&["validate", "--config", file, "--adapter", "caddyfile"], home.path());
    assert!(
        valid.status.success(),
        "caddy validate: {}",
        String::from_utf8_lossy(&valid.stderr)
    );
    let adapted = caddy(&["adapt", "--config", file, "--adapter", "caddyfile"], home.path());
    assert!(adapted.status.success());
    let json: serde_json::Value = serde_json::from_slice(&adapted.stdout).unwrap();
    let text = json.to_string();
    assert!(
        text.contains("\"127.0.0.1:8081\""),
        "it proxies the public listener: {text}"
    );
    assert!(!text.contains("8080"), "never the main listener: {text}");
    for public in ["/review/*", "/u/*", "/webhooks/*", "/healthz"] {
        assert!(text.contains(public), "{public} passes: {text}");
    }
    assert!(!text.contains("/login") && !text.contains("/api/"), "{text}");

    // The check can fail: a broken copy is refused.
    let broken = home.path().join("Caddyfile");
    let mut content = std::fs::read_to_string(file).unwrap();
    content.push_str("\nthis is { not valid\n");
    std::fs::write(&broken, content).unwrap();
    let refused = caddy(
        &[
            "validate",
            "--config",
            broken.to_str().unwrap(),
            "--adapter",
            "caddyfile",
        ],
        home.path(),
    );
    assert!(!refused.status.success());
}

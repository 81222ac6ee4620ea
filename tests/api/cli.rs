//! The real binary, run as an operator would.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::pi_crm;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

#[test]
fn users_and_keys_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let out = pi_crm(&data, &["migrate"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = pi_crm(
        &data,
        &[
            "user",
            "create",
            "--email",
            "andy@example.com",
            "--name",
            "Andy",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pi_crm(
        &data,
        &[
            "user",
            "create",
            "--email",
            "andy@example.com",
            "--name",
            "Andy",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("already exists") && err.trim_end().ends_with('.'),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one sentence");

    let out = pi_crm(
        &data,
        &[
            "user",
            "create",
            "--email",
            "short@example.com",
            "--name",
            "S",
            "--password-stdin",
        ],
        Some("short\n"),
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("password"));

    let out = pi_crm(&data, &["user", "list"], None);
    assert!(text(&out.stdout).contains("andy@example.com"));

    let out = pi_crm(
        &data,
        &[
            "apikey",
            "create",
            "--user",
            "andy@example.com",
            "--scopes",
            "read:contacts,manage:keys",
            "--description",
            "backup script",
            "--expires",
            "2099-12-31",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.trim_end().lines().last().unwrap().to_string();
    assert!(key.starts_with("pcrm_") && key.len() == 78, "{stdout}");

    let out = pi_crm(
        &data,
        &[
            "apikey",
            "create",
            "--user",
            "andy@example.com",
            "--scopes",
            "fly:planes",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unknown scope"));
    let out = pi_crm(
        &data,
        &[
            "apikey",
            "create",
            "--user",
            "ghost@example.com",
            "--scopes",
            "read:contacts",
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("account has the email ghost@example.com"));
    let out = pi_crm(
        &data,
        &[
            "apikey",
            "create",
            "--user",
            "andy@example.com",
            "--scopes",
            "read:contacts",
            "--workspace",
            "Nope",
        ],
        None,
    );
    assert!(!out.status.success());

    let out = pi_crm(&data, &["apikey", "list", "--user", "andy@example.com"], None);
    let listing = text(&out.stdout);
    assert!(
        listing.contains("backup script") && !listing.contains(&key),
        "{listing}"
    );
    let id = listing.split('\t').next().unwrap().to_string();

    let out = pi_crm(&data, &["apikey", "revoke", &id], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pi_crm(&data, &["apikey", "revoke", &id], None);
    assert!(!out.status.success(), "revoking twice is an error");
    let out = pi_crm(&data, &["apikey", "list", "--user", "andy@example.com"], None);
    assert!(text(&out.stdout).trim().is_empty());

    let out = pi_crm(
        &data,
        &[
            "user",
            "reset-password",
            "--email",
            "andy@example.com",
            "--password-stdin",
        ],
        Some("another long password\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = pi_crm(
        &data,
        &[
            "user",
            "reset-password",
            "--email",
            "ghost@example.com",
            "--password-stdin",
        ],
        Some("another long password\n"),
    );
    assert!(!out.status.success());

    // Audit entries from the CLI say so.
    let out = pi_crm(&data, &["user", "list"], None);
    assert!(out.status.success());
}

#[test]
fn a_missing_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = pi_crm(
        &dir.path().join("data"),
        &["--config", "/nonexistent/pi-crm.toml", "migrate"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("does not exist"));
}

#[test]
fn config_file_env_and_flags_layer_in_that_order() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pi-crm.toml");
    std::fs::write(
        &file,
        format!(
            "data_dir = \"{}\"\nrate_limit_per_minute = 7\n",
            dir.path().join("from-file").display()
        ),
    )
    .unwrap();
    let run = |envs: &[(&str, String)], flag: Option<&std::path::Path>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pi-crm"));
        c.arg("--config").arg(&file).arg("migrate");
        if let Some(f) = flag {
            c.arg("--data-dir").arg(f);
        }
        c.env_remove("PI_CRM_DATA_DIR");
        for (k, v) in envs {
            c.env(k, v);
        }
        assert!(c.output().unwrap().status.success());
    };
    run(&[], None);
    assert!(
        dir.path().join("from-file/pi-crm.db").exists(),
        "the file sets data_dir"
    );
    run(
        &[("PI_CRM_DATA_DIR", dir.path().join("from-env").display().to_string())],
        None,
    );
    assert!(dir.path().join("from-env/pi-crm.db").exists(), "env beats the file");
    run(
        &[("PI_CRM_DATA_DIR", dir.path().join("from-env2").display().to_string())],
        Some(&dir.path().join("from-flag")),
    );
    assert!(dir.path().join("from-flag/pi-crm.db").exists(), "the flag beats env");
    assert!(!dir.path().join("from-env2").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("from-flag/secret.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the secret key is private");
}

#[test]
fn serve_starts_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_pi-crm"))
        .current_dir(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env_remove("PI_CRM_DATA_DIR")
        .env_remove("PI_CRM_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut answered = false;
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Read;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut buf = String::new();
            s.read_to_string(&mut buf).unwrap();
            answered = buf.starts_with("HTTP/1.1 200") && buf.contains("\"db\":\"ok\"");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(answered, "healthz answered");
    assert!(
        dir.path().join("data/pi-crm.db").exists(),
        "zero config: ./data/pi-crm.db"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert!(status.success(), "graceful exit on SIGTERM");
    let mut logs = String::new();
    use std::io::Read;
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    assert!(logs.contains("shutting down"));
    assert!(
        logs.contains(&format!("pi-crm is listening: open http://127.0.0.1:{port}/")),
        "the address to open: {logs}"
    );
    assert!(!logs.contains('\x1b'), "no colour codes into a pipe: {logs:?}");
    let version = Command::new(env!("CARGO_BIN_EXE_pi-crm"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        text(&version.stdout).trim(),
        format!("pi-crm {}", env!("CARGO_PKG_VERSION"))
    );
}

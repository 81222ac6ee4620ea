//! The daily backup of a 100k-contact database, made by the server ("back up now") while
//! `wrk` reads contacts: how long it takes, the server's peak memory, and what it costs the
//! readers (req/s during the backup against the run before it).

use std::time::Instant;

use super::contacts::Seeded;

pub fn under_load(base: &str, seeded: &Seeded, pid: u32, data: &std::path::Path, before: Option<String>) {
    let rt = super::runtime();
    let browser = rt.block_on(super::contacts::login(base));
    let token = rt.block_on(async {
        let page = browser
            .get(format!("{base}/settings/backups"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"csrf-token\" content=\"";
        let start = page.find(marker).expect("a CSRF token") + marker.len();
        page[start..start + 64].to_string()
    });
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
    let during = std::thread::scope(|s| {
        let load = s.spawn(|| super::contacts::wrk(base, seeded));
        std::thread::sleep(std::time::Duration::from_secs(2));
        let started = Instant::now();
        let r = rt.block_on(
            browser
                .post(format!("{base}/settings/backups"))
                .form(&[("csrf_token", token.as_str())])
                .send(),
        );
        let took = started.elapsed();
        assert!(r.unwrap().status().is_redirection(), "back up now answered");
        println!(
            "backup of the 100k-contact database by the server, under the wrk load: {:.2} s, server peak RSS {:.1} MB",
            took.as_secs_f64(),
            super::rss_mb(pid, "VmHWM")
        );
        load.join().unwrap()
    });
    if let Some(before) = before {
        println!("readers before the backup: {before}");
    }
    match during {
        Some(line) => println!("readers during the backup (it ran from the 2nd second): {line}"),
        None => println!("readers during the backup: wrk is not installed; skipped"),
    }
    let file = std::fs::read_dir(data.join("backups"))
        .ok()
        .and_then(|d| {
            d.filter_map(|e| e.ok())
                .find(|e| e.file_name().to_string_lossy().ends_with(".db"))
        })
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0));
    if let Some(size) = file {
        println!("backup file: {:.1} MB", size as f64 / 1e6);
    }
}

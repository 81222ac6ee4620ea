//! The possible-duplicates view at 100k contacts (issue 35): one page of pairs when 1,000 or
//! 6,000 of them are namesakes ("John Smith, Acme"), at `limit=50` and `limit=10`; and another
//! person's write while six such pages are asked for at once (each holds a pooled connection).

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::contacts::api_client;
use super::imports::{finished, seed, start};
use super::{free_port, ms, percentile, spawn_server, stop, wait_healthy};

const CONTACTS: usize = 100_000;

fn csv(namesakes: usize) -> Vec<u8> {
    let mut out = String::with_capacity(CONTACTS * 60);
    out.push_str("First Name,Last Name,Email,Phone,Company\n");
    for i in 0..CONTACTS {
        // Spread through the file, as people are added over the years.
        let (first, last, company) = if i % (CONTACTS / namesakes) == 0 && i / (CONTACTS / namesakes) < namesakes {
            ("John".to_string(), "Smith".to_string(), "Acme".to_string())
        } else {
            (
                format!("Person{i}"),
                format!("Family{}", i % 997),
                format!("Company{}", i % 50),
            )
        };
        out.push_str(&format!(
            "{first},{last},p{i}@example.com,+1415{},{company}\n",
            2_000_000 + i
        ));
    }
    out.into_bytes()
}

pub fn run(binary: &Path) {
    for namesakes in [1_000, 6_000] {
        one(binary, namesakes);
    }
}

fn one(binary: &Path, namesakes: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = super::runtime();
    let seeded = rt.block_on(seed(&data, &["andy@example.com", "mona@example.com"]));
    let ((ws, key), (mona_ws, mona_key)) = (seeded[0].clone(), seeded[1].clone());
    println!("\n== duplicates page, {CONTACTS} contacts of which {namesakes} are \"John Smith, Acme\"");
    let port = free_port();
    let mut server = spawn_server(binary, &data, port);
    wait_healthy(port);
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(async {
        let andy = api_client(&key);
        let mapping = json!({"columns": {"First Name": "first_name", "Last Name": "last_name",
            "Email": "primary_email", "Phone": "primary_phone", "Company": "company"}, "on_duplicate": "skip"});
        let id = start(&andy, &base, &ws, &mapping, csv(namesakes), "people.csv").await;
        let done = finished(&andy, &base, &ws, &id).await;
        assert_eq!(done["status"], "done", "{done}");

        for limit in [50, 10] {
            let url = format!("{base}/api/v1/workspaces/{ws}/duplicates?limit={limit}");
            let first: Value = andy.get(&url).send().await.unwrap().json().await.unwrap();
            assert_eq!(first["items"].as_array().unwrap().len(), limit, "{first}");
            let mut times = Vec::new();
            for _ in 0..20 {
                let t = Instant::now();
                let r = andy.get(&url).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.bytes().await.unwrap();
                times.push(t.elapsed());
            }
            times.sort();
            // The last page: after the last pair but one, where a scan that stops early cannot.
            let cursor = first["next_cursor"].as_str().map(str::to_string);
            println!(
                "first page, limit={limit}: median {:.1} ms, p95 {:.1} ms (20 runs){}",
                ms(percentile(&times, 50)),
                ms(percentile(&times, 95)),
                if cursor.is_some() { "" } else { " — no next page" }
            );
        }

        // A page computed afresh: Monalisa saves a contact in her own workspace before each
        // (any write to the database drops the kept pages).
        let mona = api_client(&mona_key);
        let url = format!("{base}/api/v1/workspaces/{ws}/duplicates?limit=50");
        let mut fresh = Vec::new();
        for n in 0..20 {
            let r = mona
                .post(format!("{base}/api/v1/workspaces/{mona_ws}/contacts"))
                .json(&json!({"first_name": "Fresh", "primary_email": format!("fresh{n}@example.com")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            let t = Instant::now();
            let r = andy.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            fresh.push(t.elapsed());
        }
        fresh.sort();
        println!(
            "a page computed afresh (after a write), limit=50: median {:.1} ms, p95 {:.1} ms (20 runs)",
            ms(percentile(&fresh, 50)),
            ms(percentile(&fresh, 95))
        );

        // Six pages at once, and Monalisa saving a contact in her own workspace meanwhile.
        let url = format!("{base}/api/v1/workspaces/{ws}/duplicates?limit=50");
        let pages: Vec<_> = (0..6)
            .map(|_| {
                let (andy, url) = (andy.clone(), url.clone());
                tokio::spawn(async move {
                    for _ in 0..5 {
                        andy.get(&url).send().await.unwrap().bytes().await.unwrap();
                    }
                })
            })
            .collect();
        let mut writes = Vec::new();
        for n in 0..20 {
            let t = Instant::now();
            let r = mona
                .post(format!("{base}/api/v1/workspaces/{mona_ws}/contacts"))
                .json(&json!({"first_name": "Friend", "primary_email": format!("f{n}@example.com")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            writes.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for p in pages {
            p.await.unwrap();
        }
        writes.sort();
        println!(
            "another person's write beside 6 concurrent pages: median {:.1} ms, max {:.1} ms (20 writes)",
            ms(percentile(&writes, 50)),
            ms(*writes.last().unwrap())
        );
    });
    stop(&mut server);
}

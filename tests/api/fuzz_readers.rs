//! Property tests: the CSV and vCard readers never panic, whatever bytes they are given.
//! `PROPTEST_CASES=200000 cargo test --test api fuzz_readers` runs a long session.

use pi_crm::domain::import;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(500),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = import::preview(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "[a-zA-Z0-9,;\t\"\r\n =@:.+'-]{0,400}") {
        if let Ok(p) = import::preview(text.as_bytes()) {
            prop_assert!(p.sample_rows.iter().all(|r| r.len() == p.columns.len()), "rows are as wide as the header");
        }
    }

    #[test]
    fn vcard_like_text_never_panics(lines in proptest::collection::vec(prop_oneof![
        Just("BEGIN:VCARD".to_string()),
        Just("END:VCARD".to_string()),
        "VERSION:[234]\\.[01]",
        "N:[a-zäö;\\\\,]{0,20}",
        "FN:.{0,20}",
        "item[0-9]\\.EMAIL;TYPE=[a-z,\"]{0,8}:[a-z@.]{0,20}",
        "TEL;VALUE=uri:(tel:)?[0-9+ -]{0,15}",
        " [a-z=\\\\]{0,10}",
        "NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=[a-z0-9-]{0,8}:[=A-Fa-z0-9]{0,20}=?",
        "PHOTO;ENCODING=b:[A-Za-z0-9+/=]{0,30}",
        "BDAY:[0-9-]{0,10}",
        "X-PI-CRM-[A-Z_]{0,8}:.{0,10}",
    ], 0..30), crlf in any::<bool>()) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        let _ = import::preview(text.as_bytes());
    }
}

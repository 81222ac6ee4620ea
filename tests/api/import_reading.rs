//! Reading the real-world corpus in `tests/fixtures/corpus` (copied from the shared corpus; sources and licences in its SOURCES.md) (exports from Google, Outlook,
//! Thunderbird, iOS, Android, Evolution, Roundcube, tine20, Monica): every file is read with
//! its encoding, delimiter, row count and key values as a person would expect them.

use std::path::PathBuf;

use pi_crm::domain::import::{self, mapping::Target};

fn corpus(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn target(p: &import::Preview, column: &str) -> Target {
    p.suggested_mapping
        .columns
        .get(column)
        .cloned()
        .unwrap_or_else(|| panic!("no column {column:?} in {:?}", p.columns))
}

fn base(name: &str) -> Target {
    Target::Field(name.into())
}

fn cell(p: &import::Preview, row: usize, column: &str) -> String {
    let i = p
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column:?}"));
    p.sample_rows[row][i].clone()
}

#[test]
fn google_legacy_export_with_multiline_address_and_multi_values() {
    let p = import::preview(&corpus("contacts_csv/google_legacy_roundcube_gmail.csv")).unwrap();
    assert_eq!(
        (p.format.as_str(), p.encoding.as_str(), p.delimiter.as_deref()),
        ("csv", "UTF-8", Some(","))
    );
    // 81 columns in the file; its seven numbered phones and two addresses (each a type
    // column beside its value or parts) are read as the kind columns their types name.
    assert_eq!(p.columns.len(), 57);
    assert_eq!(p.rows_total, 1);
    assert_eq!(target(&p, "Given Name"), base("first_name"));
    assert_eq!(target(&p, "Family Name"), base("last_name"));
    assert_eq!(target(&p, "E-mail 1 - Value"), base("primary_email"));
    assert_eq!(target(&p, "Mobile phone"), base("primary_phone"));
    let phones: Vec<String> = ["Mobile phone", "Home phone", "Work phone", "Phone", "Fax", "Pager"]
        .iter()
        .map(|c| cell(&p, 0, c))
        .collect();
    assert_eq!(
        phones,
        [
            "mobile",
            "homephone",
            "workphone",
            "mainphone",
            "homefax ::: workfax",
            "pager"
        ]
    );
    assert!(
        cell(&p, 0, "Address").contains('\n'),
        "the quoted newline of the formatted address survives"
    );
    assert!(
        cell(&p, 0, "Notes").contains("note\"note"),
        "doubled quotes are one quote"
    );
    assert!(cell(&p, 0, "Group Membership").contains(" ::: "));
}

#[test]
fn google_five_rows_crlf() {
    let p = import::preview(&corpus("contacts_csv/google_legacy_tine20_5rows.csv")).unwrap();
    assert_eq!(p.rows_total, 5);
    assert_eq!(target(&p, "Given Name"), base("first_name"));
}

#[test]
fn german_outlook_in_windows_1252_with_short_rows() {
    let p = import::preview(&corpus("contacts_csv/outlook2013_german_cp1252_tine20.csv")).unwrap();
    assert_eq!(p.encoding, "windows-1252");
    assert_eq!(p.rows_total, 2);
    // 92 columns in the file; each address's street, city, postal code, region and country
    // columns are read as one (`Address`, `Work address`, `Other address`).
    assert_eq!(p.columns.len(), 71);
    for folded in ["Address", "Work address", "Other address"] {
        assert!(p.columns.iter().any(|c| c == folded), "{folded}: {:?}", p.columns);
    }
    assert!(!p.columns.iter().any(|c| c == "Straße geschäftlich"));
    assert_eq!(target(&p, "Vorname"), base("first_name"));
    assert_eq!(target(&p, "Nachname"), base("last_name"));
    assert_eq!(target(&p, "E-Mail-Adresse"), base("primary_email"));
    assert!(
        p.columns
            .iter()
            .any(|c| c.contains('ß') || c.contains('ä') || c.contains('ü')),
        "umlauts decoded: {:?}",
        p.columns
    );
    assert_eq!(p.sample_rows[0].len(), 71, "short rows are padded to the header");
}

#[test]
fn outlook_emails_only() {
    let p = import::preview(&corpus("contacts_csv/outlook_roundcube_emails_only.csv")).unwrap();
    assert_eq!(target(&p, "E-mail Address"), base("primary_email"));
    assert!(matches!(target(&p, "E-mail 2 Address"), Target::Custom { .. }));
    assert_eq!(p.rows_total, 1);
}

#[test]
fn utf8_with_bom_and_all_fields() {
    let p = import::preview(&corpus("contacts_csv/roundcube_all_fields_utf8_bom.csv")).unwrap();
    assert_eq!(p.encoding, "UTF-8");
    assert_eq!(p.columns[0], "Display Name", "the BOM is not part of the first header");
    assert_eq!(
        p.columns.len(),
        49,
        "its home and work addresses' parts are one column each"
    );
    assert_eq!(target(&p, "First Name"), base("first_name"));
}

#[test]
fn thunderbird_files_in_every_encoding_and_delimiter() {
    let awkward = import::preview(&corpus("contacts_csv/thunderbird_export_awkward_fields.csv")).unwrap();
    assert_eq!(target(&awkward, "First Name"), base("first_name"));
    assert_eq!(target(&awkward, "Primary Email"), base("primary_email"));
    assert!(
        awkward
            .sample_rows
            .iter()
            .any(|r| r.iter().any(|c| c.contains("\"worker\"")))
    );
    assert!(awkward.sample_rows.iter().any(|r| r.iter().any(|c| c.contains('…'))));

    let semicolon = import::preview(&corpus("contacts_csv/thunderbird_semicolon.csv")).unwrap();
    assert_eq!(semicolon.delimiter.as_deref(), Some(";"));
    assert_eq!(semicolon.rows_total, 2);

    let sjis = import::preview(&corpus("contacts_csv/thunderbird_shiftjis_cjk.csv")).unwrap();
    assert_eq!(sjis.encoding, "Shift_JIS");
    assert!(
        sjis.sample_rows.iter().flatten().any(|c| c.contains("名無しの権兵衛")),
        "{:?}",
        sjis.sample_rows
    );

    let utf16 = import::preview(&corpus("contacts_csv/thunderbird_utf16.csv")).unwrap();
    assert_eq!(utf16.encoding, "UTF-16LE");
    assert_eq!(target(&utf16, "First Name"), base("first_name"));

    let quoted = import::preview(&corpus("contacts_csv/thunderbird_quoted_empty_fields.csv")).unwrap();
    assert_eq!(quoted.rows_total, 1);
}

#[test]
fn latin1_semicolon_and_ragged_files() {
    let one = import::preview(&corpus("contacts_csv/tine20_latin1_duplicate_import_1.csv")).unwrap();
    assert_eq!(one.encoding, "windows-1252", "Latin-1 is read as its superset");
    assert!(
        one.sample_rows
            .iter()
            .flatten()
            .any(|c| c.contains("Jörg") || c.contains("Köln"))
    );
    let two = import::preview(&corpus("contacts_csv/tine20_latin1_duplicate_import_2.csv")).unwrap();
    assert_eq!(two.rows_total, one.rows_total);

    let win = import::preview(&corpus("contacts_csv/tine20_semicolon_win1252.csv")).unwrap();
    assert_eq!(win.delimiter.as_deref(), Some(";"));
    assert_eq!(win.rows_total, 4);
    assert_eq!(target(&win, "E-Mail"), base("primary_email"));
    assert!(win.sample_rows.iter().flatten().any(|c| c.contains("Özdemir")));

    let ragged = import::preview(&corpus("contacts_csv/monica_ragged_row.csv")).unwrap();
    assert_eq!(ragged.columns.len(), 4);
    assert_eq!(ragged.rows_total, 1, "a row longer than the header is read, not fatal");
}

#[test]
fn vcards_of_every_version_read_into_rows() {
    let cases: &[(&str, usize)] = &[
        ("vcard/syncevolution_eds_contact_v30_17cards.vcf", 17),
        ("vcard/syncevolution_vcard21_16cards.vcf", 16),
        ("vcard/ezvcard_John_Doe_GMAIL.vcf", 1),
        ("vcard/ezvcard_gmail-single2.vcf", 1),
        ("vcard/ezvcard_gmail-list.vcf", 3),
        ("vcard/ezvcard_John_Doe_IPHONE.vcf", 1),
        ("vcard/ezvcard_John_Doe_MS_OUTLOOK.vcf", 1),
        ("vcard/ezvcard_outlook-2007.vcf", 1),
        ("vcard/ezvcard_John_Doe_ANDROID.vcf", 6),
        ("vcard/ezvcard_John_Doe_EVOLUTION.vcf", 1),
        ("vcard/ezvcard_rfc6350-example.vcf", 1),
        ("vcard/ezvcard_fullcontact.vcf", 1),
        ("vcard/pyvobject_vcard40_full.vcf", 1),
        ("vcard/pyvobject_vcard40_multilang_cjk.vcf", 1),
        ("vcard/thunderbird_export_v40_2cards.vcf", 2),
        ("vcard/thunderbird_v40_photo_data_uri_jpeg.vcf", 1),
        ("vcard/monica_3cards_empty_fn_v30.vcf", 3),
        ("vcard/tine20_contacts_stray_header_photo_v30.vcf", 2),
        ("vcard/tine20_ios5_v30.vcf", 1),
        ("vcard/tine20_emclient_v30.vcf", 1),
        ("vcard/roundcube_utf16be_no_bom_v30.vcf", 1),
        ("vcard/roundcube_apple_company_photo_v30.vcf", 1),
    ];
    for (file, cards) in cases {
        let p = import::preview(&corpus(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(p.format, "vcf", "{file}");
        assert_eq!(p.rows_total, *cards, "{file}");
        assert_eq!(target(&p, "First name"), base("first_name"), "{file}");
        assert_eq!(target(&p, "Last name"), base("last_name"), "{file}");
    }
}

#[test]
fn vcard_values_come_out_decoded() {
    let gmail = import::preview(&corpus("vcard/ezvcard_John_Doe_GMAIL.vcf")).unwrap();
    assert_eq!(cell(&gmail, 0, "Birthday").len(), 10, "{:?}", gmail.sample_rows);
    assert!(gmail.columns.iter().any(|c| c == "Email 1"));

    let outlook = import::preview(&corpus("vcard/ezvcard_John_Doe_MS_OUTLOOK.vcf")).unwrap();
    assert_eq!(
        cell(&outlook, 0, "Birthday"),
        "1980-03-22",
        "compact 2.1 dates are made ISO"
    );

    let utf16 = import::preview(&corpus("vcard/roundcube_utf16be_no_bom_v30.vcf")).unwrap();
    assert_eq!(utf16.encoding, "UTF-16BE");
    assert!(
        utf16.sample_rows[0]
            .iter()
            .any(|c| c.contains("Ǽgean") || c.contains("Perú")),
        "{:?}",
        utf16.sample_rows
    );

    let cjk = import::preview(&corpus("vcard/pyvobject_vcard40_multilang_cjk.vcf")).unwrap();
    assert!(!cell(&cjk, 0, "Full name").is_empty());

    let android = import::preview(&corpus("vcard/ezvcard_John_Doe_ANDROID.vcf")).unwrap();
    assert!(
        android.sample_rows.iter().flatten().any(|c| c.contains('Ñ')),
        "quoted-printable UTF-8 decoded: {:?}",
        android.sample_rows
    );
}

#[test]
fn broken_and_hostile_files_are_refused_with_a_reason() {
    let broken = import::preview(&corpus("vcard/monica_broken_begin_line.vcard"));
    let message = broken.expect_err("a broken vCard is refused").to_string();
    assert!(!message.is_empty());
    for (bytes, why) in [
        (Vec::new(), "empty"),
        (b"\x00\x01\x02\x03\xff\xfe\x00\x00\x07\x08".to_vec(), "binary"),
        (
            (0..10_000)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(",")
                .into_bytes(),
            "columns",
        ),
    ] {
        let e = import::preview(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{why} accepted"));
        assert!(e.to_string().contains(why), "{why}: {e}");
    }
}

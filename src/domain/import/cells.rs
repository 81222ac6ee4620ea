//! Spreadsheet formula injection: a CSV cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is run as a formula by Excel and friends. Exports prefix such cells with a
//! `'` (OWASP's advice); imports take that prefix off again, so a round trip changes nothing.
//! A number alone — a phone number in E.164 (`+14155550134`), `-5`, `+2.5` — is no formula
//! and is left as it is: a spreadsheet reads it as a number, and people read it as written.

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `+14155550134`, `-5`, `+2.5`: a sign, digits, at most one decimal point, nothing else.
fn is_plain_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['+', '-']).unwrap_or(cell);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && fraction.bytes().all(|b| b.is_ascii_digit())
}

pub fn neutralise(cell: &str) -> String {
    if is_plain_number(cell) {
        return cell.to_string();
    }
    if cell.starts_with(TRIGGERS) || (cell.starts_with('\'') && cell[1..].starts_with(TRIGGERS)) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// Rows as CSV text, every cell neutralised: how each CSV pi-crm hands out (exports, problem
/// rows, the audit log) is written.
pub fn csv_rows<R, C>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, csv::Error>
where
    R: IntoIterator<Item = C>,
    C: AsRef<str>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row.into_iter().map(|cell| neutralise(cell.as_ref())))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(TRIGGERS) || (rest.starts_with('\'') && rest[1..].starts_with(TRIGGERS)) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for cell in [
            "=1+1",
            "+14155550123",
            "-5",
            "@SUM(A1)",
            "\tx",
            "plain",
            "'=already",
            "''",
            "it's",
        ] {
            assert_eq!(restore(&neutralise(cell)), cell, "{cell:?}");
        }
        assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(neutralise("Ada"), "Ada");
        // Numbers alone are no formulas; anything more after a sign is.
        for plain in ["+14155550134", "-5", "+2.5", "-0.75"] {
            assert_eq!(neutralise(plain), plain);
        }
        for formula in ["+1+1", "-5*2", "+cmd|' /C calc'!A0", "-", "+", "+.5e3", "-2+3"] {
            assert_eq!(neutralise(formula), format!("'{formula}"), "{formula}");
        }
        // Files written before this rule still read back.
        assert_eq!(restore("'+14155550134"), "+14155550134");
    }
}

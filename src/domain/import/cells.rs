//! Spreadsheet formula injection: a CSV cell starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return is run as a formula by Excel and friends. Exports prefix such cells with a
//! `'` (OWASP's advice); imports take that prefix off again, so a round trip changes nothing.

const TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(TRIGGERS) || (cell.starts_with('\'') && cell[1..].starts_with(TRIGGERS)) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
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
    }
}

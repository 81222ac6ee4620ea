//! Dates as people write them (SPEC v2 §11.2), read into one stored form: `YYYY-MM-DD`, or
//! `--MM-DD` for a day without a year (a birthday whose year nobody knows). ISO 8601, compact
//! `YYYYMMDD`, `--MM-DD`, `--MMDD` and `MM-DD`; `M/D/YYYY` or `D/M/YYYY` by the convention of
//! the default phone region, and `M/D` or `D/M` without a year; `D.M.YYYY`; English month
//! names (`Jul 4, 1980`, `4 July 1980`, `July 4`, and Excel's `4-Jul`). Exporters'
//! placeholders for "no date" (`0/0/00`, `00.00.0000`) are no date, and the year 1604 is
//! Apple's and Exchange's mark for "year unknown" (`1604-07-04` is a birthday on July 4).

/// Regions that write the month first (`7/4/1980` is the 4th of July).
const MONTH_FIRST: [&str; 6] = ["US", "PH", "FM", "MH", "PW", "AS"];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The stored form of `text`: `Ok(None)` when it holds no date (empty, or a placeholder of
/// zeros), `Err` with an example of what is understood when it cannot be read.
pub fn parse(text: &str, region: &str) -> Result<Option<String>, String> {
    let text = text.trim();
    if is_placeholder(text) {
        return Ok(None);
    }
    let read = by_numbers(text, region).or_else(|| by_month_name(text));
    match read {
        Some((year, month, day)) => stored(year, month, day)
            .map(Some)
            .ok_or_else(|| format!("{text:?} is not a day of the calendar")),
        None => Err(format!(
            "{text:?} is not a date pi-crm can read (1980-07-04, 7/4/1980, 4.7.1980, Jul 4 1980 or --07-04)"
        )),
    }
}

/// Empty, or an exporter's "no date" (`0/0/00`, `00.00.0000`, `0000-00-00`): zeros and
/// separators only.
pub fn is_placeholder(text: &str) -> bool {
    text.trim().chars().all(|c| matches!(c, '0' | '/' | '.' | '-' | ' '))
}

/// A stored date shown to people: `1980-07-04` as "July 4, 1980", `--07-04` as "July 4".
pub fn display(stored: &str) -> Option<String> {
    let (year, rest) = match stored.strip_prefix("--") {
        Some(rest) => (None, rest),
        None => {
            let (y, rest) = stored.split_once('-')?;
            (Some(y), rest)
        }
    };
    let (month, day) = rest.split_once('-')?;
    let month: usize = month.parse().ok()?;
    let day: u32 = day.parse().ok()?;
    let name = MONTHS.get(month.checked_sub(1)?)?;
    let name = format!("{}{}", name[..1].to_ascii_uppercase(), &name[1..]);
    Some(match year {
        Some(y) => format!("{name} {day}, {y}"),
        None => format!("{name} {day}"),
    })
}

/// The year Apple Contacts and Exchange write for a day whose year nobody knows.
const NO_YEAR: i32 = 1604;

fn stored(year: Option<i32>, month: u32, day: u32) -> Option<String> {
    let year = year.filter(|y| *y != NO_YEAR);
    let month = i8::try_from(month).ok()?;
    let day = i8::try_from(day).ok()?;
    match year {
        Some(y) => {
            let d = jiff::civil::Date::new(i16::try_from(y).ok()?, month, day).ok()?;
            (1..=9999)
                .contains(&y)
                .then(|| format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        // A year-less day must exist in some year: 29 February does.
        None => {
            jiff::civil::Date::new(2000, month, day).ok()?;
            Some(format!("--{month:02}-{day:02}"))
        }
    }
}

fn number(part: &str) -> Option<u32> {
    (!part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit()))
        .then(|| part.parse().ok())
        .flatten()
}

fn year(part: &str) -> Option<i32> {
    (part.len() == 4).then(|| number(part)).flatten().map(|y| y as i32)
}

fn by_numbers(text: &str, region: &str) -> Option<(Option<i32>, u32, u32)> {
    // A time after the date (`1980-07-04T00:00:00Z`, `1980-07-04 10:00`) is not part of it.
    let date = text.split(['T', ' ']).next().unwrap_or(text);
    if let Some(rest) = date.strip_prefix("--") {
        let (m, d) = match rest.split_once('-') {
            Some(parts) => parts,
            None if rest.len() == 4 => rest.split_at(2),
            None => return None,
        };
        return Some((None, number(m)?, number(d)?));
    }
    if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        let (y, md) = date.split_at(4);
        let (m, d) = md.split_at(2);
        return Some((year(y), number(m)?, number(d)?));
    }
    let parts: Vec<&str> = date.split(['-', '/', '.']).collect();
    let separator = date.chars().find(|c| matches!(c, '-' | '/' | '.'))?;
    match (parts.as_slice(), separator) {
        ([y, m, d], '-' | '/') if y.len() == 4 => Some((Some(year(y)?), number(m)?, number(d)?)),
        ([m, d], '-') => Some((None, number(m)?, number(d)?)),
        ([a, b], '/') => {
            let (a, b) = (number(a)?, number(b)?);
            let (m, d) = if MONTH_FIRST.contains(&region) { (a, b) } else { (b, a) };
            Some((None, m, d))
        }
        ([a, b, y], '/') => {
            let (a, b) = (number(a)?, number(b)?);
            let (m, d) = if MONTH_FIRST.contains(&region) { (a, b) } else { (b, a) };
            Some((Some(year(y)?), m, d))
        }
        ([d, m, y], '.') => Some((Some(year(y)?), number(m)?, number(d)?)),
        ([d, m], '.') => Some((None, number(m)?, number(d)?)),
        _ => None,
    }
}

fn month_named(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_ascii_lowercase();
    if word.len() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|m| m.starts_with(&word) || (word == "sept" && *m == "september"))
        .map(|i| i as u32 + 1)
}

/// `Jul 4, 1980`, `July 4 1980`, `4 July 1980`, `4th Sept. 1980`, `July 4`, `4 Jul`, and
/// Excel's `4-Jul` and `4-Jul-1980`.
fn by_month_name(text: &str) -> Option<(Option<i32>, u32, u32)> {
    let words: Vec<&str> = text.split([' ', ',', '-']).filter(|w| !w.is_empty()).collect();
    let day_of = |w: &str| {
        number(
            w.trim_end_matches('.')
                .trim_end_matches(|c: char| c.is_ascii_alphabetic()),
        )
    };
    match words.as_slice() {
        [a, b] => match (month_named(a), month_named(b)) {
            (Some(m), _) => Some((None, m, day_of(b)?)),
            (None, Some(m)) => Some((None, m, day_of(a)?)),
            _ => None,
        },
        [m, d, y] if month_named(m).is_some() => Some((Some(year(y)?), month_named(m)?, day_of(d)?)),
        [d, m, y] => Some((Some(year(y)?), month_named(m)?, day_of(d)?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(text: &str) -> Option<String> {
        parse(text, "US").unwrap()
    }

    #[test]
    fn the_ways_people_write_a_date() {
        for (text, want) in [
            ("1980-07-04", "1980-07-04"),
            ("1980-07-04T00:00:00Z", "1980-07-04"),
            ("19800704", "1980-07-04"),
            ("1980/7/4", "1980-07-04"),
            ("7/4/1980", "1980-07-04"),
            ("12/9/1906", "1906-12-09"),
            ("4.7.1980", "1980-07-04"),
            ("04.07.1980", "1980-07-04"),
            ("Jul 4, 1980", "1980-07-04"),
            ("July 4 1980", "1980-07-04"),
            ("4 July 1980", "1980-07-04"),
            ("4th Sept. 1980", "1980-09-04"),
            ("--07-04", "--07-04"),
            ("--0704", "--07-04"),
            ("07-04", "--07-04"),
            ("July 4", "--07-04"),
            ("4 Jul", "--07-04"),
            ("--02-29", "--02-29"),
            ("7/4", "--07-04"),
            ("4-Jul", "--07-04"),
            ("4-Jul-1980", "1980-07-04"),
            ("1604-07-04", "--07-04"),
            ("4.7.1604", "--07-04"),
        ] {
            assert_eq!(us(text).as_deref(), Some(want), "{text}");
        }
        assert_eq!(parse("7/4/1980", "DE").unwrap().as_deref(), Some("1980-04-07"));
        assert_eq!(parse("12/9/1906", "GB").unwrap().as_deref(), Some("1906-09-12"));
        assert_eq!(parse("12/9", "FR").unwrap().as_deref(), Some("--09-12"));
    }

    #[test]
    fn placeholders_are_no_date_and_nonsense_is_refused_with_examples() {
        for text in ["", "  ", "0/0/00", "00.00.0000", "0000-00-00"] {
            assert_eq!(us(text), None, "{text:?}");
        }
        for text in [
            "tomorrow",
            "2/30/1980",
            "--13-01",
            "13/13/1980",
            "1980-02-30",
            "7/4/80",
            "Juli 4 1980",
        ] {
            let err = parse(text, "US").unwrap_err();
            assert!(err.contains(text), "{err}");
        }
    }

    #[test]
    fn shown_in_words() {
        assert_eq!(display("1980-07-04").as_deref(), Some("July 4, 1980"));
        assert_eq!(display("--12-25").as_deref(), Some("December 25"));
        assert_eq!(display("nonsense"), None);
    }
}

//! What a template may say beyond text, checked before minijinja sees it. minijinja bounds
//! time (fuel) but not the size of the values it builds: `{% set a = a ~ a %}` thirty times, or
//! `"x" * 100000000`, would take a Pi's memory. A message template needs placeholders, filters,
//! `if` and `for`; it never needs variables of its own or repetition, so those are refused
//! with a line number. Without them every value is bounded by the source (≤ 256 KiB) and the
//! contact's fields, and the output by the renderer's cap.

/// Tags a template may use.
const TAGS: &[&str] = &["if", "elif", "else", "endif", "for", "endfor", "raw", "endraw"];

/// The first problem, as `(line, message)`.
pub fn check(source: &str) -> Result<(), (usize, String)> {
    let bytes = source.as_bytes();
    let mut i = 0;
    let line_at = |at: usize| source[..at].bytes().filter(|b| *b == b'\n').count() + 1;
    while i + 1 < bytes.len() {
        let open = &bytes[i..i + 2];
        match open {
            b"{#" => {
                i = find(source, i + 2, "#}").map_or(bytes.len(), |e| e + 2);
            }
            b"{{" | b"{%" => {
                let close = if open == b"{{" { "}}" } else { "%}" };
                let start = i + 2;
                let end = expression_end(source, start, close).ok_or_else(|| {
                    (
                        line_at(i),
                        format!("a {} is never closed with {close}", String::from_utf8_lossy(open)),
                    )
                })?;
                let inner = &source[start..end];
                if inner.contains('*') {
                    return Err((
                        line_at(i),
                        "templates cannot multiply or repeat (`*`): write the text out".into(),
                    ));
                }
                i = end + 2;
                if open == b"{%" {
                    let tag = inner.trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
                    let word = tag.split_whitespace().next().unwrap_or("");
                    if !TAGS.contains(&word) {
                        return Err((
                            line_at(start),
                            format!("{{% {word} %}} is not available in templates (only if, elif, else, for and raw)"),
                        ));
                    }
                    if word == "raw" {
                        // Everything up to `endraw` is text.
                        i = find_endraw(source, i).unwrap_or(bytes.len());
                    }
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn find(source: &str, from: usize, needle: &str) -> Option<usize> {
    source.get(from..)?.find(needle).map(|p| p + from)
}

/// Where `close` ends an expression, skipping quoted strings (a `}}` inside quotes is text).
fn expression_end(source: &str, from: usize, close: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(_) if b == b'\\' => {
                i += 2;
                continue;
            }
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if source[i..].starts_with(close) => return Some(i),
            None => {}
        }
        i += 1;
    }
    None
}

/// The start of the text after `{% endraw %}`.
fn find_endraw(source: &str, from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let open = find(source, at, "{%")?;
        let end = find(source, open + 2, "%}")?;
        let word = source[open + 2..end].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        if word == "endraw" {
            return Some(open);
        }
        at = end + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn placeholders_filters_if_and_for_pass() {
        assert!(check("Hi {{ first_name | default('there') }}, {% if company %}at {{ company }}{% endif %}").is_ok());
        assert!(check("{% for c in first_name %}{{ c }}{% endfor %} {# a note with * #}").is_ok());
        assert!(check("{% raw %}{% set x = 1 %} {{ a * b }}{% endraw %} after").is_ok());
        assert!(check("{{ '}}' ~ first_name }} and 5 * 3 in text").is_ok());
    }

    #[test]
    fn variables_repetition_and_other_tags_are_refused_with_their_line() {
        assert_eq!(check("a\n{% set a = 'x' %}").unwrap_err().0, 2);
        assert!(check("{{ 'x' * 100000000 }}").unwrap_err().1.contains("multiply"));
        assert!(check("{% include 'x' %}").unwrap_err().1.contains("include"));
        assert!(check("{% macro m() %}{% endmacro %}").is_err());
        assert!(check("{%- with a = 1 -%}{% endwith %}").is_err());
        assert_eq!(check("line one\n{{ first_name ").unwrap_err().0, 2);
    }
}

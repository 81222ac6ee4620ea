//! The plain-text part of an email, derived from its HTML (SPEC §9.1): what a text-only mail
//! reader, a screen reader on a watch, or a spam filter reads. Paragraphs, line breaks and
//! list items keep their shape; a link keeps its address (`text (https://…)`); scripts, styles
//! and the hidden preheader are left out; entities are decoded.

/// Elements whose content is never text.
const SKIPPED: &[&str] = &["script", "style", "head", "title", "template"];
/// Elements that end a line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "blockquote",
    "section",
    "header",
    "footer",
    "hr",
];

pub fn from_html(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    let mut skipping: Option<String> = None;
    let mut link: Option<String> = None;
    while let Some(lt) = rest.find('<') {
        if skipping.is_none() {
            push_text(&mut out, &rest[..lt]);
        }
        let after = &rest[lt + 1..];
        if after.starts_with("!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(gt) = after.find('>') else {
            rest = "";
            break;
        };
        let tag = &after[..gt];
        rest = &after[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(skipped) = &skipping {
            if closing && &name == skipped {
                skipping = None;
            }
            continue;
        }
        if !closing && (SKIPPED.contains(&name.as_str()) || is_hidden(tag)) && !tag.ends_with('/') {
            skipping = Some(name);
            continue;
        }
        match (name.as_str(), closing) {
            ("li", false) => {
                new_line(&mut out);
                out.push_str("- ");
            }
            ("a", false) => link = attribute(tag, "href"),
            ("a", true) => {
                if let Some(href) = link.take().filter(|h| !h.starts_with('#')) {
                    let href = decode(&href);
                    let shown = href.strip_prefix("mailto:").unwrap_or(&href).to_string();
                    if !out.trim_end().ends_with(shown.as_str()) {
                        out.push_str(&format!(" ({href})"));
                    }
                }
            }
            ("p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "blockquote", _) => paragraph(&mut out),
            (n, _) if BLOCKS.contains(&n) => new_line(&mut out),
            _ => {}
        }
    }
    if skipping.is_none() {
        push_text(&mut out, rest);
    }
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    let mut tidy = String::new();
    let mut blank = 0;
    for line in lines {
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !tidy.is_empty() {
            tidy.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        tidy.push_str(line.trim_start());
    }
    tidy
}

/// The preheader pi-crm puts in (and anything else hidden with `display:none`).
fn is_hidden(tag: &str) -> bool {
    attribute(tag, "style").is_some_and(|s| s.replace(' ', "").to_ascii_lowercase().contains("display:none"))
}

/// Text between tags: runs of whitespace are one space, as a browser shows them.
fn push_text(out: &mut String, text: &str) {
    let decoded = decode(text);
    for (i, word) in decoded.split_whitespace().enumerate() {
        let at_line_start = out.is_empty() || out.ends_with('\n');
        let glued = i == 0 && !decoded.starts_with(char::is_whitespace);
        if !at_line_start && !glued && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(word);
    }
    if decoded.ends_with(char::is_whitespace) && !out.is_empty() && !out.ends_with(['\n', ' ']) {
        out.push(' ');
    }
}

fn new_line(out: &mut String) {
    let trimmed = out.trim_end_matches(' ').len();
    out.truncate(trimmed);
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn paragraph(out: &mut String) {
    new_line(out);
    if !out.is_empty() && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// An attribute's value (quoted either way, or bare).
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(p) = lower[from..].find(name) {
        let at = from + p;
        from = at + name.len();
        let before_ok = at > 0 && lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = tag[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value = rest[1..].trim_start();
        return Some(match value.chars().next() {
            Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or("").to_string(),
            _ => value
                .split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    None
}

/// HTML entities: the named ones mail uses, and numeric ones.
pub fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| entity(&after[..e]));
        match (end, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            _ => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "euro" => '€',
        "bull" => '•',
        "middot" => '·',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::from_html;

    #[test]
    fn keeps_paragraphs_lists_and_link_addresses() {
        let html = r#"<html><head><title>x</title><style>p{color:red}</style></head><body>
            <div style="display:none">Preheader text</div>
            <h1>Rates &amp; news</h1><p>Hi  Ada,<br>rates fell to 6.1%.</p>
            <ul><li>One</li><li>Two &#8211; <b>bold</b></li></ul>
            <p><a href="https://example.com/apply?a=1&amp;b=2">Apply now</a> or
            <a href="mailto:andy@example.com">andy@example.com</a></p>
            <script>alert(1)</script><!-- a comment --></body></html>"#;
        assert_eq!(
            from_html(html),
            "Rates & news\n\nHi Ada,\nrates fell to 6.1%.\n\n- One\n- Two – bold\n\nApply now (https://example.com/apply?a=1&b=2) or andy@example.com"
        );
    }

    #[test]
    fn plain_text_without_tags_stays() {
        assert_eq!(from_html("Hello there"), "Hello there");
        assert_eq!(from_html("a &lt; b &unknown; c"), "a < b &unknown; c");
    }
}

//! Reading what a model answered. pi-crm asks for one JSON object; large models give it
//! (sometimes in a ```json fence or after a sentence), but the small models people run at home
//! often answer as a person would — "Subject: …", a blank line, the email. Both are read; what
//! is neither is the caller's clear error.

use serde_json::{Map, Value};

/// The JSON object in a model's answer, also inside a ```json fence or after some words.
pub fn read_object(reply: &str) -> Option<Map<String, Value>> {
    let start = reply.find('{')?;
    let end = reply.rfind('}')?;
    if end <= start {
        return None;
    }
    match serde_json::from_str::<Value>(&reply[start..=end]).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// An email answered as plain words: the first `Subject:` line is the subject, a `Preheader:`
/// or `Name:` line next to it is kept as such, an optional `Body:` label is dropped, and the
/// rest is the body. Markdown decoration around the labels (`**Subject:**`, `## Subject:`) is
/// ignored. `None` without a subject line or without a body after it.
pub fn read_labelled(reply: &str) -> Option<Map<String, Value>> {
    let lines: Vec<&str> = reply.lines().collect();
    let at = lines.iter().position(|l| label(l, "subject").is_some())?;
    let mut out = Map::new();
    out.insert(
        "subject".into(),
        Value::String(label(lines[at], "subject")?.to_string()),
    );
    let mut rest = at + 1;
    while let Some(line) = lines.get(rest) {
        let found = ["preheader", "name"]
            .into_iter()
            .find_map(|key| label(line, key).map(|v| (key, v)));
        match found {
            Some((key, value)) => {
                out.insert(key.into(), Value::String(value.to_string()));
            }
            None if line.trim().is_empty() => {}
            None => break,
        }
        rest += 1;
    }
    let mut body_lines = &lines[rest.min(lines.len())..];
    if let Some(first) = body_lines.first()
        && let Some(inline) = label(first, "body")
    {
        body_lines = &body_lines[1..];
        if !inline.is_empty() {
            let mut body = inline.to_string();
            for l in body_lines {
                body.push('\n');
                body.push_str(l);
            }
            return finish(out, body.trim());
        }
    }
    finish(out, body_lines.join("\n").trim())
}

fn finish(mut out: Map<String, Value>, body: &str) -> Option<Map<String, Value>> {
    let body = body.trim_matches('`').trim();
    if body.is_empty() {
        return None;
    }
    out.insert("body".into(), Value::String(body.to_string()));
    Some(out)
}

/// The value of a `Key: value` line (`key` lower-case), its markdown stripped.
fn label<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let bare = line.trim().trim_start_matches(['#', '*', '_', '>', ' ']);
    let (name, value) = bare.split_once(':')?;
    if !name.trim_end_matches(['*', '_']).trim().eq_ignore_ascii_case(key) {
        return None;
    }
    Some(value.trim().trim_matches(['*', '_']).trim())
}

/// Plain text as the simple HTML the template editor keeps: paragraphs at blank lines, line
/// breaks within them, `<`, `>` and `&` escaped. An answer that is already HTML is kept.
pub fn paragraphs_as_html(text: &str) -> String {
    let looks_like_html = ["<p", "<br", "<ul", "<div", "</"].iter().any(|t| text.contains(t));
    if looks_like_html {
        return text.to_string();
    }
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let escaped = p.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            format!(
                "<p>{}</p>",
                escaped.lines().map(str::trim).collect::<Vec<_>>().join("<br>\n")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_is_found_in_fences_and_chatter() {
        let fenced = "Sure! Here it is:\n```json\n{\"subject\": \"Hi\", \"body\": \"<p>x</p>\"}\n```";
        assert_eq!(read_object(fenced).unwrap()["subject"], "Hi");
        assert!(read_object("no json here").is_none());
        assert!(read_object("[1, 2]").is_none());
    }

    #[test]
    fn a_plain_subject_answer_is_read() {
        let answer = "Here is your email:\n\n**Subject:** Rates just dropped, {{ first_name }}\nPreheader: A good week to look again\n\nHi {{ first_name }},\n\nRates fell this week.\nCall me.\n\nAndy";
        let got = read_labelled(answer).unwrap();
        assert_eq!(got["subject"], "Rates just dropped, {{ first_name }}");
        assert_eq!(got["preheader"], "A good week to look again");
        assert_eq!(
            got["body"],
            "Hi {{ first_name }},\n\nRates fell this week.\nCall me.\n\nAndy"
        );
        let labelled = read_labelled("subject: Hello\nBody: Hi there\nsecond line").unwrap();
        assert_eq!(labelled["subject"], "Hello");
        assert_eq!(labelled["body"], "Hi there\nsecond line");
        let body_label_alone = read_labelled("## Subject: Hello\n\nBody:\nHi there").unwrap();
        assert_eq!(body_label_alone["body"], "Hi there");
        assert!(read_labelled("Subject: only a subject\n\n").is_none());
        assert!(read_labelled("Hi, no subject here").is_none());
        // "Subject" inside a sentence is not a label.
        assert!(read_labelled("The subject: rates\nbody").is_none());
    }

    #[test]
    fn plain_text_becomes_paragraphs() {
        assert_eq!(
            paragraphs_as_html("Hi {{ first_name }},\n\nRates < 6% & falling.\nCall me."),
            "<p>Hi {{ first_name }},</p>\n<p>Rates &lt; 6% &amp; falling.<br>\nCall me.</p>"
        );
        assert_eq!(paragraphs_as_html("<p>Kept</p>"), "<p>Kept</p>");
    }
}

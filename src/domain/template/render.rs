//! The template sandbox (SPEC §9.1): minijinja with no loader (nothing can be included or read
//! from disk), no globals (no `range`, no `namespace`), a short list of filters that cannot
//! grow a value, fuel (a loop that never ends stops quickly), an output cap, HTML auto-escape
//! for email bodies, and `guard` refusing variables and repetition before parsing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use minijinja::{AutoEscape, Environment, ErrorKind, Value};

use super::{Channel, guard, plain};
use crate::domain::contact::ContactRecord;
use crate::domain::field_definition::FieldSet;

/// A template body is at most this long.
pub const BODY_MAX: usize = 256 * 1024;
/// Instructions one render may run: a real message needs a few hundred.
const FUEL: u64 = 100_000;
/// A rendered part is at most this long.
const OUTPUT_MAX: usize = 1024 * 1024;

/// The placeholders besides `custom.<field_name>`.
pub const PLACEHOLDERS: &[&str] = &[
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "company",
    "sender.name",
    "sender.email",
    "workspace.name",
    "unsubscribe_url",
];

/// What a template is made of, as written.
pub struct Source<'a> {
    pub channel: Channel,
    pub subject: &'a str,
    pub preheader: &'a str,
    pub body: &'a str,
}

/// A filled-in template.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    /// Email only: the HTML part, with the preheader hidden at its top.
    pub body_html: Option<String>,
    /// The text of a text message, or an email's plain-text part.
    pub body_text: String,
}

/// A template parsed once, to be filled in for many contacts.
pub struct Compiled {
    env: Environment<'static>,
    channel: Channel,
}

/// A problem with a template: the part (`subject`, `preheader`, `body`) and what is wrong.
pub type Problem = (String, String);

impl Compiled {
    /// Parses the parts; every syntax problem at once, each naming its part and line.
    pub fn new(source: &Source) -> Result<Compiled, Vec<Problem>> {
        let mut env = environment();
        let mut problems = Vec::new();
        for (part, name, text) in parts(source) {
            if let Err((line, message)) = guard::check(text) {
                problems.push((part.to_string(), format!("line {line}: {message}")));
                continue;
            }
            if let Err(e) = env.add_template_owned(name, text.to_string()) {
                problems.push((part.to_string(), describe(&e)));
            }
        }
        if problems.is_empty() {
            Ok(Compiled {
                env,
                channel: source.channel,
            })
        } else {
            Err(problems)
        }
    }

    /// Placeholders that are not pi-crm's (`custom` names the workspace's custom fields).
    pub fn unknown_placeholders(&self, custom: &BTreeSet<String>) -> Vec<Problem> {
        self.used()
            .into_iter()
            .filter_map(|(part, placeholder)| unknown(&placeholder, custom).map(|m| (part.to_string(), m)))
            .collect()
    }

    /// The custom fields the template names that are not in `custom`, each once, in the order
    /// of the parts.
    pub fn missing_custom_fields(&self, custom: &BTreeSet<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (_, placeholder) in self.used() {
            if let Some(field) = placeholder.strip_prefix("custom.") {
                let field = field.split('.').next().unwrap_or(field);
                if !custom.contains(field) && !out.iter().any(|f| f == field) {
                    out.push(field.to_string());
                }
            }
        }
        out
    }

    /// Every variable each part reads, per part, sorted.
    fn used(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (part, name) in self.names() {
            let Ok(template) = self.env.get_template(name) else {
                continue;
            };
            let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
            used.sort();
            out.extend(used.into_iter().map(|u| (part, u)));
        }
        out
    }

    /// Fills the template in with `context`.
    pub fn render(&self, context: &Value) -> Result<Rendered, Problem> {
        let fill = |part: &str, name: &str| -> Result<String, Problem> {
            let template = self
                .env
                .get_template(name)
                .map_err(|e| (part.to_string(), describe(&e)))?;
            let mut out = Capped::default();
            template
                .render_captured_to(context, &mut out)
                .map_err(|e| (part.to_string(), if out.over { over_cap() } else { describe(&e) }))?;
            String::from_utf8(out.bytes).map_err(|_| (part.to_string(), "the result is not text".into()))
        };
        match self.channel {
            Channel::Email => {
                let subject = fill("subject", "subject.txt")?;
                let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
                let preheader = fill("preheader", "preheader.txt")?;
                let body = fill("body", "body.html")?;
                let text = plain::from_html(&body);
                Ok(Rendered {
                    subject,
                    body_html: Some(with_preheader(&body, preheader.trim())),
                    body_text: text,
                })
            }
            Channel::Text => Ok(Rendered {
                subject: String::new(),
                body_html: None,
                body_text: fill("body", "body.txt")?.trim().to_string(),
            }),
        }
    }

    fn names(&self) -> Vec<(&'static str, &'static str)> {
        match self.channel {
            Channel::Email => vec![
                ("subject", "subject.txt"),
                ("preheader", "preheader.txt"),
                ("body", "body.html"),
            ],
            Channel::Text => vec![("body", "body.txt")],
        }
    }
}

fn parts<'a>(source: &Source<'a>) -> Vec<(&'static str, &'static str, &'a str)> {
    match source.channel {
        Channel::Email => vec![
            ("subject", "subject.txt", source.subject),
            ("preheader", "preheader.txt", source.preheader),
            ("body", "body.html", source.body),
        ],
        Channel::Text => vec![("body", "body.txt", source.body)],
    }
}

fn environment() -> Environment<'static> {
    use minijinja::{filters, tests};
    let mut env = Environment::empty();
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(20);
    // Only the email body is HTML; a subject or a text is shown as written.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    env.add_filter("default", filters::default);
    env.add_filter("d", filters::default);
    env.add_filter("upper", filters::upper);
    env.add_filter("lower", filters::lower);
    env.add_filter("title", filters::title);
    env.add_filter("capitalize", filters::capitalize);
    env.add_filter("trim", filters::trim);
    env.add_filter("length", filters::length);
    env.add_filter("first", filters::first);
    env.add_filter("last", filters::last);
    env.add_filter("escape", filters::escape);
    env.add_filter("e", filters::escape);
    env.add_filter("safe", filters::safe);
    env.add_filter("round", filters::round);
    env.add_filter("abs", filters::abs);
    env.add_filter("int", filters::int);
    env.add_filter("float", filters::float);
    env.add_filter("string", filters::string);
    env.add_test("defined", tests::is_defined);
    env.add_test("undefined", tests::is_undefined);
    env.add_test("none", tests::is_none);
    env.add_test("eq", tests::is_eq);
    env.add_test("ne", tests::is_ne);
    env.add_test("startingwith", tests::is_startingwith);
    env.add_test("endingwith", tests::is_endingwith);
    env.add_test("number", tests::is_number);
    env.add_test("string", tests::is_string);
    env
}

/// Why a placeholder is not one of pi-crm's, or `None` when it is.
fn unknown(placeholder: &str, custom: &BTreeSet<String>) -> Option<String> {
    if PLACEHOLDERS.contains(&placeholder) {
        return None;
    }
    if let Some(field) = placeholder.strip_prefix("custom.") {
        let field = field.split('.').next().unwrap_or(field);
        if custom.contains(field) {
            return None;
        }
        return Some(format!(
            "unknown placeholder {{{{ custom.{field} }}}}: this workspace has no custom field named \"{field}\""
        ));
    }
    let hint = match placeholder {
        "custom" => " (write custom.<field_name>, e.g. custom.birthday)".to_string(),
        "sender" | "workspace" => format!(" (write {placeholder}.name)"),
        _ => String::new(),
    };
    Some(format!(
        "unknown placeholder {{{{ {placeholder} }}}}{hint}; the placeholders are {}, and custom.<field_name>",
        PLACEHOLDERS.join(", ")
    ))
}

fn describe(e: &minijinja::Error) -> String {
    let what = match e.kind() {
        ErrorKind::OutOfFuel => {
            return "the template takes too long to fill in (a loop that never ends?); make it simpler".into();
        }
        ErrorKind::UnknownFilter => format!("unknown filter: {}", e.detail().unwrap_or("")),
        ErrorKind::UnknownTest => format!("unknown test: {}", e.detail().unwrap_or("")),
        ErrorKind::UnknownFunction => format!(
            "unknown function: {} (templates have no functions)",
            e.detail().unwrap_or("")
        ),
        _ => e.detail().map(str::to_string).unwrap_or_else(|| e.kind().to_string()),
    };
    match e.line() {
        Some(line) => format!("line {line}: {what}"),
        None => what,
    }
}

fn over_cap() -> String {
    format!(
        "the filled-in template would be over {} KiB; make it shorter",
        OUTPUT_MAX / 1024
    )
}

/// A writer that refuses to grow past `OUTPUT_MAX`.
#[derive(Default)]
struct Capped {
    bytes: Vec<u8>,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > OUTPUT_MAX {
            self.over = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The preheader (the line mail apps show after the subject) as a hidden block at the top.
fn with_preheader(body: &str, preheader: &str) -> String {
    if preheader.is_empty() {
        return body.to_string();
    }
    let hidden = format!(
        "<div style=\"display:none;max-height:0;overflow:hidden;mso-hide:all\">{}</div>",
        html_escape(preheader)
    );
    let lower = body.to_ascii_lowercase();
    match lower
        .find("<body")
        .and_then(|b| lower[b..].find('>').map(|e| b + e + 1))
    {
        Some(at) => format!("{}{hidden}{}", &body[..at], &body[at..]),
        None => format!("{hidden}{body}"),
    }
}

pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Who sends, for `sender.*`.
#[derive(Debug, Clone)]
pub struct Sender {
    pub name: String,
    pub email: String,
}

/// The values a template is filled in with for one contact. Empty values are left out, so
/// `{{ first_name | default("there") }}` works; custom values read as people write them.
pub fn context(
    contact: &ContactRecord,
    fields: &FieldSet,
    sender: &Sender,
    workspace: &str,
    unsubscribe_url: Option<&str>,
) -> Value {
    let mut top: BTreeMap<&str, Value> = BTreeMap::new();
    let base = &contact.base;
    let mut put = |key: &'static str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
            top.insert(key, Value::from(v));
        }
    };
    put("first_name", base.first_name.clone());
    put("last_name", base.last_name.clone());
    let full = [base.first_name.as_deref(), base.last_name.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    put("full_name", Some(full));
    put("email", base.primary_email.clone());
    put(
        "phone",
        base.primary_phone.as_deref().map(crate::domain::phone::display),
    );
    put("company", base.company.clone());
    // Never empty (an `<a href="">` is no way out): without a one-click page (no `public_url`),
    // a reply to the sender asking to be taken off.
    put(
        "unsubscribe_url",
        Some(match unsubscribe_url {
            Some(url) => url.to_string(),
            None => format!("mailto:{}?subject=unsubscribe", sender.email),
        }),
    );
    let custom: BTreeMap<String, Value> = contact
        .custom
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(name, stored)| {
            let shown = match fields.get(name) {
                Some(def) => crate::domain::field::readable(def.field_type, stored),
                None => stored.clone(),
            };
            (name.clone(), Value::from(shown))
        })
        .collect();
    top.insert("custom", Value::from(custom));
    top.insert(
        "sender",
        Value::from_pairs([("name", sender.name.as_str()), ("email", sender.email.as_str())]),
    );
    top.insert("workspace", Value::from_pairs([("name", workspace)]));
    Value::from(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(channel: Channel, subject: &str, body: &str) -> Result<Compiled, Vec<Problem>> {
        Compiled::new(&Source {
            channel,
            subject,
            preheader: "",
            body,
        })
    }

    fn ctx(first: &str) -> Value {
        Value::from_pairs([("first_name", Value::from(first))])
    }

    #[test]
    fn html_bodies_escape_values_and_subjects_do_not() {
        let t = compile(Channel::Email, "Hi {{ first_name }}", "<p>Hi {{ first_name }}</p>").unwrap();
        let r = t.render(&ctx("<script>alert(1)</script>")).unwrap();
        assert_eq!(r.subject, "Hi <script>alert(1)</script>");
        assert_eq!(
            r.body_html.unwrap(),
            "<p>Hi &lt;script&gt;alert(1)&lt;&#x2f;script&gt;</p>"
        );
        assert_eq!(r.body_text, "Hi <script>alert(1)</script>");
    }

    #[test]
    fn a_loop_that_never_ends_runs_out_of_fuel() {
        let source = "{% for a in first_name %}{% for b in first_name %}{% for c in first_name %}x{% endfor %}{% endfor %}{% endfor %}";
        let t = compile(Channel::Text, "", source).unwrap();
        let err = t.render(&ctx(&"y".repeat(1000))).unwrap_err();
        assert!(err.1.contains("too long to fill in"), "{err:?}");
    }

    #[test]
    fn output_is_capped() {
        let source = format!("{{% for a in first_name %}}{}{{% endfor %}}", "z".repeat(200_000));
        let t = compile(Channel::Text, "", &source).unwrap();
        let err = t.render(&ctx("123456789")).unwrap_err();
        assert!(err.1.contains("KiB"), "{err:?}");
    }

    #[test]
    fn syntax_errors_name_part_and_line() {
        let Err(problems) = compile(Channel::Email, "ok", "one\ntwo {{ first_name }\n") else {
            panic!("bad syntax compiled")
        };
        assert_eq!(problems[0].0, "body");
        assert!(problems[0].1.starts_with("line 2"), "{problems:?}");
    }

    #[test]
    fn unknown_names_and_functions_are_reported() {
        let t = compile(
            Channel::Text,
            "",
            "{{ frist_name }} {{ custom.nickname }} {{ custom.birthday }}",
        )
        .unwrap();
        let custom: BTreeSet<String> = ["birthday".to_string()].into();
        let problems = t.unknown_placeholders(&custom);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].1.contains("custom.nickname"));
        assert!(problems[1].1.contains("frist_name"));
        let t = compile(Channel::Text, "", "{{ range(10) }}").unwrap();
        assert!(t.render(&ctx("a")).unwrap_err().1.contains("unknown function"));
    }

    #[test]
    fn missing_values_take_their_default() {
        let t = compile(Channel::Text, "", "Hi {{ first_name | default('there') }}!").unwrap();
        assert_eq!(
            t.render(&Value::from_pairs::<_, &str, &str>([])).unwrap().body_text,
            "Hi there!"
        );
    }
}

//! The RFC 5322 message pi-crm builds itself (SMTP and the Gmail API send it as is): a
//! `multipart/alternative` of the plain-text and HTML parts, our own `Message-ID`, and any
//! extra headers such as `List-Unsubscribe`.

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};

use crate::providers::Email;

/// `problems` gets an entry when `from` is not an address mail can carry.
pub fn check_from(out: &mut Vec<(String, String)>, from: &str) {
    if from.trim().parse::<Mailbox>().is_err() {
        out.push((
            "from".into(),
            "from must be an address such as Andy Lee <andy@example.com>".into(),
        ));
    }
}

/// `problems` gets an entry when a Reply-To is set and is not an address.
pub fn check_reply_to(out: &mut Vec<(String, String)>, reply_to: Option<&str>) {
    if reply_to.is_some_and(|r| r.parse::<Mailbox>().is_err()) {
        out.push((
            "reply_to".into(),
            "reply_to must be an address such as Andy Lee <andy@example.com>, or empty".into(),
        ));
    }
}

/// `<outbox-id@the sender's domain>`: unique, and ours to match later.
pub fn message_id(email: &Email) -> String {
    let domain = email
        .from
        .parse::<Mailbox>()
        .map(|m| ascii_domain(m).email.domain().to_string())
        .unwrap_or_else(|_| "pi-crm.invalid".into());
    format!("<{}@{domain}>", email.outbox_id)
}

pub fn build(email: &Email) -> Result<Message, String> {
    let from = ascii_domain(
        email
            .from
            .parse()
            .map_err(|e| format!("the sender address is not valid: {e}"))?,
    );
    let to = recipient(email)?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(email.subject.clone())
        .message_id(Some(message_id(email)));
    if let Some(reply_to) = &email.reply_to {
        let reply_to = reply_to
            .parse()
            .map_err(|e| format!("the reply-to address is not valid: {e}"))?;
        builder = builder.reply_to(ascii_domain(reply_to));
    }
    for (name, value) in &email.headers {
        let name = HeaderName::new_from_ascii(name.clone()).map_err(|_| format!("{name} is not a header name"))?;
        builder = builder.raw_header(HeaderValue::new(name, value.clone()));
    }
    let built = match &email.html {
        Some(html) => builder.multipart(MultiPart::alternative_plain_html(email.text.clone(), html.clone())),
        None => builder.singlepart(SinglePart::plain(email.text.clone())),
    };
    built.map_err(|e| format!("the message could not be built: {e}"))
}

/// The recipient with their name when there is one: lettre writes it RFC 2047-encoded when it
/// is not ASCII.
pub fn recipient(email: &Email) -> Result<Mailbox, String> {
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|e| format!("the recipient address is not valid: {e}"))?;
    let name = email
        .to_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let to = ascii_domain(to);
    Ok(match name {
        Some(name) => Mailbox::new(Some(name), to.email),
        None => to,
    })
}

/// The address with an internationalised domain written as punycode (`bücher.example` →
/// `xn--bcher-kva.example`): every relay carries that, where the Unicode form needs SMTPUTF8.
/// Only a local part beyond ASCII still needs it (`smtp` checks the server offers it).
pub fn ascii_domain(mailbox: Mailbox) -> Mailbox {
    let domain = mailbox.email.domain();
    if domain.is_ascii() {
        return mailbox;
    }
    let ascii = match url::Host::parse(domain) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => return mailbox,
    };
    match lettre::Address::new(mailbox.email.user(), ascii) {
        Ok(email) => Mailbox::new(mailbox.name, email),
        Err(_) => mailbox,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(to_name: Option<&str>) -> Email {
        Email {
            from: "Andy Lee <andy@lee-family.example>".into(),
            reply_to: None,
            to: "zoe@example.com".into(),
            to_name: to_name.map(str::to_string),
            subject: "Hi".into(),
            text: "Hello".into(),
            html: None,
            headers: Vec::new(),
            outbox_id: "01a24e66-d12c-73ab-bf8b-17fb6f6c06d7".into(),
        }
    }

    #[test]
    fn an_internationalised_domain_goes_as_punycode_and_the_name_stays() {
        let mut to_idn = email(Some("Zoë Müller"));
        to_idn.to = "zoe@bücher.example".into();
        let built = build(&to_idn).unwrap();
        let envelope: Vec<String> = built.envelope().to().iter().map(|a| a.to_string()).collect();
        assert_eq!(envelope, ["zoe@xn--bcher-kva.example"]);
        let sent = String::from_utf8(built.formatted()).unwrap();
        assert!(sent.is_ascii(), "{sent}");
        assert!(sent.contains(" <zoe@xn--bcher-kva.example>\r\n"), "{sent}");
        // A local part beyond ASCII cannot be written another way: it stays (SMTPUTF8's job).
        let mailbox: Mailbox = "josé@example.com".parse().unwrap();
        assert_eq!(ascii_domain(mailbox).email.to_string(), "josé@example.com");
    }

    #[test]
    fn the_recipient_is_named_and_a_name_beyond_ascii_is_rfc_2047_encoded() {
        let sent = String::from_utf8(build(&email(Some("Zoë Müller"))).unwrap().formatted()).unwrap();
        let to = sent.lines().find(|l| l.starts_with("To: ")).unwrap();
        assert!(
            to.starts_with("To: =?utf-8?b?") && to.ends_with(" <zoe@example.com>"),
            "{to}"
        );
        let plain = String::from_utf8(build(&email(None)).unwrap().formatted()).unwrap();
        assert!(plain.contains("To: zoe@example.com\r\n"), "{plain}");
        assert_eq!(recipient(&email(Some("  "))).unwrap().to_string(), "zoe@example.com");
    }
}

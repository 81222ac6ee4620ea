//! An in-process SMTP server for tests: speaks enough of RFC 5321 (EHLO, AUTH PLAIN/LOGIN,
//! MAIL, RCPT, DATA with dot-unstuffing, RSET, QUIT) for lettre to deliver real mail to it,
//! and keeps what it received. `refuse` makes it answer DATA with a chosen reply.

use std::sync::{Arc, Mutex};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
pub struct Received {
    /// `(username, password)` from AUTH.
    pub auth: Option<(String, String)>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as sent (CRLF line ends, dots unstuffed).
    pub data: String,
}

#[derive(Clone, Default)]
pub struct SmtpSink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// When set, the reply to the end of DATA (e.g. "550 5.1.1 no such user").
    pub refuse: Arc<Mutex<Option<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink {
            port: listener.local_addr().unwrap().port(),
            ..SmtpSink::default()
        };
        let shared = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let sink = shared.clone();
                tokio::spawn(async move {
                    let _ = sink.session(stream).await;
                });
            }
        });
        sink
    }

    pub fn messages(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn session(&self, stream: tokio::net::TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read);
        let mut current = Received::default();
        write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let command = line.trim_end().to_string();
            let upper = command.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                "250-sink.test\r\n250-AUTH PLAIN LOGIN\r\n250-8BITMIME\r\n250 SMTPUTF8".into()
            } else if upper.starts_with("AUTH PLAIN") {
                let b64 = command.split_whitespace().nth(2).unwrap_or_default();
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap_or_default();
                let parts: Vec<String> = raw
                    .split(|b| *b == 0)
                    .map(|p| String::from_utf8_lossy(p).into())
                    .collect();
                current.auth = Some((
                    parts.get(1).cloned().unwrap_or_default(),
                    parts.get(2).cloned().unwrap_or_default(),
                ));
                "235 2.7.0 accepted".into()
            } else if upper.starts_with("AUTH LOGIN") {
                let b64 = base64::engine::general_purpose::STANDARD;
                write.write_all(b"334 VXNlcm5hbWU6\r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let user = String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).to_string();
                write.write_all(b"334 UGFzc3dvcmQ6\r\n").await?;
                line.clear();
                lines.read_line(&mut line).await?;
                let pass = String::from_utf8_lossy(&b64.decode(line.trim()).unwrap_or_default()).to_string();
                current.auth = Some((user, pass));
                "235 2.7.0 accepted".into()
            } else if upper.starts_with("MAIL FROM:") {
                current.mail_from = command[10..]
                    .trim()
                    .trim_matches(['<', '>'])
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .into();
                "250 2.1.0 ok".into()
            } else if upper.starts_with("RCPT TO:") {
                current
                    .rcpt_to
                    .push(command[8..].trim().trim_matches(['<', '>']).into());
                "250 2.1.5 ok".into()
            } else if upper == "DATA" {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(
                        line.strip_prefix('.')
                            .filter(|_| line.starts_with(".."))
                            .unwrap_or(&line),
                    );
                }
                current.data = data;
                match self.refuse.lock().unwrap().clone() {
                    Some(reply) => reply,
                    None => {
                        self.received.lock().unwrap().push(std::mem::take(&mut current));
                        "250 2.0.0 queued".into()
                    }
                }
            } else if upper == "RSET" {
                current = Received::default();
                "250 ok".into()
            } else if upper == "QUIT" {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            } else if upper == "NOOP" {
                "250 ok".into()
            } else {
                "502 5.5.2 not implemented".into()
            };
            write.write_all(format!("{reply}\r\n").as_bytes()).await?;
        }
    }
}

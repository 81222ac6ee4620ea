//! Bytes to text: a byte-order mark wins; then UTF-16 without one (every other byte zero);
//! then strict UTF-8; then chardetng's guess among the legacy encodings real exports use
//! (Windows-1252 / Latin-1, Shift_JIS, …). Anything else is refused, never half-decoded.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::error::{AppError, AppResult};

/// Decoded text and the name of the encoding it was in.
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

fn refuse(message: &str) -> AppError {
    AppError::invalid("file", message)
}

pub fn decode(bytes: &[u8]) -> AppResult<Decoded> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(refuse("the file is empty"));
    }
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return strict(encoding, &bytes[bom_len..]);
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        return strict(encoding, bytes);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains('\0') {
            return Err(refuse("this looks like a binary file, not a CSV or vCard file"));
        }
        return Ok(Decoded {
            text: text.to_string(),
            encoding: "UTF-8",
        });
    }
    if bytes.contains(&0) {
        return Err(refuse("this looks like a binary file, not a CSV or vCard file"));
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Allow);
    strict(guess, bytes)
}

/// UTF-16 text of mostly ASCII characters has a zero in every other byte.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_even = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let zero_odd = sample.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if zero_even * 10 >= pairs * 4 && zero_odd * 10 < pairs {
        Some(UTF_16BE)
    } else if zero_odd * 10 >= pairs * 4 && zero_even * 10 < pairs {
        Some(UTF_16LE)
    } else {
        None
    }
}

fn strict(encoding: &'static Encoding, bytes: &[u8]) -> AppResult<Decoded> {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(refuse(
            "the file is not text in any encoding pi-crm knows (UTF-8, UTF-16, Windows-1252, Latin-1, Shift_JIS…)",
        ));
    }
    if text.contains('\0') {
        return Err(refuse("this looks like a binary file, not a CSV or vCard file"));
    }
    let name = if encoding == UTF_8 { "UTF-8" } else { encoding.name() };
    Ok(Decoded {
        text: text.into_owned(),
        encoding: name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_utf16_and_legacy_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").unwrap().text, "a,b");
        let le: Vec<u8> = "\u{feff}Name,E-mail"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let d = decode(&le).unwrap();
        assert_eq!((d.text.as_str(), d.encoding), ("Name,E-mail", "UTF-16LE"));
        let be: Vec<u8> = "BEGIN:VCARD\r\nFN:Perú\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(decode(&be).unwrap().encoding, "UTF-16BE");
        let cp1252 = b"Vorname,Nachname\r\nJ\xf6rg,M\xfcller\r\n";
        let d = decode(cp1252).unwrap();
        assert!(d.text.contains("Jörg") && d.text.contains("Müller"), "{}", d.text);
        assert!(decode(b"").is_err());
        assert!(decode(b"\x00\x01\x02\x03\xff\xfe\x00\x00garbage\x00").is_err());
    }
}

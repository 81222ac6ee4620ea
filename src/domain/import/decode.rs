//! Bytes to text, without holding the file: `detect` reads it once to choose the encoding — a
//! byte-order mark wins; then UTF-16 without one (every other byte zero); then strict UTF-8;
//! then chardetng's guess among the legacy encodings real exports use (Windows-1252 /
//! Latin-1, Shift_JIS, …) — and `DecodeReader` turns it into UTF-8 as it is read. Text that is
//! not valid in the chosen encoding is refused, never half-decoded.

use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult, Encoding, UTF_8, UTF_16BE, UTF_16LE};

use crate::error::{AppError, AppResult};

const CHUNK: usize = 64 * 1024;
/// chardetng's guess is settled long before this much text.
const GUESS_FROM: usize = 4 * 1024 * 1024;

pub const NOT_TEXT: &str =
    "the file is not text in any encoding pi-crm knows (UTF-8, UTF-16, Windows-1252, Latin-1, Shift_JIS…)";
pub const BINARY: &str = "this looks like a binary file, not a CSV or vCard file";

fn refuse(message: &str) -> AppError {
    AppError::invalid("file", message)
}

/// The encoding a file is in, and how many bytes of byte-order mark to skip.
#[derive(Debug, Clone, Copy)]
pub struct Detected {
    pub encoding: &'static Encoding,
    pub bom_len: usize,
}

impl Detected {
    pub fn name(&self) -> &'static str {
        if self.encoding == UTF_8 {
            "UTF-8"
        } else {
            self.encoding.name()
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the whole file once, keeping nothing but a chunk, and names its encoding.
pub fn detect(mut r: impl Read) -> AppResult<Detected> {
    let mut buf = vec![0u8; CHUNK];
    let n = read_full(&mut r, &mut buf).map_err(anyhow::Error::from)?;
    let head = &buf[..n];
    if let Some((encoding, bom_len)) = Encoding::for_bom(head) {
        return Ok(Detected { encoding, bom_len });
    }
    if let Some(encoding) = utf16_without_bom(head) {
        return Ok(Detected { encoding, bom_len: 0 });
    }
    let mut any_text = false;
    let mut has_nul = false;
    let mut utf8 = UTF_8.new_decoder_without_bom_handling();
    let mut utf8_ok = true;
    let mut scratch = vec![0u8; CHUNK * 2];
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    let mut fed = 0;
    let mut len = n;
    loop {
        let chunk = &buf[..len];
        let last = len < CHUNK;
        any_text |= chunk.iter().any(|b| !b.is_ascii_whitespace());
        has_nul |= chunk.contains(&0);
        if utf8_ok {
            let mut input = chunk;
            loop {
                let (result, read, _) = utf8.decode_to_utf8_without_replacement(input, &mut scratch, last);
                input = &input[read..];
                match result {
                    DecoderResult::Malformed(..) => {
                        utf8_ok = false;
                        break;
                    }
                    DecoderResult::InputEmpty => break,
                    DecoderResult::OutputFull => {}
                }
            }
        }
        if fed < GUESS_FROM {
            detector.feed(chunk, last);
            fed += chunk.len();
        }
        if last {
            break;
        }
        len = read_full(&mut r, &mut buf).map_err(anyhow::Error::from)?;
        if len == 0 {
            // The file ended exactly on a chunk: tell both readers it is over.
            detector.feed(&[], true);
            if utf8_ok {
                let (result, _, _) = utf8.decode_to_utf8_without_replacement(&[], &mut scratch, true);
                utf8_ok = !matches!(result, DecoderResult::Malformed(..));
            }
            break;
        }
    }
    if !any_text {
        return Err(refuse("the file is empty"));
    }
    if has_nul {
        return Err(refuse(BINARY));
    }
    if utf8_ok {
        return Ok(Detected {
            encoding: UTF_8,
            bom_len: 0,
        });
    }
    let encoding = detector.guess(None, chardetng::Utf8Detection::Deny);
    Ok(Detected { encoding, bom_len: 0 })
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

/// Reads a file in one encoding as UTF-8, a chunk at a time. Malformed input and NUL
/// characters are errors (`InvalidData`, with the sentence to show), not replacement marks.
pub struct DecodeReader<R> {
    inner: R,
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    done: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_len: usize,
}

impl<R: Read> DecodeReader<R> {
    /// `inner` starts after the byte-order mark, if there was one.
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        DecodeReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; CHUNK],
            start: 0,
            end: 0,
            eof: false,
            done: false,
            out: vec![0; CHUNK * 3 + 16],
            out_pos: 0,
            out_len: 0,
        }
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.out_len {
                let n = buf.len().min(self.out_len - self.out_pos);
                buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            if self.start == self.end && !self.eof {
                self.start = 0;
                self.end = read_full(&mut self.inner, &mut self.input)?;
                self.eof = self.end < self.input.len();
            }
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.start..self.end],
                &mut self.out,
                self.eof,
            );
            self.start += read;
            self.out_pos = 0;
            self.out_len = written;
            match result {
                DecoderResult::Malformed(..) => return Err(io::Error::new(io::ErrorKind::InvalidData, NOT_TEXT)),
                DecoderResult::InputEmpty if self.eof => self.done = true,
                _ => {}
            }
            if self.out[..written].contains(&0) {
                return Err(io::Error::new(io::ErrorKind::InvalidData, BINARY));
            }
        }
    }
}

/// An error met while reading an upload: text that is not text is the file's fault (422);
/// anything else is ours.
pub fn read_error(e: io::Error) -> AppError {
    if e.kind() == io::ErrorKind::InvalidData {
        refuse(&e.to_string())
    } else {
        AppError::Internal(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Detects and decodes a whole file held in memory.
    pub fn decode(bytes: &[u8]) -> AppResult<(String, &'static str)> {
        let detected = detect(bytes)?;
        let mut text = String::new();
        DecodeReader::new(&bytes[detected.bom_len..], detected.encoding)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        Ok((text, detected.name()))
    }

    #[test]
    fn boms_utf16_and_legacy_encodings() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").unwrap().0, "a,b");
        let le: Vec<u8> = "\u{feff}Name,E-mail"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let (text, name) = decode(&le).unwrap();
        assert_eq!((text.as_str(), name), ("Name,E-mail", "UTF-16LE"));
        let be: Vec<u8> = "BEGIN:VCARD\r\nFN:Perú\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(decode(&be).unwrap().1, "UTF-16BE");
        let cp1252 = b"Vorname,Nachname\r\nJ\xf6rg,M\xfcller\r\n";
        let (text, _) = decode(cp1252).unwrap();
        assert!(text.contains("Jörg") && text.contains("Müller"), "{text}");
        assert!(decode(b"").is_err());
        assert!(decode(b"  \n ").is_err());
        assert!(decode(b"\x00\x01\x02\x03\xff\xfe\x00\x00garbage\x00").is_err());
    }

    #[test]
    fn long_files_decode_across_chunk_boundaries() {
        // A two-byte character split by every chunk boundary, and a legacy byte far past the
        // first chunk: detection and decoding both see the whole file.
        let mut utf8 = String::new();
        while utf8.len() < CHUNK * 3 {
            utf8.push_str("Zoë,Müller,é\n");
        }
        assert_eq!(decode(utf8.as_bytes()).unwrap(), (utf8.clone(), "UTF-8"));
        let mut latin = b"Name,City\n".repeat(CHUNK / 5);
        latin.extend_from_slice(b"J\xf6rg,K\xf6ln\n");
        let (text, name) = decode(&latin).unwrap();
        assert_ne!(name, "UTF-8");
        assert!(text.ends_with("Jörg,Köln\n"), "{name}");
        let mut exact = vec![b'a'; CHUNK];
        exact[CHUNK - 1] = b'\n';
        assert_eq!(decode(&exact).unwrap().0.len(), CHUNK);
    }
}

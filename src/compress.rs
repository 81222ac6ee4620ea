//! Pages and API answers gzipped in one piece.
//!
//! A page or a JSON answer is made whole before it is sent, so it is compressed whole: one
//! deflate pass into one buffer, sent with its `Content-Length` (a streamed answer is sent in
//! chunks of unknown total). The compressor's state (some 300 KB: its window and hash tables)
//! is made once per worker thread and reset for each answer, where tower-http's streaming
//! encoder makes it afresh for each answer; on the 62 KB contacts page that is 55–60 µs of
//! deflate against 61–67 µs (`docs/benchmarks.md`). Downloads, which stream, keep tower-http's
//! encoder (`app::compression`).

use std::cell::RefCell;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::Request;
use axum::http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, VARY};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;
use flate2::{Compress, Compression, Crc, FlushCompress, Status};

/// Smaller answers are sent as they are: gzip's own 18 bytes and a TCP packet's size make
/// compressing them pointless.
const SMALLEST: u64 = 1024;

/// Larger answers (none of the pages) are left to the streaming encoder, so that memory per
/// answer stays bounded.
const LARGEST: u64 = 4 * 1024 * 1024;

thread_local! {
    /// This thread's deflate state, reset for each answer.
    static DEFLATE: RefCell<Option<Compress>> = const { RefCell::new(None) };
}

/// Middleware: gzips a whole answer of a compressible type for a client that accepts gzip.
pub async fn whole(req: Request, next: Next) -> Response {
    let wanted = *req.method() != Method::HEAD && accepts_gzip(req.headers());
    let response = next.run(req).await;
    if !wanted || !compressible(response.headers()) {
        return response;
    }
    let size = response.body().size_hint().exact();
    if !size.is_some_and(|n| (SMALLEST..=LARGEST).contains(&n)) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, LARGEST as usize).await else {
        // A body that fails while read in memory has nothing to send either.
        return Response::from_parts(parts, Body::empty());
    };
    let Some(packed) = gzip(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.append(VARY, HeaderValue::from_static("accept-encoding"));
    Response::from_parts(parts, Body::from(packed))
}

/// Whether `Accept-Encoding` takes gzip: named (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip = None;
    let mut any = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match coding.as_str() {
                "gzip" | "x-gzip" => gzip = Some(weight > 0.0),
                "*" => any = Some(weight > 0.0),
                _ => {}
            }
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// Text that is not encoded yet: pages, JSON, CSV, calendars and cards; never a stream of
/// events (each must reach the browser as it happens).
fn compressible(headers: &HeaderMap) -> bool {
    if headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let Some(kind) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if kind == "text/event-stream" {
        return false;
    }
    kind.starts_with("text/")
        || kind == "application/json"
        || kind.ends_with("+json")
        || kind == "application/javascript"
        || kind == "application/xml"
        || kind.ends_with("+xml")
}

/// `data` as a gzip member (RFC 1952): a fixed header, the deflate stream at the fastest
/// level, the CRC-32 and the length; `None` if deflate refused (the answer then goes as it is).
pub fn gzip(data: &[u8]) -> Option<Vec<u8>> {
    // Header: magic, deflate, no flags, no time, fastest (`04`), unknown OS (`ff`).
    const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff];
    let mut out = Vec::with_capacity(data.len() / 4 + 64);
    out.extend_from_slice(&HEADER);
    let deflated = DEFLATE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let deflate = slot.get_or_insert_with(|| Compress::new(Compression::fast(), false));
        deflate.reset();
        loop {
            if out.len() == out.capacity() {
                out.reserve(data.len() / 8 + 64);
            }
            let read = usize::try_from(deflate.total_in())
                .unwrap_or(data.len())
                .min(data.len());
            match deflate.compress_vec(&data[read..], &mut out, FlushCompress::Finish) {
                Ok(Status::StreamEnd) => return true,
                Ok(Status::Ok | Status::BufError) => {}
                // Deflate fails only on a misuse of its state: the next answer gets a new one.
                Err(_) => {
                    *slot = None;
                    return false;
                }
            }
        }
    });
    if !deflated {
        return None;
    }
    let mut crc = Crc::new();
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    // ISIZE is the length modulo 2^32 (RFC 1952 §2.3.1).
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn unzip(packed: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(packed).read_to_end(&mut out).unwrap();
        out
    }

    /// What goes in comes out, answer after answer through the one kept state, whatever its
    /// size (empty, one byte, larger than the window, larger than the first guess at the
    /// output's size).
    #[test]
    fn every_answer_unzips_to_itself() {
        let page: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("<tr><td>{i}</td></tr>").into_bytes())
            .collect();
        let noise: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for data in [&b""[..], b"x", &page[..1000], &page, &noise, &page[..5000]] {
            let packed = gzip(data).unwrap();
            assert_eq!(unzip(&packed), data, "{} bytes", data.len());
        }
        assert!(gzip(&page).unwrap().len() * 5 < page.len());
    }

    fn headers(accept: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for a in accept {
            h.append(ACCEPT_ENCODING, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[test]
    fn gzip_is_taken_only_when_offered_with_weight() {
        assert!(accepts_gzip(&headers(&["gzip, deflate, br, zstd"])));
        assert!(accepts_gzip(&headers(&["br;q=1.0, GZIP;q=0.5"])));
        assert!(accepts_gzip(&headers(&["*"])));
        assert!(accepts_gzip(&headers(&["identity", "x-gzip"])));
        assert!(!accepts_gzip(&headers(&[])));
        assert!(!accepts_gzip(&headers(&["identity"])));
        assert!(!accepts_gzip(&headers(&["gzip;q=0, br"])));
        assert!(!accepts_gzip(&headers(&["*;q=0.5, gzip;q=0"])));
        assert!(!accepts_gzip(&headers(&["br, zstd"])));
    }

    #[test]
    fn only_text_not_yet_encoded_is_compressed() {
        let with = |kind: &str, encoding: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(CONTENT_TYPE, HeaderValue::from_str(kind).unwrap());
            if let Some(e) = encoding {
                h.insert(CONTENT_ENCODING, HeaderValue::from_str(e).unwrap());
            }
            compressible(&h)
        };
        assert!(with("text/html; charset=utf-8", None));
        assert!(with("application/json", None));
        assert!(with("application/problem+json", None));
        assert!(with("text/csv", None));
        assert!(!with("text/css", Some("br")));
        assert!(!with("image/png", None));
        assert!(!with("text/event-stream", None));
        assert!(!with("application/octet-stream", None));
    }
}

//! Reading an import upload (multipart `file`, optional `mapping` JSON and `on_duplicate`),
//! for both faces: the upload page and the imports API.

use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::domain::import::{self, mapping::Mapping};
use crate::error::AppError;

/// What a multipart upload carries.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub mapping: Option<Mapping>,
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("the file is larger than this server accepts (max_upload_mb)".into())
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
    }
}

/// Reads `file`, `mapping` and `on_duplicate` from a multipart body (other parts are ignored).
pub async fn read(mut multipart: Multipart) -> Result<Upload, AppError> {
    let mut file = None;
    let mut mapping: Option<Mapping> = None;
    let mut policy: Option<String> = None;
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                file = Some((name, field.bytes().await.map_err(multipart_error)?.to_vec()));
            }
            "mapping" => {
                let text = field.text().await.map_err(multipart_error)?;
                if !text.trim().is_empty() {
                    mapping = Some(
                        serde_json::from_str(&text)
                            .map_err(|e| AppError::invalid("mapping", format!("the mapping is not valid: {e}")))?,
                    );
                }
            }
            "on_duplicate" => policy = Some(field.text().await.map_err(multipart_error)?),
            _ => {}
        }
    }
    let (filename, bytes) = file.ok_or_else(|| AppError::invalid("file", "send the file in a part named \"file\""))?;
    let mapping = import::mapping_for(&bytes, mapping, policy.as_deref())?;
    Ok(Upload {
        filename,
        bytes,
        mapping,
    })
}

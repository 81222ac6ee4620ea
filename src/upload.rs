//! Reading an import upload (multipart `file`, optional `mapping` JSON and `on_duplicate`),
//! for both faces: the upload page and the imports API. The file goes straight to disk as it
//! arrives, so an upload as large as the limit never sits in memory.

use std::path::Path;

use axum::extract::Multipart;
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::domain::import::job::Upload;
use crate::error::AppError;
use crate::storage::upload_files::UploadFile;

fn multipart_error(e: axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("the file is larger than this server accepts (max_upload_mb)".into())
    } else {
        AppError::BadRequest(format!("the upload could not be read: {}", e.body_text()))
    }
}

fn disk_error(e: std::io::Error) -> AppError {
    AppError::Internal(anyhow::anyhow!("the upload could not be stored: {e}"))
}

/// Reads `file` (into a file in `dir`), `mapping` and `on_duplicate` from a multipart body;
/// other parts are ignored.
pub async fn read(mut multipart: Multipart, dir: &Path) -> Result<Upload, AppError> {
    let mut file = None;
    let mut mapping = None;
    let mut on_duplicate = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or("") {
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let (upload, std_file) = UploadFile::create(dir).map_err(disk_error)?;
                let mut out = tokio::fs::File::from_std(std_file);
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    out.write_all(&chunk).await.map_err(disk_error)?;
                }
                out.flush().await.map_err(disk_error)?;
                file = Some((name, upload));
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
            "on_duplicate" => on_duplicate = Some(field.text().await.map_err(multipart_error)?),
            _ => {}
        }
    }
    let (filename, file) = file.ok_or_else(|| AppError::invalid("file", "send the file in a part named \"file\""))?;
    Ok(Upload {
        filename,
        file,
        mapping,
        on_duplicate,
    })
}

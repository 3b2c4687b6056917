//! Why a request is refused before any handler sees it: one rule broken, one status.
//!
//! The wire layer names the rule (`HeadError`, `FramingError`, `ChunkError`, each with a
//! `reason()` for people); this enum is the one place those rules become HTTP status codes.
//! RFC 9112 §2.2: a server that receives an invalid request responds with an error and
//! closes, so every status here ends the connection (SPEC §8).

use std::fmt;

use super::status;
use crate::wire::chunked::ChunkError;
use crate::wire::framing::FramingError;
use crate::wire::request::HeadError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// The request line or a header field broke RFC 9112's grammar or a size limit.
    Head(HeadError),
    /// The message framing is ambiguous or unsupported (RFC 9112 §6).
    Framing(FramingError),
    /// The chunked body broke RFC 9112 §7.1, or outgrew the limit while decoding.
    Chunked(ChunkError),
    /// `Content-Length` above what the resource accepts, refused before the body is read.
    BodyTooLarge,
}

impl HttpError {
    /// The status code to answer with.
    pub fn status(self) -> u16 {
        match self {
            HttpError::Head(HeadError::TargetTooLong) => status::URI_TOO_LONG,
            HttpError::Head(HeadError::HeadTooLarge | HeadError::TooManyHeaders) => {
                status::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            // RFC 9110 §15.6.6: a major version the server does not support.
            HttpError::Head(HeadError::UnsupportedVersion) => status::HTTP_VERSION_NOT_SUPPORTED,
            HttpError::Head(_) => status::BAD_REQUEST,
            // RFC 9112 §6.1: a transfer coding the server does not understand: 501.
            HttpError::Framing(FramingError::UnsupportedCoding) => status::NOT_IMPLEMENTED,
            HttpError::Framing(_) => status::BAD_REQUEST,
            HttpError::Chunked(ChunkError::TooLarge) | HttpError::BodyTooLarge => status::CONTENT_TOO_LARGE,
            HttpError::Chunked(_) => status::BAD_REQUEST,
        }
    }

    /// A short human text naming the rule, for the response body.
    pub fn reason(self) -> &'static str {
        match self {
            HttpError::Head(e) => e.reason(),
            HttpError::Framing(e) => e.reason(),
            HttpError::Chunked(e) => e.reason(),
            HttpError::BodyTooLarge => "body larger than this resource accepts",
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_maps_to_its_status() {
        assert_eq!(HttpError::Head(HeadError::TargetTooLong).status(), 414);
        assert_eq!(HttpError::Head(HeadError::TooManyHeaders).status(), 431);
        assert_eq!(HttpError::Head(HeadError::HeadTooLarge).status(), 431);
        assert_eq!(HttpError::Head(HeadError::UnsupportedVersion).status(), 505);
        assert_eq!(HttpError::Head(HeadError::ObsFold).status(), 400);
        assert_eq!(HttpError::Framing(FramingError::UnsupportedCoding).status(), 501);
        assert_eq!(HttpError::Framing(FramingError::ChunkedNotLast).status(), 400);
        assert_eq!(HttpError::Chunked(ChunkError::TooLarge).status(), 413);
        assert_eq!(HttpError::Chunked(ChunkError::Size).status(), 400);
        assert_eq!(HttpError::BodyTooLarge.status(), 413);
    }
}

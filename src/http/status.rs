//! Status codes by name (RFC 9110 §15), and their reason phrases. Code says
//! `status::NOT_FOUND`, never a bare `404`.

pub const CONTINUE: u16 = 100;
pub const SWITCHING_PROTOCOLS: u16 = 101;
pub const OK: u16 = 200;
pub const NO_CONTENT: u16 = 204;
pub const BAD_REQUEST: u16 = 400;
pub const FORBIDDEN: u16 = 403;
pub const NOT_FOUND: u16 = 404;
pub const METHOD_NOT_ALLOWED: u16 = 405;
pub const REQUEST_TIMEOUT: u16 = 408;
pub const CONTENT_TOO_LARGE: u16 = 413;
pub const URI_TOO_LONG: u16 = 414;
pub const UPGRADE_REQUIRED: u16 = 426;
pub const REQUEST_HEADER_FIELDS_TOO_LARGE: u16 = 431;
pub const INTERNAL_SERVER_ERROR: u16 = 500;
pub const NOT_IMPLEMENTED: u16 = 501;
pub const SERVICE_UNAVAILABLE: u16 = 503;
pub const HTTP_VERSION_NOT_SUPPORTED: u16 = 505;

/// The reason phrase of a status code (RFC 9110 §15). Clients ignore it; people read it.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        CONTINUE => "Continue",
        SWITCHING_PROTOCOLS => "Switching Protocols",
        OK => "OK",
        NO_CONTENT => "No Content",
        BAD_REQUEST => "Bad Request",
        FORBIDDEN => "Forbidden",
        NOT_FOUND => "Not Found",
        METHOD_NOT_ALLOWED => "Method Not Allowed",
        REQUEST_TIMEOUT => "Request Timeout",
        CONTENT_TOO_LARGE => "Content Too Large",
        URI_TOO_LONG => "URI Too Long",
        UPGRADE_REQUIRED => "Upgrade Required",
        REQUEST_HEADER_FIELDS_TOO_LARGE => "Request Header Fields Too Large",
        INTERNAL_SERVER_ERROR => "Internal Server Error",
        NOT_IMPLEMENTED => "Not Implemented",
        SERVICE_UNAVAILABLE => "Service Unavailable",
        HTTP_VERSION_NOT_SUPPORTED => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

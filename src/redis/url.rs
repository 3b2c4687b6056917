//! The `--redis` URL: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` (SPEC §10).
//!
//! The shape is the `redis` URI scheme's (IANA provisional registration, the form every
//! Redis client reads): userinfo, host, port (6379 when absent), and the database number as
//! the path. Userinfo is percent-decoded (RFC 3986 §2.1), so a password holding `@`, `:` or
//! `/` is written `%40`, `%3A`, `%2F`. `:PASSWORD@` authenticates as the default user
//! (`AUTH PASSWORD`); `USER:PASSWORD@` as that ACL user (`AUTH USER PASSWORD`, Redis 6+).
//!
//! Only the address is read here; resolving the host is the server's business (it does
//! I/O), so [`RedisUrl::addr`] gives `host:port` for `std::net::ToSocketAddrs`.
#![forbid(unsafe_code)]

use std::fmt;

use crate::limits::REDIS_DEFAULT_PORT;
use crate::wire::query::percent_decode;

/// A parsed `--redis` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisUrl {
    /// Host name or address; an IPv6 address without its brackets.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// ACL user for `AUTH USER PASSWORD`; `None` authenticates as the default user.
    pub user: Option<String>,
    /// Password; `None` sends no `AUTH`.
    pub password: Option<String>,
    /// Database number for `SELECT`; 0 (Redis's default) sends none.
    pub db: u32,
}

/// Which part of a Redis URL is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// Not `redis://…`.
    Scheme,
    /// `rediss://`: TLS, which pushlab does not speak.
    Tls,
    /// Userinfo without `:` before the password, or a bad percent-escape in it.
    UserInfo,
    /// No host, or an IPv6 address with no closing `]`.
    Host,
    /// A port that is not 1..=65535.
    Port,
    /// A path that is not a database number, or a query or fragment after it.
    Db,
}

impl UrlError {
    /// One line saying what to write instead.
    pub fn reason(self) -> &'static str {
        match self {
            UrlError::Scheme => "a Redis URL starts with redis://",
            UrlError::Tls => "rediss:// (TLS) is not supported; use redis://",
            UrlError::UserInfo => {
                "the password goes after a colon: redis://:PASSWORD@HOST or redis://USER:PASSWORD@HOST (percent-encode @ : / in it)"
            }
            UrlError::Host => "a Redis URL needs a host: redis://HOST:PORT",
            UrlError::Port => "the port must be a number from 1 to 65535",
            UrlError::Db => "the path must be a database number: redis://HOST:PORT/DB",
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl RedisUrl {
    /// Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`.
    pub fn parse(url: &str) -> Result<RedisUrl, UrlError> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("redis") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("rediss") => return Err(UrlError::Tls),
            _ => return Err(UrlError::Scheme),
        };
        if rest.contains(['?', '#']) {
            return Err(UrlError::Db);
        }
        // RFC 3986 §3.2: the authority ends at the first `/`; userinfo ends at its last `@`
        // (an `@` in a password must be escaped, but a lenient split costs nothing).
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((userinfo, hostport)) => (Some(userinfo), hostport),
            None => (None, authority),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').ok_or(UrlError::UserInfo)?;
                let decode = |s: &str| percent_decode(s).map_err(|_| UrlError::UserInfo);
                let user = if user.is_empty() { None } else { Some(decode(user)?) };
                (user, Some(decode(password)?))
            }
        };
        let (host, port) = match hostport.strip_prefix('[') {
            // RFC 3986 §3.2.2: an IPv6 literal in brackets.
            Some(v6) => {
                let (host, after) = v6.split_once(']').ok_or(UrlError::Host)?;
                match after {
                    "" => (host, None),
                    after => (host, Some(after.strip_prefix(':').ok_or(UrlError::Port)?)),
                }
            }
            None => match hostport.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (hostport, None),
            },
        };
        if host.is_empty() {
            return Err(UrlError::Host);
        }
        let port = match port {
            None => REDIS_DEFAULT_PORT,
            Some(port) => {
                digits(port).and_then(|p| u16::try_from(p).ok()).filter(|&p| p > 0).ok_or(UrlError::Port)?
            }
        };
        let db = match path {
            "" => 0,
            db => digits(db).and_then(|db| u32::try_from(db).ok()).ok_or(UrlError::Db)?,
        };
        Ok(RedisUrl { host: host.to_owned(), port, user, password, db })
    }

    /// `host:port`, for `std::net::ToSocketAddrs` (brackets around an IPv6 address).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// `1*DIGIT` as a number (no sign, no spaces), at most 10 digits.
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(host: &str, port: u16, user: Option<&str>, password: Option<&str>, db: u32) -> RedisUrl {
        RedisUrl {
            host: host.into(),
            port,
            user: user.map(Into::into),
            password: password.map(Into::into),
            db,
        }
    }

    #[test]
    fn test_parse() {
        let cases = [
            ("redis://127.0.0.1:6379", url("127.0.0.1", 6379, None, None, 0)),
            ("redis://localhost", url("localhost", 6379, None, None, 0)),
            ("redis://localhost/", url("localhost", 6379, None, None, 0)),
            ("REDIS://cache.internal:7000/3", url("cache.internal", 7000, None, None, 3)),
            ("redis://:s3cret@10.0.0.5:6380/15", url("10.0.0.5", 6380, None, Some("s3cret"), 15)),
            ("redis://alice:pw@h:1", url("h", 1, Some("alice"), Some("pw"), 0)),
            ("redis://:p%40ss%3Aw%2Frd@h:2", url("h", 2, None, Some("p@ss:w/rd"), 0)),
            // An unescaped `@` in the password: the last `@` ends the userinfo.
            ("redis://:a@b@h:3", url("h", 3, None, Some("a@b"), 0)),
            ("redis://:@h", url("h", 6379, None, Some(""), 0)),
            ("redis://[::1]:6390/2", url("::1", 6390, None, None, 2)),
            ("redis://[::1]", url("::1", 6379, None, None, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(RedisUrl::parse(text), Ok(expected), "{text}");
        }
        assert_eq!(RedisUrl::parse("redis://[::1]:6390").unwrap().addr(), "[::1]:6390");
        assert_eq!(RedisUrl::parse("redis://h:7").unwrap().addr(), "h:7");
    }

    #[test]
    fn test_errors() {
        let cases = [
            ("127.0.0.1:6379", UrlError::Scheme),
            ("http://h:1", UrlError::Scheme),
            ("rediss://h:1", UrlError::Tls),
            ("redis://", UrlError::Host),
            ("redis://:6379", UrlError::Host),
            ("redis://pw@h:1", UrlError::UserInfo),
            ("redis://:bad%zz@h:1", UrlError::UserInfo),
            ("redis://h:0", UrlError::Port),
            ("redis://h:65536", UrlError::Port),
            ("redis://h:", UrlError::Port),
            ("redis://h:x", UrlError::Port),
            ("redis://h:+1", UrlError::Port),
            ("redis://[::1", UrlError::Host),
            ("redis://[::1]x", UrlError::Port),
            ("redis://h:1/x", UrlError::Db),
            ("redis://h:1/1/2", UrlError::Db),
            ("redis://h:1/-1", UrlError::Db),
            ("redis://h:1/99999999999", UrlError::Db),
            ("redis://h:1/0?timeout=1", UrlError::Db),
        ];
        for (text, expected) in cases {
            assert_eq!(RedisUrl::parse(text), Err(expected), "{text}");
            assert!(!expected.to_string().contains('\n'));
        }
    }
}

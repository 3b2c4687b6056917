//! Reading requests from a connection's input: the HTTP/1.1 half of the connection state
//! machine (chapter 01).
//!
//! Input arrives in arbitrary pieces — one byte per read, or ten pipelined requests in one.
//! [`RequestReader::next`] looks at the unread input and says what can be done now:
//! nothing yet ([`Read::NeedMore`]), send `100 Continue` ([`Read::Continue`]), handle a whole
//! request ([`Read::Request`]), or answer an error and close (`Err(HttpError)`).
//!
//! Two costs are kept linear in the input size:
//! - the head is parsed once, when [`find_head_end`] has seen the blank line that ends it
//!   (the scan resumes where the last one stopped), not on every read;
//! - a chunked body is decoded incrementally, each input byte once, into a caller-owned buffer.

use super::error::HttpError;
use crate::limits::{MAX_HEAD, MAX_REQUEST_TARGET};
use crate::wire::chunked::ChunkDecoder;
use crate::wire::framing::{framing, BodyLength, Framing};
use crate::wire::request::{find_head_end, parse_head, Header, RequestHead};
use crate::wire::Status;

/// A complete request, borrowed from the connection's buffers.
#[derive(Debug)]
pub struct Request<'b> {
    pub head: RequestHead<'b, 'b>,
    pub framing: Framing,
    pub body: &'b [u8],
    /// Input bytes this request occupied (head and body as sent): consume them after handling.
    pub len: usize,
}

#[derive(Debug)]
pub enum Read<'b> {
    NeedMore,
    /// The client sent `Expect: 100-continue` and the body has not arrived: send
    /// `100 Continue` now (RFC 9110 §10.1.1), then call `next` again.
    Continue,
    Request(Request<'b>),
}

/// Where the reader is inside the current request.
#[derive(Debug, Default)]
pub struct RequestReader {
    /// How far the search for the end of the head got.
    scanned: usize,
    body: Option<BodyProgress>,
}

#[derive(Debug)]
struct BodyProgress {
    head_len: usize,
    framing: Framing,
    continue_sent: bool,
    chunked: Option<ChunkProgress>,
}

#[derive(Debug)]
struct ChunkProgress {
    decoder: ChunkDecoder,
    /// Input bytes after the head the decoder has consumed.
    consumed: usize,
}

impl RequestReader {
    pub fn new() -> Self {
        RequestReader::default()
    }

    /// True until the current request's head is complete (the 408 head timeout applies
    /// while this holds and some input has arrived).
    pub fn reading_head(&self) -> bool {
        self.body.is_none()
    }

    /// Looks at `input` (the unread bytes) and says what can be done. `body_limit` is asked,
    /// with the parsed head, how large a body this request may have. After handling a
    /// [`Read::Request`], the caller consumes `len` bytes, clears `body_buf`, and calls again.
    pub fn next<'b>(
        &mut self,
        input: &'b [u8],
        body_buf: &'b mut Vec<u8>,
        headers: &'b mut [Header<'b>],
        body_limit: &dyn Fn(&RequestHead<'_, '_>) -> usize,
    ) -> Result<Read<'b>, HttpError> {
        // A body is still arriving: the head was checked already; parse it again only once
        // the body is complete.
        if let Some(progress) = &mut self.body {
            let Some(body_end) = progress.advance(&input[progress.head_len..], body_buf)? else {
                return Ok(progress.waiting());
            };
            let framing = progress.framing;
            let Ok(Status::Complete((head, head_len))) = parse_head(input, headers) else {
                unreachable!("a head that parsed once parses again");
            };
            return Ok(Read::Request(self.finish(input, head, framing, head_len, body_end, body_buf)));
        }
        if find_head_end(input, self.scanned).is_none() {
            self.scanned = input.len();
            // A head can only be refused for size before it ends, so parse the partial head
            // only once it is large enough to break a limit.
            if input.len() > MAX_REQUEST_TARGET.min(MAX_HEAD) {
                parse_head(input, headers).map_err(head_error)?;
            }
            return Ok(Read::NeedMore);
        }
        let (head, head_len) = match parse_head(input, headers).map_err(head_error)? {
            Status::Complete(parsed) => parsed,
            Status::Partial => {
                // The blank line we found was only leading empty lines (RFC 9112 §2.2).
                self.scanned = input.len();
                return Ok(Read::NeedMore);
            }
        };
        let framing = framing(&head).map_err(HttpError::Framing)?;
        let limit = body_limit(&head);
        if let BodyLength::Length(n) = framing.body {
            // SPEC §3: a too-large Content-Length is refused before the body is read.
            if n > limit as u64 {
                return Err(HttpError::BodyTooLarge);
            }
        }
        let chunked = (framing.body == BodyLength::Chunked)
            .then(|| ChunkProgress { decoder: ChunkDecoder::new(limit), consumed: 0 });
        let mut progress = BodyProgress { head_len, framing, continue_sent: false, chunked };
        match progress.advance(&input[head_len..], body_buf)? {
            Some(body_end) => {
                Ok(Read::Request(self.finish(input, head, framing, head_len, body_end, body_buf)))
            }
            None => Ok(self.body.insert(progress).waiting()),
        }
    }

    fn finish<'b>(
        &mut self,
        input: &'b [u8],
        head: RequestHead<'b, 'b>,
        framing: Framing,
        head_len: usize,
        body_end: usize,
        body_buf: &'b [u8],
    ) -> Request<'b> {
        self.body = None;
        self.scanned = 0;
        let body: &'b [u8] = match framing.body {
            BodyLength::Chunked => body_buf,
            _ => &input[head_len..head_len + body_end],
        };
        Request { head, framing, body, len: head_len + body_end }
    }
}

impl BodyProgress {
    /// Takes in what arrived after the head. `Some(n)`: the body is complete and occupies
    /// `n` input bytes after the head.
    fn advance(&mut self, after_head: &[u8], body_buf: &mut Vec<u8>) -> Result<Option<usize>, HttpError> {
        match (self.framing.body, &mut self.chunked) {
            (BodyLength::None, _) => Ok(Some(0)),
            // n <= the body limit, a usize, so the cast is exact.
            (BodyLength::Length(n), _) => Ok((after_head.len() as u64 >= n).then_some(n as usize)),
            (BodyLength::Chunked, Some(chunk)) => {
                let fresh = &after_head[chunk.consumed..];
                match chunk.decoder.decode(fresh, body_buf) {
                    Ok(Status::Complete(n)) => Ok(Some(chunk.consumed + n)),
                    Ok(Status::Partial) => {
                        chunk.consumed += fresh.len();
                        Ok(None)
                    }
                    Err(e) => Err(HttpError::Chunked(e)),
                }
            }
            (BodyLength::Chunked, None) => unreachable!("chunked progress is made with the framing"),
        }
    }

    /// What to tell the caller while the body is incomplete.
    fn waiting(&mut self) -> Read<'static> {
        if self.framing.expect_continue && !self.continue_sent {
            self.continue_sent = true;
            return Read::Continue;
        }
        Read::NeedMore
    }
}

fn head_error(e: crate::wire::request::HeadError) -> HttpError {
    HttpError::Head(e)
}

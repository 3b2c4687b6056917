//! A held long-poll request (SPEC §5, chapter 03).
//!
//! Holding costs exactly this struct, one hub subscription and one timer entry: no thread,
//! no buffer. The request is answered by whichever comes first — a message after its cursor
//! (answered in the same loop turn as the publish) or its deadline. What the answer *says* is
//! the application's business (`app/polling.rs` writes the JSON); this machine decides only
//! *when* to answer, and notices a client that leaves before then.

use std::rc::Rc;
use std::time::Instant;

use super::Next;
use crate::hub::Message;

/// What a long-poll needs to remember while it waits.
#[derive(Debug)]
pub struct HeldPoll {
    pub topic: Rc<str>,
    /// The cursor the reply starts after.
    pub cursor: u64,
    /// Most messages in the reply.
    pub limit: usize,
    /// When to give up and answer with no messages.
    pub deadline: Instant,
    /// The CORS origin the application decided to echo in the eventual reply.
    pub cors_origin: Option<Box<str>>,
}

impl HeldPoll {
    /// A message was published on the topic: news after the cursor is answered at once.
    pub fn on_message(&self, message: &Message) -> Next {
        if message.id > self.cursor {
            Next::Answer
        } else {
            Next::Stay
        }
    }

    /// The deadline came first: answer with what there is (nothing).
    pub fn on_deadline(&self, now: Instant) -> Next {
        if now >= self.deadline {
            Next::Answer
        } else {
            Next::Stay
        }
    }

    /// The client closed its side while held (SPEC §8): it is gone; nobody reads an answer.
    /// (A FIN after `/poll` is different: that request is answered — see `end_of_input` in
    /// `server/readiness.rs`.)
    pub fn on_eof(&self) -> Next {
        Next::Drop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;
    use std::time::Duration;

    #[test]
    fn answers_on_news_or_deadline_and_drops_on_eof() {
        let now = Instant::now();
        let mut hub = Hub::new(8);
        hub.publish("t", "old", 0);
        let held = HeldPoll {
            topic: "t".into(),
            cursor: 1,
            limit: 100,
            deadline: now + Duration::from_secs(5),
            cors_origin: None,
        };
        let old = hub.after("t", 0, 1).next().expect("retained").clone();
        assert_eq!(held.on_message(&old), Next::Stay, "not news to this cursor");
        let news = hub.publish("t", "new", 0);
        assert_eq!(held.on_message(&news), Next::Answer);
        assert_eq!(held.on_deadline(now), Next::Stay);
        assert_eq!(held.on_deadline(now + Duration::from_secs(5)), Next::Answer);
        assert_eq!(held.on_eof(), Next::Drop);
    }
}

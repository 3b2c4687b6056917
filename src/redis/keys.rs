//! Every Redis name pushlab uses, built in one place.
//!
//! A topic `T` is two keys and one channel:
//!
//! | name | type | holds |
//! |---|---|---|
//! | `{T}:meta` | hash | `id`: the last id given; `epoch`: this life of the topic |
//! | `{T}:stream` | stream | the last `--replay` messages, entry `<id>-0` = `d` data, `t` time |
//! | `{T}:pub:<db>` | Pub/Sub channel | each message as it is published (`script::Payload`) |
//!
//! **One hash slot per topic.** Redis Cluster hashes only the part of a key between its
//! first `{` and the next `}` when that part is not empty (the Redis Cluster specification,
//! "Hash tags"), so both keys of a topic land in one slot, as a script touching both must.
//! SPEC §2 allows only `[A-Za-z0-9._-]` in a topic, so a topic never holds `{` or `}` and
//! needs no escaping: the tag is always exactly the topic. (`wire::query::valid_topic` is
//! the rule; every topic reaches this layer through it.)
//!
//! **Channels and databases.** Pub/Sub ignores `SELECT`: a message published while in
//! database 3 reaches subscribers in every database. The channel carries the database
//! number so that two deployments sharing one Redis in different databases do not hear
//! each other.
#![forbid(unsafe_code)]

/// The meta hash of `topic`: `{topic}:meta`.
pub fn meta(topic: &str) -> String {
    format!("{{{topic}}}:meta")
}

/// The stream of `topic`: `{topic}:stream`.
pub fn stream(topic: &str) -> String {
    format!("{{{topic}}}:stream")
}

/// The Pub/Sub channel of `topic` for database `db`: `{topic}:pub:<db>`.
pub fn channel(topic: &str, db: u32) -> String {
    format!("{{{topic}}}:pub:{db}")
}

/// The topic a [`channel`] name belongs to: what lies between its `{` and `}`.
pub fn topic_of_channel(channel: &[u8]) -> Option<&str> {
    let rest = channel.strip_prefix(b"{")?;
    let end = rest.iter().position(|&b| b == b'}')?;
    std::str::from_utf8(&rest[..end]).ok().filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_share_the_topic_as_hash_tag() {
        assert_eq!(meta("news.eu-1"), "{news.eu-1}:meta");
        assert_eq!(stream("news.eu-1"), "{news.eu-1}:stream");
        assert_eq!(channel("news.eu-1", 0), "{news.eu-1}:pub:0");
        assert_eq!(channel("a", 15), "{a}:pub:15");
        assert_eq!(topic_of_channel(b"{news.eu-1}:pub:0"), Some("news.eu-1"));
        assert_eq!(topic_of_channel(b"{}:pub:0"), None);
        assert_eq!(topic_of_channel(b"news:pub"), None);
        assert_eq!(topic_of_channel(b"{news"), None);
    }
}

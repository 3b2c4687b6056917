//! Tests for `extensions.rs`: RFC 7692's offers and answers, quoting, every reason to
//! decline.

use super::*;

fn offers(value: &str) -> Vec<Extension> {
    parse([value.as_bytes()]).unwrap()
}

fn accept(value: &str) -> Option<DeflateParams> {
    accept_deflate([value.as_bytes()], &DeflateConfig::default())
}

fn answer(value: &str) -> Option<String> {
    accept(value).map(|params| params.response())
}

fn param(name: &str, value: Option<&str>) -> Param {
    Param { name: name.into(), value: value.map(Into::into) }
}

#[test]
fn test_parse_lists_params_and_quotes() {
    // RFC 7692 §5's example of two offers of one extension, the second a fallback.
    let two =
        offers("permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate");
    assert_eq!(
        two,
        [
            Extension {
                name: "permessage-deflate".into(),
                params: vec![
                    param("client_max_window_bits", None),
                    param("server_max_window_bits", Some("10"))
                ],
            },
            Extension { name: "permessage-deflate".into(), params: vec![] },
        ]
    );
    // RFC 6455 §9.1: a quoted value is unescaped and must be a token; OWS is fine around
    // separators; empty members are skipped (RFC 9110 §5.6.1); field lines add up.
    let quoted = parse([&b" , foo ;a = \"1\\0\" ; b=x,"[..], b"bar"]).unwrap();
    assert_eq!(
        quoted,
        [
            Extension { name: "foo".into(), params: vec![param("a", Some("10")), param("b", Some("x"))] },
            Extension { name: "bar".into(), params: vec![] },
        ]
    );
    assert_eq!(parse([&b""[..]]), Ok(vec![]));
}

#[test]
fn test_parse_errors_name_the_rule() {
    use ExtensionsError::*;
    for (value, error) in [
        (&b"permessage-deflate; "[..], ExpectedToken),
        (b"; x", ExpectedToken),
        (b"a; b=", ExpectedToken),
        (b"a b", ExpectedSeparator),
        (b"a; b=\"10", BadQuotedString),
        (b"a; b=\"1\x7f\"", BadQuotedString),
        (b"a; b=\"1 0\"", QuotedValueNotToken),
        (b"a; b=\"\"", QuotedValueNotToken),
        (b"a; b=c d", ExpectedSeparator),
    ] {
        assert_eq!(parse([value]), Err(error), "{}", String::from_utf8_lossy(value));
    }
    assert!(ExpectedToken.reason().contains("token"));
}

#[test]
fn test_rfc7692_negotiations() {
    // §7.1.3-style offers. The plain offer: we add server_no_context_takeover (§7.1.1.1
    // lets a server ask for it unasked).
    assert_eq!(answer("permessage-deflate").unwrap(), "permessage-deflate; server_no_context_takeover");
    // server_max_window_bits=10 must be answered, with that value (or a smaller one).
    let params =
        accept("permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate");
    let params = params.unwrap();
    assert_eq!((params.server_max_window_bits, params.client_max_window_bits), (10, 15));
    assert_eq!(
        params.response(),
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"
    );
    // Both no-context-takeover parameters, offered, are answered.
    let params =
        accept("permessage-deflate; server_no_context_takeover; client_no_context_takeover").unwrap();
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    assert_eq!(
        params.response(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    // A client window offered with a value binds the client: we inflate with it.
    let params = accept("permessage-deflate; client_max_window_bits=12").unwrap();
    assert_eq!((params.client_max_window_bits, params.inflate_window_bits()), (12, 12));
    // Quoted values count as the token inside (RFC 6455 §9.1).
    assert_eq!(accept("permessage-deflate; server_max_window_bits=\"9\"").unwrap().server_max_window_bits, 9);
    // Other extensions are not ours; the first permessage-deflate offer we can honour wins.
    let params =
        accept("x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8, permessage-deflate");
    assert_eq!(params.unwrap().server_max_window_bits, 15);
}

#[test]
fn test_invalid_offers_are_declined() {
    for offer in [
        // §7.1: unknown, repeated, or invalid parameters.
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; SERVER_NO_CONTEXT_TAKEOVER; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=0x0f",
        "permessage-deflate; client_max_window_bits=",
        // §7.1.2.1: we cannot compress within 8 bits, and may not answer 9 to an offer of 8.
        "permessage-deflate; server_max_window_bits=8",
        // Not the extension at all, and a header that does not parse.
        "permessage-foo",
        "permessage-deflate; a=\"b c\"",
    ] {
        assert_eq!(answer(offer), None, "{offer}");
    }
}

#[test]
fn test_our_config_shapes_the_answer() {
    let config = DeflateConfig {
        server_no_context_takeover: false,
        client_no_context_takeover: true,
        client_max_window_bits: 10,
    };
    let accept = |value: &str| accept_deflate([value.as_bytes()], &config).unwrap();
    // A bare client_max_window_bits lets us choose: 10.
    let params = accept("permessage-deflate; client_max_window_bits");
    assert_eq!(
        params.response(),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"
    );
    assert_eq!(params.inflate_window_bits(), 10);
    // An offered 12 may be answered lower.
    assert_eq!(accept("permessage-deflate; client_max_window_bits=12").client_max_window_bits, 10);
    // An offered 8 binds the client to less than we need; we inflate with 9 (a 9-bit window
    // reads every 8-bit stream) and do not answer 10, which would be larger than offered.
    let params = accept("permessage-deflate; client_max_window_bits=8");
    assert_eq!((params.client_max_window_bits, params.inflate_window_bits()), (8, 9));
    assert_eq!(params.response(), "permessage-deflate; client_no_context_takeover");
    // Not offered: the client may not know the parameter; it may use a 15-bit window.
    let params = accept("permessage-deflate");
    assert_eq!((params.client_max_window_bits, params.response().contains("max_window")), (15, false));
}

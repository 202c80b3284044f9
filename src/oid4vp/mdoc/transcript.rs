//! The SessionTranscript an mdoc's device signature covers, as OpenID4VP 1.0
//! Appendix B.2.6 builds it for the two ways a request reaches a wallet:
//!
//! ```text
//! SessionTranscript = [null, null, Handover]
//! OpenID4VPHandover = ["OpenID4VPHandover", SHA-256(CBOR([client_id, nonce, jwkThumbprint, response_uri]))]
//! OpenID4VPDCAPIHandover = ["OpenID4VPDCAPIHandover", SHA-256(CBOR([origin, nonce, jwkThumbprint]))]
//! ```
//!
//! `jwkThumbprint` is the RFC 7638 thumbprint of the verifier's response
//! encryption key (responses are always encrypted here), so a presentation
//! is bound to the request that carried that key.

use ciborium::Value;
use sha2::{Digest, Sha256};

use super::cbor;

/// The transcript of a request by reference answered with `direct_post.jwt`.
pub fn redirect(client_id: &str, nonce: &str, jwk_thumbprint: &[u8], response_uri: &str) -> Value {
    let info = Value::Array(vec![
        Value::Text(client_id.to_owned()),
        Value::Text(nonce.to_owned()),
        Value::Bytes(jwk_thumbprint.to_vec()),
        Value::Text(response_uri.to_owned()),
    ]);
    transcript("OpenID4VPHandover", &info)
}

/// The transcript of a request made through the browser's Digital
/// Credentials API: bound to the origin the browser reported to the wallet
/// (no `origin:` prefix here).
pub fn dc_api(origin: &str, nonce: &str, jwk_thumbprint: &[u8]) -> Value {
    let info = Value::Array(vec![
        Value::Text(origin.to_owned()),
        Value::Text(nonce.to_owned()),
        Value::Bytes(jwk_thumbprint.to_vec()),
    ]);
    transcript("OpenID4VPDCAPIHandover", &info)
}

fn transcript(handover: &str, info: &Value) -> Value {
    let hash = Sha256::digest(cbor::encode(info)).to_vec();
    Value::Array(vec![
        Value::Null,
        Value::Null,
        Value::Array(vec![Value::Text(handover.to_owned()), Value::Bytes(hash)]),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_transcript_hashes_its_four_inputs_in_order() {
        let t = redirect("x509_hash:abc", "n-1", &[7; 32], "https://v.example/r");
        let expected_info = cbor::encode(&Value::Array(vec![
            Value::Text("x509_hash:abc".into()),
            Value::Text("n-1".into()),
            Value::Bytes(vec![7; 32]),
            Value::Text("https://v.example/r".into()),
        ]));
        assert_eq!(
            t,
            Value::Array(vec![
                Value::Null,
                Value::Null,
                Value::Array(vec![
                    Value::Text("OpenID4VPHandover".into()),
                    Value::Bytes(Sha256::digest(expected_info).to_vec()),
                ]),
            ])
        );
        // The CBOR of the info array starts as RFC 8949 says: an array of 4.
        assert_eq!(cbor::encode(&Value::Array(vec![Value::Null; 4]))[0], 0x84);
    }

    #[test]
    fn every_input_changes_the_transcript() {
        let base = redirect("c", "n", &[1; 32], "u");
        assert_ne!(base, redirect("C", "n", &[1; 32], "u"));
        assert_ne!(base, redirect("c", "N", &[1; 32], "u"));
        assert_ne!(base, redirect("c", "n", &[2; 32], "u"));
        assert_ne!(base, redirect("c", "n", &[1; 32], "U"));
        let dc = dc_api("https://a.example", "n", &[1; 32]);
        assert_ne!(dc, dc_api("https://b.example", "n", &[1; 32]));
        assert_ne!(dc, dc_api("https://a.example", "m", &[1; 32]));
        assert_ne!(dc, dc_api("https://a.example", "n", &[3; 32]));
    }

    #[test]
    fn the_dc_api_transcript_names_its_handover() {
        let t = dc_api("https://a.example", "n", &[1; 32]);
        let Value::Array(parts) = &t else { panic!() };
        let Value::Array(handover) = &parts[2] else {
            panic!()
        };
        assert_eq!(handover[0], Value::Text("OpenID4VPDCAPIHandover".into()));
    }
}

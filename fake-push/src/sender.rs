//! A small Web Push sender for the tests: the body encrypted with `ece`, a
//! VAPID token signed with jwt-simple, the headers a real sender sets.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use jwt_simple::prelude::{
    Claims, Duration, ECDSAP256KeyPairLike, ECDSAP256PublicKeyLike, ES256KeyPair,
};
use serde_json::Value;

/// Sends `payload` to `endpoint` for the keys `p256dh` and `auth`
/// (base64url), signed for the audience `origin`; returns the status.
pub(crate) async fn send(
    origin: &str,
    endpoint: &str,
    p256dh: &str,
    auth: &str,
    payload: &Value,
) -> u16 {
    let public_key = BASE64URL.decode(p256dh).unwrap();
    let auth = BASE64URL.decode(auth).unwrap();
    let plaintext = serde_json::to_vec(payload).unwrap();
    let body = ece::encrypt(&public_key, &auth, &plaintext).unwrap();

    let response = reqwest::Client::new()
        .post(endpoint)
        .header("TTL", "60")
        .header("Urgency", "normal")
        .header("Content-Encoding", "aes128gcm")
        .header("Authorization", vapid_header(origin))
        .body(body)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// `vapid t=<token>, k=<key>` with a fresh key pair, as `web-push` writes it.
fn vapid_header(origin: &str) -> String {
    let key_pair = ES256KeyPair::generate();
    let claims = Claims::create(Duration::from_hours(12))
        .with_audience(origin)
        .with_subject("mailto:tests@kinto-push.example");
    let token = key_pair.sign(claims).unwrap();
    let key = key_pair.public_key().public_key().to_bytes_uncompressed();
    format!("vapid t={token}, k={}", BASE64URL.encode(key))
}

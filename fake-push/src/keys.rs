//! Keys a test made itself, as a browser would: a P-256 key pair and an auth
//! secret, handed to the service so that it can decrypt what is sent to them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use ece::EcKeyComponents;

/// The length of an uncompressed P-256 point: `0x04`, then x and y.
const PUBLIC_KEY_BYTES: usize = 65;
/// The length of a P-256 private scalar.
const PRIVATE_KEY_BYTES: usize = 32;
/// The length of a Web Push auth secret.
const AUTH_BYTES: usize = 16;

/// Why keys given to [`crate::FakePushService::register`] were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The named field is not base64url (padded or not).
    #[error("{0} is not base64url")]
    NotBase64url(&'static str),
    /// The named field does not decode to the bytes it must hold.
    #[error("{field} is not {expected}")]
    WrongLength {
        field: &'static str,
        expected: &'static str,
    },
    /// A message encrypted for `p256dh` cannot be decrypted with
    /// `private_key`.
    #[error("private_key is not the private key of p256dh")]
    Mismatched,
}

/// Keys checked to belong together.
pub(crate) struct BrowserKeys {
    pub(crate) components: EcKeyComponents,
    pub(crate) auth: [u8; AUTH_BYTES],
}

/// Decodes the base64url fields and checks that a message encrypted for the
/// public key decrypts with the private one.
///
/// A private key shorter than 32 bytes is taken as a scalar whose leading
/// zero bytes were left out.
///
/// # Errors
///
/// [`RegisterError`] says which field is wrong, or that the two keys are not
/// one pair.
pub(crate) fn parse_keys(
    p256dh: &str,
    private_key: &str,
    auth: &str,
) -> Result<BrowserKeys, RegisterError> {
    let public_key = decode("p256dh", p256dh)?;
    if public_key.len() != PUBLIC_KEY_BYTES || public_key[0] != 0x04 {
        return Err(RegisterError::WrongLength {
            field: "p256dh",
            expected: "a 65-byte uncompressed P-256 point",
        });
    }
    let private_key = decode("private_key", private_key)?;
    if private_key.is_empty() || private_key.len() > PRIVATE_KEY_BYTES {
        return Err(RegisterError::WrongLength {
            field: "private_key",
            expected: "a P-256 private scalar of at most 32 bytes",
        });
    }
    let mut scalar = vec![0; PRIVATE_KEY_BYTES - private_key.len()];
    scalar.extend_from_slice(&private_key);
    let auth: [u8; AUTH_BYTES] =
        decode("auth", auth)?
            .try_into()
            .map_err(|_| RegisterError::WrongLength {
                field: "auth",
                expected: "16 bytes",
            })?;

    let components = EcKeyComponents::new(scalar, public_key);
    let probe = b"the keys are one pair";
    let encrypted = ece::encrypt(components.public_key(), &auth, probe)
        .map_err(|_| RegisterError::Mismatched)?;
    match ece::decrypt(&components, &auth, &encrypted) {
        Ok(decrypted) if decrypted == probe => Ok(BrowserKeys { components, auth }),
        _ => Err(RegisterError::Mismatched),
    }
}

fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, RegisterError> {
    BASE64URL
        .decode(text.trim_end_matches('='))
        .map_err(|_| RegisterError::NotBase64url(field))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Base64url of a fresh key pair's public key, private key and auth.
    fn fresh_keys() -> (String, String, String) {
        let (keys, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let components = keys.raw_components().unwrap();
        (
            BASE64URL.encode(components.public_key()),
            BASE64URL.encode(components.private_key()),
            BASE64URL.encode(auth),
        )
    }

    #[test]
    fn a_generated_pair_is_accepted() {
        let (p256dh, private_key, auth) = fresh_keys();

        let keys = parse_keys(&p256dh, &private_key, &auth).unwrap();

        assert_eq!(BASE64URL.encode(keys.components.public_key()), p256dh);
    }

    #[test]
    fn padded_base64url_is_accepted() {
        let (p256dh, private_key, auth) = fresh_keys();

        let parsed = parse_keys(&format!("{p256dh}="), &private_key, &format!("{auth}=="));

        assert!(parsed.is_ok());
    }

    #[test]
    fn the_private_key_of_another_pair_is_refused() {
        let (p256dh, _, auth) = fresh_keys();
        let (_, other_private_key, _) = fresh_keys();

        let parsed = parse_keys(&p256dh, &other_private_key, &auth);

        assert_eq!(parsed.err(), Some(RegisterError::Mismatched));
    }

    #[test]
    fn an_auth_secret_of_the_wrong_length_is_refused() {
        let (p256dh, private_key, _) = fresh_keys();

        let parsed = parse_keys(&p256dh, &private_key, &BASE64URL.encode([1; 8]));

        assert!(matches!(
            parsed.err(),
            Some(RegisterError::WrongLength { field: "auth", .. })
        ));
    }

    #[test]
    fn text_that_is_not_base64url_is_refused() {
        let (_, private_key, auth) = fresh_keys();

        let parsed = parse_keys("not base64url!", &private_key, &auth);

        assert_eq!(parsed.err(), Some(RegisterError::NotBase64url("p256dh")));
    }
}

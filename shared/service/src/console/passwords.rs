//! Password hashes: argon2id with the crate's default cost (19 MiB, 2 passes), stored as PHC
//! strings so the parameters travel with the hash and can be raised later.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password accepted for a console user.
pub const MIN_PASSWORD_LEN: usize = 12;

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 with default parameters hashes any input")
        .to_string()
}

/// Letters and digits that cannot be mistaken for each other (no 0/o, 1/l/i) and need no
/// quoting in a shell or a chat.
const TEMPORARY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
pub const TEMPORARY_LEN: usize = 20;

/// A temporary password an admin hands over: 20 characters of 31 (about 99 bits).
pub fn temporary() -> String {
    let mut bytes = [0u8; TEMPORARY_LEN];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of 31: the first 8 letters come a little more often (1 in 8 vs
    // 1 in 8.26), which costs under a bit of the ~99.
    bytes
        .iter()
        .map(|b| TEMPORARY_ALPHABET[usize::from(*b) % TEMPORARY_ALPHABET.len()] as char)
        .collect()
}

/// `false` for a wrong password and for a hash that cannot be read.
pub fn verify(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the time of one verification, so an unknown user name answers as slowly as a wrong
/// password and the timing does not tell which names exist.
pub fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let phc = DUMMY.get_or_init(|| hash("not a real password, only for timing"));
    let _ = verify(phc, password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let a = hash("correct horse battery");
        let b = hash("correct horse battery");
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify(&a, "correct horse battery"));
        assert!(!verify(&a, "correct horse batterz"));
        assert!(!verify("not a phc string", "x"));
    }

    #[test]
    fn temporary_passwords_are_long_enough_pasteable_and_differ() {
        let a = temporary();
        assert_eq!(a.len(), TEMPORARY_LEN);
        assert!(a.len() >= MIN_PASSWORD_LEN);
        assert!(a.bytes().all(|b| TEMPORARY_ALPHABET.contains(&b)), "{a}");
        assert_ne!(a, temporary());
    }
}

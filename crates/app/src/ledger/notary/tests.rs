//! The notary's decisions: when a head is due, which keys may sign, and rotations.

use super::*;
use crate::VirtualClock;
use crate::fakes::MemoryLedger as Book;
use jiff::Timestamp;

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

const T0: i64 = 1_767_225_600;

#[test]
fn a_head_is_due_first_then_only_once_the_log_grew_and_the_last_is_old_enough() {
    let head = |size: u64, timestamp: u64| {
        TreeHead { log_id: [0; 32], tree_size: size, root_hash: [0; 32], timestamp }.sign(&key(1))
    };
    assert!(due(0, None, 100), "an empty log gets its first head");
    assert!(!due(5, Some(&head(5, 100)), 10_000), "a log that did not grow gets none");
    assert!(!due(6, Some(&head(5, 100)), 100 + HEAD_SPACING_SECONDS - 1), "not sooner than the spacing");
    assert!(due(6, Some(&head(5, 100)), 100 + HEAD_SPACING_SECONDS));
    assert!(!due(4, Some(&head(5, 100)), 10_000), "a smaller log is no reason to sign");
}

#[test]
fn keys_are_admitted_first_current_or_refused() {
    let record = |seed: u8| LogKey { public_key: PublicKey::of(&key(seed)), added_at: 0, rotation: None };
    let one = PublicKey::of(&key(1));
    let two = PublicKey::of(&key(2));
    assert_eq!(admit(&[], &one), Admission::First);
    assert_eq!(admit(&[record(1)], &one), Admission::Current);
    assert_eq!(admit(&[record(1)], &two), Admission::Unknown { current: one });
    assert_eq!(admit(&[record(1), record(2)], &one), Admission::Retired { current: two });
}

#[tokio::test]
async fn the_notary_signs_when_due_and_refuses_another_key() {
    let book = Arc::new(Book::default());
    let clock = Arc::new(VirtualClock::new(at(T0)));
    let notary = Notary::open(book.clone(), key(1), clock.clone()).await.unwrap();
    assert_eq!(book.keys.lock().unwrap().len(), 1, "the first key is recorded");
    let first = notary.sign_due().await.unwrap().expect("the empty log's head");
    assert_eq!((first.head.tree_size, first.head.timestamp), (0, T0 as u64));
    first.verify(&notary.public_key()).unwrap();
    assert_eq!(notary.sign_due().await.unwrap(), None, "nothing changed: no head");
    *book.size.lock().unwrap() = 3;
    assert_eq!(notary.sign_due().await.unwrap(), None, "grown, but the last head is too recent");
    clock.set(at(T0 + HEAD_SPACING_SECONDS as i64));
    assert_eq!(notary.sign_due().await.unwrap().map(|h| h.head.tree_size), Some(3));
    // On demand: a new head only when the log grew.
    assert_eq!(notary.sign_now().await.unwrap().head.tree_size, 3);
    assert_eq!(book.heads.lock().unwrap().len(), 2);
    // Another key is refused, naming the log's.
    let Err(LedgerError::KeyRefused(why)) = Notary::open(book.clone(), key(2), clock.clone()).await else {
        panic!("another key must be refused")
    };
    assert!(why.contains(&notary.public_key().fingerprint()), "{why}");
}

#[tokio::test]
async fn a_rotation_endorses_the_new_key_and_retires_the_old() {
    let book = Arc::new(Book::default());
    let clock = Arc::new(VirtualClock::new(at(T0)));
    let old = Notary::open(book.clone(), key(1), clock.clone()).await.unwrap();
    let new = PublicKey::of(&key(2));
    let rotation = rotate(book.as_ref(), &key(1), &new, T0 + 10).await.unwrap();
    rotation.verify().unwrap();
    assert_eq!((rotation.old_key, rotation.new_key), (old.public_key(), new));
    // The running notary signs no more; the new key starts; the old one is refused.
    *book.size.lock().unwrap() = 1;
    assert!(matches!(old.sign_now().await, Err(LedgerError::KeyRefused(_))));
    let notary = Notary::open(book.clone(), key(2), clock.clone()).await.unwrap();
    notary.sign_now().await.unwrap().verify(&new).unwrap();
    assert!(matches!(Notary::open(book.clone(), key(1), clock).await, Err(LedgerError::KeyRefused(_))));
    // Only the current key rotates, and never back to a key the log had.
    assert!(rotate(book.as_ref(), &key(1), &PublicKey::of(&key(3)), T0).await.is_err());
    assert!(rotate(book.as_ref(), &key(2), &PublicKey::of(&key(1)), T0).await.is_err());
}

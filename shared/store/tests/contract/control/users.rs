//! The control store's console users and the login throttle.

use crate::contract::data::*;
use chrono::Duration;
use sync_store::control::*;

pub async fn control_users_and_login_throttle(store: &impl ControlStore) {
    let at = now();
    let alice = ConsoleUser {
        username: "alice".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: Role::Admin,
        disabled: false,
        created_at: at,
        last_login_at: None,
        must_change_password: false,
        sessions_valid_from: None,
    };
    assert_eq!(store.create_user(&alice).await.unwrap(), UserWrite::Written);
    assert_eq!(
        store.create_user(&alice).await.unwrap(),
        UserWrite::AlreadyExists
    );
    let viewer = ConsoleUser {
        username: "bob".into(),
        role: Role::Viewer,
        ..alice.clone()
    };
    assert!(
        !store.update_user(&viewer).await.unwrap(),
        "update does not create"
    );
    store.create_user(&viewer).await.unwrap();
    let disabled = ConsoleUser {
        disabled: true,
        last_login_at: Some(at),
        must_change_password: true,
        sessions_valid_from: Some(at),
        ..alice.clone()
    };
    assert!(store.update_user(&disabled).await.unwrap());
    assert_eq!(
        store.get_user("alice").await.unwrap(),
        Some(disabled.clone())
    );
    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, vec!["alice", "bob"]);
    assert!(store.delete_user("bob").await.unwrap());
    assert!(!store.delete_user("bob").await.unwrap());
    assert_eq!(store.get_user("bob").await.unwrap(), None);

    let window = Duration::minutes(15);
    // Start of a window, so the three failures below share it.
    let start = chrono::DateTime::from_timestamp(window_start(window, at), 0).unwrap();
    for expected in 1..=3 {
        assert_eq!(
            store
                .take_login_attempt("alice", window, 5, start)
                .await
                .unwrap(),
            Some(expected)
        );
    }
    assert_eq!(
        store
            .login_failures("alice", window, start + Duration::minutes(5))
            .await
            .unwrap(),
        3
    );
    assert_eq!(store.login_failures("bob", window, start).await.unwrap(), 0);
    assert_eq!(
        store
            .login_failures("alice", window, start + window)
            .await
            .unwrap(),
        0,
        "next window"
    );
    store
        .clear_login_failures("alice", window, start)
        .await
        .unwrap();
    assert_eq!(
        store.login_failures("alice", window, start).await.unwrap(),
        0
    );

    // Twenty guesses at once get the five attempts of the window, not one each.
    let tries = (0..20).map(|_| store.take_login_attempt("carol|10.0.0.9", window, 5, start));
    let taken: Vec<Option<u32>> = futures_util::future::try_join_all(tries).await.unwrap();
    let mut granted: Vec<u32> = taken.into_iter().flatten().collect();
    granted.sort_unstable();
    assert_eq!(granted, [1, 2, 3, 4, 5]);
    assert_eq!(
        store
            .take_login_attempt("carol|10.0.0.9", window, 5, start)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .login_failures("carol|10.0.0.9", window, start)
            .await
            .unwrap(),
        5
    );
}

pub async fn control_account_lockout_backs_off(store: &impl ControlStore) {
    let lockout = Lockout {
        free: 3,
        base: Duration::seconds(60),
        cap: Duration::seconds(600),
    };
    let t0 = now();
    let granted = |attempts| AccountAttempt::Granted { attempts };
    for expected in 1..=3 {
        // The user name is case-insensitive: "Dora" and "dora" are one account.
        let name = if expected == 2 { "Dora" } else { "dora" };
        let got = store
            .take_account_attempt(name, &lockout, t0)
            .await
            .unwrap();
        assert_eq!(got, granted(expected));
    }
    // The third attempt locked the account for the base time.
    let locked = AccountAttempt::Locked {
        until: t0 + Duration::seconds(60),
    };
    let got = store
        .take_account_attempt("dora", &lockout, t0)
        .await
        .unwrap();
    assert_eq!(got, locked, "from any address");
    let t1 = t0 + Duration::seconds(61);
    let got = store
        .take_account_attempt("dora", &lockout, t1)
        .await
        .unwrap();
    assert_eq!(got, granted(4), "after the lock, one more attempt");
    let got = store
        .take_account_attempt("dora", &lockout, t1 + Duration::seconds(100))
        .await
        .unwrap();
    assert_eq!(
        got,
        AccountAttempt::Locked {
            until: t1 + Duration::seconds(120)
        },
        "and the lock doubled"
    );
    // Another account is not affected; a success clears the count.
    let got = store
        .take_account_attempt("erik", &lockout, t1)
        .await
        .unwrap();
    assert_eq!(got, granted(1));
    store.clear_account_attempts("DORA").await.unwrap();
    let got = store
        .take_account_attempt("dora", &lockout, t1)
        .await
        .unwrap();
    assert_eq!(got, granted(1));

    // Twenty guesses at once, from anywhere: at most the free attempts get through, then the
    // account is locked for every one of them.
    let tries = (0..20).map(|_| store.take_account_attempt("fay", &lockout, t0));
    let answers = futures_util::future::try_join_all(tries).await.unwrap();
    let granted: Vec<u32> = answers
        .iter()
        .filter_map(|a| match a {
            AccountAttempt::Granted { attempts } => Some(*attempts),
            AccountAttempt::Locked { .. } => None,
        })
        .collect();
    assert!(
        !granted.is_empty() && granted.len() <= 3,
        "granted {granted:?} of 20"
    );
    let mut distinct = granted.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        granted.len(),
        "each count granted once: {granted:?}"
    );
    assert!(matches!(
        store
            .take_account_attempt("fay", &lockout, t0)
            .await
            .unwrap(),
        AccountAttempt::Locked { .. }
    ));
}

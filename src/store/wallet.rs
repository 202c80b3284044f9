//! OpenID4VP: the keys the service signs with, and each identification's
//! wallet transaction.

use super::status::Change;
use super::{Refusal, Store, StoreError};
use crate::domain::{Identification, IdentificationId, Timestamp};
use sqlx::Row;

/// A key pair the service signs with, as stored.
#[derive(Debug, Clone)]
pub struct StoredSigningKey {
    /// PKCS#8 DER, wrapped by the deployment key.
    pub wrapped_private_key: Vec<u8>,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// The certificate of the CA that issued `certificate`, when it is not
    /// self-signed (the test mdoc issuer's IACA root), DER.
    pub issuer_certificate: Option<Vec<u8>>,
}

/// The request a wallet fetched last for an identification.
#[derive(Debug, Clone)]
pub struct WalletTransaction {
    pub identification_id: IdentificationId,
    /// Names the response encryption key in the wallet's JWE header.
    pub kid: String,
    pub state: String,
    pub nonce: String,
    /// The response key's private half, wrapped; `None` once used.
    pub wrapped_response_key: Option<Vec<u8>>,
    /// Handed to the wallet with the same-device redirect, once answered.
    pub response_code: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    /// How the wallet got the request, and so where its answer must arrive.
    pub flow: WalletFlow,
}

/// How a wallet transaction's request reached the wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalletFlow {
    /// Fetched by reference (`request_uri`), answered by `direct_post.jwt`.
    Redirect,
    /// Handed to the browser's Digital Credentials API, answered through the page.
    DcApi,
}

impl WalletFlow {
    pub fn as_str(self) -> &'static str {
        match self {
            WalletFlow::Redirect => "redirect",
            WalletFlow::DcApi => "dc_api",
        }
    }

    /// The stored name; the column's CHECK allows no other.
    pub fn from_stored(s: &str) -> WalletFlow {
        match s {
            "dc_api" => WalletFlow::DcApi,
            _ => WalletFlow::Redirect,
        }
    }
}

/// Why a wallet response was not taken.
#[derive(Debug, Clone, PartialEq)]
pub enum TransactionRefusal {
    /// No current transaction has this key: unknown, superseded by a later
    /// fetch, or of the wrong state.
    Unknown,
    /// Already answered once.
    Used,
    /// The identification could not take the change (final, expired).
    Status(Box<Refusal>),
}

/// private_key, certificate, issuer_certificate.
type KeyRow = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);

pub(super) const TRANSACTION_COLUMNS: &str = "identification_id, kid, state, nonce, response_key, \
    response_code, created_at, expires_at, used_at, flow";

impl Store {
    pub async fn signing_key(&self, name: &str) -> Result<Option<StoredSigningKey>, StoreError> {
        on_db!(&self.db, db, on => {
            let row: Option<KeyRow> = sqlx::query_as(&on::sql(
                "SELECT private_key, certificate, issuer_certificate FROM signing_keys WHERE name = ?",
            ))
            .bind(name)
            .fetch_optional(&db.reader)
            .await?;
            Ok(row.map(
                |(wrapped_private_key, certificate, issuer_certificate)| StoredSigningKey {
                    wrapped_private_key,
                    certificate,
                    issuer_certificate,
                },
            ))
        })
    }

    /// Stores a generated key unless one of that name exists already (another
    /// process may have been first); returns the one that is stored.
    pub async fn insert_signing_key(
        &self,
        name: &str,
        key: &StoredSigningKey,
    ) -> Result<StoredSigningKey, StoreError> {
        on_db!(&self.db, db, on => {
            sqlx::query(&on::sql(
                "INSERT INTO signing_keys (name, private_key, certificate, issuer_certificate, created_at) \
                 VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING"),
            )
            .bind(name)
            .bind(&key.wrapped_private_key)
            .bind(&key.certificate)
            .bind(&key.issuer_certificate)
            .bind(self.clock.now().millis())
            .execute(&db.writer)
            .await?;
            let row = sqlx::query(&on::sql(
                "SELECT private_key, certificate, issuer_certificate FROM signing_keys WHERE name = ?",
            ))
            .bind(name)
            .fetch_one(&db.writer)
            .await?;
            Ok(StoredSigningKey {
                wrapped_private_key: row.get("private_key"),
                certificate: row.get("certificate"),
                issuer_certificate: row.get("issuer_certificate"),
            })
        })
    }

    /// Makes `t` the identification's current transaction, replacing any
    /// earlier one (whose responses are then refused).
    pub async fn start_wallet_transaction(&self, t: &WalletTransaction) -> Result<(), StoreError> {
        on_db!(&self.db, db, on => {
            sqlx::query(&on::sql(
                "INSERT INTO wallet_transactions (identification_id, kid, state, nonce, response_key, \
                 response_code, created_at, expires_at, used_at, flow) \
                 VALUES (?, ?, ?, ?, ?, NULL, ?, ?, NULL, ?) \
                 ON CONFLICT (identification_id) DO UPDATE SET kid = excluded.kid, \
                 state = excluded.state, nonce = excluded.nonce, response_key = excluded.response_key, \
                 response_code = NULL, created_at = excluded.created_at, \
                 expires_at = excluded.expires_at, used_at = NULL, flow = excluded.flow"),
            )
            .bind(t.identification_id.as_str())
            .bind(&t.kid)
            .bind(&t.state)
            .bind(&t.nonce)
            .bind(&t.wrapped_response_key)
            .bind(t.created_at.millis())
            .bind(t.expires_at.millis())
            .bind(t.flow.as_str())
            .execute(&db.writer)
            .await?;
            Ok(())
        })
    }

    /// The test identification whose current, unanswered, unexpired wallet
    /// transaction has `nonce`, if it is still open: what lets a wallet ask
    /// the test issuer for a credential (issued for that identification).
    pub async fn open_test_transaction(
        &self,
        nonce: &str,
    ) -> Result<Option<IdentificationId>, StoreError> {
        let now = self.clock.now().millis();
        on_db!(&self.db, db, on => {
            let found: Option<String> = sqlx::query_scalar(&on::sql(
                "SELECT i.id FROM wallet_transactions w \
                 JOIN identifications i ON i.id = w.identification_id \
                 WHERE w.nonce = ? AND w.used_at IS NULL AND w.expires_at > ? \
                 AND i.mode = 'test' AND i.status IN (0, 1) AND i.expires_at > ? LIMIT 1",
            ))
            .bind(nonce)
            .bind(now)
            .bind(now)
            .fetch_optional(&db.reader)
            .await?;
            Ok(found.map(IdentificationId::from_trusted))
        })
    }

    /// The current transaction whose response key is `kid`.
    pub async fn wallet_transaction_by_kid(
        &self,
        kid: &str,
    ) -> Result<Option<WalletTransaction>, StoreError> {
        on_db!(&self.db, db, on => {
            let row = sqlx::query(&on::sql(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM wallet_transactions WHERE kid = ?"
            )))
            .bind(kid)
            .fetch_optional(&db.reader)
            .await?;
            Ok(row.as_ref().map(on::wallet_transaction))
        })
    }

    /// The current transaction with `state`, for an error response sent
    /// unencrypted, which names nothing else.
    pub async fn wallet_transaction_by_state(
        &self,
        state: &str,
    ) -> Result<Option<WalletTransaction>, StoreError> {
        on_db!(&self.db, db, on => {
            let row = sqlx::query(&on::sql(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM wallet_transactions WHERE state = ? LIMIT 1"
            )))
            .bind(state)
            .fetch_optional(&db.reader)
            .await?;
            Ok(row.as_ref().map(on::wallet_transaction))
        })
    }

    /// The identification's current transaction.
    pub async fn wallet_transaction(
        &self,
        id: &IdentificationId,
    ) -> Result<Option<WalletTransaction>, StoreError> {
        on_db!(&self.db, db, on => {
            let row = sqlx::query(&on::sql(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM wallet_transactions WHERE identification_id = ?"
            )))
            .bind(id.as_str())
            .fetch_optional(&db.reader)
            .await?;
            Ok(row.as_ref().map(on::wallet_transaction))
        })
    }

    /// Takes the wallet's answer to the transaction `kid` with `state`: in one
    /// transaction, marks it used (dropping its response key, recording
    /// `response_code`) and applies `change` to the identification. Refused,
    /// with nothing changed, if the transaction is no longer the current one,
    /// was used already, or the identification cannot change any more.
    pub async fn finish_wallet_transaction(
        &self,
        kid: &str,
        state: &str,
        response_code: &str,
        change: Change,
    ) -> Result<Result<Identification, TransactionRefusal>, StoreError> {
        on_db!(&self.db, db, on => {
            let mut tx = db.begin_write().await?;
            let row = sqlx::query(&on::sql(&format!(
                "SELECT {TRANSACTION_COLUMNS} FROM wallet_transactions WHERE kid = ?{}",
                on::LOCK_ROW
            )))
            .bind(kid)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(current) = row.as_ref().map(on::wallet_transaction) else {
                return Ok(Err(TransactionRefusal::Unknown));
            };
            if current.state != state {
                return Ok(Err(TransactionRefusal::Unknown));
            }
            if current.used_at.is_some() {
                return Ok(Err(TransactionRefusal::Used));
            }
            let Some(ident) = on::identification_in(&mut tx, &current.identification_id).await? else {
                return Ok(Err(TransactionRefusal::Unknown));
            };
            let result = on::change_in(&mut tx, ident, &change, self.clock.now()).await?;
            if result.is_ok() {
                sqlx::query(&on::sql(
                    "UPDATE wallet_transactions SET used_at = ?, response_key = NULL, \
                     response_code = ? WHERE kid = ?"),
                )
                .bind(self.clock.now().millis())
                .bind(response_code)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            self.changed(&result);
            Ok(result.map_err(|r| TransactionRefusal::Status(Box::new(r))))
        })
    }
}

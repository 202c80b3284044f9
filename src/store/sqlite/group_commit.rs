//! Group commit for creates. A commit is the expensive part of a write, so the
//! single writer takes every create waiting at that moment into one
//! transaction and answers each only once that transaction is committed. An
//! idle service commits a lone create at once; a busy one shares commits.

use sqlx::SqlitePool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};

use crate::domain::Identification;
use crate::store::identifications::{
    CreateOutcome, IdempotencyRecord, idempotent_outcome, insert_idempotency, insert_new,
};
use crate::store::{Outage, StoreError};
use std::collections::HashMap;

/// The most creates one transaction takes.
const MAX_BATCH: usize = 128;

struct Job {
    ident: Identification,
    idempotency: Option<IdempotencyRecord>,
    reply: oneshot::Sender<Result<CreateOutcome, StoreError>>,
}

#[derive(Clone)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the committing task; it ends when every handle is dropped.
    /// It sets `disk_full` when a commit fails for lack of space and clears
    /// it when one succeeds, for readiness to report.
    pub fn start(writer: SqlitePool, disk_full: Arc<AtomicBool>) -> GroupCommit {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(writer, rx, disk_full));
        GroupCommit { jobs }
    }

    pub async fn submit(
        &self,
        ident: Identification,
        idempotency: Option<IdempotencyRecord>,
    ) -> Result<CreateOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            ident,
            idempotency,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(writer: SqlitePool, mut rx: mpsc::Receiver<Job>, disk_full: Arc<AtomicBool>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let jobs = std::mem::take(&mut batch);
        let result = commit(&writer, &jobs).await;
        match &result {
            Ok(_) => disk_full.store(false, Ordering::Relaxed),
            Err(e) if e.outage() == Some(Outage::DiskFull) => {
                disk_full.store(true, Ordering::Relaxed)
            }
            Err(_) => {}
        }
        match result {
            Ok(outcomes) => {
                for (job, outcome) in jobs.into_iter().zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            // The database cannot write just now (full disk, lock held
            // elsewhere): one by one would fail the same way, only slower.
            // Every create of the batch gets that answer at once, and so do
            // the creates that queued up meanwhile, which would otherwise
            // wait as long again (a busy timeout) for the same answer.
            // Nothing was committed; the transaction was rolled back, and
            // the writer connection is replaced if it could not be.
            Err(e) if e.is_retryable() => {
                let mut refused = jobs;
                while let Ok(job) = rx.try_recv() {
                    refused.push(job);
                }
                tracing::warn!(error = %e, creates = refused.len(), "a group commit failed");
                for job in refused {
                    let answer = e.share().unwrap_or(StoreError::Closed);
                    let _ = job.reply.send(Err(answer));
                }
            }
            Err(e) if jobs.len() == 1 => {
                if let Some(job) = jobs.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
            // One bad create must not fail the others: retry them one by one,
            // so each gets its own answer.
            Err(_) => {
                for job in jobs {
                    let result = commit(&writer, std::slice::from_ref(&job)).await;
                    let _ = job.reply.send(result.map(|mut o| o.remove(0)));
                }
            }
        }
    }
}

/// One transaction for the batch. Two creates in one batch with the same
/// idempotency key: the later one sees the earlier one's record, as it would
/// across two transactions.
async fn commit(writer: &SqlitePool, jobs: &[Job]) -> Result<Vec<CreateOutcome>, StoreError> {
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(jobs.len());
    let mut keys_in_batch: HashMap<(&str, &str), &IdempotencyRecord> = HashMap::new();
    for job in jobs {
        let outcome = match &job.idempotency {
            None => CreateOutcome::Created,
            Some(rec) => match keys_in_batch.get(&(rec.api_key_id.as_str(), rec.key.as_str())) {
                Some(first) if first.request_sha256 == rec.request_sha256 => {
                    CreateOutcome::Replay {
                        status: first.response_status,
                        body: first.response_body.clone(),
                    }
                }
                Some(_) => CreateOutcome::KeyReused,
                None => match idempotent_outcome(&mut tx, rec, job.ident.created_at).await? {
                    Some(earlier) => earlier,
                    None => {
                        keys_in_batch.insert((rec.api_key_id.as_str(), rec.key.as_str()), rec);
                        CreateOutcome::Created
                    }
                },
            },
        };
        outcomes.push(outcome);
    }
    let fresh: Vec<&Job> = jobs
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| **o == CreateOutcome::Created)
        .map(|(j, _)| j)
        .collect();
    insert_new(&mut tx, &fresh.iter().map(|j| &j.ident).collect::<Vec<_>>()).await?;
    for job in &fresh {
        if let Some(rec) = &job.idempotency {
            insert_idempotency(&mut tx, rec, job.ident.created_at).await?;
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}

//! Integration tests for the Proofme API: one test binary, a fresh server on
//! port 0 and a fresh database for every test (SQLite, or PostgreSQL with
//! `PROOFME_TEST_BACKEND=postgres`; see `helpers`).

mod browser;
mod helpers;

mod admin_cli;
mod auth;
mod connections;
mod contract;
mod crash;
mod create;
mod dashboard;
mod dashboard_audit;
mod dashboard_confirm;
mod dashboard_identifications;
mod dashboard_keys;
mod dashboard_messages;
mod dashboard_overview;
mod dashboard_proofmes;
mod dashboard_settings;
mod dashboard_webhooks;
mod dc_api;
mod erasure;
mod errors;
mod export;
mod get_and_list;
mod hostile;
mod idempotency;
mod input_rules;
mod instances;
mod keys_and_secrets;
mod leaks;
mod lifecycle;
mod mdoc;
mod mode_isolation;
mod mypage;
mod oid4vp_errors;
mod proofmes;
mod rate_limit;
mod reliability;
mod revocation;
mod storage_faults;
mod test_issuer;
mod test_status_lists;
mod verifier;
mod webhooks;

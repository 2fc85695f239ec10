//! Contract tests of the cloud rotation backends (issue #8): Azure Key Vault, GCP Secret
//! Manager, OCI Vault and Kubernetes, each through the library API against a contract
//! server from `tests/contract_servers/` that checks the provider's documented requests.
//!
//! Every test collects what the backend printed or returned (errors, outcomes,
//! locations) and the server's request log, and checks that no canary value appears.

mod harness;

mod azure;
mod gcp;
mod kube;
mod oci;

//! Endpoint facets as they appear in CapSet entries and result-cap records.
//!
//! These are the Cap'n Proto interface ids of `interface Endpoint` (the client
//! facet, which may only CALL) and `interface EndpointOwner` (RECV and RETURN) in `capos.capnp`,
//! which gives them these explicit ids. They are repeated here because the kernel's ABI crate does
//! not depend on the schema; a capos-schema test (`ids::tests`) fails if the two ever differ.

/// Interface id of an Endpoint's client facet.
pub const ENDPOINT_CLIENT_ID: u64 = 0xe4d1_9a6b_3c20_7f01;
/// Interface id of an Endpoint's owner facet.
pub const ENDPOINT_OWNER_ID: u64 = 0xe4d1_9a6b_3c20_7f02;

/// `ProcessSpawner` method ordinal that creates an Endpoint and returns its owner facet as
/// result-cap record 0 and a client facet as record 1 (params: an empty struct message).
pub const SPAWNER_NEW_ENDPOINT: u16 = 1;

//! What the HTTP service decides without any capability: which URLs and origins are well formed,
//! the request bytes it sends, and how it reads an HTTP/1.1 response. Host-tested.
#![no_std]
extern crate alloc;

pub mod exports;
pub mod request;
pub mod response;
pub mod url;

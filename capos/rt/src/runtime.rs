//! What `main` receives: the process id, the CapSet and the transport.
use crate::capset::CapSet;
use crate::client::Client;
use crate::error::Error;
use crate::transport::{Cap, Transport};
use alloc::rc::Rc;

pub struct Runtime {
    pid: u64,
    caps: CapSet,
    transport: Rc<Transport>,
}

impl Runtime {
    pub fn new(pid: u64, caps: CapSet, transport: Transport) -> Runtime {
        Runtime { pid, caps, transport: Rc::new(transport) }
    }

    pub fn pid(&self) -> u64 {
        self.pid
    }

    /// The granted caps, in manifest order.
    pub fn caps(&self) -> &CapSet {
        &self.caps
    }

    pub fn transport(&self) -> &Rc<Transport> {
        &self.transport
    }

    /// The client for the granted cap called `name`. Fails when nothing of that name was granted,
    /// when it implements another interface, or when it was taken before.
    pub fn take<C: Client>(&mut self, name: &str) -> Result<C, Error> {
        let id = self.caps.take(name, C::INTERFACE_ID)?;
        Ok(C::from_cap(Cap::new(id, C::INTERFACE_ID, self.transport.clone())))
    }
}

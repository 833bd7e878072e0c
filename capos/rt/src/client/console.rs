use super::{client, params, SMALL_RESULT};
use crate::error::Error;
use crate::transport::Cap;
use capos_schema::capos_capnp::console;

const WRITE: u16 = 0;
const WRITE_LINE: u16 = 1;

/// The serial console. Each `write_line` is one atomic line prefixed with the process name.
pub struct Console {
    cap: Cap,
}
client!(Console, capos_schema::ids::CONSOLE);

impl Console {
    /// Writes bytes; the kernel buffers them per process until a newline.
    pub fn write(&self, data: &[u8]) -> Result<(), Error> {
        let p = params(|m| m.init_root::<console::write_params::Builder>().set_data(data));
        self.cap.call(WRITE, &p, SMALL_RESULT).map(drop)
    }

    pub fn write_line(&self, text: &str) -> Result<(), Error> {
        let p = params(|m| m.init_root::<console::write_line_params::Builder>().set_text(text));
        self.cap.call(WRITE_LINE, &p, SMALL_RESULT).map(drop)
    }
}

impl core::fmt::Write for &Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}

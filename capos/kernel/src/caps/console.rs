//! Console: `write(data)` buffers per process until a newline; `writeLine(text)` is one atomic
//! line. Both print `[<process name>] <text>` on the serial port.

use super::{done, encode, params, CallCtx, CapError, KernelCap, Reply};
use crate::serial;
use capos_schema::capos_capnp::console;
use capos_schema::ids;
use capos_schema::wire;

pub struct Console;

/// Prints one complete line with the writer's prefix.
fn emit(name: &str) -> impl FnMut(&[u8]) + '_ {
    move |line: &[u8]| {
        serial::write_bytes(b"[");
        serial::write_bytes(name.as_bytes());
        serial::write_bytes(b"] ");
        serial::write_bytes(line);
        serial::write_bytes(b"\n");
    }
}

/// Flushes a process's partial line (at exit).
pub fn flush(name: &str, buf: &mut capos_kcore::console::LineBuffer) {
    buf.flush(&mut emit(name));
}

// region: console
impl KernelCap for Console {
    fn interface_id(&self) -> u64 {
        ids::CONSOLE
    }

    fn call(&self, method: u16, bytes: &[u8], ctx: &mut CallCtx<'_>) -> Result<Reply, CapError> {
        match method {
            0 => {
                let msg = params(bytes)?;
                let data = msg.get_root::<console::write_params::Reader>()?.get_data()?;
                ctx.console.write(data, &mut emit(ctx.caller_name));
                let mut out = wire::builder(wire::words_for(0));
                out.init_root::<console::write_results::Builder>();
                done(encode(&out))
            }
            1 => {
                let msg = params(bytes)?;
                let text = msg.get_root::<console::write_line_params::Reader>()?.get_text()?;
                ctx.console.flush(&mut emit(ctx.caller_name));
                capos_kcore::console::split_line(text.as_bytes(), &mut emit(ctx.caller_name));
                let mut out = wire::builder(wire::words_for(0));
                out.init_root::<console::write_line_results::Builder>();
                done(encode(&out))
            }
            m => Err(CapError::no_method("Console", m)),
        }
    }
}
// endregion: console

//! Checks for probe programs: a native test program prints one line per check, `NAME: what: ok`
//! or `WRONG`, and exits with the number that went wrong, so a smoke can pin every line and the
//! exit code says whether anything failed. Used by the kernel appendix's probes (vmem, alarm).
use crate::schema::exception::ExceptionKind;
use crate::{Console, Error};
use alloc::format;

/// One probe's console and its count of checks that went wrong.
pub struct Checks<'a> {
    console: &'a Console,
    prefix: &'static str,
    /// Checks that went wrong so far: the probe's exit code.
    pub wrong: i32,
}

impl<'a> Checks<'a> {
    /// Lines go to `console`, each starting with `prefix` and a colon.
    pub fn new(console: &'a Console, prefix: &'static str) -> Self {
        Checks { console, prefix, wrong: 0 }
    }

    /// Prints `line` as it is.
    pub fn say(&self, line: &str) {
        let _ = self.console.write_line(line);
    }

    /// Prints `what` with `ok` or `WRONG`, and counts a `WRONG`.
    pub fn expect(&mut self, what: &str, ok: bool) {
        self.say(&format!("{}: {what}: {}", self.prefix, if ok { "ok" } else { "WRONG" }));
        if !ok {
            self.wrong += 1;
        }
    }

    /// Prints a refusal, and counts it wrong unless `got` is an exception of `kind`.
    pub fn refused(&mut self, what: &str, got: Result<(), Error>, kind: ExceptionKind) {
        match got {
            Err(Error::Exception(e)) if e.kind == kind => self.say(&format!("{}: refused {what}: {e}", self.prefix)),
            other => {
                self.say(&format!("{}: {what}: expected {} but got {other:?}", self.prefix, kind.name()));
                self.wrong += 1;
            }
        }
    }

    /// Counts an unexpected error that ended the probe's run early.
    pub fn unexpected(&mut self, e: &Error) {
        self.say(&format!("{}: unexpected error: {e}", self.prefix));
        self.wrong += 1;
    }
}
